"""Set up the test identity provider's database: migrate, then add the users and the client.

DJANGO_SETTINGS_MODULE=tests.oidc_provider.settings python -m tests.oidc_provider.seed
"""

import django
from django.core.management import call_command


def main() -> None:
    django.setup()
    call_command("migrate", verbosity=0)

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import Application

    seed = settings.SEED
    for user in seed["users"]:
        get_user_model().objects.create_user(
            username=user["username"], email=user["email"], password=user["password"]
        )
    Application.objects.create(
        name="HVB-registret",
        client_id=seed["client_id"],
        client_secret=seed["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        # Loopback: any port is accepted (RFC 8252), so the test's live server may pick its own.
        redirect_uris=seed["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


if __name__ == "__main__":
    main()
