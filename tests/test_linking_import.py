"""``import_cases``: the case-system export of docs/formats/case-import.md."""

import datetime

import openpyxl
import pytest

from linking.models import Candidate, CaseRecord, CaseStatus, LinkAction
from register.models import Decision, Inspection
from tests.factories import FacilityFactory, ProviderFactory
from tests.import_support import TOMORROW, on_the_day, run, run_failing, write

pytestmark = pytest.mark.django_db

# The example of the format file, as it stands there.
CASE_EXAMPLE = (
    "diarienummer;arendetyp;beslutsdatum;utfall;organisationsnummer;huvudman;verksamhet;adress;"
    "postort;kommunkod\n"
    "3.2.2-13748/2022;tillsyn;2022-06-16;inga_brister;2120000746;Kalmar kommun;Aquarellen;;"
    "Kalmar;0880\n"
)
HEADER = (
    "diarienummer;arendetyp;beslutsdatum;utfall;granskade_omraden;organisationsnummer;huvudman;"
    "verksamhet;adress;postort;kommunkod;referens_dnr;inspektionsdatum;sammanfattning"
)
CASE_MODELS = [CaseRecord, Candidate, LinkAction, Decision, Inspection]


def snapshot() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in CASE_MODELS}
    counts["CaseRecord history"] = CaseRecord.history.count()
    counts["Decision history"] = Decision.history.count()
    return counts


def case_row(**cells: str) -> str:
    values = {
        "diarienummer": "8.5-2001/2023",
        "arendetyp": "tillsyn",
        "beslutsdatum": "2023-05-10",
        "utfall": "brister",
        "granskade_omraden": "trygghet_sakerhet|dokumentation",
        "organisationsnummer": "212000-0746",
        "huvudman": "Kalmar kommun",
        "verksamhet": "Aquarellen HVB",
        "adress": "Storgatan 12",
        "postort": "Kalmar",
        "kommunkod": "0880",
        "referens_dnr": "",
        "inspektionsdatum": "2023-03-01",
        "sammanfattning": "IVO fann brister i dokumentationen.",
    }
    values.update(cells)
    return ";".join(values.values())


@pytest.fixture
def aquarellen(db):
    provider = ProviderFactory(
        organisation_number="212000-0746", name="Kalmar kommun", ownership="kommunal"
    )
    return FacilityFactory(
        facility_id="K0880-001",
        name="Aquarellen",
        provider=provider,
        street_address="Storgatan 12",
        postal_town="Kalmar",
    )


# The example, idempotency, updates ------------------------------------------------------------


def test_import_cases__format_file_example__stored_and_sent_to_review(aquarellen, tmp_path):
    out, _ = run("import_cases", write(tmp_path, CASE_EXAMPLE, "arenden.csv"))

    case = CaseRecord.objects.get()
    assert case.diarienummer == "3.2.2-13748/2022"
    assert (case.kind, case.decision_date, case.outcome) == (
        "tillsyn",
        datetime.date(2022, 6, 16),
        "inga_brister",
    )
    assert case.organisation_number == "212000-0746"
    assert (case.provider_name, case.facility_name, case.postal_town) == (
        "Kalmar kommun",
        "Aquarellen",
        "Kalmar",
    )
    assert case.municipality_id == "0880"
    assert "ärenden: 1 nya, 0 ändrade, 0 oförändrade" in out
    # Number, kommun, name and town, but no address: a strong suggestion for a person to confirm.
    assert case.status == CaseStatus.REVIEW
    assert "Matchning: 0 kopplade automatiskt, 1 till granskning, 0 utan trolig verksamhet" in out
    top = case.candidates.get(rank=1)
    assert top.facility == aquarellen
    assert [reason["code"] for reason in top.reasons] == [
        "organisation_number",
        "name",
        "municipality",
        "postal_town",
    ]
    created, matched = CaseRecord.history.order_by("history_id")
    assert created.history_change_reason == "import_cases arenden.csv"
    assert (matched.status, matched.history_change_reason) == ("granskas", "matchning")


