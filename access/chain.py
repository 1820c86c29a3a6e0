"""The access log's hash chain: every entry holds the hash of the entry before it and its own, so
that a changed, removed, inserted or backdated entry shows, even when someone with the database
file or superuser rights has dropped the append-only triggers (access/migrations/0002).

An entry's hash (the definition ``verify_access_log`` checks, and IVO may check independently):

    body  = the entry's other columns as a JSON array, in this order: at, user_id, username,
            role, municipality_code, action, object_type, object_id, fields, ip, detail
            (UTF-8, no spaces between items, non-ASCII characters as they are, ``at`` in UTC as
            ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, an empty value as its empty string, a missing
            user_id or ip as null)
    hash  = SHA-256, as 64 lower-case hex digits, of the ASCII text
            ``<previous entry's hash>:<id>:<SHA-256 hex of body>``

The entry's ``request_id`` (the X-Request-ID of the request that wrote it: config/request_id.py)
is deliberately outside the body: it came later than the chain, so entries written before it
still verify and the definition above stays as published. It is a pointer for following one
request through the logs, not part of what the entry says happened.

The first entry's previous hash is the chain's anchor (``AccessLogChain``): 64 zeros at the
start, and after ``prune_access_log`` the hash of the last entry it removed.

The chain is computed in the entry's own INSERT, under a lock, so that no two entries claim the
same predecessor: on SQLite the statement holds the database's single write lock anyway; on
PostgreSQL the statement calls ``access_log_chain_next()`` (access/migrations/0006), which takes a
transaction advisory lock and then reads the newest entry. The lock is held until the entry's
transaction commits, and a new id is the previous one plus one, so ids have no gaps.
"""

import datetime
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

GENESIS_HASH = "0" * 64
# The key of PostgreSQL's transaction advisory lock that serialises the log's writers ("HVBLOG").
ADVISORY_LOCK_KEY = 0x4856424C4F47
# The columns the body holds, in its order. tests/test_access_log_chain.py checks that this is
# every column of AccessEvent but id, prev_hash, hash and request_id (outside on purpose: the
# module's docstring): a new column is a decision to make here.
BODY_COLUMNS = (
    "at",
    "user_id",
    "username",
    "role",
    "municipality_code",
    "action",
    "object_type",
    "object_id",
    "fields",
    "ip",
    "detail",
)
# How far an entry's time may lie before its predecessor's without being called backdated: the
# time is taken when the request is logged, the chain's place when the INSERT gets the lock (on
# SQLite after up to the busy timeout, 20 s), and several servers' clocks differ a little.
CLOCK_TOLERANCE = datetime.timedelta(seconds=60)


