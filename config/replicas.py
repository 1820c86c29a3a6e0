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
used an unsafe method sets a short-lived signed cookie; one that ran a write on the primary to a
table that replicas serve (noted by an execute wrapper), or read a feed on the primary
(``pin_after``: the changes feed, the notifications), sets the cookie and, for an API client (no
cookies), a mark in the shared cache under its key's hash. Their next reads see their write, or
the resources the feed listed, whatever the replicas' lag. Only such a request writes the mark: a
POST with any ``Authorization`` header, a wrong key or a 404, writes nothing to the cache.

A replica more than ``DATABASE_REPLICA_MAX_LAG_SECONDS`` behind the primary (kept below the pin
window) is not read: each process samples the primary's WAL position and each replica's replayed
position at most every ``LAG_CHECK_SECONDS`` (``LagWatch``). A standby whose replay stalled, or
was paused, is left out until it catches up; without that a home just marked protected would stay
shown as unprotected on the reads it serves, for as long as it stalls.

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
from collections import deque
from collections.abc import Callable, Sequence

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
# How often a process asks the primary for its WAL position, and each replica for the position
# it has replayed: two small queries every half second at most, whatever the traffic.
LAG_CHECK_SECONDS = 0.5
_PIN_AFTER = "replica_pin_after"  # the request's attribute pin_after sets


class _Request:
    """Where the request being answered may read: ``allowed`` by the middleware, the replica
    chosen at its first read of a replica's model (so that a request that reads none, a static
    file or a health probe, never touches a replica)."""

    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed
        self.chosen = False
        self.replica: str | None = None
        # What must be set on the replica's connection before it is read (when_replica_chosen).
        self.on_choice: list[Callable[[str], None]] = []


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
        request.chosen = True
        replica = choose_replica()
        if replica is not None:
            try:
                for prepare in request.on_choice:
                    prepare(replica)
            except DatabaseError as error:  # it stopped answering: as if it had not answered
                _leave_out(replica, error)
                replica = None
        request.replica = replica
    return request.replica


def when_replica_chosen(prepare: Callable[[str], None]) -> Callable[[], None]:
    """Runs ``prepare`` with the alias of the replica this request reads: now if it reads one
    already, else when it chooses one (not before: a request that reads no replica's model never
    connects to one). Returns what cancels it, for a block that ends before the choice."""
    request = _current.get()
    if request is None or not request.allowed or (request.chosen and request.replica is None):
        return lambda: None
    if request.chosen:
        prepare(request.replica)
        return lambda: None
    request.on_choice.append(prepare)

    def cancel() -> None:
        with contextlib.suppress(ValueError):
            request.on_choice.remove(prepare)

    return cancel


def choose_replica() -> str | None:
    """A replica that answers and is not too far behind, in random order (the load spreads over
    them), or None. Its check on a kept connection is the one Django's health check would run at
    the first query anyway."""
    now = time.monotonic()
    aliases = [alias for alias in settings.DATABASE_REPLICAS if _left_out.get(alias, 0.0) <= now]
    random.shuffle(aliases)
    for alias in aliases:
        connection = connections[alias]
        try:
            connection.close_if_health_check_failed()
            connection.ensure_connection()
            caught_up = lag_watch.caught_up(alias)
        except DatabaseError as error:
            _leave_out(alias, error)
            continue
        if caught_up:
            return alias
    return None


