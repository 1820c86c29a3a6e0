from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API och öppna data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_started
        from django.db.models.signals import post_migrate

        from api.auth import clear_api_statement_timeout
        from api.change_triggers import restore_sqlite_triggers

        request_started.connect(clear_api_statement_timeout, dispatch_uid="api-statement-timeout")
        # A register table rebuilt by a later migration loses its triggers on SQLite.
        post_migrate.connect(restore_sqlite_triggers, sender=self)