# Made once: json.dumps with arguments builds an encoder per call (half the digest's time).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def canonical_time(at: datetime.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (isoformat: a quarter of strftime's time)."""
    utc = at if at.utcoffset() == datetime.timedelta(0) else at.astimezone(datetime.UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def body_digest(values: Sequence) -> str:
    """SHA-256 hex of the body: ``values`` in the order of BODY_COLUMNS, as stored."""
    at, *rest = values
    body = _ENCODER.encode([canonical_time(at), *rest])
    return hashlib.sha256(body.encode()).hexdigest()


def link_hash(previous_hash: str, entry_id: int, digest: str) -> str:
    """The entry's own hash. The same text is hashed in SQL on PostgreSQL (migration 0006)."""
    return hashlib.sha256(f"{previous_hash}:{entry_id}:{digest}".encode("ascii")).hexdigest()


def register_sqlite_function(sender, connection, **kwargs) -> None:
    """SQLite has no SHA-256 in SQL: the INSERT calls this (access.log)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "access_log_link_hash", 3, link_hash, deterministic=True
        )


# --- Verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """A line of ``export_access_log_head``: the chain's newest entry at the end of a day."""

    date: datetime.date
    entry_id: int
    hash: str

    def line(self) -> str:
        return f"{self.date.isoformat()} {self.entry_id} {self.hash}"

    @classmethod
    def parse(cls, line: str) -> "Head":
        date, entry_id, hash_ = line.split()
        if len(hash_) != 64 or any(c not in "0123456789abcdef" for c in hash_):
            raise ValueError(line)
        return cls(datetime.date.fromisoformat(date), int(entry_id), hash_)


@dataclass(frozen=True)
class Problem:
    entry_id: int | None
    at: datetime.datetime | None
    what: str

    def line(self) -> str:
        where = f"post {self.entry_id}" if self.entry_id is not None else "loggen"
        if self.at is not None:
            where += f" ({self.at.astimezone(datetime.UTC):%Y-%m-%d %H:%M:%S} UTC)"
        return f"{where}: {self.what}"


@dataclass
class Report:
    problems: list[Problem]
    entries: int = 0
    first_id: int | None = None
    last_id: int | None = None
    last_hash: str | None = None
    heads_checked: int = 0


def verify(
    rows: Iterable[tuple],
    *,
    anchor_id: int,
    anchor_hash: str,
    anchor_at: datetime.datetime | None,
    heads: Sequence[Head] = (),
    now: datetime.datetime,
    minimum_retention: datetime.timedelta,
) -> Report:
    """Walks the entries in id order: ``rows`` are (id, prev_hash, hash, *BODY_COLUMNS).

    Each entry's hash must be its content's (else it was changed, or forged without the hash),
    its prev_hash the hash of the entry before it (else one was removed, inserted or changed),
    its time not before its predecessor's (else backdated). Kept heads must still be in the
    chain with the same hash (else the log was cut short or rewritten past them)."""
    report = Report(problems=[])
    problems = report.problems
    if anchor_at is not None and anchor_at > now - minimum_retention:
        problems.append(
            Problem(
                anchor_id,
                anchor_at,
                "kedjans ankare (den senast rensade posten) är yngre än ett år: så unga poster "
                "tar rensningen aldrig bort",
            )
        )
    wanted = {head.entry_id: head for head in heads}
    previous_id, previous_hash, previous_at = anchor_id, anchor_hash, None
    for entry_id, prev_hash, own_hash, *body in rows:
        at = body[0]
        report.entries += 1
        if report.first_id is None:
            report.first_id = entry_id
        if own_hash != link_hash(prev_hash or "", entry_id, body_digest(body)):
            problems.append(
                Problem(
                    entry_id,
                    at,
                    "postens innehåll stämmer inte med dess hash: posten har ändrats, eller "
                    "lagts in utan att räknas in i kedjan",
                )
            )
        if prev_hash != previous_hash:
            if entry_id > previous_id + 1:
                missing = (
                    f"post {previous_id + 1}"
                    if entry_id == previous_id + 2
                    else f"poster {previous_id + 1}–{entry_id - 1}"
                )
                what = f"{missing} saknas före denna post (borttagna)"
            else:
                what = (
                    f"länken till föregående post ({previous_id}) stämmer inte: den posten har "
                    "ändrats, eller denna post har lagts in i efterhand"
                )
            problems.append(Problem(entry_id, at, what))
        if previous_at is not None and at < previous_at - CLOCK_TOLERANCE:
            problems.append(
                Problem(
                    entry_id,
                    at,
                    f"tiden ligger före föregående posts ({canonical_time(previous_at)}): "
                    "posten har bakåtdaterats eller lagts in i efterhand",
                )
            )
        head = wanted.pop(entry_id, None)
        if head is not None:
            report.heads_checked += 1
            if head.hash != own_hash:
                problems.append(
                    Problem(
                        entry_id,
                        at,
                        f"hashen skiljer sig från den exporterade kedjetoppen för {head.date}: "
                        "loggen har skrivits om fram till denna post",
                    )
                )
        previous_id, previous_hash, previous_at = entry_id, own_hash, at
    report.last_id = previous_id if report.entries else None
    report.last_hash = previous_hash if report.entries else None
    for head in sorted(wanted.values(), key=lambda head: head.entry_id):
        if head.entry_id <= anchor_id:
            if head.entry_id == anchor_id and head.hash != anchor_hash:
                problems.append(
                    Problem(
                        head.entry_id,
                        None,
                        f"kedjans ankare har inte den hash som exporterades för {head.date}",
                    )
                )
            young = datetime.datetime.combine(head.date, datetime.time(), datetime.UTC)
            if young > now - minimum_retention:
                problems.append(
                    Problem(
                        head.entry_id,
                        None,
                        f"kedjetoppen för {head.date} saknas, men så unga poster tar rensningen "
                        "aldrig bort: loggens början har tagits bort",
                    )
                )
            continue  # removed by prune_access_log
        if report.last_id is None or head.entry_id > report.last_id:
            problems.append(
                Problem(
                    head.entry_id,
                    None,
                    f"kedjetoppen för {head.date} saknas: loggen har kortats (den sista posten "
                    f"är nu {report.last_id if report.last_id is not None else 'ingen'})",
                )
            )
        else:
            problems.append(
                Problem(head.entry_id, None, f"kedjetoppen för {head.date} saknas (borttagen)")
            )
    return report
