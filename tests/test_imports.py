"""The two imports of docs/formats/register-import.md, through their commands."""

import datetime

import openpyxl
import pytest

from register.codes import FacilityStatus, PermitStatus
from register.models import (
    Decision,
    Facility,
    Inspection,
    Manager,
    Permit,
    Provider,
)
from tests.factories import build_valid_organisation_number
from tests.import_support import (
    DECISION_EXAMPLE,
    DECISION_HEADER,
    FACILITY_EXAMPLE,
    FACILITY_HEADER,
    PRIVATE_HEADER,
    TOMORROW,
    on_the_day,
    personnummer_in_test_range,
    run,
    run_failing,
    snapshot,
    write,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def example(tmp_path):
    """The format file's facility and a decision for it, imported."""
    run("import_facilities", write(tmp_path, FACILITY_EXAMPLE, "verksamheter.csv"))
    run("import_decisions", write(tmp_path, DECISION_EXAMPLE, "beslut.csv"))
    return Facility.objects.get(facility_id="K0880-001")


# The example and idempotency ------------------------------------------------------------------


def test_import__format_file_example__creates_facility_provider_and_decision(example):
    facility = example
    assert facility.name == "Exempelgården HVB"
    assert facility.facility_type == "hvb"
    assert facility.municipality_id == "0880"
    assert (facility.places, facility.gender, facility.age_from, facility.age_to) == (
        6,
        "alla",
        13,
        17,
    )
    assert facility.status == FacilityStatus.AKTIV
    assert facility.provider.organisation_number == "212000-0746"
    assert facility.provider.name == "Kalmar kommun"
    assert facility.provider.ownership == "kommunal"
    decision = Decision.objects.get(diarienummer="3.2.2-13748/2022")
    assert decision.facility == facility
    assert decision.decision_date == datetime.date(2022, 11, 3)
    assert decision.outcome == "brister"
    assert decision.review_areas == ["dokumentation", "trygghet_sakerhet"]
    assert decision.summary == "IVO fann brister i dokumentationen."
    inspection = Inspection.objects.get(diarienummer="3.2.2-13748/2022")
    assert (inspection.start_date, inspection.end_date) == (
        datetime.date(2022, 9, 14),
        datetime.date(2022, 9, 15),
    )
    assert inspection.announced is False
    assert Facility.history.get().history_change_reason == "import_facilities verksamheter.csv"


def test_import__same_files_again__changes_nothing(example, tmp_path):
    before = snapshot()
    stamps = list(Facility.objects.values_list("updated_at", flat=True))

    out_f, _ = run("import_facilities", write(tmp_path, FACILITY_EXAMPLE, "verksamheter.csv"))
    out_d, _ = run("import_decisions", write(tmp_path, DECISION_EXAMPLE, "beslut.csv"))

    assert snapshot() == before
    assert list(Facility.objects.values_list("updated_at", flat=True)) == stamps
    assert "verksamheter: 0 nya, 0 ändrade, 1 oförändrade" in out_f
    assert "beslut: 0 nya, 0 ändrade, 1 oförändrade" in out_d


def test_import_facilities__changed_row__updates_and_keeps_before_and_after(example, tmp_path):
    changed = FACILITY_EXAMPLE.replace(";6;aktiv;", ";8;aktiv;")

    out, _ = run("import_facilities", write(tmp_path, changed, "andring.csv"))

    assert "verksamheter: 0 nya, 1 ändrade, 0 oförändrade" in out
    newest, earlier = Facility.history.order_by("-history_id")[:2]
    assert (earlier.places, newest.places) == (6, 8)
    assert newest.history_change_reason == "import_facilities andring.csv"
    assert [change.field for change in newest.diff_against(earlier).changes] == ["places"]


def test_import_facilities__new_and_renamed__name_keys_written(example, tmp_path):
    from tests.assertions import assert_name_keys_written

    renamed = FACILITY_EXAMPLE.replace("Exempelgården HVB", "ÄNGSBO HVB").replace(
        "Kalmar kommun", "KALMAR KOMMUN ÖSTRA"
    )

    run("import_facilities", write(tmp_path, renamed, "namn.csv"))

    facility = Facility.objects.select_related("provider").get(facility_id="K0880-001")
    assert (facility.name_key, facility.provider.name_key) == ("ängsbo hvb", "kalmar kommun östra")
    assert_name_keys_written()


def test_import_facilities__user_option__names_who_imported_in_history(tmp_path, registrator):
    run("import_facilities", write(tmp_path, FACILITY_EXAMPLE), "--user", "registrator")

    assert Facility.history.get().history_user == registrator


def test_import__dry_run__checks_and_writes_nothing(tmp_path):
    before = snapshot()

    out, _ = run("import_facilities", write(tmp_path, FACILITY_EXAMPLE), "--dry-run")

    assert "verksamheter: 1 nya" in out
    assert "kontrollerad, inget sparades" in out
    assert snapshot() == before


# File forms -----------------------------------------------------------------------------------


def test_import_facilities__comma_delimited_with_bom__read_alike(tmp_path):
    text = FACILITY_EXAMPLE.replace(";", ",")

    run("import_facilities", write(tmp_path, "\ufeff" + text))

    facility = Facility.objects.get(facility_id="K0880-001")
    assert facility.name == "Exempelgården HVB"
    assert facility.municipality_id == "0880"


def test_import_facilities__quoted_cells_with_delimiter_and_line_break__kept_whole(tmp_path):
    header = FACILITY_HEADER + ";inriktning"
    row = FACILITY_EXAMPLE.splitlines()[1] + ';"KBT; ART\noch familjearbete"'
    run("import_facilities", write(tmp_path, f"{header}\n{row}\n"))

    assert Facility.objects.get().orientation == "KBT; ART\noch familjearbete"


def test_import__xlsx_first_sheet__with_numbers_and_dates_as_spreadsheets_store_them(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Verksamhetsid", *FACILITY_HEADER.split(";")[1:], "startdatum"])
    # A spreadsheet turns 0880 into the number 880 and a date cell into a date.
    sheet.append(
        [
            "K0880-001",
            "Exempelgården HVB",
            "HVB",
            "212000-0746",
            "Kalmar kommun",
            "kommunal",
            880,
            6,
            "aktiv",
            "alla",
            13,
            17.0,
            datetime.datetime(2015, 3, 1),
        ]
    )
    workbook.create_sheet("Anteckningar").append(["inte", "en", "del", "av", "importen"])
    path = tmp_path / "verksamheter.xlsx"
    workbook.save(path)

    run("import_facilities", str(path))

    facility = Facility.objects.get(facility_id="K0880-001")
    assert facility.municipality_id == "0880"
    assert facility.facility_type == "hvb"
    assert facility.age_to == 17
    assert facility.start_date == datetime.date(2015, 3, 1)


def test_import_facilities__manager_and_sole_trader__stored_in_canonical_form(tmp_path):
    pnr = personnummer_in_test_range()
    header = (
        PRIVATE_HEADER + ";enskild_naringsidkare;forestandare_namn;forestandare_personnummer;"
        "forestandare_epost;forestandare_telefon"
    )
    owner = personnummer_in_test_range("19700101", "990")
    row = (
        f"E-1;Familjehemmet Björken;hvb;{owner.replace('-', '')[2:]};Anna Andersson;ENSKILD;0880;"
        f"3;aktiv;alla;13;17;8.5-1001/2019;2019-05-02;ja;Test Testsson;{pnr.replace('-', '')};"
        "Test.Testsson@Example.com;070-1740605"
    )

    run("import_facilities", write(tmp_path, f"{header}\n{row}\n"))
    run("import_facilities", write(tmp_path, f"{header}\n{row}\n"))

    provider = Provider.objects.get()
    assert provider.is_sole_trader
    assert provider.organisation_number == owner[2:]
    manager = Manager.objects.get()
    assert manager.personal_identity_number == pnr
    assert manager.email == "test.testsson@example.com"
    assert Manager.history.count() == 1
    permit = Permit.objects.get()
    assert (permit.diarienummer, permit.granted_on) == ("8.5-1001/2019", datetime.date(2019, 5, 2))
    assert permit.status == PermitStatus.GALLANDE


# Bad input: each rule, the exact error, and nothing written -----------------------------------

ORG_OK = "212000-0746"


def facility_row(**cells: str) -> str:
    values = {
        "verksamhetsid": "K0880-001",
        "verksamhet": "Exempelgården HVB",
        "verksamhetstyp": "hvb",
        "organisationsnummer": ORG_OK,
        "huvudman": "Kalmar kommun",
        "regi": "kommunal",
        "kommunkod": "0880",
        "antal_platser": "6",
        "status": "aktiv",
        "kon": "alla",
        "alder_fran": "13",
        "alder_till": "17",
    }
    values.update(cells)
    return ";".join(values.values())


@pytest.mark.parametrize(
    "row,error",
    [
        (
            facility_row(organisationsnummer="212000-0747"),
            "rad 2, kolumn organisationsnummer: kontrollsiffran stämmer inte",
        ),
        (
            facility_row(kommunkod="0999"),
            "rad 2, kolumn kommunkod: okänd kommunkod 0999",
        ),
        (
            facility_row(verksamhetstyp="villa"),
            "rad 2, kolumn verksamhetstyp: okänd kod villa; tillåtna: hvb, stodboende, "
            "sarskilt_ungdomshem",
        ),
        (
            facility_row(alder_fran="18", alder_till="17"),
            "rad 2, kolumn alder_fran: åldern från (18) är högre än åldern till (17)",
        ),
        (
            facility_row(alder_till="25"),
            "rad 2, kolumn alder_till: får vara högst 21",
        ),
        (
            facility_row(antal_platser="sex"),
            "rad 2, kolumn antal_platser: sex är inget heltal",
        ),
        (
            facility_row(verksamhet=""),
            "rad 2, kolumn verksamhet: värde saknas",
        ),
        (
            facility_row(status="nedlagd"),
            "rad 2, kolumn slutdatum: slutdatum krävs när status är nedlagd",
        ),
        (
            facility_row(organisationsnummer="811218-9876"),
            "rad 2, kolumn organisationsnummer: siffrorna 3–4 är under 20: det är ett "
            "personnummer, inte en juridisk persons organisationsnummer (ange "
            "enskild_naringsidkare = ja för en enskild näringsidkare)",
        ),
    ],
    ids=[
        "orgnr-check-digit",
        "unknown-kommunkod",
        "unknown-code",
        "age-from-above-to",
        "age-above-21",
        "places-not-a-number",
        "required-value-missing",
        "closed-without-end-date",
        "personnummer-as-orgnr",
    ],
)
def test_import_facilities__bad_cell__exact_error_and_nothing_written(tmp_path, row, error):
    before = snapshot()

    errors, message = run_failing(
        "import_facilities", write(tmp_path, f"{FACILITY_HEADER}\n{row}\n")
    )

    assert errors == [error]
    assert message == "Importen avbröts: 1 fel. Inget sparades."
    assert snapshot() == before


def test_import_facilities__bad_date__exact_error_and_nothing_written(tmp_path):
    before = snapshot()
    text = f"{FACILITY_HEADER};startdatum\n{facility_row()};2020-13-01\n"

    errors, _ = run_failing("import_facilities", write(tmp_path, text))

    assert errors == [
        "rad 2, kolumn startdatum: 2020-13-01 är inget giltigt datum i formen ÅÅÅÅ-MM-DD"
    ]
    assert snapshot() == before


def test_import_facilities__misspelt_header__rejected_with_its_name(tmp_path):
    before = snapshot()
    text = f"{FACILITY_HEADER};malgruper\n{facility_row()};npf\n"

    errors, _ = run_failing("import_facilities", write(tmp_path, text))

    assert len(errors) == 1
    assert errors[0].startswith("rad 1, kolumn malgruper: okänd kolumn (kolumn M); kända kolumner:")
    assert snapshot() == before


def test_import_facilities__required_column_missing__rejected(tmp_path):
    header = FACILITY_HEADER.replace(";antal_platser", "")
    row = facility_row().replace(";6;aktiv", ";aktiv")

    errors, _ = run_failing("import_facilities", write(tmp_path, f"{header}\n{row}\n"))

    assert errors == ["rad 1, kolumn antal_platser: obligatorisk kolumn saknas"]
    assert snapshot()["Facility"] == 0


def test_import_facilities__duplicate_verksamhetsid__both_rows_named(tmp_path):
    before = snapshot()
    text = f"{FACILITY_HEADER}\n{facility_row()}\n{facility_row(verksamhet='Annat namn')}\n"

    errors, _ = run_failing("import_facilities", write(tmp_path, text))

    assert errors == ["rad 3, kolumn verksamhetsid: verksamhetsid K0880-001 finns redan på rad 2"]
    assert snapshot() == before


def test_import_facilities__one_provider_two_names__rejected(tmp_path):
    text = (
        f"{FACILITY_HEADER}\n{facility_row()}\n"
        f"{facility_row(verksamhetsid='K0880-002', huvudman='Kalmar kommun socialtjänst')}\n"
    )

    errors, _ = run_failing("import_facilities", write(tmp_path, text))

    assert errors == [
        "rad 3, kolumn huvudman: samma organisationsnummer har ett annat värde i kolumnen "
        "huvudman på rad 2; en huvudman har ett namn, en regi och en form"
    ]
    assert snapshot()["Provider"] == 0


def test_import_facilities__permit_for_municipal_home__rejected(tmp_path):
    text = f"{PRIVATE_HEADER}\n{facility_row()};8.5-1001/2019;2019-05-02\n"

    errors, _ = run_failing("import_facilities", write(tmp_path, text))

    assert errors == [
        "rad 2, kolumn tillstand_dnr: tillstånd gäller enskild regi; en kommunal eller regional "
        "verksamhet anmäls (anmalan_dnr)"
    ]


def test_import_facilities__sole_trader_in_municipal_ownership__rejected(tmp_path):
    owner = personnummer_in_test_range("19700101", "990")
    text = (
        f"{FACILITY_HEADER};enskild_naringsidkare\n{facility_row(organisationsnummer=owner)};ja\n"
    )

    errors, _ = run_failing("import_facilities", write(tmp_path, text))

    assert errors == ["rad 2, kolumn regi: en enskild näringsidkare har regi enskild"]


def test_import_facilities__many_bad_rows__every_error_in_one_run_in_file_order(tmp_path):
    before = snapshot()
    text = (
        f"{FACILITY_HEADER};startdatum;orgnummer\n"
        f"{facility_row(organisationsnummer='212000-0747', alder_fran='18')};2020-13-01;x\n"
        f"{facility_row(verksamhetstyp='villa', kommunkod='0999')};;\n"
    )

    errors, message = run_failing("import_facilities", write(tmp_path, text))

    assert [line.split(":")[0] for line in errors] == [
        "rad 1, kolumn orgnummer",
        "rad 2, kolumn organisationsnummer",
        "rad 2, kolumn alder_fran",
        "rad 2, kolumn startdatum",
        "rad 3, kolumn verksamhetsid",
        "rad 3, kolumn verksamhetstyp",
        "rad 3, kolumn kommunkod",
    ]
    assert message == "Importen avbröts: 7 fel. Inget sparades."
    assert snapshot() == before


def test_import_facilities__bad_row_after_good_ones__nothing_of_the_good_ones_written(
    example, tmp_path
):
    before = snapshot()
    text = (
        f"{FACILITY_HEADER}\n{facility_row(antal_platser='9')}\n"
        f"{facility_row(verksamhetsid='K0880-002', kommunkod='0999')}\n"
    )

    errors, _ = run_failing("import_facilities", write(tmp_path, text))

    assert errors == ["rad 3, kolumn kommunkod: okänd kommunkod 0999"]
    assert snapshot() == before
    assert Facility.objects.get().places == 6


def test_import_facilities__not_utf8__told_how_to_save_it(tmp_path):
    errors, _ = run_failing(
        "import_facilities", write(tmp_path, FACILITY_EXAMPLE, encoding="latin-1")
    )

    assert errors == [
        "filen är inte i UTF-8 (första felaktiga tecknet på rad 2); spara den som ”CSV UTF-8” "
        "eller som .xlsx"
    ]
    assert snapshot()["Facility"] == 0


def test_import_facilities__old_excel_format__told_to_save_as_xlsx(tmp_path):
    path = tmp_path / "verksamheter.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)

    errors, _ = run_failing("import_facilities", str(path))

    assert errors == [
        "filen är i det gamla Excel-formatet (.xls); spara den som .xlsx eller CSV (UTF-8)"
    ]


def test_import_facilities__more_cells_than_header__rejected(tmp_path):
    errors, _ = run_failing(
        "import_facilities", write(tmp_path, f"{FACILITY_HEADER}\n{facility_row()};extra\n")
    )

    assert errors == ["rad 2, kolumn M: raden har fler ifyllda celler än rubrikraden har kolumner"]


# Decisions ------------------------------------------------------------------------------------


def decision_row(**cells: str) -> str:
    values = {
        "diarienummer": "3.2.2-13748/2022",
        "verksamhetsid": "K0880-001",
        "beslutstyp": "tillsyn",
        "beslutsdatum": "2022-11-03",
        "utfall": "brister",
        "granskade_omraden": "trygghet_sakerhet",
        "inspektionsdatum": "2022-09-14",
        "inspektion_anmald": "",
        "sammanfattning": "",
    }
    values.update(cells)
    return ";".join(values.values())


@pytest.mark.parametrize(
    "row,error",
    [
        (
            decision_row(verksamhetsid="K9999-001"),
            "rad 2, kolumn verksamhetsid: okänd verksamhet K9999-001: den finns inte i "
            "registret; importera verksamheten först (import_facilities)",
        ),
        (
            decision_row(beslutsdatum=TOMORROW),
            f"rad 2, kolumn beslutsdatum: datumet {TOMORROW} ligger i framtiden",
        ),
        (
            decision_row(utfall="varning"),
            "rad 2, kolumn utfall: okänd kod varning; tillåtna: inga_brister, brister, "
            "forelaggande, forelaggande_vite, tillfalligt_forbud, forbud, aterkallelse, "
            "sanktionsavgift, tillstand_beviljat, tillstand_avslag",
        ),
        (
            decision_row(diarienummer="13748-2022"),
            "rad 2, kolumn diarienummer: har inte IVO:s form för diarienummer, t.ex. "
            "3.2.2-13748/2022 eller 8.5-29206/2014",
        ),
        (
            decision_row(inspektionsdatum="2022-12-01"),
            "rad 2, kolumn inspektionsdatum: inspektionen (2022-12-01) ligger efter "
            "beslutsdatumet (2022-11-03)",
        ),
        (
            decision_row(inspektionsdatum="2022-09-15|2022-09-14"),
            "rad 2, kolumn inspektionsdatum: den sista inspektionsdagen ligger före den första",
        ),
        (
            decision_row(inspektionsdatum="", inspektion_anmald="ja"),
            "rad 2, kolumn inspektion_anmald: anges bara tillsammans med inspektionsdatum",
        ),
        (
            decision_row(utfall="tillstand_beviljat"),
            "rad 2, kolumn utfall: utfallet tillstand_beviljat hör inte till beslutstypen tillsyn",
        ),
        (
            decision_row(utfall="aterkallelse"),
            "rad 2, kolumn utfall: återkallelse gäller ett tillstånd, och verksamheten K0880-001 "
            "har kommunal regi utan tillstånd",
        ),
        (
            decision_row(granskade_omraden="trygghet|lokaler"),
            "rad 2, kolumn granskade_omraden: okänd kod trygghet; tillåtna: trygghet_sakerhet, "
            "vald_krankningar, delaktighet, kompetens_bemanning, forestandare, inskrivna, "
            "lokaler, begransningsatgarder, dokumentation, lamplighet_agare, ekonomi, "
            "uppfoljning_tidigare_beslut, barns_upplevelse",
        ),
    ],
    ids=[
        "unknown-facility",
        "future-date",
        "unknown-outcome",
        "bad-diarienummer",
        "inspection-after-decision",
        "inspection-days-reversed",
        "announced-without-inspection",
        "outcome-of-other-kind",
        "revocation-without-permit",
        "unknown-review-area",
    ],
)
def test_import_decisions__bad_cell__exact_error_and_nothing_written(tmp_path, row, error):
    run("import_facilities", write(tmp_path, FACILITY_EXAMPLE, "verksamheter.csv"))
    before = snapshot()

    errors, message = run_failing(
        "import_decisions", write(tmp_path, on_the_day(f"{DECISION_HEADER}{row}\n"))
    )

    assert errors == [on_the_day(error)]
    assert message == "Importen avbröts: 1 fel. Inget sparades."
    assert snapshot() == before


def test_import_decisions__duplicate_diarienummer__rejected(example, tmp_path):
    before = snapshot()
    text = f"{DECISION_HEADER}{decision_row()}\n{decision_row(utfall='inga_brister')}\n"

    errors, _ = run_failing("import_decisions", write(tmp_path, text))

    assert errors == [
        "rad 3, kolumn diarienummer: diarienumret 3.2.2-13748/2022 finns redan på rad 2"
    ]
    assert snapshot() == before


# The status rule through the import -----------------------------------------------------------


@pytest.fixture
def private_home(tmp_path):
    org = build_valid_organisation_number("559900001")
    row = facility_row(
        verksamhetsid="E-1", organisationsnummer=org, huvudman="Demo Omsorg AB", regi="enskild"
    )
    path = write(tmp_path, f"{PRIVATE_HEADER}\n{row};8.5-1001/2019;2019-05-02\n", "privat.csv")
    run("import_facilities", path)
    return path


def test_import_decisions__revocation__status_and_permit_follow_in_any_row_order(
    private_home, tmp_path
):
    revocation = decision_row(
        diarienummer="3.2.2-2/2024",
        verksamhetsid="E-1",
        beslutsdatum="2024-03-01",
        utfall="aterkallelse",
        inspektionsdatum="",
    )
    earlier = decision_row(
        diarienummer="3.2.2-1/2023",
        verksamhetsid="E-1",
        beslutsdatum="2023-03-01",
        utfall="brister",
        inspektionsdatum="2023-02-01",
    )

    run("import_decisions", write(tmp_path, f"{DECISION_HEADER}{revocation}\n{earlier}\n"))

    facility = Facility.objects.get(facility_id="E-1")
    assert facility.status == FacilityStatus.ATERKALLAD
    assert facility.status_date == datetime.date(2024, 3, 1)
    assert Permit.objects.get().status == PermitStatus.ATERKALLAT


def test_import_decisions__prohibition_then_ordinary_decision__still_prohibited(
    private_home, tmp_path
):
    later = decision_row(
        diarienummer="3.2.2-2/2024",
        verksamhetsid="E-1",
        beslutsdatum="2024-03-01",
        utfall="inga_brister",
        inspektionsdatum="",
    )
    prohibition = decision_row(
        diarienummer="3.2.2-1/2023",
        verksamhetsid="E-1",
        beslutsdatum="2023-03-01",
        utfall="forbud",
        inspektionsdatum="",
    )

    run("import_decisions", write(tmp_path, f"{DECISION_HEADER}{prohibition}\n{later}\n"))

    facility = Facility.objects.get(facility_id="E-1")
    assert (facility.status, facility.status_date) == (
        FacilityStatus.FORBUD,
        datetime.date(2023, 3, 1),
    )


def test_import_facilities__after_prohibition_and_a_later_sanction__does_not_undo_it(
    private_home, tmp_path
):
    rows = [
        decision_row(
            diarienummer="3.2.2-1/2024",
            verksamhetsid="E-1",
            beslutsdatum="2024-01-10",
            utfall="forbud",
            inspektionsdatum="",
        ),
        decision_row(
            diarienummer="3.2.2-2/2024",
            verksamhetsid="E-1",
            beslutsdatum="2024-05-01",
            utfall="sanktionsavgift",
            inspektionsdatum="",
        ),
    ]
    run("import_decisions", write(tmp_path, DECISION_HEADER + "\n".join(rows) + "\n"))

    out, _ = run("import_facilities", private_home)

    assert Facility.objects.get(facility_id="E-1").status == FacilityStatus.FORBUD
    assert "som följer av beslut 3.2.2-1/2024 (2024-01-10)" in out


def test_import_facilities__again_after_revocation__does_not_undo_it(private_home, tmp_path):
    revocation = decision_row(
        diarienummer="3.2.2-2/2024",
        verksamhetsid="E-1",
        beslutsdatum="2024-03-01",
        utfall="aterkallelse",
        inspektionsdatum="",
    )
    run("import_decisions", write(tmp_path, f"{DECISION_HEADER}{revocation}\n"))
    history_rows = Facility.history.count()

    out, _ = run("import_facilities", private_home)

    facility = Facility.objects.get(facility_id="E-1")
    assert facility.status == FacilityStatus.ATERKALLAD
    assert Facility.history.count() == history_rows
    assert (
        "rad 2: status aktiv i filen ändrar inte verksamhetens status ”Tillståndet återkallat”, "
        "som följer av beslut 3.2.2-2/2024 (2024-03-01)"
    ) in out


def test_import_facilities__permit_of_another_facility__rejected(private_home, tmp_path):
    org = build_valid_organisation_number("559900001")
    row = facility_row(
        verksamhetsid="E-2", organisationsnummer=org, huvudman="Demo Omsorg AB", regi="enskild"
    )
    before = snapshot()

    errors, _ = run_failing(
        "import_facilities",
        write(tmp_path, f"{PRIVATE_HEADER}\n{row};8.5-1001/2019;2019-05-02\n", "andra.csv"),
    )

    assert errors == [
        "rad 2, kolumn tillstand_dnr: diarienumret 8.5-1001/2019 hör redan till verksamheten E-1"
    ]
    assert snapshot() == before


def test_import_facilities__lowercase_id_of_an_existing_facility__same_facility(example, tmp_path):
    text = FACILITY_EXAMPLE.replace("K0880-001", "k0880-001").replace(";6;aktiv;", ";7;aktiv;")

    run("import_facilities", write(tmp_path, text))

    assert list(Facility.objects.values_list("facility_id", "places")) == [("K0880-001", 7)]


def test_import_facilities__personnummer_in_public_text__refused(tmp_path):
    text = (
        f"{FACILITY_HEADER};sammanfattning\n{facility_row()};Föreståndaren 19811218-9876 slutar\n"
    )

    errors, _ = run_failing("import_facilities", write(tmp_path, text))

    assert errors == [
        "rad 2, kolumn sammanfattning: texten innehåller något som ser ut som ett personnummer; "
        "offentliga texter får inte innehålla personuppgifter"
    ]


def test_import_facilities__personnummer_in_a_code_cell__not_echoed(tmp_path):
    errors, _ = run_failing(
        "import_facilities",
        write(tmp_path, f"{FACILITY_HEADER}\n{facility_row(status='19811218-9876')}\n"),
    )

    assert errors == [
        "rad 2, kolumn status: okänd kod ÅÅMMDD-XXXX; tillåtna: aktiv, nedlagd, aterkallad, "
        "forbud, tillfalligt_forbud"
    ]


def test_import_facilities__xlsx_phone_as_number__refused_not_silently_stripped(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append([*FACILITY_HEADER.split(";"), "forestandare_namn", "forestandare_telefon"])
    sheet.append([*facility_row().split(";"), "Test Testsson", 701740605])
    path = tmp_path / "verksamheter.xlsx"
    workbook.save(path)

    errors, _ = run_failing("import_facilities", str(path))

    assert errors == [
        "rad 2, kolumn forestandare_telefon: cellen är formaterad som tal och kan ha tappat en "
        "inledande nolla; formatera kolumnen som text och skriv in värdet igen"
    ]


# Issue 16: the decision columns of supervision --------------------------------------------------

SUPERVISION_HEADER = DECISION_HEADER.rstrip("\n") + (
    ";lagrum;overklagande;foljer_upp_dnr;inspektion_anledning;samtal_med_barn;forbud_till\n"
)


def supervision_row(**cells: str) -> str:
    values = {
        "lagrum": "",
        "overklagande": "",
        "foljer_upp_dnr": "",
        "inspektion_anledning": "",
        "samtal_med_barn": "",
        "forbud_till": "",
    }
    extra = {key: cells.pop(key) for key in list(cells) if key in values}
    values.update(extra)
    return decision_row(**cells) + ";" + ";".join(values.values())


# The format file's example decision (DECISION_EXAMPLE) as a row of SUPERVISION_HEADER.
AS_EXAMPLE = {
    "granskade_omraden": "trygghet_sakerhet|dokumentation",
    "inspektionsdatum": "2022-09-14|2022-09-15",
    "inspektion_anmald": "nej",
    "sammanfattning": "IVO fann brister i dokumentationen.",
}

FOLLOW_UP = {
    "diarienummer": "3.2.2-200/2023",
    "beslutsdatum": "2023-05-10",
    "inspektionsdatum": "2023-04-20",
    "foljer_upp_dnr": "3.2.2-13748/2022",
}


def test_import_decisions__supervision_columns__stored(example, tmp_path):
    row = supervision_row(
        **FOLLOW_UP,
        utfall="tillfalligt_forbud",
        lagrum=" 26 kap. 1 § socialtjänstlagen (2025:400) ",
        overklagande="Overklagat",
        inspektion_anledning=" UPPFOLJNING ",
        samtal_med_barn="3",
        forbud_till="2023-11-10",
    )

    out, _ = run("import_decisions", write(tmp_path, f"{SUPERVISION_HEADER}{row}\n"))

    assert "beslut: 1 nya, 0 ändrade, 0 oförändrade" in out
    decision = Decision.objects.get(diarienummer="3.2.2-200/2023")
    assert decision.legal_reference == "26 kap. 1 § socialtjänstlagen (2025:400)"
    assert decision.appeal_status == "overklagat"
    assert decision.follows_up == Decision.objects.get(diarienummer="3.2.2-13748/2022")
    assert decision.inspection_reason == "uppfoljning"
    assert decision.children_talked_with == 3
    assert decision.prohibition_until == datetime.date(2023, 11, 10)
    assert decision.history.get().follows_up_id == decision.follows_up_id


def test_import_decisions__old_file_without_the_new_columns__keeps_what_they_hold(
    example, tmp_path
):
    text = SUPERVISION_HEADER + supervision_row(
        **AS_EXAMPLE,
        lagrum="3 kap. 3 § socialtjänstlagen (2001:453)",
        overklagande="fastallt",
        inspektion_anledning="frekvenstillsyn",
        samtal_med_barn="0",
    )
    run("import_decisions", write(tmp_path, text + "\n", "ny.csv"))
    before = snapshot()

    out, _ = run("import_decisions", write(tmp_path, DECISION_EXAMPLE, "gammal.csv"))

    assert "beslut: 0 nya, 0 ändrade, 1 oförändrade" in out
    assert snapshot() == before
    decision = Decision.objects.get()
    assert (
        decision.legal_reference,
        decision.appeal_status,
        decision.inspection_reason,
        decision.children_talked_with,
    ) == ("3 kap. 3 § socialtjänstlagen (2001:453)", "fastallt", "frekvenstillsyn", 0)


def test_import_decisions__follow_up_of_a_decision_new_in_the_same_file__linked_in_order(
    tmp_path,
):
    """Three new decisions, each following up the one before: each is written after the one it
    follows up, so the link and its history row hold the id (services._follow_up_waves)."""
    run("import_facilities", write(tmp_path, FACILITY_EXAMPLE, "verksamheter.csv"))
    rows = [
        supervision_row(diarienummer="3.2.2-1/2022", beslutsdatum="2022-03-01"),
        supervision_row(
            diarienummer="3.2.2-2/2022",
            beslutsdatum="2022-06-01",
            inspektionsdatum="2022-05-01",
            foljer_upp_dnr="3.2.2-1/2022",
        ),
        supervision_row(
            diarienummer="3.2.2-3/2022",
            beslutsdatum="2022-06-01",  # the same day: not later, so it may follow it up
            inspektionsdatum="2022-05-01",
            foljer_upp_dnr="3.2.2-2/2022",
        ),
    ]
    rows[0] = rows[0].replace(";2022-09-14;", ";2022-02-01;")
    path = write(tmp_path, SUPERVISION_HEADER + "\n".join(rows) + "\n")

    run("import_decisions", path)

    links = dict(Decision.objects.values_list("diarienummer", "follows_up__diarienummer"))
    assert links == {
        "3.2.2-1/2022": None,
        "3.2.2-2/2022": "3.2.2-1/2022",
        "3.2.2-3/2022": "3.2.2-2/2022",
    }
    history = dict(Decision.history.values_list("diarienummer", "follows_up__diarienummer"))
    assert history == links
    before = snapshot()
    out, _ = run("import_decisions", path)
    assert "beslut: 0 nya, 0 ändrade, 3 oförändrade" in out
    assert snapshot() == before


def test_import_decisions__existing_decision_now_follows_up_a_new_one__updated(example, tmp_path):
    rows = [
        supervision_row(diarienummer="3.2.2-1/2022", beslutsdatum="2022-03-01").replace(
            ";2022-09-14;", ";2022-02-01;"
        ),
        supervision_row(**AS_EXAMPLE, foljer_upp_dnr="3.2.2-1/2022"),
    ]

    out, _ = run("import_decisions", write(tmp_path, SUPERVISION_HEADER + "\n".join(rows) + "\n"))

    assert "beslut: 1 nya, 1 ändrade, 0 oförändrade" in out
    decision = Decision.objects.get(diarienummer="3.2.2-13748/2022")
    assert decision.follows_up.diarienummer == "3.2.2-1/2022"
    newest, earlier = decision.history.order_by("-history_id")[:2]
    assert [c.field for c in newest.diff_against(earlier).changes] == ["follows_up"]


OTHER_FACILITY = FACILITY_EXAMPLE.splitlines()[1].replace("K0880-001", "K0880-002")


@pytest.mark.parametrize(
    "cells,error",
    [
        (
            {"samtal_med_barn": "fyra"},
            "rad 2, kolumn samtal_med_barn: fyra är inget heltal",
        ),
        (
            {"samtal_med_barn": "-1"},
            "rad 2, kolumn samtal_med_barn: -1 är inget heltal",
        ),
        (
            {"inspektion_anledning": "tillsyn"},
            "rad 2, kolumn inspektion_anledning: okänd kod tillsyn; tillåtna: frekvenstillsyn, "
            "klagomal, anmalan, initiativ, uppfoljning, tillstandsprovning",
        ),
        (
            {"overklagande": "ja"},
            "rad 2, kolumn overklagande: okänd kod ja; tillåtna: ej_overklagat, overklagat, "
            "fastallt, upphavt",
        ),
        (
            {"utfall": "tillfalligt_forbud"},
            "rad 2, kolumn forbud_till: förbudets sista dag krävs när utfallet är "
            "tillfalligt_forbud",
        ),
        (
            {"utfall": "tillfalligt_forbud", "forbud_till": "2023-05-04"},
            "rad 2, kolumn forbud_till: ett tillfälligt förbud får gälla högst sex månader, "
            "alltså längst till 2023-05-03",
        ),
        (
            {"utfall": "tillfalligt_forbud", "forbud_till": "2022-11-03"},
            "rad 2, kolumn forbud_till: förbudets sista dag ska ligga efter beslutsdatum "
            "2022-11-03",
        ),
        (
            {"utfall": "tillfalligt_forbud", "forbud_till": "2023-02-30"},
            "rad 2, kolumn forbud_till: 2023-02-30 är inget giltigt datum i formen ÅÅÅÅ-MM-DD",
        ),
        (
            {"utfall": "forbud", "forbud_till": "2023-01-03"},
            "rad 2, kolumn forbud_till: anges bara när utfallet är tillfalligt_forbud",
        ),
        (
            {"foljer_upp_dnr": "3.2.2-999/2021"},
            "rad 2, kolumn foljer_upp_dnr: okänt beslut 3.2.2-999/2021: det finns varken i "
            "registret eller på en tidigare rad i filen",
        ),
        (
            {"foljer_upp_dnr": "3.2.2-13748/2022"},
            "rad 2, kolumn foljer_upp_dnr: ett beslut kan inte följa upp sig självt",
        ),
        (
            {"foljer_upp_dnr": "3.2.2-1/2022", "verksamhetsid": "K0880-002"},
            "rad 2, kolumn foljer_upp_dnr: beslutet 3.2.2-1/2022 gäller en annan verksamhet",
        ),
        (
            {"foljer_upp_dnr": "3.2.2-1/2022", "beslutsdatum": "2022-09-30"},
            "rad 2, kolumn foljer_upp_dnr: beslutet 3.2.2-1/2022 är senare än detta beslut",
        ),
    ],
    ids=[
        "children-not-a-number",
        "children-negative",
        "unknown-inspection-reason",
        "unknown-appeal-status",
        "temporary-prohibition-without-last-day",
        "temporary-prohibition-over-six-months",
        "temporary-prohibition-ending-on-decision-day",
        "temporary-prohibition-bad-date",
        "last-day-for-another-outcome",
        "followed-decision-unknown",
        "follows-up-itself",
        "followed-decision-of-another-facility",
        "followed-decision-later",
    ],
)
def test_import_decisions__bad_supervision_cell__exact_error_and_nothing_written(
    tmp_path, cells, error
):
    facilities = f"{FACILITY_EXAMPLE}{OTHER_FACILITY}\n"
    run("import_facilities", write(tmp_path, facilities, "verksamheter.csv"))
    earlier = supervision_row(diarienummer="3.2.2-1/2022", beslutsdatum="2022-10-01")
    run("import_decisions", write(tmp_path, f"{SUPERVISION_HEADER}{earlier}\n", "tidigare.csv"))
    before = snapshot()

    errors, message = run_failing(
        "import_decisions", write(tmp_path, f"{SUPERVISION_HEADER}{supervision_row(**cells)}\n")
    )

    assert errors == [error]
    assert message == "Importen avbröts: 1 fel. Inget sparades."
    assert snapshot() == before


def test_import_decisions__followed_decision_later_in_the_file__refused(example, tmp_path):
    rows = [
        supervision_row(foljer_upp_dnr="3.2.2-1/2022"),
        supervision_row(diarienummer="3.2.2-1/2022", beslutsdatum="2022-03-01").replace(
            ";2022-09-14;", ";2022-02-01;"
        ),
    ]
    before = snapshot()

    errors, _ = run_failing(
        "import_decisions", write(tmp_path, SUPERVISION_HEADER + "\n".join(rows) + "\n")
    )

    assert errors == [
        "rad 2, kolumn foljer_upp_dnr: beslutet 3.2.2-1/2022 står senare i filen (rad 3); ett "
        "beslut som följs upp ska stå före beslutet som följer upp det"
    ]
    assert snapshot() == before


def test_import_decisions__followed_decision_earlier_in_the_file_of_another_facility__refused(
    tmp_path,
):
    facilities = f"{FACILITY_EXAMPLE}{OTHER_FACILITY}\n"
    run("import_facilities", write(tmp_path, facilities, "verksamheter.csv"))
    rows = [
        supervision_row(diarienummer="3.2.2-1/2022", verksamhetsid="K0880-002"),
        supervision_row(diarienummer="3.2.2-2/2022", foljer_upp_dnr="3.2.2-1/2022"),
    ]
    before = snapshot()

    errors, _ = run_failing(
        "import_decisions", write(tmp_path, SUPERVISION_HEADER + "\n".join(rows) + "\n")
    )

    assert errors == [
        "rad 3, kolumn foljer_upp_dnr: beslutet 3.2.2-1/2022 gäller en annan verksamhet"
    ]
    assert snapshot() == before


def test_import_facilities__temporary_prohibition_status__accepted(tmp_path):
    text = FACILITY_EXAMPLE.replace(";aktiv;", ";Tillfalligt_forbud;")

    run("import_facilities", write(tmp_path, text))

    assert Facility.objects.get().status == FacilityStatus.TILLFALLIGT_FORBUD
