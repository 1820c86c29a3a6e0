"""The changes feed's triggers (api/changes.py), installed by migration 0003 (0002 installed the
first ones, 0004 the findings') and put back after every migrate on SQLite, which drops a
table's triggers when a migration rebuilds the table.

A trigger on each register table records every created, changed or removed row in
api_changeevent, in the writing transaction, whatever wrote it (services, admin, bulk loads, raw
SQL). A decision or inspection also marks its facility changed (the facility carries its marking
and the frekvenstillsyn flag), and a provider's change marks its facilities changed (they carry
its name); a facility, a decision or an inspection marks its provider changed.

Protected homes (skyddade boenden, DESIGN.md). Each event is marked ``protected`` when it is
written, from the rows as they are then: an event of a protected home, of its decision or
inspection, or of a provider with no home an outsider is shown. The feed shows outsiders only the
other events, numbered in a sequence of their own (``public_position``, set by a trigger on
api_changeevent), so the numbers in an outsider's cursors have no gaps where hidden events were
written, and nothing that happens later (a home deleted, renamed or moved) brings a hidden event
back. Also for outsiders:

- a change of a protected home marks its provider changed only if the home was or is shown (a
  home becoming protected, or no longer protected, is a change an outsider sees: the home goes or
  comes); otherwise the provider event would tell that something happened at one of its homes;
- a home becoming protected, or no longer protected, is told to outsiders by an event of their
  own (``outsiders_only``): the home "removed" or "created", as a home deleted or added would be,
  while the event of the change itself is for those who see protected homes; and its decisions
  and inspections are marked changed (shown), so a follower drops or fetches them.
"""

from contextlib import contextmanager

# The SQL form of register.models.protected_condition, for a row of register_facility.
PROTECTED_TARGET_GROUP = "%|skydd|%"


def sql_protected(row: str) -> str:
    return f"({row}.protected_by_ivo OR {row}.target_groups LIKE '{PROTECTED_TARGET_GROUP}')"


def sql_facility_protected(facility_id: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM register_facility hf "
        f"WHERE hf.id = {facility_id} AND {sql_protected('hf')})"
    )


def sql_provider_hidden(provider_id: str) -> str:
    """A provider with no home an outsider is shown (register.models.no_public_homes)."""
    return (
        "NOT EXISTS (SELECT 1 FROM register_facility hf "
        f"WHERE hf.provider_id = {provider_id} AND NOT {sql_protected('hf')})"
    )


# (table, resource, key column, what else changes with it): a provider's facilities carry its name;
# a provider carries its facilities; a facility carries its decisions and inspections.
TABLES = [
    ("register_provider", "provider", "public_id", "facilities"),
    ("register_facility", "facility", "facility_id", "provider"),
    ("register_decision", "decision", "diarienummer", "facility"),
    ("register_inspection", "inspection", "diarienummer", "facility"),
]

COLUMNS = "(transaction_id, resource, resource_id, operation, at, protected)"
OUTSIDERS_COLUMNS = (
    "(transaction_id, resource, resource_id, operation, at, protected, outsiders_only)"
)

