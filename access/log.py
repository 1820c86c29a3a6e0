"""Writing the access log: who, role, municipality, what, which fields, when, from where.

``record`` writes each entry before it returns, so before the response leaves: one INSERT on
the connection of ``settings.ACCESS_LOG_DATABASE`` (not through the router), which also takes
the entry's place in the hash chain (access/chain.py). What that means on each database:

- SQLite: the log is a file of its own (alias ``accesslog``) with a connection of its own, in
  autocommit. The entry is a transaction of its own, committed at once whatever the register's
  transaction does: it stays if that rolls back. It waits for the log's write lock, never for
  the register's. Committed in WAL mode with ``synchronous=NORMAL`` it survives a crash of the
  process, not necessarily a power cut (``ACCESS_LOG_SQLITE_SYNCHRONOUS=FULL``: one fsync each).
- PostgreSQL (``ACCESS_LOG_DATABASE_URL`` unset): the log is in the register's database and the
  entry is written on the register's connection. In autocommit (most page views and API reads)
  it is a transaction of its own, committed at once, its commit not waiting for the WAL's flush
  (``ACCESS_LOG_POSTGRESQL_SYNCHRONOUS_COMMIT=off``): it survives a crash of the process, and a
  crash of the database server may lose the last fraction of a second of entries. Inside a
  transaction (the services that log the change they make: the allowlist's, a municipality's
  login method; an API client saved in the back office, whose save Django's admin runs in one)
  the entry is part of it: committed with it, waiting for the flush as the register's writes
  do, and gone if it rolls back. The chain's lock (``pg_advisory_xact_lock``) is then held
  until that transaction ends, so every other entry waits for it.
- PostgreSQL with ``ACCESS_LOG_DATABASE_URL`` naming a database of its own: a connection of its
  own, in autocommit, as on SQLite: the entry stays when the register's transaction rolls back.

Text that came from a user (a search, an e-mail address) is encoded: no line breaks or terminal
escapes reach the log.
"""

import re
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, transaction
from django.dispatch import Signal
from django.http import HttpRequest

from access import chain
from access.models import AccessEvent, AccessLogChain
from access.roles import role_of
from config.request_id import current_request_id