def test_import_cases__all_columns__linked_automatically_with_decision_and_inspection(
    aquarellen, tmp_path
):
    out, _ = run("import_cases", write(tmp_path, f"{HEADER}\n{case_row()}\n"))

    case = CaseRecord.objects.get()
    assert case.status == CaseStatus.LINKED
    assert case.link_method == "automatisk"
    assert case.facility == aquarellen
    decision = Decision.objects.get(diarienummer="8.5-2001/2023")
    assert case.decision == decision
    assert decision.facility == aquarellen
    assert decision.outcome == "brister"
    assert decision.review_areas == ["dokumentation", "trygghet_sakerhet"]
    assert decision.summary == "IVO fann brister i dokumentationen."
    inspection = Inspection.objects.get(diarienummer="8.5-2001/2023")
    assert inspection.start_date == datetime.date(2023, 3, 1)
    action = LinkAction.objects.get()
    assert (action.kind, action.actor) == ("automatisk", None)
    assert "1 kopplade automatiskt" in out


def test_import_cases__same_file_again__changes_nothing(aquarellen, tmp_path):
    unknown = case_row(
        diarienummer="8.5-2002/2023",
        verksamhet="Okänt hem",
        organisationsnummer="",
        adress="",
        kommunkod="",
    )
    path = write(tmp_path, f"{HEADER}\n{case_row()}\n{unknown}\n")
    run("import_cases", path)
    before = snapshot()
    stamps = list(CaseRecord.objects.values_list("updated_at", flat=True))

    out, _ = run("import_cases", path)

    assert snapshot() == before
    assert list(CaseRecord.objects.values_list("updated_at", flat=True)) == stamps
    assert "ärenden: 0 nya, 0 ändrade, 2 oförändrade" in out


def test_import_cases__changed_row_of_unlinked_record__updated_and_matched_again(
    aquarellen, tmp_path
):
    run("import_cases", write(tmp_path, f"{HEADER}\n{case_row(adress='', postort='')}\n"))
    case = CaseRecord.objects.get()
    assert case.status == CaseStatus.REVIEW

    out, _ = run("import_cases", write(tmp_path, f"{HEADER}\n{case_row()}\n", "rattad.csv"))

    case.refresh_from_db()
    assert "ärenden: 0 nya, 1 ändrade, 0 oförändrade" in out
    assert case.status == CaseStatus.LINKED
    assert case.street_address == "Storgatan 12"
    assert case.history.first().history_change_reason == "Kopplat från ärendesystemet (automatiskt)"


def test_import_cases__changed_outcome_of_linked_record__reaches_the_decision(aquarellen, tmp_path):
    run("import_cases", write(tmp_path, f"{HEADER}\n{case_row()}\n"))

    out, _ = run(
        "import_cases", write(tmp_path, f"{HEADER}\n{case_row(utfall='forelaggande')}\n", "b.csv")
    )

    assert "beslut: 0 nya, 1 ändrade" in out
    decision = Decision.objects.get(diarienummer="8.5-2001/2023")
    assert decision.outcome == "forelaggande"
    assert decision.history.first().history_change_reason == "import_cases b.csv"


def test_import_cases__check_digit_wrong__kept_as_typed_and_matches_no_provider(
    aquarellen, tmp_path
):
    run(
        "import_cases", write(tmp_path, f"{HEADER}\n{case_row(organisationsnummer='2120000747')}\n")
    )

    case = CaseRecord.objects.get()
    assert case.organisation_number == "212000-0747"
    codes = [reason["code"] for reason in case.candidates.get(rank=1).reasons]
    assert "organisation_number" not in codes


def test_import_cases__xlsx_with_number_cells__read_like_csv(aquarellen, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER.split(";"))
    sheet.append(
        [
            "8.5-2001/2023",
            "Tillsyn",
            datetime.datetime(2023, 5, 10),
            "brister",
            None,
            "212000-0746",
            "Kalmar kommun",
            "Aquarellen",
            "Storgatan 12",
            "Kalmar",
            880,
            None,
            datetime.datetime(2023, 3, 1),
            None,
        ]
    )
    path = tmp_path / "arenden.xlsx"
    workbook.save(path)

    run("import_cases", str(path))

    case = CaseRecord.objects.get()
    assert case.municipality_id == "0880"
    assert case.decision_date == datetime.date(2023, 5, 10)
    assert case.status == CaseStatus.LINKED