POSTGRESQL_FUNCTIONS = [
    f"""
CREATE OR REPLACE FUNCTION api_row_hidden(resource text, r jsonb) RETURNS boolean AS $$
    SELECT CASE
        WHEN r IS NULL THEN NULL
        WHEN resource = 'facility' THEN
            (r ->> 'protected_by_ivo')::boolean
            OR (r ->> 'target_groups') LIKE '{PROTECTED_TARGET_GROUP}'
        WHEN resource = 'provider' THEN {sql_provider_hidden("(r ->> 'id')::bigint")}
        ELSE {sql_facility_protected("(r ->> 'facility_id')::bigint")}
    END
$$ LANGUAGE sql STABLE;
""",
    f"""
CREATE OR REPLACE FUNCTION api_record_change() RETURNS trigger AS $$
DECLARE
    resource text := TG_ARGV[0];
    key_column text := TG_ARGV[1];
    also text := TG_ARGV[2];
    old_row jsonb;
    new_row jsonb;
    old_key text;
    new_key text;
    old_hidden boolean;
    new_hidden boolean;
    txid bigint := pg_current_xact_id()::text::bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); old_key := old_row ->> key_column; END IF;
    IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); new_key := new_row ->> key_column; END IF;
    old_hidden := api_row_hidden(resource, old_row);
    new_hidden := api_row_hidden(resource, new_row);
    IF old_key IS NOT NULL AND old_key IS DISTINCT FROM new_key THEN
        INSERT INTO api_changeevent {COLUMNS}
        VALUES (txid, resource, old_key, 'removed', clock_timestamp(), old_hidden);
    END IF;
    IF new_key IS NOT NULL THEN
        INSERT INTO api_changeevent {COLUMNS}
        VALUES (txid, resource, new_key,
                CASE WHEN old_key IS NULL OR old_key <> new_key THEN 'created' ELSE 'changed' END,
                clock_timestamp(),
                CASE WHEN old_key IS NULL OR old_key <> new_key THEN new_hidden
                     ELSE old_hidden OR new_hidden END);
    END IF;
    IF also = 'facility' THEN
        INSERT INTO api_changeevent {COLUMNS}
        SELECT txid, 'facility', f.facility_id, 'changed', clock_timestamp(), {sql_protected("f")}
        FROM register_facility f
        WHERE f.id IN ((old_row ->> 'facility_id')::bigint, (new_row ->> 'facility_id')::bigint)
        ORDER BY f.id;
        INSERT INTO api_changeevent {COLUMNS}
        SELECT txid, 'provider', p.public_id::text, 'changed', clock_timestamp(),
               {sql_provider_hidden("p.id")}
        FROM register_provider p
        WHERE p.id IN (SELECT f.provider_id FROM register_facility f
                       WHERE f.id IN ((old_row ->> 'facility_id')::bigint,
                                      (new_row ->> 'facility_id')::bigint)
                       AND NOT {sql_protected("f")})
        ORDER BY p.id;
    ELSIF also = 'provider' THEN
        IF NOT coalesce(old_hidden, true) OR NOT coalesce(new_hidden, true) THEN
            INSERT INTO api_changeevent {COLUMNS}
            SELECT txid, 'provider', p.public_id::text, 'changed', clock_timestamp(), false
            FROM register_provider p
            WHERE p.id IN ((old_row ->> 'provider_id')::bigint,
                           (new_row ->> 'provider_id')::bigint)
            ORDER BY p.id;
        END IF;
        IF TG_OP = 'UPDATE' AND old_hidden <> new_hidden THEN
            INSERT INTO api_changeevent {OUTSIDERS_COLUMNS}
            VALUES (txid, 'facility', new_key,
                    CASE WHEN new_hidden THEN 'removed' ELSE 'created' END,
                    clock_timestamp(), false, true);
            INSERT INTO api_changeevent {COLUMNS}
            SELECT txid, 'decision', d.diarienummer, 'changed', clock_timestamp(), false
            FROM register_decision d WHERE d.facility_id = NEW.id ORDER BY d.id;
            INSERT INTO api_changeevent {COLUMNS}
            SELECT txid, 'inspection', i.diarienummer, 'changed', clock_timestamp(), false
            FROM register_inspection i WHERE i.facility_id = NEW.id ORDER BY i.id;
        END IF;
    ELSIF also = 'facilities' AND TG_OP = 'UPDATE' THEN
        INSERT INTO api_changeevent {COLUMNS}
        SELECT txid, 'facility', f.facility_id, 'changed', clock_timestamp(), {sql_protected("f")}
        FROM register_facility f WHERE f.provider_id = NEW.id ORDER BY f.id;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
""",
    "CREATE SEQUENCE IF NOT EXISTS api_changeevent_public_position;",
    """
CREATE OR REPLACE FUNCTION api_number_public_change() RETURNS trigger AS $$
BEGIN
    IF NOT NEW.protected THEN
        NEW.public_position := nextval('api_changeevent_public_position');
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
""",
]

SQLITE_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def sqlite_key(row: str, resource: str, key: str) -> str:
    if resource == "provider":  # a UUID is stored as 32 hex digits on SQLite
        value = f"{row}.{key}"
        return (
            f"lower(substr({value},1,8)||'-'||substr({value},9,4)||'-'||substr({value},13,4)"
            f"||'-'||substr({value},17,4)||'-'||substr({value},21,12))"
        )
    return f"{row}.{key}"


def _sqlite_hidden(resource: str, row: str) -> str:
    if resource == "facility":
        return sql_protected(row)
    if resource == "provider":
        return sql_provider_hidden(f"{row}.id")
    return sql_facility_protected(f"{row}.facility_id")


