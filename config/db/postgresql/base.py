"""Django's PostgreSQL backend with a health check that needs no round trip.

``DATABASES[...]["ENGINE"] = "config.db.postgresql"`` (config/settings.py sets it for every
PostgreSQL database). Everything else is Django's backend.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        """Whether a kept connection still works, asked before each request reuses it
        (``CONN_HEALTH_CHECKS``). An idle connection's socket has nothing to read unless the
        server has said something: an error, or that it is closing the connection (a restart,
        ``pg_terminate_backend``). Only then, or when the connection is not idle (a failed
        transaction, where ``SELECT 1`` fails too), is the server asked, with Django's
        ``SELECT 1``. Saves that round trip on every request (docs/benchmarks.md)."""
        raw = self.connection
        if raw is None or raw.closed or raw.broken:
            return False
        if raw.info.transaction_status not in (TransactionStatus.IDLE, TransactionStatus.INTRANS):
            return super().is_usable()
        try:
            readable, _writable, _failed = select.select([raw.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return super().is_usable() if readable else True
