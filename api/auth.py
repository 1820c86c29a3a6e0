"""Who is calling the API: an API client with a bearer token, or (for the public resources, while
``API_OPEN_DATA`` is on) anyone. Keys are stored as SHA-256 only; the key itself is shown once.

A request with a token runs as the client's account (role ``kommun_system``), so the disclosure
policy and the access log see it as they see the municipality's users. A request without one runs
as an anonymous user — the API never reads the session cookie, so a signed-in browser gets
nothing through the API that it would not get without it.
"""

import hashlib
import re
import secrets
import threading
import time
import weakref
from array import array
from contextlib import ExitStack, contextmanager

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security.http import HttpAuthBase
from ninja.throttling import BaseThrottle

from access.log import client_ip
from api.models import ApiClient, ApiToken
from api.problems import ApiProblem
from config.replicas import when_replica_chosen

TOKEN_PREFIX = "hvb_"
TOKEN_FORMAT = re.compile(r"^hvb_[A-Za-z0-9_-]{43}$")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Anonymous:
    """The caller of a public resource without a token (open data)."""

    def __str__(self) -> str:
        return "anonym"


ANONYMOUS = Anonymous()


class BearerToken(HttpAuthBase):
    """``Authorization: Bearer hvb_…``. ``public``: the resource holds no personal data unless
    the policy gives it, and is open without a token while ``API_OPEN_DATA`` is on. A token that
    is sent is always checked, on public resources too: a client learns at once that its key has
    stopped working."""

    openapi_scheme = "bearer"

    def __init__(self, *, public: bool):
        self.public = public
        super().__init__()

    def __call__(self, request: HttpRequest):
        header = request.headers.get("Authorization", "")
        if not header:
            if self.public and settings.API_OPEN_DATA:
                request.user = AnonymousUser()
                return ANONYMOUS
            raise ApiProblem(
                "token-saknas",
                _("Ange en API-nyckel i huvudet Authorization: Bearer <nyckel>."),
            )
        scheme, _space, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not TOKEN_FORMAT.match(token):
            raise ApiProblem(
                "ogiltig-token",
                _("Huvudet Authorization ska vara Bearer följt av en nyckel som börjar med hvb_."),
            )
        return authenticate(request, token)


def _token(digest: str) -> ApiToken | None:
    """The token with its client, account user and municipality, read on every call: what may
    have changed since the key was last used (revoked, expired, the client's municipality, the
    account's role) counts at once."""
    return (
        ApiToken.objects.select_related("client__account_user__account", "client__municipality")
        .filter(token_hash=digest)
        .first()
    )


def authenticate(request: HttpRequest, token: str) -> ApiClient:
    found = _token(token_hash(token))
    if found is None:
        raise ApiProblem(
            "okand-token", _("Nyckeln finns inte. Kontrollera att den är rätt kopierad.")
        )
    if (
        found.revoked_at is not None
        or found.client.revoked_at is not None
        or not found.client.account_user.is_active
    ):
        raise ApiProblem(
            "token-aterkallad",
            _("Nyckeln är återkallad. Be IVO om en ny."),
        )
    if found.expires_at <= timezone.now():
        raise ApiProblem(
            "token-har-gatt-ut",
            _("Nyckeln gällde till %(date)s. Be IVO om en ny.")
            % {"date": timezone.localtime(found.expires_at).date().isoformat()},
        )
    request.user = found.client.account_user
    return found.client


class ClientRateThrottle(BaseThrottle):
    """``API_RATE_LIMIT_PER_MINUTE`` requests a minute per client, or per address without a token.

    A sliding minute counted by the second: the client's requests of each of the last 60 seconds,
    kept in Django's cache (``CACHE_URL``, shared by every process) as one packed array of
    (second, count) pairs, oldest first, at most 60 pairs whatever the limit. Not ninja's
    ``SimpleRateThrottle``: it keeps each request's key and history on the one instance every
    thread shares, reads the limit once at start, and stores a list of every request's time. The
    mixed benchmark shows no speed gained either way (docs/benchmarks.md). A request counts until
    the 60th second after its own. Two calls of one client at the same moment on two processes
    may both read the count before either writes it, and then only one of them is counted: a
    client that calls in parallel can pass the limit by its lost counts (Django's cache has no
    atomic read-and-write that would prevent it on every backend)."""

    timer = time.time  # a test sets the clock here

    def __init__(self):
        # One instance serves every request: what wait() reports is kept per thread.
        self._refused = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        limit, minute = settings.API_RATE_LIMIT_PER_MINUTE, 60
        key = self.get_cache_key(request)
        seconds = _seconds(cache.get(key))  # second, count, second, count, ...
        # A clock set back counts on in the last second seen: the pairs stay in order.
        now = max(self.timer(), seconds[-2] if seconds else 0)
        second = int(now)
        gone = 0
        while gone < len(seconds) and seconds[gone] <= second - minute:
            gone += 2
        del seconds[:gone]
        if sum(seconds[1::2]) >= limit:
            self._refused.wait = _room_made(seconds, limit, minute, now) - now
            return False
        if seconds and seconds[-2] == second:
            seconds[-1] += 1
        else:
            seconds.extend((second, 1))
        cache.set(key, seconds.tobytes(), minute)
        return True

    def wait(self) -> float:
        """Seconds until the refused request's client has room for one more."""
        return self._refused.wait

    def get_cache_key(self, request: HttpRequest) -> str:
        auth = getattr(request, "auth", None)
        ident = f"client-{auth.public_id}" if isinstance(auth, ApiClient) else client_ip(request)
        return f"throttle_api_seconds_{ident}"  # not the key of ninja's list of times


