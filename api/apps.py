from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("API och öppna data")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_started
        from django.db.models.signals import post_migrate

        from api.auth import clear_api_statement_timeout
        from api.change_triggers import events_once_sqlite, restore_sqlite_triggers
        from register import services

        request_started.connect(clear_api_statement_timeout, dispatch_uid="api-statement-timeout")
        # A register table rebuilt by a later migration loses its triggers on SQLite.
        post_migrate.connect(restore_sqlite_triggers, sender=self)
        # A bulk write of decisions writes its feed events once (api/change_triggers.py).
        if events_once_sqlite not in services.BULK_WRITE_HOOKS:
            services.BULK_WRITE_HOOKS.append(events_once_sqlite)
