"""Login by one-time link or code, logout, and the allowlist pages."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from access import log, services
from access.decorators import public, requires
from access.forms import AllowlistAddForm, CodeForm, EmailForm, FirstAdministratorForm
from access.middleware import session_started
from access.models import AccessEvent, AllowlistEntry, MunicipalityLogin
from access.roles import Permission
from config.language import supported
from register.models import Municipality

SESSION_EMAIL = "access_login_email"
SESSION_NEXT = "access_login_next"
# The random value the latest login mail's code is bound to (LoginToken.session_hash): a code
# works only in the browser session that asked for it.
SESSION_CODE_SECRET = "access_login_code_secret"
# The latest request sent no mail because of a rate limit: the page must not say it did.
SESSION_LIMITED = "access_login_limited"

CODE_REFUSALS = {
    services.CodeOutcome.WRONG: gettext_lazy(
        "Koden stämmer inte eller har gått ut. Begär en ny kod med länken nedan."
    ),
    services.CodeOutcome.IP_LIMIT: gettext_lazy(
        "För många felaktiga koder har skrivits från din anslutning det senaste dygnet, så "
        "ingen kod prövas just nu. Logga in med länken i e-postmeddelandet i stället."
    ),
    services.CodeOutcome.ADDRESS_LIMIT: gettext_lazy(
        "För många felaktiga koder har skrivits för den här adressen det senaste dygnet, så "
        "ingen kod prövas just nu. Logga in med länken i e-postmeddelandet i stället."
    ),
    services.CodeOutcome.TOTAL_LIMIT: gettext_lazy(
        "Inloggning med kod är tillfälligt avstängd efter många felaktiga koder. Logga in med "
        "länken i e-postmeddelandet i stället."
    ),
}
CODE_LOG_REASONS = {
    services.CodeOutcome.WRONG: "fel kod",
    services.CodeOutcome.IP_LIMIT: "för många felaktiga koder från IP-adressen",
    services.CodeOutcome.ADDRESS_LIMIT: "för många felaktiga koder för adressen",
    services.CodeOutcome.TOTAL_LIMIT: "för många felaktiga koder totalt",
}


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return "/"


def _sign_in(request: HttpRequest, entry: AllowlistEntry | None) -> HttpResponse | None:
    user = services.user_for_entry(entry) if entry else None
    if user is None:
        return None
    next_url = request.session.get(SESSION_NEXT)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # new session id
    session_started(request)
    log.record(request, AccessEvent.Action.LOGIN, user=user, detail={"sätt": "engångslänk"})
    return redirect(_safe_next(request, next_url))


@public
def login_start(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        secret = secrets.token_urlsafe(32)
        result = services.login_link_request(request=request, email=email, session_secret=secret)
        if not result.limited:
            # Listed or not, a new secret: the session looks the same either way. A limited
            # request keeps the old one, so a code already mailed to this session still works.
            request.session[SESSION_CODE_SECRET] = secret
        request.session[SESSION_LIMITED] = result.limited
        request.session[SESSION_EMAIL] = email.strip().lower()
        request.session[SESSION_NEXT] = _safe_next(request, request.GET.get("next"))
        return redirect("access:login_sent")
    return render(
        request,
        "access/login.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@public
def login_sent(request: HttpRequest) -> HttpResponse:
    """The same page whether or not the address is on the list: nothing is revealed."""
    email = request.session.get(SESSION_EMAIL)
    if not email:
        return redirect("access:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.login_with_code(
            request=request,
            email=email,
            code=form.cleaned_data["code"],
            session_secret=request.session.get(SESSION_CODE_SECRET, ""),
        )
        response = _sign_in(request, result.entry)
        if response is not None:
            return response
        outcome = result.outcome if result.outcome in CODE_REFUSALS else services.CodeOutcome.WRONG
        log.record(
            request, AccessEvent.Action.LOGIN_FAILED, detail={"orsak": CODE_LOG_REASONS[outcome]}
        )
        form.add_error("code", CODE_REFUSALS[outcome])
    return render(
        request,
        "access/login_sent.html",
        {
            "form": form,
            "email": email,
            "limited": request.session.get(SESSION_LIMITED, False),
            "window_minutes": settings.LOGIN_RATE_WINDOW_MINUTES,
        },
        status=400 if form.errors else 200,
    )


@public
def login_link(request: HttpRequest, link: str) -> HttpResponse:
    """A GET only shows a button: mail scanners that open links must not use up the login."""
    if request.method == "POST":
        response = _sign_in(request, services.login_with_link(link=link))
        if response is not None:
            return response
        log.record(request, AccessEvent.Action.LOGIN_FAILED, detail={"orsak": "ogiltig länk"})
        return render(request, "access/login_link_invalid.html", status=400)
    return render(request, "access/login_link.html")


@public
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        log.record(request, AccessEvent.Action.LOGOUT)
    logout(request)
    messages.info(request, _("Du är utloggad."))
    return redirect("access:login")


@public
@require_POST
def language_choice(request: HttpRequest) -> HttpResponse:
    """The language switch: Django's set_language (the cookie, and back to the page the form was
    on), and for a signed-in user the choice kept on the account for their mail."""
    language = supported(request.POST.get("language"))
    if language is None or language != request.POST.get("language"):
        # Only the service's own languages: Django's set_language would take any it has files for.
        return redirect("portal:search")
    response = set_language(request)
    if request.user.is_authenticated:
        services.account_set_language(user=request.user, language=language)
    return response


# Frilistning: a municipal administrator keeps their own municipality's list -----------------


@requires(Permission.MANAGE_OWN_ALLOWLIST)
def allowlist(request: HttpRequest) -> HttpResponse:
    municipality = request.user.account.municipality
    form = AllowlistAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.allowlist_add(
                request=request,
                email=form.cleaned_data["email"],
                municipality_id=municipality.code,
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Adressen är tillagd och gäller i ett år."))
            return redirect("access:allowlist")
    return _allowlist_page(request, municipality, form)


def _allowlist_page(request, municipality: Municipality, form) -> HttpResponse:
    entries = AllowlistEntry.objects.filter(municipality=municipality).order_by(
        "revoked_at", "email"
    )
    expiring = AllowlistEntry.objects.filter(municipality=municipality).expiring(
        within_days=settings.ALLOWLIST_REMINDER_DAYS
    )
    return render(
        request,
        "access/allowlist.html",
        {
            "municipality": municipality,
            "entries": entries,
            "expiring": expiring,
            "form": form,
        },
        status=400 if form.errors else 200,
    )


def _own_entry(request: HttpRequest, public_id: str) -> AllowlistEntry:
    """An entry of the administrator's own municipality; any other is 404 (not 403: nothing is
    revealed about other municipalities' lists)."""
    return get_object_or_404(
        AllowlistEntry,
        public_id=public_id,
        municipality_id=request.user.account.municipality_id,
        revoked_at__isnull=True,
    )


