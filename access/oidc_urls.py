"""URLs of federated login through OpenID Connect (access/oidc.py). The names are
mozilla-django-oidc's own, which its views reverse.

access/oidc.py is imported at the first request to one of them, not with the URLs: with
mozilla-django-oidc, requests, PyJWT and cryptography it is 11 MB of memory that a worker
serving only the API, the open data and the portal's pages never needs."""

from functools import cache

from django.urls import path

from access.decorators import public


def _view(name: str):
    @cache
    def view_of_class():
        from access import oidc

        return getattr(oidc, name).as_view()

    @public
    def view(request, *args, **kwargs):
        return view_of_class()(request, *args, **kwargs)

    return view


urlpatterns = [
    path(
        "oidc/authenticate/",
        _view("AuthenticationRequestView"),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        _view("AuthenticationCallbackView"),
        name="oidc_authentication_callback",
    ),
    path("oidc/logout/", _view("LogoutView"), name="oidc_logout"),
]
