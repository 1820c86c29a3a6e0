from importlib import import_module

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


@pytest.fixture
def reference_data(transactional_db):
    """Län and kommuner in a test whose data must be committed (browser tests).

    Such tests end by emptying every table, the data migration's rows included, so each one
    loads them again, from the same migration that loads them in production.
    """
    from django.apps import apps

    from register.models import Municipality

    if not Municipality.objects.exists():
        import_module("register.migrations.0002_reference_data").load(apps, None)