def parse_lsn(text: str) -> int:
    """A PostgreSQL WAL position (``pg_lsn``, two hexadecimal halves: ``16/B374D848``) as one
    number: positions then compare as integers."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def replayed_in_time(
    replayed: int | None,
    samples: Sequence[tuple[float, int]],
    now: float,
    max_lag: float,
    spacing: float = LAG_CHECK_SECONDS,
) -> bool:
    """Whether a replica that has replayed the primary's WAL up to ``replayed`` is at most
    ``max_lag`` seconds behind at ``now``: it has replayed what the primary had written at
    ``now - max_lag``. ``samples`` are the primary's (monotonic time, WAL position), oldest
    first. That position is bounded from below by a sample taken at most ``spacing`` before that
    moment (the newest such); without one (a process that has not sampled that long, or was idle
    then) from above, by the oldest sample taken after it: stricter, never more lenient. Without
    any sample since that moment, or a replayed position (not a standby), it is not known to be
    caught up."""
    if replayed is None:
        return False
    moment = now - max_lag
    before = [lsn for taken, lsn in samples if moment - spacing <= taken <= moment]
    if before:
        return replayed >= before[-1]
    after = [lsn for taken, lsn in samples if taken > moment]
    return bool(after) and replayed >= after[0]


class LagWatch:
    """How far behind the primary each replica is, measured by this process. Both functions it
    calls are granted to PUBLIC: the application's role needs no privilege. The primary's
    position is sampled at most every ``LAG_CHECK_SECONDS`` and kept for ``max_lag`` plus that;
    each replica's verdict is kept that long too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._samples: deque[tuple[float, int]] = deque()
            self._verdicts: dict[str, tuple[float, bool]] = {}
            self._warned: set[str] = set()

    def sample_primary(self) -> list[tuple[float, int]]:
        """The samples held, with a new one last if the newest is ``LAG_CHECK_SECONDS`` old. The
        primary is asked outside the lock (each thread has its own connection). A sample's time
        is taken when the answer is in: the position is then at most what the primary had."""
        with self._lock:
            due = not self._samples or time.monotonic() - self._samples[-1][0] >= LAG_CHECK_SECONDS
        sample = None
        if due:
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                (position,) = cursor.fetchone()
            sample = (time.monotonic(), parse_lsn(position))
        with self._lock:
            if sample is not None and (not self._samples or self._samples[-1][0] < sample[0]):
                self._samples.append(sample)
            # Older than any moment replayed_in_time looks at: of no more use.
            oldest = time.monotonic() - settings.DATABASE_REPLICA_MAX_LAG_SECONDS
            while len(self._samples) > 1 and self._samples[0][0] < oldest - LAG_CHECK_SECONDS:
                self._samples.popleft()
            return list(self._samples)

    def caught_up(self, alias: str) -> bool:
        """Whether replica ``alias`` is at most ``DATABASE_REPLICA_MAX_LAG_SECONDS`` behind, as
        last measured, or measured now when that was ``LAG_CHECK_SECONDS`` ago. A failure to ask
        the replica is raised (it does not answer); the primary's is not the replica's fault, and
        leaves the request on the primary."""
        with self._lock:
            kept = self._verdicts.get(alias)
        if kept is not None and time.monotonic() - kept[0] < LAG_CHECK_SECONDS:
            return kept[1]
        try:
            samples = self.sample_primary()
        except DatabaseError:
            return False
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn()::text")
            (replayed,) = cursor.fetchone()
        # After the answer: the replica is judged against a later moment, never a more lenient one.
        measured = time.monotonic()
        max_lag = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        fresh = replayed_in_time(
            None if replayed is None else parse_lsn(replayed), samples, measured, max_lag
        )
        with self._lock:
            self._verdicts[alias] = (measured, fresh)
            # Not at a process's first measure: with only the sample just taken, a replica a few
            # milliseconds behind a busy primary is behind it (and read again half a second on).
            warn = not fresh and kept is not None and alias not in self._warned
            caught_up_again = fresh and alias in self._warned
            if warn:
                self._warned.add(alias)
            if caught_up_again:
                self._warned.discard(alias)
        if warn:
            logger.warning(
                "Read replica %s is more than %s s behind the primary; reading the primary",
                alias,
                max_lag,
            )
        elif caught_up_again:
            logger.info("Read replica %s has caught up with the primary", alias)
        return fresh


lag_watch = LagWatch()


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


def pin_after(request: HttpRequest) -> None:
    """Pins this request's client to the primary as a write would: it read, on the primary,
    what it will next look up among what replicas serve (a feed's events, then the resources
    they name), and a replica that has not replayed them would answer it with the old state or
    a 404 once its cursor has moved past them."""
    setattr(request, _PIN_AFTER, True)


def _pinned(request: HttpRequest) -> bool:
    seconds = settings.DATABASE_REPLICA_PIN_SECONDS
    if request.get_signed_cookie(PIN_COOKIE, default=None, salt=_PIN_SALT, max_age=seconds):
        return True
    mark = _api_key_mark(request)
    return mark is not None and cache.get(mark) is not None


def _pin(request: HttpRequest, response: HttpResponse, *, mark: bool) -> None:
    """The cookie; with ``mark``, the API client's cache entry too: only after a real write or
    a feed read, never for any unsafe request (a row in the database cache per request anyone
    can send, with any ``Authorization`` header)."""
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
    key = _api_key_mark(request) if mark else None
    if key is not None:
        cache.set(key, 1, timeout=seconds)


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
        wrote = note.wrote or getattr(request, _PIN_AFTER, False)
        if wrote or not safe:
            _pin(request, response, mark=wrote)
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
