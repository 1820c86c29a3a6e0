from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Bevakningar")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from alerts import delivery, signals  # noqa: F401  (signals: receivers connect)
        from register import events

        # The register records its events; this app tells the watchers (the dependency rule:
        # the domain names no app above it).
        if delivery.events_recorded not in events.EVENT_HOOKS:
            events.EVENT_HOOKS.append(delivery.events_recorded)