def test_import_cases__dry_run__writes_nothing(aquarellen, tmp_path):
    before = snapshot()

    out, _ = run("import_cases", write(tmp_path, f"{HEADER}\n{case_row()}\n"), "--dry-run")

    assert "ärenden: 1 nya" in out
    assert snapshot() == before


# Bad input: each rule, the exact error, and nothing written -----------------------------------

DNR_FORM = "har inte IVO:s form för diarienummer, t.ex. 3.2.2-13748/2022 eller 8.5-29206/2014"
OUTCOMES = (
    "inga_brister, brister, forelaggande, forelaggande_vite, tillfalligt_forbud, forbud, "
    "aterkallelse, sanktionsavgift, tillstand_beviljat, tillstand_avslag"
)
AREAS = (
    "trygghet_sakerhet, vald_krankningar, delaktighet, kompetens_bemanning, forestandare, "
    "inskrivna, lokaler, begransningsatgarder, dokumentation, lamplighet_agare, ekonomi, "
    "uppfoljning_tidigare_beslut, barns_upplevelse"
)
BAD_CELLS = {  # id → (cells, column, the exact message)
    "diarienummer-form": ({"diarienummer": "13748/2022"}, "diarienummer", DNR_FORM),
    "diarienummer-missing": ({"diarienummer": ""}, "diarienummer", "värde saknas"),
    "unknown-case-type": (
        {"arendetyp": "klagomal"},
        "arendetyp",
        "okänd kod klagomal; tillåtna: tillsyn, tillstand",
    ),
    "date-not-iso": (
        {"beslutsdatum": "16/6 2022"},
        "beslutsdatum",
        "16/6 2022 är inget giltigt datum i formen ÅÅÅÅ-MM-DD",
    ),
    "date-in-future": (
        {"beslutsdatum": TOMORROW, "inspektionsdatum": ""},
        "beslutsdatum",
        f"datumet {TOMORROW} ligger i framtiden",
    ),
    "unknown-outcome": ({"utfall": "ok"}, "utfall", f"okänd kod ok; tillåtna: {OUTCOMES}"),
    "outcome-not-of-case-type": (
        {"utfall": "tillstand_beviljat"},
        "utfall",
        "utfallet tillstand_beviljat hör inte till beslutstypen tillsyn",
    ),
    "unknown-review-area": (
        {"granskade_omraden": "mat"},
        "granskade_omraden",
        f"okänd kod mat; tillåtna: {AREAS}",
    ),
    "orgnr-not-ten-digits": (
        {"organisationsnummer": "21200-0746"},
        "organisationsnummer",
        "ska ha 10 siffror (eller 12 med 16 först), t.ex. 212000-0746",
    ),
    "provider-name-too-long": (
        {"huvudman": "H" * 201},
        "huvudman",
        "får vara högst 200 tecken, är 201",
    ),
    "facility-name-missing": ({"verksamhet": ""}, "verksamhet", "värde saknas"),
    "facility-name-too-long": (
        {"verksamhet": "V" * 201},
        "verksamhet",
        "får vara högst 200 tecken, är 201",
    ),
    "address-too-long": ({"adress": "A" * 201}, "adress", "får vara högst 200 tecken, är 201"),
    "town-too-long": ({"postort": "P" * 101}, "postort", "får vara högst 100 tecken, är 101"),
    "unknown-kommunkod": ({"kommunkod": "0999"}, "kommunkod", "okänd kommunkod 0999"),
    "kommunkod-form": (
        {"kommunkod": "880"},
        "kommunkod",
        "ska vara en fyrsiffrig kommunkod från SCB, t.ex. 0880",
    ),
    "reference-form": ({"referens_dnr": "tillstånd 2019"}, "referens_dnr", DNR_FORM),
    "inspection-after-decision": (
        {"inspektionsdatum": "2023-06-01"},
        "inspektionsdatum",
        "inspektionen (2023-06-01) ligger efter beslutsdatumet (2023-05-10)",
    ),
    "inspection-days-reversed": (
        {"inspektionsdatum": "2023-03-02|2023-03-01"},
        "inspektionsdatum",
        "den sista inspektionsdagen ligger före den första",
    ),
    "personnummer-in-summary": (
        {"sammanfattning": "Föreståndaren 19811218-9876 saknade utbildning."},
        "sammanfattning",
        "texten innehåller något som ser ut som ett personnummer; offentliga texter får inte "
        "innehålla personuppgifter",
    ),
}


