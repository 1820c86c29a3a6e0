from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """What IVO's operations staff run the service with: health and readiness, metrics, request
    ids in the logs, backup and restore. Above every other app; none of them names it."""

    name = "operations"
    verbose_name = _("Drift")
    default_auto_field = "django.db.models.BigAutoField"
