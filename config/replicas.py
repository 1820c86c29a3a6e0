"""Reads spread over PostgreSQL read replicas (``DATABASE_REPLICA_URLS``; docs/operations.md,
"Read replicas and scale-out").

A replica is a hot standby: it replays the primary's WAL a moment behind it. So only what may be
a second old is read there, and only where nothing this client just wrote must show:

- only during a request this middleware lets read from a replica: a safe method (GET, HEAD,
  OPTIONS) from a client that has not written in the last ``DATABASE_REPLICA_PIN_SECONDS``.
  Management commands, the worker and anything outside a request read the primary;
- only the register's and the linking tool's models (``REPLICA_APPS``), never the security and
  session machinery (accounts, sessions, allowlist, API keys, django-axes, OTP devices, the access
  log, the task queue, the cache) nor the two feeds ordered by transaction id (the changes feed's
  ``ChangeEvent`` and the notifications' ``RegisterEvent``: their horizon,
  ``pg_snapshot_xmin(pg_current_snapshot())``, is the primary's; api/changes.py);
- never inside a transaction on the primary: what a transaction reads decides what it writes;
- one replica for the whole request (chosen here), so that a page is read from one consistent
  state: the register's data version and the statistics' tallies kept under it (stats/facts.py)
  then come from the same server, never a new version with a lagging replica's tallies.

A client that wrote is pinned to the primary for ``DATABASE_REPLICA_PIN_SECONDS``: a request that
used an unsafe method, or ran a write on the primary to a table that replicas serve (noted by an
execute wrapper), sets a short-lived signed cookie and, for an API client (no cookies), a mark in
the shared cache under its key's hash. Their next reads see their write whatever the replicas' lag
(kept well under the pin window: docs/operations.md).

A replica that does not answer (stopped, restarting, unreachable) is left out for
``DATABASE_REPLICA_RETRY_SECONDS`` by this process, and the request reads the primary instead; a
safe request whose replica stops under it is answered again from the primary: a replica's
restart costs no failed requests.
"""

import contextlib
import contextvars
import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable

import dj_database_url
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA_APPS = frozenset({"register", "linking"})
# Read on the primary although their app's other models are not: ordered by transaction id, their
# readers compare with the primary's own snapshot (api/changes.py ended_transactions_only).
PRIMARY_MODELS = frozenset({("register", "registerevent"), ("api", "changeevent")})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PIN_COOKIE = "hvb_primary"
_PIN_SALT = "config.replicas.pin"
# A replica that does not answer must not hold a request for long: a refused connection returns
# at once, an unreachable host within this many seconds.
CONNECT_TIMEOUT_SECONDS = 2


class _Request:
    """Where the request being answered may read: ``allowed`` by the middleware, the replica
    chosen at its first read of a replica's model (so that a request that reads none, a static
    file or a health probe, never touches a replica)."""

    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed
        self.chosen = False
        self.replica: str | None = None


_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("replica", default=None)
_left_out: dict[str, float] = {}  # alias -> time.monotonic() until which it is not tried
_left_out_lock = threading.Lock()