@requires(Permission.MANAGE_OWN_ALLOWLIST)
@require_POST
def allowlist_renew(request: HttpRequest, public_id: str) -> HttpResponse:
    entry = services.allowlist_renew(request=request, entry=_own_entry(request, public_id))
    messages.success(
        request,
        _("%(email)s gäller nu till %(date)s.")
        % {"email": entry.email, "date": entry.expires_at.date().isoformat()},
    )
    return redirect("access:allowlist")


@requires(Permission.MANAGE_OWN_ALLOWLIST)
@require_POST
def allowlist_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    entry = services.allowlist_revoke(request=request, entry=_own_entry(request, public_id))
    messages.success(
        request,
        _("%(email)s är återkallad och kan inte längre logga in.") % {"email": entry.email},
    )
    return redirect("access:allowlist")


# IVO administrators: municipalities, their first administrator and their login method ----------


@requires(Permission.MANAGE_ALL_ALLOWLISTS)
def municipalities(request: HttpRequest) -> HttpResponse:
    from django.db.models import Count, Q

    from access.roles import Role

    all_municipalities = list(Municipality.objects.select_related("county").order_by("name"))
    form = FirstAdministratorForm(request.POST or None, municipalities=all_municipalities)
    if request.method == "POST" and form.is_valid():
        try:
            services.allowlist_add(
                request=request,
                email=form.cleaned_data["email"],
                municipality_id=form.cleaned_data["municipality"],
                role=Role.MUNICIPAL_ADMIN,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Kommunens administratör är tillagd."))
            return redirect("access:municipalities")
    now = timezone.now()
    live = Q(revoked_at__isnull=True, expires_at__gt=now)
    counts = {
        row["municipality"]: row
        for row in AllowlistEntry.objects.values("municipality").annotate(
            users=Count("id", filter=live),
            administrators=Count("id", filter=live & Q(role=Role.MUNICIPAL_ADMIN)),
        )
    }
    methods = dict(MunicipalityLogin.objects.values_list("municipality_id", "method"))
    rows = [
        {
            "municipality": municipality,
            "users": counts.get(municipality.code, {}).get("users", 0),
            "administrators": counts.get(municipality.code, {}).get("administrators", 0),
            "method": methods.get(municipality.code, MunicipalityLogin.Method.LINK),
        }
        for municipality in all_municipalities
        if municipality.code in counts or municipality.code in methods
    ]
    return render(
        request,
        "access/municipalities.html",
        {"form": form, "rows": rows, "methods": MunicipalityLogin.Method.choices},
        status=400 if form.errors else 200,
    )


@requires(Permission.MANAGE_ALL_ALLOWLISTS)
@require_POST
def municipality_login_method(request: HttpRequest, code: str) -> HttpResponse:
    municipality = get_object_or_404(Municipality, code=code)
    try:
        services.municipality_login_method_set(
            request=request,
            municipality_id=municipality.code,
            method=request.POST.get("method", ""),
        )
    except ValidationError:
        messages.error(request, _("Okänt inloggningssätt."))
    else:
        messages.success(
            request, _("Inloggningssättet för %(name)s är ändrat.") % {"name": municipality.name}
        )
    return redirect("access:municipalities")
