"""Issue 15, point 7: imports that check everything before they write, write in bulk through the
services with the same results as row by row, and refuse oversized and lying files before
reading them."""

import csv
import datetime
import io
import zipfile

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from api.models import ChangeEvent
from register import demo, services
from register.imports import DECISION_COLUMNS
from register.models import Decision, Facility, Inspection, Permit
from tests.import_support import snapshot

pytestmark = pytest.mark.django_db


def run_failing(path) -> list[str]:
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_decisions", str(path), stdout=io.StringIO(), stderr=err)
    assert "Inget sparades" in str(failure.value)
    return err.getvalue().splitlines()


def run(path) -> str:
    out = io.StringIO()
    call_command("import_decisions", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def write_csv(path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(DECISION_COLUMNS), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def demo_register():
    demo.seed_demo(facility_count=demo.MIN_FACILITY_COUNT)
    return list(Facility.objects.select_related("provider"))


def file_rows(facilities, count: int, seed: int = 7) -> list[dict[str, str]]:
    rows = demo.decision_import_rows(
        facilities=facilities, count=count, today=timezone.localdate(), seed=seed
    )
    # Status-setting outcomes for sure, on homes in private ownership (revocation) and others.
    private = [f for f in facilities if f.provider.ownership == "enskild"]
    rows[0].update(utfall="aterkallelse", verksamhetsid=private[0].facility_id)
    rows[1].update(utfall="forbud", verksamhetsid=facilities[0].facility_id)
    rows[2].update(utfall="aterkallelse", verksamhetsid=private[1].facility_id)
    rows[2]["beslutsdatum"] = "2000-01-03"  # older than the home's later decisions
    for row in rows[:3]:
        row["inspektionsdatum"] = ""
        row["inspektion_anmald"] = ""
    return rows


def register_state() -> dict:
    """What a reader sees of the decisions' consequences: every facility's status and latest
    columns, the permits, decisions and inspections, and the history rows by kind."""
    return {
        "facilities": list(
            Facility.objects.order_by("facility_id").values_list(
                "facility_id",
                "status",
                "status_date",
                "latest_decision_date",
                "latest_outcome",
                "latest_appeal_status",
                "latest_decision_diarienummer",
                "last_inspection_date",
            )
        ),
        "permits": list(
            Permit.objects.order_by("diarienummer").values_list("diarienummer", "status")
        ),
        "decisions": list(
            Decision.objects.order_by("diarienummer").values_list(
                "diarienummer",
                "facility__facility_id",
                "kind",
                "decision_date",
                "outcome",
                "review_areas",
                "summary",
                "appeal_status",
            )
        ),
        "inspections": list(
            Inspection.objects.order_by("diarienummer").values_list(
                "diarienummer", "facility__facility_id", "start_date", "end_date", "announced"
            )
        ),
        "history": {
            model.__name__: sorted(
                model.history.values_list("history_type", "history_change_reason")
            )
            for model in (Facility, Permit, Decision, Inspection)
        },
    }


def row_by_row(rows: list[dict[str, str]], reason: str) -> None:
    """The earlier import's writes: each row through inspection_upsert and decision_upsert,
    newest first."""
    facilities = {f.facility_id: f for f in Facility.objects.all()}

    def date(value):
        return datetime.date.fromisoformat(value)

    for row in sorted(
        enumerate(rows), key=lambda item: (item[1]["beslutsdatum"], item[0]), reverse=True
    ):
        row = row[1]
        facility = facilities[row["verksamhetsid"]]
        if row["inspektionsdatum"]:
            days = row["inspektionsdatum"].split("|")
            services.inspection_upsert(
                diarienummer=row["diarienummer"],
                values={
                    "facility": facility,
                    "start_date": date(days[0]),
                    "end_date": date(days[1]) if len(days) == 2 else None,
                    "announced": row["inspektion_anmald"] == "ja",
                },
                reason=reason,
            )
        services.decision_upsert(
            diarienummer=row["diarienummer"],
            values={
                "facility": facility,
                "kind": row["beslutstyp"],
                "decision_date": date(row["beslutsdatum"]),
                "outcome": row["utfall"],
                "review_areas": sorted(row["granskade_omraden"].split("|")),
                "summary": row["sammanfattning"],
            },
            reason=reason,
        )


class _Undo(Exception):
    pass


def test_import_decisions__bulk__same_register_as_row_by_row(demo_register, tmp_path):
    rows = file_rows(demo_register, 300)
    path = tmp_path / "beslut.csv"
    write_csv(path, rows)
    try:
        with transaction.atomic():
            row_by_row(rows, "import_decisions beslut.csv")
            expected = register_state()
            raise _Undo
    except _Undo:
        pass
    assert register_state() != expected  # rolled back

    run(path)

    assert register_state() == expected
    assert ("+", "import_decisions beslut.csv") in expected["history"]["Decision"]
    assert any(status == "aterkallad" for _id, status, *_rest in expected["facilities"])


def test_import_decisions__changed_rows__updated_with_history_rest_untouched(
    demo_register, tmp_path
):
    rows = file_rows(demo_register, 50)
    path = tmp_path / "beslut.csv"
    write_csv(path, rows)
    run(path)
    before = snapshot()
    rows[10]["sammanfattning"] = "IVO har granskat verksamheten på nytt."
    rows[11]["inspektion_anmald"] = "ja" if rows[11]["inspektion_anmald"] == "nej" else "nej"
    write_csv(path, rows)

    out = run(path)

    assert "beslut: 0 nya, 1 ändrade, 49 oförändrade" in out
    changed = Decision.objects.get(diarienummer=rows[10]["diarienummer"])
    assert changed.summary == "IVO har granskat verksamheten på nytt."
    newest, earlier = changed.history.order_by("-history_id")[:2]
    assert [c.field for c in newest.diff_against(earlier).changes] == ["summary"]
    assert newest.history_type == "~"
    after = snapshot()
    assert after["Decision history"] == before["Decision history"] + 1
    assert after["Inspection history"] == before["Inspection history"] + 1
    assert after["Decision"] == before["Decision"]


def test_import_decisions__same_file_again__no_write_no_history_no_feed(demo_register, tmp_path):
    path = tmp_path / "beslut.csv"
    write_csv(path, file_rows(demo_register, 200))
    run(path)
    before, events = snapshot(), ChangeEvent.objects.count()

    out = run(path)

    assert "beslut: 0 nya, 0 ändrade, 200 oförändrade" in out
    assert snapshot() == before
    assert ChangeEvent.objects.count() == events


def test_import_decisions__bulk_write__in_the_changes_feed(demo_register, tmp_path):
    rows = file_rows(demo_register, 120)
    path = tmp_path / "beslut.csv"
    write_csv(path, rows)
    ChangeEvent.objects.all().delete()

    run(path)

    created = set(
        ChangeEvent.objects.filter(resource="decision", operation="created").values_list(
            "resource_id", flat=True
        )
    )
    assert created == {row["diarienummer"] for row in rows}
    inspected = {row["diarienummer"] for row in rows if row["inspektionsdatum"]}
    assert inspected == set(
        ChangeEvent.objects.filter(resource="inspection").values_list("resource_id", flat=True)
    )


def test_import_decisions__register_changed_after_the_check__read_again_in_the_lock(
    demo_register, tmp_path, monkeypatch
):
    """A record changed by someone between the check and the write is seen, not overwritten
    blindly: the plan is read again inside the write transaction."""
    rows = file_rows(demo_register, 20)
    path = tmp_path / "beslut.csv"
    write_csv(path, rows)
    run(path)
    rows[5]["sammanfattning"] = "Ny sammanfattning."
    write_csv(path, rows)
    target = rows[6]["diarienummer"]
    original_plan = services.register_bulk_plan
    plans_read = []

    def plan_then_someone_writes(model, **kwargs):
        plan = original_plan(model, **kwargs)
        plans_read.append(model)
        if plans_read == [Inspection, Decision]:  # after the check, before the write
            decision = Decision.objects.get(diarienummer=target)
            decision.summary = "Ändrad i backoffice under importen."
            services.decision_save(decision=decision, reason="backoffice")
        return plan

    monkeypatch.setattr(services, "register_bulk_plan", plan_then_someone_writes)

    out = run(path)

    assert "beslut: 0 nya, 2 ändrade, 18 oförändrade" in out
    assert plans_read == [Inspection, Decision, Inspection, Decision]
    assert Decision.objects.get(diarienummer=target).summary == rows[6]["sammanfattning"]


# Files refused before they are read ------------------------------------------------------------

# A file of the format before issue 16 (its nine columns): still a valid decisions file.
HEADER = list(DECISION_COLUMNS)[:9]


def decision_values(number: int) -> list[str]:
    return [
        f"3.2.2-{1000 + number}/2022",
        "K0880-001",
        "tillsyn",
        "2022-11-03",
        "inga_brister",
        "",
        "",
        "",
        "",
    ]


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewrite_sheet(data: bytes, change, extra: dict[str, bytes] | None = None) -> bytes:
    """The workbook with its first sheet's XML changed, and any extra parts added."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(item, content)
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def limits(settings):
    settings.IMPORT_MAX_BYTES = 20_000
    settings.IMPORT_MAX_ROWS = 3
    settings.IMPORT_MAX_UNPACKED_BYTES = 200_000
    return settings


def test_import__file_over_the_size_limit__refused_unread(limits, tmp_path):
    path = tmp_path / "stor.csv"
    path.write_bytes(b"diarienummer;verksamhetsid\n" + b"\xff" * 30_000)  # not even UTF-8
    before = snapshot()

    errors = run_failing(path)

    assert errors == ["filen är 29 kB, större än gränsen 20 kB; dela upp den"]
    assert snapshot() == before


def test_import__csv_with_too_many_rows__refused_and_rows_past_the_limit_never_read(
    limits, tmp_path
):
    lines = [";".join(HEADER)] + [";".join(decision_values(n)) for n in range(4)]
    # Row 5 is the first past the limit; row 6 would be refused as not UTF-8 if it were read.
    path = tmp_path / "rader.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe;broken\n")
    before = snapshot()

    errors = run_failing(path)

    assert errors == ["filen har fler än 3 rader (utöver rubrikraden); dela upp den"]
    assert snapshot() == before


def test_import__xlsx_declaring_a_whole_sheet__refused_before_reading(limits, tmp_path):
    data = rewrite_sheet(
        xlsx_bytes([HEADER, decision_values(1)]),
        lambda xml: xml.replace(b'<dimension ref="A1:I2" />', b'<dimension ref="A1:XFD1048576" />'),
    )
    assert len(data) < 10_000
    path = tmp_path / "hela.xlsx"
    path.write_bytes(data)
    before = snapshot()

    errors = run_failing(path)

    assert errors == [
        "bladet anger 1048576 rader, fler än gränsen 3 (utöver rubrikraden); dela upp filen"
    ]
    assert snapshot() == before


def test_import__xlsx_declaring_too_many_columns__refused(limits, tmp_path):
    data = rewrite_sheet(
        xlsx_bytes([HEADER, decision_values(1)]),
        lambda xml: xml.replace(b'<dimension ref="A1:I2" />', b'<dimension ref="A1:XFD2" />'),
    )
    path = tmp_path / "bred.xlsx"
    path.write_bytes(data)

    assert run_failing(path) == ["bladet anger 16384 kolumner, fler än gränsen 100"]


def test_import__xlsx_zip_bomb__refused_before_unpacking(limits, tmp_path):
    # 1 MB of zeros packs to about 1 kB: far more unpacked than the file's size suggests.
    data = rewrite_sheet(
        xlsx_bytes([HEADER, decision_values(1)]),
        lambda xml: xml,
        {"xl/media/noll.bin": bytes(2**20)},
    )
    assert len(data) < 20_000
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    before = snapshot()

    errors = run_failing(path)

    assert len(errors) == 1
    assert errors[0].startswith("filen packas upp till 1 MB, mer än gränsen 195 kB;")
    assert snapshot() == before


def test_import__xlsx_lying_about_its_rows__stops_at_the_limit_unparsed_rest(limits, tmp_path):
    rows = [HEADER] + [decision_values(n) for n in range(6)]

    def lie_and_break_row_six(xml: bytes) -> bytes:
        xml = xml.replace(b'<dimension ref="A1:I7" />', b'<dimension ref="A1:I2" />')
        # A number cell that is no number: openpyxl fails on it if it ever parses row 6.
        return xml.replace(
            b'<row r="6"', b'<row r="6"><c r="J6" t="n"><v>x</v></c></row><row r="99"'
        )

    path = tmp_path / "ljuger.xlsx"
    path.write_bytes(rewrite_sheet(xlsx_bytes(rows), lie_and_break_row_six))
    before = snapshot()

    errors = run_failing(path)

    assert errors == ["filen har fler än 3 rader (utöver rubrikraden); dela upp den"]
    assert snapshot() == before


def sqlite_triggers() -> set[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


def test_import_decisions__bulk_write__data_version_changes_and_its_triggers_stay(
    demo_register, tmp_path
):
    """On SQLite the bulk write drops the data version's row triggers for its own tables and
    bumps the version once (register.data_version.bumped_once_sqlite): afterwards the version has
    changed, so an import planned before it plans again, and every trigger is back, also after a
    failed import."""
    from django.db import connection

    from register.selectors import data_version

    triggers = sqlite_triggers() if connection.vendor == "sqlite" else None
    before = data_version()
    path = tmp_path / "beslut.csv"
    write_csv(path, file_rows(demo_register, 50))

    run(path)

    assert data_version() != before
    if triggers is not None:
        assert sqlite_triggers() == triggers
        with (
            pytest.raises(RuntimeError),
            transaction.atomic(),
            services.data_version.bumped_once_sqlite(connection, ["register_decision"]),
        ):
            assert "register_decision_data_version_insert" not in sqlite_triggers()
            raise RuntimeError("the write failed")
        assert sqlite_triggers() == triggers
        quiet = data_version()
        with (
            transaction.atomic(),
            services.data_version.bumped_once_sqlite(connection, ["register_decision"]),
        ):
            pass  # a write its triggers would have told
        assert data_version() != quiet


def test_import_decisions__bulk_write__a_protected_homes_events_are_marked_and_triggers_stay(
    demo_register, tmp_path
):
    """The feed's events of a bulk write are written once for the write on SQLite
    (api.change_triggers.events_once_sqlite), marked protected as the row triggers mark them."""
    from django.db import connection

    triggers = sqlite_triggers() if connection.vendor == "sqlite" else None
    protected = next(f for f in demo_register if f.is_protected)
    public = next(f for f in demo_register if not f.is_protected)
    rows = file_rows(demo_register, 20)
    rows[5]["verksamhetsid"] = protected.facility_id
    rows[6]["verksamhetsid"] = public.facility_id
    path = tmp_path / "beslut.csv"
    write_csv(path, rows)
    ChangeEvent.objects.all().delete()

    run(path)

    marks = dict(
        ChangeEvent.objects.filter(resource="decision").values_list("resource_id", "protected")
    )
    assert marks[rows[5]["diarienummer"]] is True
    assert marks[rows[6]["diarienummer"]] is False
    assert ChangeEvent.objects.filter(protected=False, public_position__isnull=True).count() == 0
    if triggers is not None:
        assert sqlite_triggers() == triggers