def _sqlite_insert(
    resource: str, key_sql: str, operation_sql: str, hidden_sql: str, where: str = ""
) -> str:
    return (
        f"INSERT INTO api_changeevent {COLUMNS} "
        f"SELECT 0, '{resource}', {key_sql}, {operation_sql}, {SQLITE_NOW}, {hidden_sql} {where};"
    )


def _sqlite_related(also: str, rows: list[str]) -> str:
    provider_key = sqlite_key("p", "provider", "public_id")
    if also == "facility":
        ids = ", ".join(f"{row}.facility_id" for row in rows)
        return _sqlite_insert(
            "facility",
            "f.facility_id",
            "'changed'",
            sql_protected("f"),
            f"FROM register_facility f WHERE f.id IN ({ids})",
        ) + _sqlite_insert(
            "provider",
            provider_key,
            "'changed'",
            sql_provider_hidden("p.id"),
            "FROM register_provider p WHERE p.id IN "
            f"(SELECT f.provider_id FROM register_facility f WHERE f.id IN ({ids}) "
            f"AND NOT {sql_protected('f')})",
        )
    if also == "provider":
        ids = ", ".join(f"{row}.provider_id" for row in rows)
        shown = " OR ".join(f"NOT {sql_protected(row)}" for row in rows)
        statements = _sqlite_insert(
            "provider",
            provider_key,
            "'changed'",
            "0",
            f"FROM register_provider p WHERE p.id IN ({ids}) AND ({shown})",
        )
        if rows == ["OLD", "NEW"]:
            turned = f"{sql_protected('OLD')} <> {sql_protected('NEW')}"
            statements += (
                f"INSERT INTO api_changeevent {OUTSIDERS_COLUMNS} "
                f"SELECT 0, 'facility', NEW.facility_id, CASE WHEN {sql_protected('NEW')} "
                f"THEN 'removed' ELSE 'created' END, {SQLITE_NOW}, 0, 1 WHERE {turned};"
            )
            for resource, table in (
                ("decision", "register_decision"),
                ("inspection", "register_inspection"),
            ):
                statements += _sqlite_insert(
                    resource,
                    "r.diarienummer",
                    "'changed'",
                    "0",
                    f"FROM {table} r WHERE r.facility_id = NEW.id AND {turned}",
                )
        return statements
    if also == "facilities" and rows == ["OLD", "NEW"]:
        return _sqlite_insert(
            "facility",
            "f.facility_id",
            "'changed'",
            sql_protected("f"),
            "FROM register_facility f WHERE f.provider_id = NEW.id",
        )
    return ""


def sqlite_triggers() -> list[str]:
    statements = []
    for table, resource, key, also in TABLES:
        new_key, old_key = sqlite_key("NEW", resource, key), sqlite_key("OLD", resource, key)
        old_hidden, new_hidden = _sqlite_hidden(resource, "OLD"), _sqlite_hidden(resource, "NEW")
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS api_change_{resource}_insert "
            f"AFTER INSERT ON {table} BEGIN "
            + _sqlite_insert(resource, new_key, "'created'", new_hidden)
            + _sqlite_related(also, ["NEW"])
            + " END;"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS api_change_{resource}_update "
            f"AFTER UPDATE ON {table} BEGIN "
            + _sqlite_insert(
                resource, old_key, "'removed'", old_hidden, f"WHERE {old_key} <> {new_key}"
            )
            + _sqlite_insert(
                resource,
                new_key,
                f"CASE WHEN {old_key} <> {new_key} THEN 'created' ELSE 'changed' END",
                f"CASE WHEN {old_key} <> {new_key} THEN {new_hidden} "
                f"ELSE {old_hidden} OR {new_hidden} END",
            )
            + _sqlite_related(also, ["OLD", "NEW"])
            + " END;"
        )
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS api_change_{resource}_delete "
            f"AFTER DELETE ON {table} BEGIN "
            + _sqlite_insert(resource, old_key, "'removed'", old_hidden)
            + _sqlite_related(also, ["OLD"])
            + " END;"
        )
    # Writers are serialised on SQLite: the next number is the largest so far plus one.
    statements.append(
        "CREATE TRIGGER IF NOT EXISTS api_change_public_position "
        "AFTER INSERT ON api_changeevent WHEN NOT NEW.protected BEGIN "
        "UPDATE api_changeevent SET public_position = 1 + COALESCE(("
        "SELECT public_position FROM api_changeevent WHERE transaction_id = 0 "
        "AND public_position IS NOT NULL ORDER BY public_position DESC LIMIT 1), 0) "
        "WHERE id = NEW.id; END;"
    )
    return statements


