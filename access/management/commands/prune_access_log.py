"""``prune_access_log``: remove entries older than ACCESS_LOG_RETENTION_DAYS (default 5 years).

The database refuses to remove anything younger than a year whatever this is told
(access/migrations/0002), so a wrong setting cannot empty the log.
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access.models import AccessEvent

MINIMUM_RETENTION_DAYS = 365


class Command(BaseCommand):
    help = "Tar bort poster i åtkomstloggen som är äldre än lagringstiden."

    def handle(self, *args, **options):
        days = settings.ACCESS_LOG_RETENTION_DAYS
        if days < MINIMUM_RETENTION_DAYS:
            raise CommandError(
                f"ACCESS_LOG_RETENTION_DAYS är {days}; loggen sparas minst "
                f"{MINIMUM_RETENTION_DAYS} dagar."
            )
        cutoff = timezone.now() - datetime.timedelta(days=days)
        old = AccessEvent.objects.filter(at__lt=cutoff)
        # The application's own delete is closed (append-only); retention is the one way out.
        removed = old._raw_delete(old.db)
        self.stdout.write(f"{removed} poster äldre än {cutoff:%Y-%m-%d} togs bort.")
