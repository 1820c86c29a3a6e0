"""``migrate_all``: migrate every configured database (the register's and the access log's) and
make the database cache's table (CACHE_URL=db://<table>) where config/routers.py puts it. Never a
read replica (``DATABASE_REPLICAS``): a hot standby takes its schema from the primary's WAL, and
refuses the write ``migrate`` makes to record what it applied."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from register import services


class Command(BaseCommand):
    help = (
        "Migrerar alla databaser: registrets och åtkomstloggens (om den har en egen), och skapar "
        "cachens tabell."
    )

    def handle(self, *args, **options):
        for alias in settings.DATABASES:
            if alias in settings.DATABASE_REPLICAS:
                continue
            call_command(
                "migrate", database=alias, interactive=False, verbosity=options["verbosity"]
            )
            # Nothing to do when the cache is not the database's or its table exists.
            call_command("createcachetable", database=alias, verbosity=options["verbosity"])
        services.update_query_statistics()  # the planner's statistics for new indexes
