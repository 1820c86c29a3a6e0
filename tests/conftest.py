import pytest


@pytest.fixture
def registrator(django_user_model):
    """An IVO registrator: the person whose name goes on history rows written through the admin."""
    return django_user_model.objects.create_user(
        username="registrator", password="registrator-password", is_staff=True
    )
