"""Every view declares what it needs: ``@requires(permission)`` or ``@public``.

The role-matrix test (tests/test_access_matrix.py) walks every URL of the site and fails for a
view that declares neither, so a new page cannot be added without deciding who may see it.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from access.roles import has_permission

PUBLIC = "public"

View = Callable[..., HttpResponse]


def requires(permission: str) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_permission(request.user, permission):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


def public(view: View) -> View:
    """Open to anyone, signed in or not (login pages, error pages)."""
    view.required_permission = PUBLIC  # type: ignore[attr-defined]
    return view
