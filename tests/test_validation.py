import datetime

import pytest
from django.core.exceptions import ValidationError

from register import validation
from register.codes import FacilityType, TargetGroup


def messages(error: pytest.ExceptionInfo) -> list[str]:
    return error.value.messages


@pytest.mark.parametrize(
    "raw",
    ["212000-0746", "2120000746", "16212000-0746", "162120000746", " 212000-0746 "],
)
def test_organisation_number__accepted_forms__stored_in_one_canonical_form(raw):
    assert validation.organisation_number(raw) == "212000-0746"


def test_organisation_number__wrong_check_digit__refused():
    with pytest.raises(ValidationError) as error:
        validation.organisation_number("212000-0747")
    assert messages(error) == ["kontrollsiffran stämmer inte"]


def test_organisation_number__digits_three_and_four_below_20__refused_for_legal_person():
    # 811218-9876 passes the Luhn check (python-stdnum accepts it) but is a personnummer.
    with pytest.raises(ValidationError) as error:
        validation.organisation_number("811218-9876")
    assert messages(error) == [
        "siffrorna 3–4 är under 20: det är ett personnummer, inte en juridisk persons "
        "organisationsnummer (ange enskild_naringsidkare = ja för en enskild näringsidkare)"
    ]


@pytest.mark.parametrize(
    "number,personal",
    [
        ("811218-9876", True),  # a personnummer: a sole trader's number
        ("19811218-9876", True),
        ("8112189876", True),
        ("561999-0000", True),  # 19: no legal person's number
        ("562000-0000", False),  # 20: the lowest a legal person's can have
        ("212000-0746", False),
        ("16212000-0746", False),
        ("5569-88", False),  # not a number of either kind
        ("", False),
    ],
)
def test_organisation_number_is_personal__digits_three_and_four_under_20(number, personal):
    assert validation.organisation_number_is_personal(number) is personal


@pytest.mark.parametrize("raw", ["12345", "21200007460", "abcdef-ghij", "112120000746"])
def test_organisation_number__wrong_length_or_prefix__refused(raw):
    with pytest.raises(ValidationError):
        validation.organisation_number(raw)


def test_organisation_number__sole_trader__validated_as_personnummer_in_ten_digit_form():
    assert validation.organisation_number("19811218-9876", sole_trader=True) == "811218-9876"


@pytest.mark.parametrize("raw", ["811218-9876", "8112189876", "19811218-9876", "198112189876"])
def test_personal_identity_number__accepted_forms__canonical_twelve_digits(raw):
    assert validation.personal_identity_number(raw) == "19811218-9876"


def test_personal_identity_number__coordination_number__accepted():
    # Day 78 = 18 + 60: a samordningsnummer.
    number = validation.personal_identity_number("811278-9873")
    assert number == "19811278-9873"


def test_personal_identity_number__impossible_date__refused():
    with pytest.raises(ValidationError) as error:
        validation.personal_identity_number("811318-9875")
    assert messages(error) == ["innehåller inget giltigt födelsedatum"]


def test_personal_identity_number__wrong_check_digit__refused():
    with pytest.raises(ValidationError) as error:
        validation.personal_identity_number("811218-9877")
    assert messages(error) == ["kontrollsiffran stämmer inte"]


@pytest.mark.parametrize(
    "raw", ["3.2.2-13748/2022", "8.5-29206/2014", "8.7.1-6361/2015-1", "3-1/2020", "1.2.3.4-5/2021"]
)
def test_diarienummer__ivo_forms__accepted(raw):
    assert validation.diarienummer(raw) == raw


@pytest.mark.parametrize(
    "raw",
    ["13748/2022", "3.2.2-13748/22", "1.2.3.4.5-1/2020", "3.2.2-13748-2022", "", "3.2.2-/2022"],
)
def test_diarienummer__not_ivo_form__refused(raw):
    with pytest.raises(ValidationError) as error:
        validation.diarienummer(raw)
    assert "har inte IVO:s form för diarienummer" in messages(error)[0]


def test_diarienummer__year_in_the_future__refused():
    next_year = datetime.date.today().year + 1
    with pytest.raises(ValidationError) as error:
        validation.diarienummer(f"3.2.2-1/{next_year}")
    assert messages(error) == [f"årtalet {next_year} i diarienumret är inte rimligt"]


def test_municipality_code__unknown__refused():
    with pytest.raises(ValidationError) as error:
        validation.municipality_code("0999", {"0880"})
    assert messages(error) == ["okänd kommunkod 0999"]


def test_municipality_code__not_four_digits__refused():
    with pytest.raises(ValidationError) as error:
        validation.municipality_code("880", {"0880"})
    assert messages(error) == ["ska vara en fyrsiffrig kommunkod från SCB, t.ex. 0880"]


def test_code__case_insensitive_and_trimmed():
    assert validation.code(" HVB ", FacilityType) == "hvb"


def test_code__unknown__refused_with_the_allowed_codes():
    with pytest.raises(ValidationError) as error:
        validation.code("hvb-hem", FacilityType)
    assert messages(error) == ["okänd kod hvb-hem; tillåtna: hvb, stodboende, sarskilt_ungdomshem"]


def test_code_list__sorted_without_repeats():
    assert validation.code_list("NPF| missbruk|npf", TargetGroup) == ["missbruk", "npf"]


def test_code_list__unknown_code__refused():
    with pytest.raises(ValidationError) as error:
        validation.code_list("npf|adhd", TargetGroup)
    assert messages(error)[0].startswith("okänd kod adhd;")


@pytest.mark.parametrize("raw", ["2024-02-30", "2024-2-3", "20240203", "igår"])
def test_iso_date__not_a_date__refused(raw):
    with pytest.raises(ValidationError) as error:
        validation.iso_date(raw)
    assert messages(error) == [f"{raw} är inget giltigt datum i formen ÅÅÅÅ-MM-DD"]


def test_date_not_in_future__tomorrow__refused():
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    with pytest.raises(ValidationError):
        validation.date_not_in_future(tomorrow)


@pytest.mark.parametrize("raw,expected", [("0", 0), ("21", 21)])
def test_age__bounds_accepted(raw, expected):
    assert validation.age(raw) == expected


@pytest.mark.parametrize("raw", ["22", "-1", "tio", "1.5"])
def test_age__out_of_range_or_not_whole__refused(raw):
    with pytest.raises(ValidationError):
        validation.age(raw)


def test_yes_no():
    assert validation.yes_no(" JA ") is True
    assert validation.yes_no("nej") is False
    with pytest.raises(ValidationError):
        validation.yes_no("kanske")
