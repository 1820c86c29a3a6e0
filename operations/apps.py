from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What IVO's operations staff run the service with: health and readiness, metrics, request
    ids in the logs, backup and restore. Above every other app; none of them names it."""

    name = "operations"
    verbose_name = "Drift"  # no models: never shown to a user
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from access import log
        from operations import checks, metrics  # noqa: F401 - registers the system checks

        # access.log tells of failed logins and failed writes; the counters are ours.
        log.login_failed.connect(metrics.count_login_failure, dispatch_uid="metrics-login")
        log.write_failed.connect(
            metrics.count_access_log_write_failure, dispatch_uid="metrics-access-log"
        )
