"""import_findings (issue 16, point 2): the findings file of docs/formats/register-import.md,
through its command, with every promise of the format and every bad-row rule's exact message."""

import datetime

import pytest

from register.models import Decision, Facility, Finding
from tests.import_support import (
    FACILITY_EXAMPLE,
    REGISTER_MODELS,
    personnummer_in_test_range,
    run,
    run_failing,
    write,
)

pytestmark = pytest.mark.django_db

DECISIONS = (
    "diarienummer;verksamhetsid;beslutstyp;beslutsdatum;utfall;granskade_omraden\n"
    "3.2.2-100/2022;K0880-001;tillsyn;2022-11-03;forelaggande;trygghet_sakerhet|dokumentation\n"
    "3.2.2-200/2023;K0880-001;tillsyn;2023-03-01;forelaggande_vite;dokumentation\n"
)
HEADER = "diarienummer;omrade;bedomning;iakttagelse;krav;senast;vite_kronor\n"
FINDINGS = HEADER + (
    "3.2.2-100/2022; Trygghet_Sakerhet ;INGEN_BRIST;Ungdomarna beskriver att de känner sig "
    "trygga.;;;\n"
    "3.2.2-100/2022;dokumentation;brist;Genomförandeplaner saknas för två av fem ungdomar.;"
    "Verksamheten ska upprätta genomförandeplaner för alla ungdomar.;2023-01-31;\n"
    "3.2.2-200/2023;dokumentation;allvarlig_brist;Genomförandeplaner saknas fortfarande.;"
    "Verksamheten ska upprätta genomförandeplaner.;2023-04-30;50 000\n"
)


def snapshot() -> dict[str, int]:
    counts = {}
    for model in [*REGISTER_MODELS, Finding]:
        counts[model.__name__] = model.objects.count()
        counts[f"{model.__name__} history"] = model.history.count()
    return counts


@pytest.fixture
def decisions(tmp_path):
    run("import_facilities", write(tmp_path, FACILITY_EXAMPLE, "verksamheter.csv"))
    run("import_decisions", write(tmp_path, DECISIONS, "beslut.csv"))


def findings_of(diarienummer: str) -> list[tuple]:
    return list(
        Finding.objects.filter(decision__diarienummer=diarienummer)
        .order_by("area")
        .values_list("area", "assessment", "observation", "requirement", "due_date", "fine_amount")
    )


def test_import_findings__file__stored_with_codes_trimmed_and_lowercased(decisions, tmp_path):
    out, _ = run("import_findings", write(tmp_path, FINDINGS, "fynd.csv"))

    assert "iakttagelser: 3 nya, 0 ändrade, 0 oförändrade" in out
    assert findings_of("3.2.2-100/2022") == [
        (
            "dokumentation",
            "brist",
            "Genomförandeplaner saknas för två av fem ungdomar.",
            "Verksamheten ska upprätta genomförandeplaner för alla ungdomar.",
            datetime.date(2023, 1, 31),
            None,
        ),
        (
            "trygghet_sakerhet",
            "ingen_brist",
            "Ungdomarna beskriver att de känner sig trygga.",
            "",
            None,
            None,
        ),
    ]
    assert findings_of("3.2.2-200/2023")[0][-1] == 50000
    assert {h.history_change_reason for h in Finding.history.all()} == {"import_findings fynd.csv"}
    # The facility's derived count: the two requirements, neither followed up yet.
    assert Facility.objects.get().unresolved_requirements == 2


def test_import_findings__user_option__names_who_imported_in_history(
    decisions, tmp_path, registrator
):
    run("import_findings", write(tmp_path, FINDINGS), "--user", "registrator")

    assert {h.history_user for h in Finding.history.all()} == {registrator}


