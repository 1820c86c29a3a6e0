import pytest


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Production serves hashed static files from collectstatic's manifest; tests have none."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Production redirects plain HTTP to HTTPS; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def registrator(django_user_model):
    """An IVO registrator: the person whose name goes on history rows written through the admin."""
    return django_user_model.objects.create_user(
        username="registrator", password="registrator-password", is_staff=True
    )
