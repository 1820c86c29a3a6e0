"""Assertions several test modules share (a support module, not a test module)."""

from register.models import Facility, Provider, name_key_of


def assert_name_keys_written() -> None:
    """Every facility and provider holds the name_key of its name."""
    for model in (Facility, Provider):
        rows = list(model.objects.values_list("name", "name_key"))
        assert rows, model
        assert [key for _, key in rows] == [name_key_of(name) for name, _ in rows], model