def trigger_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        statements = list(POSTGRESQL_FUNCTIONS)
        for table, resource, key, also in TABLES:
            statements.append(
                f"CREATE OR REPLACE TRIGGER api_change_{resource} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION api_record_change('{resource}', '{key}', '{also}');"
            )
        statements.append(
            "CREATE OR REPLACE TRIGGER api_change_public_position "
            "BEFORE INSERT ON api_changeevent FOR EACH ROW "
            "EXECUTE FUNCTION api_number_public_change();"
        )
        return statements
    if vendor == "sqlite":
        return sqlite_triggers()
    raise NotImplementedError(f"The changes feed has no triggers for {vendor}.")


def drop_statements(vendor: str) -> list[str]:
    statements = []
    for table, resource, _key, _also in TABLES:
        if vendor == "postgresql":
            statements.append(f"DROP TRIGGER IF EXISTS api_change_{resource} ON {table};")
        else:
            statements += [
                f"DROP TRIGGER IF EXISTS api_change_{resource}_{operation};"
                for operation in ("insert", "update", "delete")
            ]
    return statements


# Findings (iakttagelser och krav, migration 0004). A finding is part of its decision: the API
# gives it with the decision, so it has no resource of its own in the feed. Its creation, change
# or removal marks its decision changed and, as a decision's change does, the decision's
# facility (whose page carries the findings and the requirements' states) and that facility's
# provider, the provider only if the home is shown to outsiders. Each event is marked protected
# from the decision's facility, as the decision's own events are.
FINDING_TABLE = "register_finding"
FINDING_TRIGGER_MIGRATION = "0004_finding_change_triggers"


def _finding_events(
    decisions: str, *, txid: str, now: str, key_of_provider: str, facilities: str = ""
) -> str:
    """The statements of a finding's trigger: ``decisions`` is an SQL condition on ``d.id``
    naming the decisions it belonged to before and after the write (an index lookup: once per
    finding, a seed of 20,000 findings on PostgreSQL took minutes when it was a subquery the
    planner joined by scanning every decision)."""
    facilities = facilities or f"SELECT d.facility_id FROM register_decision d WHERE {decisions}"
    return (
        f"INSERT INTO api_changeevent {COLUMNS} "
        f"SELECT {txid}, 'decision', d.diarienummer, 'changed', {now}, {sql_protected('f')} "
        "FROM register_decision d JOIN register_facility f ON f.id = d.facility_id "
        f"WHERE {decisions} ORDER BY d.id;"
        f"INSERT INTO api_changeevent {COLUMNS} "
        f"SELECT {txid}, 'facility', f.facility_id, 'changed', {now}, {sql_protected('f')} "
        f"FROM register_facility f WHERE f.id IN ({facilities}) ORDER BY f.id;"
        f"INSERT INTO api_changeevent {COLUMNS} "
        f"SELECT {txid}, 'provider', {key_of_provider}, 'changed', {now}, "
        f"{sql_provider_hidden('p.id')} FROM register_provider p WHERE p.id IN "
        f"(SELECT f.provider_id FROM register_facility f WHERE f.id IN ({facilities}) "
        f"AND NOT {sql_protected('f')}) ORDER BY p.id;"
    )


def finding_trigger_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        events = _finding_events(
            "d.id = ANY(decision_ids)",
            txid="txid",
            now="clock_timestamp()",
            key_of_provider="p.public_id::text",
            facilities="SELECT unnest(facility_ids)",
        )
        # Planned for each row's own ids (force_custom_plan), never with a plan cached while
        # the tables were nearly empty: in the PostgreSQL test run a cached plan scanned the
        # decisions for every facility, once per finding, and a seed of 2,500 findings stalled.
        return [
            f"""
CREATE OR REPLACE FUNCTION api_record_finding_change() RETURNS trigger AS $$
DECLARE
    txid bigint := pg_current_xact_id()::text::bigint;
    decision_ids bigint[] := ARRAY[]::bigint[];
    facility_ids bigint[];
BEGIN
    IF TG_OP <> 'INSERT' THEN decision_ids := decision_ids || OLD.decision_id; END IF;
    IF TG_OP <> 'DELETE' THEN decision_ids := decision_ids || NEW.decision_id; END IF;
    SELECT array_agg(DISTINCT d.facility_id) INTO facility_ids
    FROM register_decision d WHERE d.id = ANY(decision_ids);
    {events}
    RETURN NULL;
END
$$ LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan;
""",
            f"CREATE OR REPLACE TRIGGER api_change_finding "
            f"AFTER INSERT OR UPDATE OR DELETE ON {FINDING_TABLE} FOR EACH ROW "
            "EXECUTE FUNCTION api_record_finding_change();",
        ]
    if vendor == "sqlite":
        provider_key = sqlite_key("p", "provider", "public_id")
        statements = []
        for operation, rows in (
            ("insert", "NEW.decision_id"),
            ("update", "OLD.decision_id, NEW.decision_id"),
            ("delete", "OLD.decision_id"),
        ):
            events = _finding_events(
                f"d.id IN ({rows})", txid="0", now=SQLITE_NOW, key_of_provider=provider_key
            )
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS api_change_finding_{operation} "
                f"AFTER {operation.upper()} ON {FINDING_TABLE} BEGIN {events} END;"
            )
        return statements
    raise NotImplementedError(f"The changes feed has no triggers for {vendor}.")


