"""Writes of the access app: the allowlist and one-time logins. Each change to the allowlist is
written to the access log by the function that makes it."""

import datetime
import enum
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from access import log
from access.models import (
    AccessEvent,
    Account,
    AllowlistEntry,
    LoginCodeAttempt,
    LoginRequest,
    LoginToken,
)
from access.roles import MUNICIPAL_ROLES, Role
from register import validation


def _hash(value: str) -> str:
    """Tokens and addresses are kept as keyed hashes: a copy of the table logs no one in."""
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def normalise_email(value: str) -> str:
    return validation.email(value)


# The allowlist ---------------------------------------------------------------------------------


def _expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(days=settings.ALLOWLIST_VALIDITY_DAYS)


@transaction.atomic
def allowlist_add(
    *, request: HttpRequest, email: str, municipality_id: str, role: str = Role.MUNICIPAL_USER
) -> AllowlistEntry:
    email = normalise_email(email)
    if role not in MUNICIPAL_ROLES:
        raise ValidationError({"role": _("Okänd roll.")})
    # Only the municipality's own list is looked at: whether another municipality lists the
    # address is not the administrator's to learn (the page answers as for a new address).
    if AllowlistEntry.objects.filter(
        email=email, municipality_id=municipality_id, revoked_at__isnull=True
    ).exists():
        raise ValidationError({"email": _("Adressen finns redan på listan. Förnya den i stället.")})
    now = timezone.now()
    try:
        with transaction.atomic():
            entry = AllowlistEntry.objects.create(
                email=email,
                municipality_id=municipality_id,
                role=role,
                created_by=request.user,
                confirmed_at=now,
                confirmed_by=request.user,
                expires_at=_expiry(now),
            )
    except IntegrityError:  # a second administrator added the same address at the same moment
        raise ValidationError(
            {"email": _("Adressen finns redan på listan. Förnya den i stället.")}
        ) from None
    _log_change(request, entry, "tillagd")
    return entry


@transaction.atomic
def allowlist_renew(*, request: HttpRequest, entry: AllowlistEntry) -> AllowlistEntry:
    """Confirm that the address still belongs to someone who needs the service: a new year."""
    now = timezone.now()
    entry.confirmed_at = now
    entry.confirmed_by = request.user
    entry.expires_at = _expiry(now)
    entry.save(update_fields=["confirmed_at", "confirmed_by", "expires_at"])
    _log_change(request, entry, "förnyad")
    return entry


@transaction.atomic
def allowlist_revoke(*, request: HttpRequest, entry: AllowlistEntry) -> AllowlistEntry:
    """Access ends at the user's next request (access.middleware)."""
    entry.revoked_at = timezone.now()
    entry.revoked_by = request.user
    entry.save(update_fields=["revoked_at", "revoked_by"])
    _log_change(request, entry, "återkallad")
    return entry


def _log_change(request: HttpRequest, entry: AllowlistEntry, what: str) -> None:
    log.record(
        request,
        AccessEvent.Action.ALLOWLIST_CHANGE,
        object_type="allowlist",
        object_id=str(entry.public_id),
        detail={
            "ändring": what,
            "adress": entry.email,
            "kommun": entry.municipality_id,
            "roll": entry.role,
            "till": entry.expires_at.date().isoformat(),
        },
    )


def users_told_of_watches(user_ids) -> set[int]:
    """Of these users, those whose access holds now: active, a municipal role, and a live
    allowlist entry for their address, municipality and role — the check the middleware makes
    on every request (access/middleware.py). A user whose entry is revoked or has run out is
    told nothing more; their watches stay for the administrator to hand over."""
    user_ids = list(user_ids)
    if not user_ids:
        return set()
    live = AllowlistEntry.objects.active().filter(
        email=OuterRef("user__email"),
        municipality_id=OuterRef("municipality_id"),
        role=OuterRef("role"),
    )
    return set(
        Account.objects.filter(
            user_id__in=user_ids, user__is_active=True, role__in=list(MUNICIPAL_ROLES)
        )
        .filter(Exists(live))
        .values_list("user_id", flat=True)
    )


def account_set_language(*, user, language: str) -> None:
    """Keep the language a user chose: their mail is written in it (``language_of``)."""
    Account.objects.filter(user=user).update(language=language)


def language_of(user) -> str:
    """The language to write to a user in when there is no request: their choice, or Swedish."""
    account = getattr(user, "account", None)
    return (account.language if account is not None else "") or settings.LANGUAGE_CODE


