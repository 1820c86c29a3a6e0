"""``prune_access_log``: remove entries older than ACCESS_LOG_RETENTION_DAYS (default 5 years).

The database refuses to remove anything younger than a year whatever this is told
(access/migrations/0002), so a wrong setting cannot empty the log.

The hash chain (access/chain.py) stays verifiable: what goes is always the chain's beginning up to
the first entry to keep, and the last entry removed becomes the chain's anchor, which the first
remaining entry links to.
"""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction
from django.utils import timezone

from access import chain
from access.models import AccessEvent, AccessLogChain

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
        using = settings.ACCESS_LOG_DATABASE
        removed = 0
        # The chain's lock (SQLite: the IMMEDIATE transaction's write lock), so that a writer
        # that finds the log empty reads the anchor this sets.
        with transaction.atomic(using=using):
            if connections[using].vendor == "postgresql":
                with connections[using].cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chain.ADVISORY_LOCK_KEY])
            events = AccessEvent.objects.using(using)
            # Every entry before the first one to keep is older than the cutoff (it is the first
            # that is not), so the chain loses a beginning and never a piece of its middle.
            first_kept = (
                events.filter(at__gte=cutoff).order_by("id").values_list("id", flat=True).first()
            )
            old = events if first_kept is None else events.filter(id__lt=first_kept)
            last_removed = old.order_by("-id").values_list("id", "hash", "at").first()
            if last_removed is not None:
                # The application's own delete is closed (append-only); retention is the one way.
                removed = old._raw_delete(using)
                last_id, last_hash, last_at = last_removed
                AccessLogChain.objects.using(using).filter(pk=1).update(
                    anchor_id=last_id, anchor_hash=last_hash or "", anchor_at=last_at
                )
        self.stdout.write(f"{removed} poster äldre än {cutoff:%Y-%m-%d} togs bort.")
