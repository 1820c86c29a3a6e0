"""Login of IVO's staff with password and a TOTP code, and the gate of the back office.

The password is checked by Django's backends behind django-axes, which refuses a username from
an address after repeated failures (config/settings.py). A wrong code, a missing device or an
account that is not IVO staff counts as a failure too: someone who has the password cannot guess
codes at leisure. Whatever failed, the page says the same thing.
"""

import math

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.contrib.auth import authenticate, login
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import verify_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from access import log
from access.decorators import public
from access.middleware import session_started
from access.models import AccessEvent
from access.roles import IVO_ROLES, Permission, has_permission, role_of
from access.staff_forms import StaffLoginForm

METHOD = "lösenord och kod"


def _next_url(request: HttpRequest) -> str:
    value = request.GET.get("next")
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("admin:index")


def _is_ivo_staff(user) -> bool:
    return user.is_active and user.is_staff and role_of(user) in IVO_ROLES


def _second_factor(request: HttpRequest, user, code: str) -> tuple[TOTPDevice | None, str]:
    """The device that accepts ``code``, or None and why not (for the access log only)."""
    if not _is_ivo_staff(user):
        return None, "inte IVO-personal"
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    if device is None:
        return None, "ingen bekräftad kodgenerator"
    # django-otp's own check: throttled per device, and a code is accepted only once.
    if verify_token(user, device.persistent_id, code) is None:
        return None, "fel kod"
    return device, ""


@public
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("password", "code")
@never_cache
def staff_login(request: HttpRequest) -> HttpResponse:
    form = StaffLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        credentials = {"username": username}
        if not AxesProxyHandler.is_allowed(request, credentials):
            log.record(request, AccessEvent.Action.LOGIN_FAILED, detail=_detail("spärrad"))
            return locked_out(request, None, credentials)
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            reason = "fel användarnamn eller lösenord"
        else:
            device, reason = _second_factor(request, user, form.cleaned_data["code"])
            if device is not None:
                return _sign_in(request, user, device)
            # Counted by django-axes as a wrong password is.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        locked = getattr(request, "axes_locked_out", False)
        log.record(
            request,
            AccessEvent.Action.LOGIN_FAILED,
            user=user,
            detail=_detail(reason, locked=locked),
        )
        # Same words whatever failed: nothing tells which part was wrong, or if the user exists.
        form.add_error(
            None,
            _(
                "Inloggningen misslyckades. Kontrollera användarnamn, lösenord och kod och "
                "försök igen med en ny kod."
            ),
        )
    return render(
        request,
        "access/staff_login.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def _detail(reason: str, *, locked: bool = False) -> dict:
    return {"sätt": METHOD, "orsak": reason, "följd": "spärrad" if locked else ""}


def _sign_in(request: HttpRequest, user, device: TOTPDevice) -> HttpResponse:
    next_url = _next_url(request)
    login(request, user)  # a new session id
    otp_login(request, device)  # the session is verified by this device (django_otp)
    session_started(request)
    log.record(request, AccessEvent.Action.LOGIN, user=user, detail={"sätt": METHOD})
    return redirect(next_url)


# django-axes' hooks (config/settings.py) ------------------------------------------------------


def axes_not_counted(request: HttpRequest, credentials: dict | None = None) -> bool:
    """AXES_WHITELIST_CALLABLE: an attempt without a username (federated login) is neither
    counted nor refused, as its lockout would be of the address alone."""
    return not get_client_username(request, credentials)


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the same page whether or not the username exists, with the time
    the lockout ends (the latest failure plus the cool-off)."""
    now = timezone.now()
    cool_off = get_cool_off(request)
    retry_at = None
    if cool_off is not None:
        latest = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=getattr(request, "axes_ip_address", None),
        ).aggregate(latest=Max("attempt_time"))["latest"]
        retry_at = max(latest or now, now - cool_off) + cool_off
    seconds = max(60, math.ceil((retry_at - now).total_seconds())) if retry_at else None
    response = render(
        request,
        "access/staff_locked_out.html",
        {"retry_at": retry_at, "minutes": math.ceil(seconds / 60) if seconds else None},
        status=429,
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


# The back office -------------------------------------------------------------------------------


def _back_office_allowed(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return (
        user.is_authenticated
        and _is_ivo_staff(user)
        and is_verified is not None
        and is_verified()
        and has_permission(user, Permission.BACK_OFFICE)
    )


class BackOfficeMiddleware:
    """Every page of the back office (Django admin, including its own login page) is for IVO
    staff signed in with password and code whose role has the back-office permission.

    A middleware rather than django-otp's OTPAdminSite: the admin's URLs, and with them its own
    password-only login view, are bound before any module of ours could swap the site's class.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        admin_index = reverse("admin:index")
        if request.path.startswith(admin_index) and not _back_office_allowed(request.user):
            if request.path == reverse("admin:login"):
                return redirect_to_login(
                    request.GET.get("next") or admin_index, reverse("staff:login")
                )
            user = request.user
            account = getattr(user, "account", None) if user.is_authenticated else None
            unverified_staff = account is not None and account.role in IVO_ROLES
            if (
                user.is_authenticated
                and not unverified_staff
                and not has_permission(user, Permission.BACK_OFFICE)
            ):
                raise PermissionDenied
            return redirect_to_login(request.get_full_path(), reverse("staff:login"))
        return self.get_response(request)
