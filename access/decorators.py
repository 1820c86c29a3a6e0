"""Who may open a portal page. One decorator on every portal view, so that the access issue
tightens it here (roles, allowlist) without rewriting any page."""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse


def portal_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Until logins and roles exist the portal is open where ``PORTAL_OPEN`` is on (development:
    ``make run``); elsewhere a signed-in user is required."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.PORTAL_OPEN and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper
