from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegisterConfig(AppConfig):
    name = "register"
    verbose_name = _("Registret")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(_unicode_case_folding_for_sqlite)


def _unicode_case_folding_for_sqlite(sender, connection, **kwargs) -> None:
    """SQLite's built-in lower() and upper() fold ASCII only, so "Ängen" would not match "ängen".

    Overriding them with Python's makes Django's Lower/Upper behave as on PostgreSQL.
    """
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.create_function("lower", 1, _lower, deterministic=True)
        raw.create_function("upper", 1, _upper, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _upper(value):
    return value.upper() if isinstance(value, str) else value
