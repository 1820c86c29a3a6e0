"""The site's error pages: 400, 403, 404, 500 and the CSRF failure, in the site's design and the
visitor's language (config/urls.py handler400…500, settings.CSRF_FAILURE_VIEW).

Under /api/ the API answers problem+json instead (api/problems.py), as its own handlers do.

The 500 page is rendered from a static template with a minimal context: no context processors,
no user, no session, no database. Whatever broke the request may be the database itself.
"""

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from api.problems import ApiProblem, not_found, problem_response
from config.language import API_PREFIX


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _back_url(request: HttpRequest) -> str | None:
    """The page the visitor came from, when it is one of ours and not this one (a form posted
    to its own page: that page, to load again)."""
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    if request.method == "GET" and referer.split("?")[0].endswith(request.path):
        return None
    return referer


def _page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    return render(request, template, {"back_url": _back_url(request)}, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _page(request, "400.html", 400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    return _page(request, "403.html", 403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return problem_response(request, not_found())
    return _page(request, "404.html", 404)


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(request, "403_csrf.html", 403)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return problem_response(
            request, ApiProblem("serverfel", _("Ett internt fel uppstod. Felet är loggat."))
        )
    # A plain dict, not a RequestContext: no context processor runs (they read the user, and
    # the user is in the session, in the database). The CSRF token comes from its cookie, so
    # the language switch in the header still works.
    context = {"request": request, "csrf_token": get_token(request)}
    return HttpResponse(loader.get_template("500.html").render(context), status=500)
