from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegisterConfig(AppConfig):
    name = "register"
    verbose_name = _("Registret")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from register.data_version import restore_sqlite_triggers

        connection_created.connect(_unicode_case_folding_for_sqlite)
        # A table rebuilt by a later migration loses its triggers on SQLite: put them back.
        post_migrate.connect(restore_sqlite_triggers, sender=self)


def _unicode_case_folding_for_sqlite(sender, connection, **kwargs) -> None:
    """SQLite's built-in lower() and upper() fold ASCII only, so "Ängen" would not match "ängen".

    Overriding them with Python's makes Django's Lower/Upper behave as on PostgreSQL (in a UTF-8
    locale) in this connection. Nothing the application runs depends on it any more: the search
    matches and sorts names on name_key, which the application writes (register.models
    .name_key_of), because an index on lower(name) keeps what lower() gave when it was built,
    and a restore from a dump or a REINDEX without this function builds it with SQLite's own.
    Kept so that a Lower()/Upper() in an ad hoc query or the shell agrees with PostgreSQL; the
    triggers' lower() (data version, API changes) folds hex digits, the same either way. Never
    index Lower()/Upper(): tests/test_name_key.py refuses such an index.
    """
    if connection.vendor == "sqlite":
        raw = connection.connection
        raw.create_function("lower", 1, _lower, deterministic=True)
        raw.create_function("upper", 1, _upper, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _upper(value):
    return value.upper() if isinstance(value, str) else value
