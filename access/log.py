"""Writing the access log: who, role, municipality, what, which fields, when, from where.

Entries are written at once, outside any transaction of the register, so an entry is never lost
with a rolled-back request and is on disk when the response leaves. Text that came from a user
(a search, an e-mail address) is encoded: no line breaks or terminal escapes reach the log.
"""

import re
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import connections
from django.http import HttpRequest

from access.models import AccessEvent
from access.roles import role_of
from config.db import execute_prepared

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


def record(
    request: HttpRequest | None,
    action: str,
    *,
    user=None,
    object_type: str = "",
    object_id: str = "",
    fields: Iterable[str] = (),
    detail: str | Mapping = "",
) -> AccessEvent:
    if not settings.ACCESS_LOG_ENABLED:
        return None  # only bench/ turns this off, to measure what logging costs
    user = user if user is not None else getattr(request, "user", None)
    authenticated = getattr(user, "is_authenticated", False)
    account = getattr(user, "account", None) if authenticated else None
    if isinstance(detail, Mapping):
        detail = " ".join(
            f"{key}={value}" for key, value in detail.items() if value not in ("", None, [], ())
        )
    event = AccessEvent(
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
    )
    _insert(event, settings.ACCESS_LOG_DATABASE)
    return event


_FIELDS = [field for field in AccessEvent._meta.concrete_fields if not field.primary_key]
_INSERT_SQL: dict[tuple[str, bool], str] = {}  # per database vendor, and commit waiting or not


def _insert_sql(connection, *, asynchronous: bool = False) -> str:
    sql = _INSERT_SQL.get((connection.vendor, asynchronous))
    if sql is None:
        quote = connection.ops.quote_name
        sql = "INSERT INTO {table} ({columns}) VALUES ({values})".format(
            table=quote(AccessEvent._meta.db_table),
            columns=", ".join(quote(field.column) for field in _FIELDS),
            values=", ".join("%s" for _ in _FIELDS),
        )
        if connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(AccessEvent._meta.pk.column)}"
        if asynchronous:
            # Evaluated before the statement's own transaction commits, and for it alone.
            sql += ", set_config('synchronous_commit', 'off', true)"
        _INSERT_SQL[connection.vendor, asynchronous] = sql
    return sql


def _insert(event: AccessEvent, using: str) -> None:
    """One INSERT, committed by itself (autocommit) on the log's own connection, so not undone
    if the request's transaction rolls back. No BEGIN ... COMMIT around it: on SQLite that held
    the log's write lock across three round trips, and the other workers, finding it held, slept
    in SQLite's busy handler (a millisecond at least); under load the log halved the API's
    throughput (bench/api_load.py). Values prepared by the fields as the ORM prepares them: half
    the cost of ``save()`` per entry."""
    connection = connections[using]
    params = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in _FIELDS]
    if connection.features.can_return_columns_from_insert:
        # On PostgreSQL, when the entry is a transaction of its own (autocommit), its commit
        # need not wait for the WAL's flush (settings.py). Inside a transaction (atomic, or
        # autocommit turned off) the setting would hold for the register's writes too.
        asynchronous = (
            connection.vendor == "postgresql"
            and settings.ACCESS_LOG_POSTGRESQL_SYNCHRONOUS_COMMIT == "off"
            and connection.get_autocommit()
        )
        sql = _insert_sql(connection, asynchronous=asynchronous)
        ((event.pk, *_),) = execute_prepared(connection, sql, params)
    else:
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(connection), params)
            event.pk = connection.ops.last_insert_id(
                cursor, AccessEvent._meta.db_table, AccessEvent._meta.pk.column
            )
    event._state.adding = False
    event._state.db = using