def replica_databases(urls: list[str], primary: dict) -> dict[str, dict]:
    """``DATABASES`` entries ``replica_1``, ``replica_2``… for the replicas' URLs, kept open and
    checked before reuse as the primary's connection is. Each is a test mirror of ``default``:
    Django's test set-up then creates no database on a read-only standby and points the alias at
    the test database's name (on the replica's server, where physical replication brings it)."""
    if not urls:
        return {}
    # By its ending: a wrapper of Django's backend (a metrics one) is PostgreSQL too.
    if not primary["ENGINE"].endswith(".postgresql"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL")
    replicas = {}
    for number, url in enumerate(urls, start=1):
        database = dj_database_url.parse(
            url,
            conn_max_age=primary.get("CONN_MAX_AGE", 0),
            conn_health_checks=primary.get("CONN_HEALTH_CHECKS", False),
        )
        if not database["ENGINE"].endswith(".postgresql"):
            raise ImproperlyConfigured(
                f"DATABASE_REPLICA_URLS: replica {number} must be a postgres:// URL"
            )
        database["ENGINE"] = primary["ENGINE"]  # the same backend, wrapped as the primary's
        database["OPTIONS"] = {
            **database.get("OPTIONS", {}),
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        }
        database["TEST"] = {"MIRROR": DEFAULT_DB_ALIAS}
        replicas[f"replica_{number}"] = database
    return replicas


def replica_readable(model) -> bool:
    label = (model._meta.app_label, model._meta.model_name)
    return label[0] in REPLICA_APPS and label not in PRIMARY_MODELS


def current_replica() -> str | None:
    """The replica this request reads from, chosen at the first call; None: the primary."""
    request = _current.get()
    if request is None or not request.allowed:
        return None
    if not request.chosen:
        request.replica = choose_replica()
        request.chosen = True
    return request.replica


def choose_replica() -> str | None:
    """A replica that answers, in random order (the load spreads over them), or None. Its check
    on a kept connection is the one Django's health check would run at the first query anyway."""
    now = time.monotonic()
    aliases = [alias for alias in settings.DATABASE_REPLICAS if _left_out.get(alias, 0.0) <= now]
    random.shuffle(aliases)
    for alias in aliases:
        connection = connections[alias]
        try:
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        except DatabaseError as error:
            _leave_out(alias, error)
            continue
        return alias
    return None


_READ_STATEMENT = re.compile(
    r"\s*(?:SELECT|SHOW|SET|RESET|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|START|COMMIT|DECLARE|FETCH|"
    r"CLOSE|EXPLAIN|VALUES)\b",
    re.IGNORECASE,
)
_WRITE_STATEMENT = re.compile(
    r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?"?([A-Za-z0-9_]+)"?', re.IGNORECASE
)
_replica_tables: frozenset[str] | None = None


def replica_tables() -> frozenset[str]:
    """The tables replicas serve: a write to one of them pins its client to the primary."""
    global _replica_tables
    if _replica_tables is None:
        from django.apps import apps

        _replica_tables = frozenset(
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if replica_readable(model)
        )
    return _replica_tables


def writes_replica_table(sql: str) -> bool:
    """Whether a statement may change what replicas serve. Writes to the primary's own tables
    (the access log, sessions, the cache, login limits) do not pin: those are never read from a
    replica. A statement of any other form (a CTE, COPY, TRUNCATE…) counts as a write."""
    if _READ_STATEMENT.match(sql):
        return False
    match = _WRITE_STATEMENT.match(sql)
    return match is None or match.group(1) in replica_tables()


class _WriteNote:
    """An execute wrapper on the primary's connection: did this request write what replicas
    serve?"""

    def __init__(self) -> None:
        self.wrote = False

    def __call__(self, execute: Callable, sql, params, many, context):
        if not self.wrote and writes_replica_table(str(sql)):
            self.wrote = True
        return execute(sql, params, many, context)


def _api_key_mark(request: HttpRequest) -> str | None:
    """The cache key that pins an API client (they keep no cookies): its key's hash, never the
    key itself."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    return "replica-pin:" + hashlib.sha256(header.encode()).hexdigest()


def _pinned(request: HttpRequest) -> bool:
    seconds = settings.DATABASE_REPLICA_PIN_SECONDS
    if request.get_signed_cookie(PIN_COOKIE, default=None, salt=_PIN_SALT, max_age=seconds):
        return True
    mark = _api_key_mark(request)
    return mark is not None and cache.get(mark) is not None


def _pin(request: HttpRequest, response: HttpResponse) -> None:
    seconds = settings.DATABASE_REPLICA_PIN_SECONDS
    response.set_signed_cookie(
        PIN_COOKIE,
        "1",
        salt=_PIN_SALT,
        max_age=seconds,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    mark = _api_key_mark(request)
    if mark is not None:
        cache.set(mark, 1, timeout=seconds)


def _leave_out(alias: str, error: BaseException) -> None:
    with _left_out_lock:
        _left_out[alias] = time.monotonic() + settings.DATABASE_REPLICA_RETRY_SECONDS
    # The class only: psycopg's message can name the server's address and user.
    logger.warning(
        "Read replica %s does not answer (%s); reading the primary for %s s",
        alias,
        type(error).__name__,
        settings.DATABASE_REPLICA_RETRY_SECONDS,
    )
    with contextlib.suppress(DatabaseError):
        connections[alias].close()


class ReplicaMiddleware:
    """Decides whether the request may read a replica, and pins a client that wrote. Before the
    sessions and authentication (after WhiteNoise: a static file reads no database), so that
    every read and write of the request happens inside it.

    A replica that stops while a request reads from it (a restart terminates its connections)
    fails the request with a 500 (from Django's handler, or the API's own); the request, being a
    safe one, is then answered once more from the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        safe = request.method in SAFE_METHODS
        note = _WriteNote()
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(note):
            reading = _Request(allowed=safe and not _pinned(request))
            response = self._respond(request, reading)
            if reading.replica is not None and _failed_under(reading.replica, response):
                response = self._respond(request, _Request(allowed=False))
        if note.wrote or not safe:
            _pin(request, response)
        return response

    def _respond(self, request: HttpRequest, reading: _Request) -> HttpResponse:
        token = _current.set(reading)
        try:
            return self.get_response(request)
        finally:
            _current.reset(token)


def _failed_under(replica: str, response: HttpResponse) -> bool:
    """Whether the request failed because its replica went away: a 500 after an error on the
    replica's connection, which no longer answers. Left out then, as a replica that did not
    answer at the start."""
    if response.status_code < 500:
        return False
    connection = connections[replica]
    if not connection.errors_occurred or connection.is_usable():
        return False
    _leave_out(replica, OperationalError())
    return True
