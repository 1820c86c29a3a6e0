"""``export_access_log_head [--date YYYY-MM-DD]``: print the access log's chain head at the end of
a day (Swedish time; today so far by default) as ``date id hash``: one line for IVO to keep where
the database's administrators cannot write, e.g. every night from cron
(``manage.py export_access_log_head --date yesterday's-date >> heads.txt`` on another system).
``verify_access_log --heads`` then finds a log cut short or rewritten up to that entry."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access import chain
from access.models import AccessEvent, AccessLogChain


class Command(BaseCommand):
    help = "Skriver ut åtkomstloggens kedjetopp vid slutet av en dag: datum, id, hash."

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default=None,
            help="Databasen med åtkomstloggen (standard: ACCESS_LOG_DATABASE).",
        )
        parser.add_argument(
            "--date",
            type=datetime.date.fromisoformat,
            help="Dagen (ÅÅÅÅ-MM-DD, svensk tid); utan: i dag hittills.",
        )

    def handle(self, *args, date: datetime.date | None = None, **options):
        using = options["database"] or settings.ACCESS_LOG_DATABASE
        date = date or timezone.localdate()
        end = timezone.make_aware(
            datetime.datetime.combine(date + datetime.timedelta(1), datetime.time())
        )
        # The newest entry in the chain's order (ids follow it) written before the day ended.
        head = (
            AccessEvent.objects.using(using)
            .filter(at__lt=end)
            .order_by("-id")
            .values_list("id", "hash")
            .first()
        )
        if head is None:
            anchor = AccessLogChain.objects.using(using).filter(pk=1).first()
            if anchor is None:
                raise CommandError("Åtkomstloggens kedja saknar sitt ankare (migration 0006).")
            head = (anchor.anchor_id, anchor.anchor_hash)
        self.stdout.write(chain.Head(date, head[0], head[1]).line())
