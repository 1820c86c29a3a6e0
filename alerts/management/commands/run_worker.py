"""The background worker: django-tasks-db's ``db_worker`` for the alerts queue, and beside it a
thread that runs the sweep (alerts.delivery.sweep) every NOTICE_SWEEP_SECONDS.

The sweep is the one thing the queue library does not do: a task whose worker was killed stays
"running" in its table for ever, and nothing there runs a job on a schedule. Our own tables say
what is done (a fan-out row per event, a state per notice), so the sweep queues again whatever is
not, and the day's scan for what only the calendar makes.

    python manage.py run_worker            # production: one or more, beside the site
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from alerts import delivery
from alerts.tasks import QUEUE

logger = logging.getLogger("alerts.worker")


def _sweep_forever(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            close_old_connections()
            counts = delivery.sweep()
            if any(counts.values()):
                logger.info("sweep: %s", counts)
        except Exception:  # the next sweep tries again; the worker goes on
            logger.exception("sweep failed")
        finally:
            connection.close()
        stop.wait(settings.NOTICE_SWEEP_SECONDS)


class Command(DbWorkerCommand):
    help = "Kör bevakningarnas bakgrundsarbete: notiser, e-post och den dagliga genomgången."

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(queue_name=QUEUE, reload=False)
        parser.add_argument(
            "--no-sweep", action="store_true", help="Kör inte svepet (bara köns uppgifter)."
        )

    def handle(self, *args, no_sweep: bool = False, **options) -> None:
        stop = threading.Event()
        if not no_sweep and not options.get("batch"):
            threading.Thread(target=_sweep_forever, args=(stop,), daemon=True).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