def finding_drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS api_change_finding ON {FINDING_TABLE};",
            "DROP FUNCTION IF EXISTS api_record_finding_change();",
        ]
    return [
        f"DROP TRIGGER IF EXISTS api_change_finding_{operation};"
        for operation in ("insert", "update", "delete")
    ]


def restore_sqlite_triggers(sender=None, using="default", **kwargs) -> None:
    """Connected to ``post_migrate``: every trigger of the feed present on an SQLite register
    where migration 0003 installed them, and the findings' where 0004 did (not on the access
    log's database)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'register_facility'"
        )
        if cursor.fetchone() is None:
            return
        cursor.execute(
            "SELECT 1 FROM django_migrations WHERE app = 'api' "
            "AND name = '0003_change_triggers_protected_homes'"
        )
        if cursor.fetchone() is None:
            return
        for statement in sqlite_triggers():
            cursor.execute(statement)
        cursor.execute(
            "SELECT 1 FROM django_migrations WHERE app = 'api' AND name = %s",
            [FINDING_TRIGGER_MIGRATION],
        )
        if cursor.fetchone() is None:
            return
        for statement in finding_trigger_statements("sqlite"):
            cursor.execute(statement)


# The tables whose events a bulk write writes once (register.services.decisions_bulk_write).
_BULK_RESOURCES = {"register_decision": "decision", "register_inspection": "inspection"}


@contextmanager
def events_once_sqlite(connection, tables, when):
    """A bulk write's events, written once for the whole write on SQLite (register.services'
    BULK_WRITE_HOOKS): the row triggers of its decision and inspection tables dropped inside the
    write transaction, then one event per row it wrote (``updated_at`` is the write's time, as
    register_bulk_write sets it; ``created``/``changed`` as the triggers tell them) with the
    protected mark the triggers give, and the triggers put back before the commit. The row
    triggers also wrote a facility and a provider event for every row (100,000 of each for
    100,000 decisions); the write's refresh_latest updates each touched facility once, and the
    facility's own trigger writes those. DDL is transactional in SQLite and the writer holds the
    only write lock: no other connection sees the triggers missing; a rollback puts them back.
    Elsewhere it does nothing (PostgreSQL's bulk writes are many rows a statement)."""
    resources = {table: _BULK_RESOURCES[table] for table in tables if table in _BULK_RESOURCES}
    if connection.vendor != "sqlite" or not resources:
        yield
        return
    assert connection.in_atomic_block, "only inside the write transaction"
    with connection.cursor() as cursor:
        for resource in resources.values():
            for operation in ("insert", "update", "delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS api_change_{resource}_{operation}")
    yield  # an error propagates; the rollback puts the triggers back
    stamp = connection.ops.adapt_datetimefield_value(when)
    with connection.cursor() as cursor:
        for table, resource in resources.items():
            statement = (
                f"INSERT INTO api_changeevent {COLUMNS} SELECT 0, '{resource}', r.diarienummer, "
                "CASE WHEN r.created_at = r.updated_at THEN 'created' ELSE 'changed' END, "
                f"{SQLITE_NOW}, {sql_protected('f')} FROM {table} r "
                "JOIN register_facility f ON f.id = r.facility_id WHERE r.updated_at = "
            )
            # Django's SQLite cursor reads %s as a parameter and %% as a %.
            cursor.execute(statement.replace("%", "%%") + "%s ORDER BY r.id", [stamp])
        for statement in sqlite_triggers():
            cursor.execute(statement)