def test_import_findings__same_file_again__changes_nothing(decisions, tmp_path):
    path = write(tmp_path, FINDINGS)
    run("import_findings", path)
    before = snapshot()
    stamps = list(Finding.objects.order_by("pk").values_list("updated_at", flat=True))

    out, _ = run("import_findings", path)

    assert "iakttagelser: 0 nya, 0 ändrade, 3 oförändrade" in out
    assert snapshot() == before
    assert list(Finding.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps


def test_import_findings__decision_in_file__its_findings_replaced_others_left_alone(
    decisions, tmp_path
):
    run("import_findings", write(tmp_path, FINDINGS, "forsta.csv"))
    other_before = findings_of("3.2.2-200/2023")
    removed = Finding.objects.get(decision__diarienummer="3.2.2-100/2022", area="dokumentation")
    changed = HEADER + (
        "3.2.2-100/2022;trygghet_sakerhet;ingen_brist;Ungdomarna känner sig trygga.;;;\n"
        "3.2.2-100/2022;lokaler;ingen_brist;;;;\n"
    )

    out, _ = run("import_findings", write(tmp_path, changed, "andra.csv"))

    assert "iakttagelser: 1 nya, 1 ändrade, 0 oförändrade, 1 borttagna" in out
    assert [area for area, *_ in findings_of("3.2.2-100/2022")] == ["lokaler", "trygghet_sakerhet"]
    assert findings_of("3.2.2-200/2023") == other_before
    gone = Finding.history.get(id=removed.pk, history_type="-")
    assert gone.requirement == removed.requirement
    assert gone.history_change_reason == "import_findings andra.csv"
    updated = Finding.history.filter(area="trygghet_sakerhet", history_type="~").get()
    assert [c.field for c in updated.diff_against(updated.prev_record).changes] == ["observation"]
    assert Facility.objects.get().unresolved_requirements == 1


def test_import_findings__dry_run__checks_and_writes_nothing(decisions, tmp_path):
    before = snapshot()

    out, _ = run("import_findings", write(tmp_path, FINDINGS), "--dry-run")

    assert "iakttagelser: 3 nya" in out
    assert snapshot() == before


def row(**cells: str) -> str:
    values = {
        "diarienummer": "3.2.2-100/2022",
        "omrade": "dokumentation",
        "bedomning": "brist",
        "iakttagelse": "Genomförandeplaner saknas.",
        "krav": "Verksamheten ska upprätta genomförandeplaner.",
        "senast": "2023-01-31",
        "vite_kronor": "",
    }
    values.update(cells)
    return ";".join(values.values())


PERSONNUMMER = personnummer_in_test_range()
PERSONNUMMER_MESSAGE = (
    "texten innehåller något som ser ut som ett personnummer; offentliga texter får inte "
    "innehålla personuppgifter"
)


@pytest.mark.parametrize(
    "text,errors",
    [
        (
            HEADER + row(diarienummer="3.2.2-999/2022"),
            [
                "rad 2, kolumn diarienummer: okänt beslut 3.2.2-999/2022: det finns inte i "
                "registret; importera beslutet först (import_decisions)"
            ],
        ),
        (
            HEADER + row() + "\n" + row(omrade="Dokumentation ", bedomning="allvarlig_brist"),
            [
                "rad 3, kolumn omrade: området dokumentation finns redan för beslutet "
                "3.2.2-100/2022 på rad 2"
            ],
        ),
        (
            HEADER + row(omrade="dokument"),
            [
                "rad 2, kolumn omrade: okänd kod dokument; tillåtna: trygghet_sakerhet, "
                "vald_krankningar, delaktighet, kompetens_bemanning, forestandare, inskrivna, "
                "lokaler, begransningsatgarder, dokumentation, lamplighet_agare, ekonomi, "
                "uppfoljning_tidigare_beslut, barns_upplevelse"
            ],
        ),
        (
            HEADER + row(bedomning="brister"),
            [
                "rad 2, kolumn bedomning: okänd kod brister; tillåtna: ingen_brist, brist, "
                "allvarlig_brist"
            ],
        ),
        (
            HEADER + row(bedomning="ingen_brist", senast=""),
            [
                "rad 2, kolumn krav: ett krav kan bara ställas vid brist eller allvarlig_brist, "
                "inte vid ingen_brist"
            ],
        ),
        (
            HEADER + row(krav=""),
            ["rad 2, kolumn senast: anges bara tillsammans med ett krav (kolumnen krav)"],
        ),
        (
            HEADER + row(senast="2022-11-02"),
            ["rad 2, kolumn senast: datumet 2022-11-02 ligger före beslutsdatum 2022-11-03"],
        ),
        (
            HEADER + row(senast="2023-31-01"),
            ["rad 2, kolumn senast: 2023-31-01 är inget giltigt datum i formen ÅÅÅÅ-MM-DD"],
        ),
        (
            HEADER + row(diarienummer="3.2.2-200/2023", senast="2023-04-30", vite_kronor="0"),
            ["rad 2, kolumn vite_kronor: ska vara ett helt antal kronor större än 0, t.ex. 50000"],
        ),
        (
            HEADER
            + row(diarienummer="3.2.2-200/2023", senast="2023-04-30", vite_kronor="12500,50"),
            ["rad 2, kolumn vite_kronor: ska vara ett helt antal kronor större än 0, t.ex. 50000"],
        ),
        (
            HEADER + row(vite_kronor="50000"),
            [
                "rad 2, kolumn vite_kronor: vite anges bara när beslutets utfall är "
                "forelaggande_vite; beslutet 3.2.2-100/2022 har utfallet forelaggande"
            ],
        ),
        (
            HEADER + row(iakttagelse=f"Ungdomen {PERSONNUMMER} saknar plan."),
            [f"rad 2, kolumn iakttagelse: {PERSONNUMMER_MESSAGE}"],
        ),
        (
            HEADER + row(krav=f"Upprätta en plan för {PERSONNUMMER.replace('-', '')[2:]}."),
            [f"rad 2, kolumn krav: {PERSONNUMMER_MESSAGE}"],
        ),
        (
            "diarienummer;bedomning\n3.2.2-100/2022;brist",
            ["rad 1, kolumn omrade: obligatorisk kolumn saknas"],
        ),
        (
            HEADER.rstrip("\n") + ";vite\n" + row() + ";5000",
            [
                "rad 1, kolumn vite: okänd kolumn (kolumn H); kända kolumner: diarienummer, "
                "omrade, bedomning, iakttagelse, krav, senast, vite_kronor"
            ],
        ),
    ],
    ids=[
        "decision-not-in-register",
        "area-twice-for-one-decision",
        "unknown-area",
        "unknown-assessment",
        "requirement-with-no-deficiency",
        "due-date-without-requirement",
        "due-date-before-decision-date",
        "bad-date",
        "fine-zero",
        "fine-not-whole",
        "fine-without-fine-outcome",
        "personnummer-in-observation",
        "personnummer-in-requirement",
        "required-column-missing",
        "unknown-column",
    ],
)
def test_import_findings__bad_row__exact_error_and_nothing_written(
    decisions, tmp_path, text, errors
):
    run("import_findings", write(tmp_path, FINDINGS, "forsta.csv"))
    before = snapshot()

    got, message = run_failing("import_findings", write(tmp_path, text + "\n"))

    assert got == errors
    assert message == f"Importen avbröts: {len(errors)} fel. Inget sparades."
    assert snapshot() == before
    assert not any(PERSONNUMMER[2:] in line or PERSONNUMMER[-4:] in line for line in got)


def test_import_findings__many_bad_rows__every_error_in_one_run_in_file_order(decisions, tmp_path):
    text = HEADER + "\n".join(
        [
            row(),
            row(omrade="lokaler", bedomning="ingen_brist", senast=""),
            row(diarienummer="3.2.2-999/2022", omrade="ekonomi"),
            row(omrade="inskrivna", senast="igår", vite_kronor="-5"),
        ]
    )
    before = snapshot()

    got, message = run_failing("import_findings", write(tmp_path, text + "\n"))

    assert got == [
        "rad 3, kolumn krav: ett krav kan bara ställas vid brist eller allvarlig_brist, inte "
        "vid ingen_brist",
        "rad 4, kolumn diarienummer: okänt beslut 3.2.2-999/2022: det finns inte i registret; "
        "importera beslutet först (import_decisions)",
        "rad 5, kolumn senast: igår är inget giltigt datum i formen ÅÅÅÅ-MM-DD",
        "rad 5, kolumn vite_kronor: ska vara ett helt antal kronor större än 0, t.ex. 50000",
    ]
    assert message == "Importen avbröts: 4 fel. Inget sparades."
    assert snapshot() == before


# The real Aquarellen decision (the format file's examples) ----------------------------------

AQUARELLEN_DECISION = (
    "diarienummer;verksamhetsid;beslutstyp;beslutsdatum;utfall;granskade_omraden;"
    "inspektion_anledning;samtal_med_barn;lagrum\n"
    "3.2.2-13748/2022;K0880-001;tillsyn;2022-06-16;inga_brister;"
    "trygghet_sakerhet|forestandare|inskrivna|uppfoljning_tidigare_beslut;frekvenstillsyn;4;"
    "3 kap. 3 § socialtjänstlagen (2001:453)\n"
)
AQUARELLEN_FINDINGS = HEADER + (
    "3.2.2-13748/2022;trygghet_sakerhet;ingen_brist;Ungdomarna beskriver att de känner sig "
    "trygga på boendet, med personalen och med varandra.;;;\n"
    "3.2.2-13748/2022;forestandare;ingen_brist;Föreståndaren har den utbildning och erfarenhet "
    "som krävs och leder det dagliga arbetet på plats.;;;\n"
    "3.2.2-13748/2022;inskrivna;ingen_brist;De inskrivna ungdomarna stämmer med verksamhetens "
    "målgrupp och ålder enligt anmälan.;;;\n"
    "3.2.2-13748/2022;uppfoljning_tidigare_beslut;ingen_brist;Verksamheten har åtgärdat det "
    "som IVO krävde i sitt förra beslut.;;;\n"
)


def test_import__aquarellen_example__facility_decision_and_four_findings(tmp_path):
    run("import_facilities", write(tmp_path, FACILITY_EXAMPLE, "verksamheter.csv"))
    run("import_decisions", write(tmp_path, AQUARELLEN_DECISION, "beslut.csv"))

    out, _ = run("import_findings", write(tmp_path, AQUARELLEN_FINDINGS, "iakttagelser.csv"))

    assert "iakttagelser: 4 nya, 0 ändrade, 0 oförändrade" in out
    decision = Decision.objects.get(diarienummer="3.2.2-13748/2022")
    assert decision.facility.facility_id == "K0880-001"
    assert decision.children_talked_with == 4
    assert decision.inspection_reason == "frekvenstillsyn"
    assert decision.legal_reference == "3 kap. 3 § socialtjänstlagen (2001:453)"
    findings = {f.area: f for f in decision.findings.all()}
    assert sorted(findings) == sorted(decision.review_areas)
    assert {f.assessment for f in findings.values()} == {"ingen_brist"}
    assert {f.requirement for f in findings.values()} == {""}
    assert findings["trygghet_sakerhet"].observation == (
        "Ungdomarna beskriver att de känner sig trygga på boendet, med personalen och med varandra."
    )
    assert Facility.objects.get().unresolved_requirements == 0