def live_entry(email: str) -> AllowlistEntry | None:
    """The entry a login with this address signs in by. When two municipalities list the
    address, the one that listed it first decides until its entry ends: a second municipality's
    entry cannot move someone else's user (and their access log) over to it."""
    return AllowlistEntry.objects.active().filter(email=email).order_by("created_at", "pk").first()


# One-time login by link or code ---------------------------------------------------------------
#
# docs/security.md explains the limits together: what an attacker who knows addresses gets, and
# why no stranger can keep an address's owner from signing in.


@dataclass(frozen=True)
class LoginLinkResult:
    sent: bool  # never shown to the user: the page says the same either way
    limited: bool  # no mail was sent because of a rate limit: the page says so


def login_link_request(*, request: HttpRequest, email: str, session_secret: str) -> LoginLinkResult:
    """Send a login link and code if the address is allowlisted; say nothing either way.

    Rate limits count every request, allowlisted or not, per address from one IP address and
    per IP address, so the limit tells nothing about the list and a stranger asking for
    someone's address from elsewhere does not use up that person's requests. The code works only
    in the session that holds ``session_secret``.
    """
    email = email.strip().lower()
    ip = log.client_ip(request)
    now = timezone.now()
    email_hash = _hash(email)
    # Written first and counted after, own row included: of many concurrent requests no more
    # than the limit find themselves within it.
    LoginRequest.objects.create(email_hash=email_hash, ip=ip)
    window = now - datetime.timedelta(minutes=settings.LOGIN_RATE_WINDOW_MINUTES)
    recent = LoginRequest.objects.filter(at__gte=window)
    from_here = recent.filter(ip=ip) if ip else recent.filter(ip__isnull=True)
    limited = from_here.filter(email_hash=email_hash).count() > settings.LOGIN_RATE_PER_ADDRESS
    if not limited and ip:
        limited = from_here.count() > settings.LOGIN_RATE_PER_IP
    if limited:
        log.record(request, AccessEvent.Action.LOGIN_FAILED, detail={"orsak": "för många försök"})
        return LoginLinkResult(sent=False, limited=True)
    entry = live_entry(email)
    if entry is None:
        log.record(
            request, AccessEvent.Action.LOGIN_FAILED, detail={"orsak": "adressen är inte frilistad"}
        )
        return LoginLinkResult(sent=False, limited=False)
    link = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10**6):06d}"
    LoginToken.objects.create(
        email=email,
        link_hash=_hash(link),
        code_hash=_hash(f"{email}:{code}"),
        session_hash=_hash(session_secret),
        expires_at=now + datetime.timedelta(minutes=settings.LOGIN_TOKEN_MINUTES),
    )
    url = request.build_absolute_uri(reverse("access:login_link", args=[link]))
    # After the token's commit, never for a token that is not saved: at once in autocommit (the
    # login view has no request-wide transaction), at the commit inside a caller's transaction.
    transaction.on_commit(_login_mail(email, url, code))
    log.record(request, AccessEvent.Action.LOGIN_LINK_REQUESTED, detail={"adress": email})
    return LoginLinkResult(sent=True, limited=False)


def _login_mail(email: str, url: str, code: str) -> Callable[[], int]:
    """The login mail, written now (in the request's language); calling it sends it."""
    minutes = settings.LOGIN_TOKEN_MINUTES
    return functools.partial(
        send_mail,
        subject=_("Logga in i HVB-registret"),
        message=_(
            "Hej!\n\nKlicka på länken för att logga in i HVB-registret:\n%(url)s\n\n"
            "Eller skriv in koden %(code)s på sidan där du begärde inloggningen.\n\n"
            "Länken och koden gäller i %(minutes)s minuter och kan bara användas en gång. "
            "Om det inte var du som begärde den kan du bortse från det här e-postmeddelandet.\n\n"
            "Inspektionen för vård och omsorg"
        )
        % {"url": url, "code": code, "minutes": minutes},
        from_email=None,
        recipient_list=[email],
    )


