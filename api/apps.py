from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API och öppna data"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.core.signals import request_started

        from api.auth import clear_api_statement_timeout

        request_started.connect(clear_api_statement_timeout, dispatch_uid="api-statement-timeout")
