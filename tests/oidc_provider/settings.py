"""Settings of the test identity provider. Everything it needs comes from the test's environment:

- OIDC_PROVIDER_DATABASE: the path of its SQLite file (in the test's temporary directory);
- OIDC_PROVIDER_RSA_KEY: the PEM private key its ID tokens are signed with (made per test run);
- OIDC_PROVIDER_SEED: JSON with the client and the users, and each user's extra claims.
"""

import json
import os
from pathlib import Path

SEED = json.loads(os.environ["OIDC_PROVIDER_SEED"])
# The claims each user's ID token and userinfo carry beyond e-mail (see validators.py).
PROVIDER_CLAIMS = {user["username"]: user.get("claims", {}) for user in SEED["users"]}

DEBUG = False
SECRET_KEY = "test-identity-provider-only-not-a-secret-of-anything-else"
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "tests.oidc_provider.urls"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).resolve().parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["OIDC_PROVIDER_DATABASE"],
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Fast hashing: passwords and the client secret of a throwaway provider.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The browser holds the cookies of both sites on 127.0.0.1 (cookies ignore the port): names of
# its own, so the provider's session never overwrites the register's.
SESSION_COOKIE_NAME = "op_sessionid"
CSRF_COOKIE_NAME = "op_csrftoken"
LOGIN_URL = "/konto/logga-in/"

LANGUAGE_CODE = "sv"
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": os.environ["OIDC_PROVIDER_RSA_KEY"],
    "SCOPES": {"openid": "OpenID Connect", "email": "E-postadress"},
    "DEFAULT_SCOPES": ["openid"],
    "OAUTH2_VALIDATOR_CLASS": "tests.oidc_provider.validators.ClaimsValidator",
    "PKCE_REQUIRED": True,
    # Both sites speak plain HTTP on loopback.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