def _consume(token: LoginToken | None) -> LoginToken | None:
    """Use a token once: the conditional UPDATE lets exactly one of two racing requests in."""
    if token is None:
        return None
    used = LoginToken.objects.filter(
        pk=token.pk, used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    return token if used else None


def login_with_link(*, link: str) -> AllowlistEntry | None:
    token = _consume(LoginToken.objects.filter(link_hash=_hash(link)).first())
    return live_entry(token.email) if token else None


class CodeOutcome(enum.Enum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # wrong, expired, used, its attempts used up, or no code for this session
    IP_LIMIT = "ip_limit"  # too many wrong codes from this IP address in the last day
    ADDRESS_LIMIT = "address_limit"  # too many wrong codes for this address in the last day
    TOTAL_LIMIT = "total_limit"  # too many wrong codes in all in the last day


@dataclass(frozen=True)
class CodeResult:
    outcome: CodeOutcome
    entry: AllowlistEntry | None = None


def login_with_code(
    *, request: HttpRequest, email: str, code: str, session_secret: str
) -> CodeResult:
    """Sign in by the six-digit code, race-free against concurrent guesses.

    Every code typed is first written down (``LoginCodeAttempt``) and then the wrong ones of the
    last day are counted, its own included: past a cap nothing is compared. Then one of the
    token's LOGIN_CODE_ATTEMPTS is claimed by a conditional UPDATE; only a claimed attempt is
    compared. Both steps are single statements in autocommit, so no two requests can read the
    same count and both go on. Listed address or not, the same rows are written and counted.
    """
    email = email.strip().lower()
    ip = log.client_ip(request)
    now = timezone.now()
    email_hash = _hash(email)
    attempt = LoginCodeAttempt.objects.create(email_hash=email_hash, ip=ip)
    wrong = LoginCodeAttempt.objects.filter(
        at__gte=now - datetime.timedelta(hours=24), succeeded=False
    )
    limit = None
    if ip and wrong.filter(ip=ip).count() > settings.LOGIN_CODE_FAILURES_PER_IP:
        limit = CodeOutcome.IP_LIMIT
    elif wrong.filter(email_hash=email_hash).count() > settings.LOGIN_CODE_FAILURES_PER_ADDRESS:
        limit = CodeOutcome.ADDRESS_LIMIT
    elif wrong.count() > settings.LOGIN_CODE_FAILURES_TOTAL:
        limit = CodeOutcome.TOTAL_LIMIT
    if limit is not None:
        # Not a guess (nothing was compared): it does not hold the cap longer.
        attempt.delete()
        return CodeResult(limit)
    token = (
        LoginToken.objects.filter(
            email=email,
            session_hash=_hash(session_secret),
            used_at__isnull=True,
            expires_at__gt=now,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if token is None:
        return CodeResult(CodeOutcome.WRONG)
    claimed = LoginToken.objects.filter(
        pk=token.pk,
        used_at__isnull=True,
        expires_at__gt=now,
        code_attempts__lt=settings.LOGIN_CODE_ATTEMPTS,
    ).update(code_attempts=F("code_attempts") + 1)
    if not claimed or not hmac.compare_digest(token.code_hash, _hash(f"{email}:{code.strip()}")):
        return CodeResult(CodeOutcome.WRONG)
    token = _consume(token)
    if token is None:
        return CodeResult(CodeOutcome.WRONG)
    LoginCodeAttempt.objects.filter(pk=attempt.pk).update(succeeded=True)
    entry = live_entry(token.email)
    return CodeResult(CodeOutcome.SIGNED_IN if entry else CodeOutcome.WRONG, entry)


@transaction.atomic
def user_for_entry(entry: AllowlistEntry):
    """The municipal user of an allowlisted address, created at the first login."""
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username=entry.email, defaults={"email": entry.email}
    )
    if not user.is_active:
        return None
    # A staff account is never signed in, nor turned into a municipal one, by an allowlisted
    # address: IVO's staff sign in with their second factor (access/staff_views.py).
    account = Account.objects.filter(user=user).first()
    if user.is_staff or user.is_superuser or (account and account.role not in MUNICIPAL_ROLES):
        return None
    Account.objects.update_or_create(
        user=user, defaults={"role": entry.role, "municipality_id": entry.municipality_id}
    )
    return user


@transaction.atomic
def municipality_login_method_set(*, request: HttpRequest, municipality_id: str, method: str):
    """Switch how a municipality's users sign in (access.models.MunicipalityLogin)."""
    from access.models import MunicipalityLogin

    if method not in MunicipalityLogin.Method.values:
        raise ValidationError({"method": _("Okänt inloggningssätt.")})
    MunicipalityLogin.objects.update_or_create(
        municipality_id=municipality_id, defaults={"method": method}
    )
    log.record(
        request,
        AccessEvent.Action.ALLOWLIST_CHANGE,
        object_type="municipality",
        object_id=municipality_id,
        detail={"ändring": "inloggningssätt", "till": method},
    )
