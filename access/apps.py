from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Åtkomst")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from access.chain import register_sqlite_function

        connection_created.connect(register_sqlite_function)
