"""URLs of federated login through OpenID Connect (access/oidc.py). The names are
mozilla-django-oidc's own, which its views reverse."""

from django.urls import path

from access import oidc
from access.decorators import public

urlpatterns = [
    path(
        "oidc/authenticate/",
        public(oidc.AuthenticationRequestView.as_view()),
        name="oidc_authentication_init",
    ),
    path(
        "oidc/callback/",
        public(oidc.AuthenticationCallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
    path("oidc/logout/", public(oidc.LogoutView.as_view()), name="oidc_logout"),
]
