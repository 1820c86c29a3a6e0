"""Access ends the moment it should (issue: a former employee kept reading for nine months).

On every request of a signed-in user: the session ends after inactivity (counted from the last
request, the login itself included) and after an absolute time (counted from the login), and a
municipal user's session ends as soon as their allowlist entry is revoked, expires, or no longer
matches their municipality or role.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from access import log
from access.models import AccessEvent, AllowlistEntry
from access.roles import MUNICIPAL_ROLES, role_of

LOGIN_AT = "access_login_at"
SEEN_AT = "access_seen_at"


def session_started(request) -> None:
    """Every login path calls this right after ``login()``: both clocks start at the login, so
    a session left alone after signing in ends after SESSION_IDLE_SECONDS like any other."""
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now


class AccessMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated:
            reason = self._reason_to_end(request, user)
            if reason:
                # The log keeps the reason in Swedish, whatever language the user reads.
                log.record(request, AccessEvent.Action.SESSION_ENDED, detail={"orsak": reason})
                logout(request)
                if request.path.startswith("/api/"):
                    # The API never reads the session (a key or nothing): it answers as usual,
                    # not with the login page.
                    return self.get_response(request)
                messages.info(request, _("Du har loggats ut: %(reason)s.") % {"reason": _(reason)})
                return redirect_to_login(request.get_full_path())
            now = int(time.time())
            # Written at most once a minute: a session write per page would take the SQLite
            # write lock on every read.
            if now - request.session.get(SEEN_AT, 0) >= 60:
                request.session[SEEN_AT] = now
        return self.get_response(request)

    def _reason_to_end(self, request, user) -> str:
        now = time.time()
        # A session signed in some other way (force_login in tests) starts its clocks now. The
        # last request defaults to the login, never to this request: the time between the login
        # and the first request after it is idle time too.
        login_at = request.session.setdefault(LOGIN_AT, int(now))
        seen_at = request.session.setdefault(SEEN_AT, login_at)
        if now - login_at > settings.SESSION_ABSOLUTE_SECONDS:
            return gettext_noop("sessionens längsta tid har gått ut")
        if now - seen_at > settings.SESSION_IDLE_SECONDS:
            return gettext_noop("du har varit inaktiv för länge")
        role = role_of(user)
        if role in MUNICIPAL_ROLES:
            account = user.account
            live = AllowlistEntry.objects.active().filter(
                email=user.email, municipality_id=account.municipality_id, role=role
            )
            if not live.exists():
                return gettext_noop("din behörighet har upphört")
        return ""
