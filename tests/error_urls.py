"""The site's URLs and three that fail on purpose, for tests/test_error_pages.py."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from access.decorators import public
from config import urls as site_urls


@public
def forbidden(request):
    raise PermissionDenied


@public
def suspicious(request):
    raise SuspiciousOperation("a test's bad request")


@public
def broken(request):
    raise RuntimeError("a test's unexpected error")


@public
def broken_api(request):
    raise RuntimeError("a test's unexpected error in the API")


urlpatterns = [
    path("test-fel/403/", forbidden),
    path("test-fel/400/", suspicious),
    path("test-fel/500/", broken),
    path("api/test-fel/500/", broken_api),
    *site_urls.urlpatterns,
]

handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500