# For whoever counts them (operations/metrics.py: the Prometheus counters); this app names no app
# above it. ``login_failed``: every failed login the log records, whatever the way of logging
# in (link, code, staff password and code, OpenID Connect, a django-axes lockout).
# ``write_failed``: an entry that could not be written; the caller still gets the error.
login_failed = Signal()
write_failed = Signal()

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def encode(text: str, *, limit: int = 1000) -> str:
    """User-supplied text made safe for a log line: control characters as ``\\xNN``."""
    encoded = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", str(text))
    return encoded[:limit]


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from. ``X-Forwarded-For`` is trusted only behind our own
    proxy (BEHIND_TLS_PROXY), and then only its last hop, the one our proxy added."""
    if settings.TRUSTED_PROXY_HEADER and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[-1].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _event(
    request: HttpRequest | None,
    action: str,
    *,
    user=None,
    object_type: str = "",
    object_id: str = "",
    fields: Iterable[str] = (),
    detail: str | Mapping = "",
) -> AccessEvent:
    user = user if user is not None else getattr(request, "user", None)
    authenticated = getattr(user, "is_authenticated", False)
    account = getattr(user, "account", None) if authenticated else None
    if isinstance(detail, Mapping):
        detail = " ".join(
            f"{key}={value}" for key, value in detail.items() if value not in ("", None, [], ())
        )
    return AccessEvent(
        user_id=user.pk if authenticated else None,
        username=encode(user.get_username(), limit=254) if authenticated else "",
        role=role_of(user) or "" if authenticated else "",
        municipality_code=(account.municipality_id or "") if account else "",
        action=action,
        object_type=object_type,
        object_id=encode(object_id, limit=100),
        fields=",".join(fields)[:400],
        ip=client_ip(request) if request is not None else None,
        detail=encode(detail),
        request_id=current_request_id(),
    )


def record(request: HttpRequest | None, action: str, **entry) -> AccessEvent:
    """One entry, written at once. ``entry``: ``user``, ``object_type``, ``object_id``,
    ``fields``, ``detail`` (see ``_event``)."""
    if not settings.ACCESS_LOG_ENABLED:
        return None  # only bench/ turns this off, to measure what logging costs
    event = _event(request, action, **entry)
    if action == AccessEvent.Action.LOGIN_FAILED:
        login_failed.send(sender=AccessEvent)
    _insert(event, settings.ACCESS_LOG_DATABASE)
    return event


def record_many(
    request: HttpRequest, action: str, *, object_type: str, object_ids: Iterable[str]
) -> list[AccessEvent]:
    """One entry per id, of one action, written together (``append_entries``): a page that
    shows many objects logs them in a fixed number of statements, not one INSERT each."""
    if not settings.ACCESS_LOG_ENABLED:
        return []
    events = [
        _event(request, action, object_type=object_type, object_id=object_id)
        for object_id in object_ids
    ]
    if not events:
        return []
    return append_entries(events, settings.ACCESS_LOG_DATABASE)


_FIELDS = [field for field in AccessEvent._meta.concrete_fields if not field.primary_key]
_BODY_FIELDS = [AccessEvent._meta.get_field(name) for name in chain.BODY_COLUMNS]
_INSERT_SQL: dict[tuple[str, bool], str] = {}  # per database vendor, and commit waiting or not


def _insert_sql(connection, *, asynchronous: bool = False) -> str:
    """One statement that takes the chain's next place and writes the entry (access/chain.py).

    SQLite: the INSERT holds the database's write lock from its start, so the newest entry it
    reads (or, with none left after pruning, the chain's anchor) is the newest there is; SQLite
    has no SHA-256, so the hash is the Python function access.chain registers on each
    connection. PostgreSQL: ``access_log_chain_next`` (migration 0006) takes the advisory lock,
    then reads the newest entry in a snapshot of its own, and hashes in SQL."""
    sql = _INSERT_SQL.get((connection.vendor, asynchronous))
    if sql is None:
        quote = connection.ops.quote_name
        event_table = quote(AccessEvent._meta.db_table)
        body_fields = [field for field in _FIELDS if field.column not in ("prev_hash", "hash")]
        columns = ", ".join(
            quote(column)
            for column in ("id", "prev_hash", "hash", *(f.column for f in body_fields))
        )
        if connection.vendor == "postgresql":
            # Typed: in INSERT ... SELECT an untyped NULL would be text, which inet does not take.
            values = ", ".join(
                "%s::" + re.sub(r"\(\d+\)", "", field.db_type(connection)) for field in body_fields
            )
            sql = (
                f"INSERT INTO {event_table} ({columns}) "
                f"SELECT next.next_id, next.prev_hash, next.hash, {values} "
                "FROM access_log_chain_next(%s) AS next"
            )
        else:
            values = ", ".join("%s" for _ in body_fields)
            sql = (
                f"INSERT INTO {event_table} ({columns}) "
                "SELECT head.id + 1, head.hash, access_log_link_hash(head.hash, head.id + 1, %s), "
                f"{values} FROM ("
                "SELECT COALESCE(newest.id, anchor.anchor_id) AS id, "
                "COALESCE(newest.hash, anchor.anchor_hash, '') AS hash "
                f"FROM {quote(AccessLogChain._meta.db_table)} AS anchor LEFT JOIN ("
                f"SELECT id, hash FROM {event_table} ORDER BY id DESC LIMIT 1"
                ") AS newest WHERE anchor.id = 1) AS head"
            )
        sql += " RETURNING id, prev_hash, hash"
        if asynchronous:
            # Evaluated before the statement's own transaction commits, and for it alone.
            sql += ", set_config('synchronous_commit', 'off', true)"
        _INSERT_SQL[connection.vendor, asynchronous] = sql
    return sql


_IP = AccessEvent._meta.get_field("ip")
_AT = AccessEvent._meta.get_field("at")


def _body(values: dict) -> list:
    """The values as the database will give them back: the address normalised on the way in (an
    IPv6 address compressed), a naive time made aware as the ORM does; the rest as they are."""
    body = [values[field.attname] for field in _BODY_FIELDS]
    body[chain.BODY_COLUMNS.index("ip")] = _IP.get_prep_value(values["ip"])
    if values["at"].tzinfo is None:
        body[0] = _AT.get_prep_value(values["at"])
    return body


def _insert(event: AccessEvent, using: str) -> None:
    """One INSERT on the connection of ``using``: committed by itself when that connection is in
    autocommit, part of the open transaction when it is not (on PostgreSQL the log shares the
    register's connection: the module's docstring). No BEGIN ... COMMIT of its own around it: on
    SQLite that held the log's write lock across three round trips, and the other workers,
    finding it held, slept in SQLite's busy handler (a millisecond at least); under load the log
    halved the API's throughput (bench/api_load.py). Values prepared by the fields as the ORM
    prepares them: half the cost of ``save()`` per entry. The entry takes its place in the hash
    chain in the same statement (``_insert_sql``)."""
    connection = connections[using]
    values = {field.attname: field.pre_save(event, True) for field in _FIELDS}
    digest = chain.body_digest(_body(values))
    params = [
        field.get_db_prep_save(values[field.attname], connection)
        for field in _FIELDS
        if field.column not in ("prev_hash", "hash")
    ]
    params = [*params, digest] if connection.vendor == "postgresql" else [digest, *params]
    # On PostgreSQL, when the entry is a transaction of its own (autocommit), its commit need
    # not wait for the WAL's flush (settings.py). Inside a transaction (atomic, or autocommit
    # turned off) the setting would hold for the register's writes too.
    asynchronous = (
        connection.vendor == "postgresql"
        and settings.ACCESS_LOG_POSTGRESQL_SYNCHRONOUS_COMMIT == "off"
        and connection.get_autocommit()
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(connection, asynchronous=asynchronous), params)
            rows = cursor.fetchall()
        if not rows:
            raise ImproperlyConfigured("Åtkomstloggens kedja saknar sitt ankare (migration 0006).")
    except Exception:
        # Counted (the operators' metrics), then raised as before: no page is served unlogged.
        write_failed.send(sender=AccessEvent)
        raise
    ((event.pk, event.prev_hash, event.hash, *_),) = rows
    event._state.adding = False
    event._state.db = using


def append_entries(events: list[AccessEvent], using: str, *, batch_size: int | None = None):
    """Many entries at once (a generated log, tests): chained in Python, in one transaction
    that holds the chain's lock, then inserted in bulk with their ids."""
    try:
        return _append_entries(events, using, batch_size=batch_size)
    except Exception:
        write_failed.send(sender=AccessEvent)
        raise


def _append_entries(events: list[AccessEvent], using: str, *, batch_size: int | None):
    connection = connections[using]
    with transaction.atomic(using=using):
        # SQLite: an atomic block begins IMMEDIATE (settings), holding the write lock already.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chain.ADVISORY_LOCK_KEY])
        newest = AccessEvent.objects.using(using).order_by("-id").values_list("id", "hash").first()
        if newest is None:
            newest = (
                AccessLogChain.objects.using(using)
                .values_list("anchor_id", "anchor_hash")
                .get(pk=1)
            )
        previous_id, previous_hash = newest[0], newest[1] or ""
        for event in events:
            values = {field.attname: field.pre_save(event, True) for field in _BODY_FIELDS}
            event.pk = previous_id + 1
            event.prev_hash = previous_hash
            event.hash = chain.link_hash(previous_hash, event.pk, chain.body_digest(_body(values)))
            previous_id, previous_hash = event.pk, event.hash
        return models.QuerySet.bulk_create(
            AccessEvent.objects.using(using), events, batch_size=batch_size
        )