@pytest.mark.parametrize(
    "row,error",
    [
        (case_row(**cells), f"rad 2, kolumn {column}: {message}")
        for cells, column, message in BAD_CELLS.values()
    ],
    ids=list(BAD_CELLS),
)
def test_import_cases__bad_cell__exact_error_and_nothing_written(aquarellen, tmp_path, row, error):
    before = snapshot()

    errors, message = run_failing("import_cases", write(tmp_path, on_the_day(f"{HEADER}\n{row}\n")))

    assert errors == [on_the_day(error)]
    assert message == "Importen avbröts: 1 fel. Inget sparades."
    assert snapshot() == before


def test_import_cases__several_bad_rows__every_error_in_one_run_and_nothing_written(
    aquarellen, tmp_path
):
    rows = [
        case_row(),  # good, but the file is refused as a whole
        case_row(diarienummer="8.5-2001/2023"),
        case_row(diarienummer="8.5-2003/2023", utfall="", kommunkod="1"),
    ]
    before = snapshot()

    errors, message = run_failing("import_cases", write(tmp_path, "\n".join([HEADER, *rows])))

    assert errors == [
        "rad 3, kolumn diarienummer: diarienumret 8.5-2001/2023 finns redan på rad 2",
        "rad 4, kolumn utfall: värde saknas",
        "rad 4, kolumn kommunkod: ska vara en fyrsiffrig kommunkod från SCB, t.ex. 0880",
    ]
    assert message == "Importen avbröts: 3 fel. Inget sparades."
    assert snapshot() == before


@pytest.mark.parametrize(
    "header,errors",
    [
        (
            HEADER.replace("verksamhet;", "verksamhetsnamn;"),
            [
                "rad 1, kolumn verksamhetsnamn: okänd kolumn (kolumn H); kända kolumner: "
                "diarienummer, arendetyp, beslutsdatum, utfall, granskade_omraden, "
                "organisationsnummer, huvudman, verksamhet, adress, postort, kommunkod, "
                "referens_dnr, inspektionsdatum, sammanfattning",
                "rad 1, kolumn verksamhet: obligatorisk kolumn saknas",
            ],
        ),
        (
            HEADER.replace("beslutsdatum;", ""),
            ["rad 1, kolumn beslutsdatum: obligatorisk kolumn saknas"],
        ),
    ],
    ids=["unknown-column", "missing-column"],
)
def test_import_cases__bad_header__refused_and_nothing_written(
    aquarellen, tmp_path, header, errors
):
    before = snapshot()

    row = ";".join(case_row().split(";")[: len(header.split(";"))])
    got, _message = run_failing("import_cases", write(tmp_path, f"{header}\n{row}\n"))

    assert got == errors
    assert snapshot() == before


def test_import_cases__organisation_number_as_number_cell__refused(aquarellen, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(
        ["diarienummer", "arendetyp", "beslutsdatum", "utfall", "organisationsnummer", "verksamhet"]
    )
    sheet.append(["8.5-2001/2023", "tillsyn", "2023-05-10", "brister", 2120000746, "Aquarellen"])
    path = tmp_path / "arenden.xlsx"
    workbook.save(path)
    before = snapshot()

    errors, _message = run_failing("import_cases", str(path))

    assert errors == [
        "rad 2, kolumn organisationsnummer: cellen är formaterad som tal och kan ha tappat en "
        "inledande nolla; formatera kolumnen som text och skriv in värdet igen"
    ]
    assert snapshot() == before
