"""Django system checks for the operations settings: a mistake stops the start, not a scrape."""

import ipaddress

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security)
def metrics_allowed_networks(app_configs, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for network in settings.OPERATIONS_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(network)
        except ValueError:
            errors.append(
                checks.Error(
                    f"OPERATIONS_ALLOWED_NETWORKS: {network!r} is not a network in CIDR form "
                    "(host bits set, or not an address).",
                    id="operations.E001",
                )
            )
    return errors