def _seconds(kept) -> array:
    """The (second, count) pairs kept for a client; none if what the cache holds is not such an
    array (a value written by something else under the key is not a reason to refuse)."""
    seconds = array("q")
    if isinstance(kept, bytes) and len(kept) % (2 * seconds.itemsize) == 0:
        seconds.frombytes(kept)
    return seconds


def _room_made(seconds: array, limit: int, minute: int, now: float) -> float:
    """When enough of the minute's requests have left it to make room for one more."""
    leaving = sum(seconds[1::2]) - limit + 1
    for second, count in zip(seconds[::2], seconds[1::2], strict=True):
        leaving -= count
        if leaving <= 0:
            return second + minute
    return now + minute  # a limit of 0 a minute: never room


# PostgreSQL connections (the driver's, not Django's wrapper, which outlives a reconnect) whose
# session has the API's statement_timeout set and left in place between API requests.
_timeout_kept: "weakref.WeakKeyDictionary[object, int]" = weakref.WeakKeyDictionary()


def _set_statement_timeout(on, milliseconds: int, *, keep: bool) -> None:
    """``statement_timeout`` on connection ``on`` (PostgreSQL): kept between API requests, or set
    for this call only (reset by the caller, or undone by a rollback)."""
    on.ensure_connection()
    if keep and _timeout_kept.get(on.connection) == milliseconds:
        return
    with on.cursor() as cursor:
        cursor.execute(f"SET statement_timeout = {int(milliseconds)}")
    if keep:
        _timeout_kept[on.connection] = milliseconds
    else:
        _timeout_kept.pop(on.connection, None)


def _on_replica(alias: str, milliseconds: int) -> None:
    """The request's read replica (config/replicas.py) serves the API's register reads: they stop
    there as on the primary. Always kept: no transaction is ever opened on a replica."""
    replica = connections[alias]
    if replica.vendor == "postgresql":
        _set_statement_timeout(replica, milliseconds, keep=True)


@contextmanager
def query_deadline():
    """Stops the request's queries after ``API_QUERY_TIMEOUT_MS`` (PostgreSQL's
    ``statement_timeout``; on SQLite a progress handler that interrupts the statement), on the
    primary and on the read replica the request reads, if any (set when it is chosen: a call
    that reads no replica's model never connects to one).

    On PostgreSQL, outside a transaction, the timeout stays set on the connection between API
    requests (two round trips fewer per call); ``clear_api_statement_timeout`` resets it before
    any other request uses the connection. Inside a transaction (ATOMIC_REQUESTS, tests) it is set
    and reset around each call, as a rollback would undo it."""
    milliseconds = settings.API_QUERY_TIMEOUT_MS
    connection.ensure_connection()
    vendor = connection.vendor
    keep = vendor == "postgresql" and not connection.in_atomic_block
    if vendor == "postgresql":
        _set_statement_timeout(connection, milliseconds, keep=keep)
    elif vendor == "sqlite":
        deadline = time.monotonic() + milliseconds / 1000
        connection.connection.set_progress_handler(
            lambda: 1 if time.monotonic() > deadline and not _lifted.active else 0, 2000
        )
    cancel = when_replica_chosen(lambda alias: _on_replica(alias, milliseconds))
    failed = False
    try:
        yield
    except OperationalError as error:
        failed = True
        cause = error.__cause__
        if getattr(cause, "sqlstate", None) == "57014" or "interrupted" in str(error):
            raise ApiProblem(
                "tidsgrans",
                _("Frågan avbröts efter %(seconds)s s. Begränsa sökningen eller hämta färre rader.")
                % {"seconds": f"{milliseconds / 1000:g}"},
                headers={"Retry-After": "1"},
            ) from error
        raise
    finally:
        cancel()
        if connection.connection is None or keep:
            pass
        elif vendor == "postgresql" and not (failed and connection.in_atomic_block):
            # Inside a transaction that failed the SET is undone with the rollback; anywhere
            # else it is reset here.
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
        elif vendor == "sqlite":
            connection.connection.set_progress_handler(None, 0)


class _Lifted(threading.local):
    active = False


_lifted = _Lifted()


@contextmanager
def _no_statement_timeout(on):
    with on.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (kept,) = cursor.fetchone()
        cursor.execute("SET statement_timeout = 0")
    try:
        yield
    finally:
        with on.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [kept])


@contextmanager
def query_deadline_lifted():
    """The deadline set aside for work whose cost no caller drives: the statistics' tallies,
    counted once for each data version of the register and then read by every caller in a
    millisecond (stats/facts.py). Under the deadline the first call after a write would be
    stopped every time, and nothing would ever be kept. Set aside on the request's read replica
    too, where the tallies are counted when the request reads one."""
    vendor = connection.vendor
    if vendor == "postgresql":
        with ExitStack() as lifted:
            lifted.enter_context(_no_statement_timeout(connection))
            lifted.callback(
                when_replica_chosen(
                    lambda alias: lifted.enter_context(_no_statement_timeout(connections[alias]))
                )
            )
            yield
        return
    _lifted.active = True
    try:
        yield
    finally:
        _lifted.active = False


def clear_api_statement_timeout(sender=None, environ=None, **kwargs) -> None:
    """Connected to ``request_started``: a request outside the API (the portal, open data, the
    back office) never runs under the timeout an API call left on its connection, the primary's
    or a read replica's."""
    if environ is not None and environ.get("PATH_INFO", "").startswith("/api/"):
        return
    for alias in (DEFAULT_DB_ALIAS, *settings.DATABASE_REPLICAS):
        kept_on = connections[alias]
        raw = kept_on.connection  # None: not connected by this thread, nothing to reset
        if kept_on.vendor == "postgresql" and raw is not None and _timeout_kept.pop(raw, None):
            with kept_on.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
