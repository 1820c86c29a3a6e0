"""Labelled test data for the linking tool: case records as a case officer would have typed them,
each with the facility it truly belongs to (or none), derived from the register in the database.

The register is first given the past that makes linking hard, through ``register.services`` so
the history remembers it as it would a real change: homes renamed, homes moved, homes taken over
by another provider. Then each record is derived from one facility with one scenario:

- ``clean``: as registered, in the case officer's spelling (case, punctuation, "HVB" or not);
- ``typo``: one or two slips of the keyboard in the name;
- ``renamed``: the home's name before it was renamed;
- ``moved``: the home's address before it moved;
- ``new_owner``: the organisationsnummer and name of the provider before the takeover;
- ``shared_number``: a home of a provider with several homes, the name misspelt;
- ``no_facility``: a home not in the register — a new home of a known provider, or a name like
  an existing home's in another kommun, or nothing like anything.

On top of each, the noise of a real export: the number, kommun, address or postort missing, a
digit of the number wrong, street names abbreviated, the permit's diarienummer given or not.

Only for demo data: ``prepare_register`` refuses a database with real facilities (as seed_demo
does).
"""

import datetime
import random
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from linking.imports import CASE_COLUMNS
from register import services
from register.codes import FacilityStatus, Ownership, ReviewArea
from register.demo import (
    NAME_ENDS,
    NAME_STARTS,
    STREETS,
    organisation_number_from,
    refuse_real_data,
)
from register.models import Facility, Municipality, Permit, Provider, Registration

SCENARIOS = {  # scenario → share of the records
    "clean": 0.22,
    "typo": 0.22,
    "renamed": 0.08,
    "moved": 0.08,
    "new_owner": 0.08,
    "shared_number": 0.14,
    "no_facility": 0.18,
}
REASON = "generate_cases"
FIRST_RUNNING_NUMBER = 900000  # above every running number seed_demo gives


@dataclass(frozen=True)
class LabelledCase:
    row: dict[str, str]  # the columns of case-import.md
    facility_id: str  # the true facility's verksamhetsid, "" when it is not in the register
    scenario: str


@dataclass
class _Past:
    """What the register looked like before the changes ``prepare_register`` made."""

    names: dict[int, str]
    streets: dict[int, str]
    providers: dict[int, Provider]


def _typo(rng: random.Random, text: str, slips: int = 1) -> str:
    letters = list(text)
    for _ in range(slips):
        positions = [i for i, char in enumerate(letters) if char.isalpha()]
        if len(positions) < 4:
            break
        i = rng.choice(positions[1:])
        slip = rng.choice(("swap", "drop", "double", "replace", "fold"))
        if slip == "swap" and i + 1 < len(letters):
            letters[i], letters[i + 1] = letters[i + 1], letters[i]
        elif slip == "drop":
            del letters[i]
        elif slip == "double":
            letters.insert(i, letters[i])
        elif slip == "fold":
            letters[i] = {"å": "a", "ä": "a", "ö": "o"}.get(letters[i], letters[i])
        else:
            letters[i] = rng.choice("aeiklnorst")
    return "".join(letters)


def _as_typed(rng: random.Random, name: str) -> str:
    """The name as a case officer might write it: case, "HVB" and punctuation vary."""
    roll = rng.random()
    if roll < 0.2:
        name = name.upper()
    elif roll < 0.4:
        name = name.lower()
    if "HVB" not in name.upper() and rng.random() < 0.25:
        name = f"{name} HVB"
    elif rng.random() < 0.25:
        name = " ".join(word for word in name.split() if word.upper() != "HVB") or name
    if rng.random() < 0.1:
        name += ","
    return name


def _abbreviated(rng: random.Random, street: str) -> str:
    if rng.random() < 0.35:
        street = street.replace("vägen", "v.").replace("gatan", "g.")
    return street


def _wrong_digit(rng: random.Random, number: str) -> str:
    digits = list(number.replace("-", ""))
    i = rng.randrange(6, 10)
    digits[i] = str((int(digits[i]) + rng.randint(1, 9)) % 10)
    text = "".join(digits)
    return f"{text[:6]}-{text[6:]}"


def _fresh_word(rng: random.Random) -> str:
    return rng.choice(NAME_STARTS) + rng.choice(NAME_ENDS)


def _company_number(rng: random.Random) -> str:
    # 558…: apart from the numbers seed_demo (559…) and the test factories give.
    return organisation_number_from(f"558{rng.randint(0, 999999):06d}")


@transaction.atomic
def prepare_register(*, rng: random.Random, share: float = 0.08) -> tuple[_Past, dict[str, list]]:
    """Rename, move and transfer a share of the active homes each, through the services.

    Returns the past (names, streets, providers before) and the facilities of each scenario.
    """
    refuse_real_data()
    facilities = list(
        Facility.objects.filter(status=FacilityStatus.AKTIV)
        .exclude(provider__ownership=Ownership.STATLIG)
        .select_related("provider")
        .order_by("facility_id")
    )
    rng.shuffle(facilities)
    size = max(1, round(len(facilities) * share))
    renamed, moved = facilities[:size], facilities[size : 2 * size]
    taken_over = [
        facility
        for facility in facilities[2 * size :]
        if facility.provider.ownership == Ownership.ENSKILD and not facility.provider.is_sole_trader
    ][:size]
    past = _Past(names={}, streets={}, providers={})
    for facility in renamed:
        past.names[facility.pk] = facility.name
        facility.name = f"{_fresh_word(rng).capitalize()}gården"
        services.facility_save(facility=facility, reason=REASON)
    for facility in moved:
        if not facility.street_address:
            continue
        past.streets[facility.pk] = facility.street_address
        facility.street_address = f"{rng.choice(STREETS)} {rng.randint(1, 60)}"
        services.facility_save(facility=facility, reason=REASON)
    for facility in taken_over:
        past.providers[facility.pk] = facility.provider
        number, name = _company_number(rng), f"{_fresh_word(rng).capitalize()} Vård AB"
        # A second run (the same seed draws the same numbers) takes over with the company the
        # first one made, instead of stopping at the organisationsnummer it already holds.
        provider = Provider.objects.filter(organisation_number=number).first() or (
            services.provider_save(
                provider=Provider(
                    organisation_number=number, name=name, ownership=Ownership.ENSKILD
                ),
                reason=REASON,
            )
        )
        facility.provider = provider
        services.facility_save(facility=facility, reason=REASON)
    by_scenario = {
        "renamed": [f for f in renamed if f.pk in past.names],
        "moved": [f for f in moved if f.pk in past.streets],
        "new_owner": [f for f in taken_over if f.pk in past.providers],
    }
    return past, by_scenario


def generate_cases(*, count: int, seed: int = 2026) -> list[LabelledCase]:
    """Prepare the register's past, then ``count`` labelled case records (in random order)."""
    rng = random.Random(seed)
    past, chosen = prepare_register(rng=rng)
    facilities = list(
        Facility.objects.filter(status=FacilityStatus.AKTIV)
        .select_related("provider", "municipality")
        .order_by("facility_id")
    )
    by_provider: dict[int, list[Facility]] = defaultdict(list)
    for facility in facilities:
        by_provider[facility.provider_id].append(facility)
    shared = [f for f in facilities if len(by_provider[f.provider_id]) > 1]
    references = dict(
        Permit.objects.filter(facility__in=facilities).values_list("facility_id", "diarienummer")
    )
    references.update(
        Registration.objects.filter(facility__in=facilities).values_list(
            "facility_id", "diarienummer"
        )
    )
    municipalities = list(Municipality.objects.order_by("code"))
    today = timezone.localdate()
    cases: list[LabelledCase] = []
    for number in range(count):
        scenario = rng.choices(list(SCENARIOS), weights=list(SCENARIOS.values()))[0]
        pool = {
            "shared_number": shared,
            **chosen,
        }.get(scenario, facilities)
        if scenario == "no_facility" or not pool:
            row = _unknown_home(rng, facilities, municipalities)
            facility_id = ""
            scenario = "no_facility"
        else:
            facility = rng.choice(pool)
            row = _known_home(rng, facility, scenario, past, references.get(facility.pk, ""))
            facility_id = facility.facility_id
        decided = today - datetime.timedelta(days=rng.randint(10, 700))
        row = {
            "diarienummer": f"8.5-{FIRST_RUNNING_NUMBER + number}/{decided.year}",
            "arendetyp": "tillsyn",
            "beslutsdatum": decided.isoformat(),
            "utfall": rng.choice(("inga_brister", "inga_brister", "brister", "forelaggande")),
            "granskade_omraden": "|".join(rng.sample(list(ReviewArea.values), 2)),
            **row,
        }
        cases.append(
            LabelledCase(
                {column: row.get(column, "") for column in CASE_COLUMNS}, facility_id, scenario
            )
        )
    return cases


def _known_home(
    rng: random.Random, facility: Facility, scenario: str, past: _Past, reference: str
) -> dict[str, str]:
    name = past.names.get(facility.pk, facility.name) if scenario == "renamed" else facility.name
    if scenario in ("typo", "shared_number"):
        name = _typo(rng, name, slips=rng.choice((1, 1, 2)))
    name = _as_typed(rng, name)
    provider = (
        past.providers.get(facility.pk, facility.provider)
        if scenario == "new_owner"
        else facility.provider
    )
    street = (
        past.streets.get(facility.pk, facility.street_address)
        if scenario == "moved"
        else facility.street_address
    )
    row = {"verksamhet": name}
    if rng.random() < 0.75:
        number = provider.organisation_number
        row["organisationsnummer"] = _wrong_digit(rng, number) if rng.random() < 0.05 else number
    if rng.random() < 0.6:
        row["huvudman"] = provider.name
    if street and rng.random() < 0.65:
        row["adress"] = _abbreviated(rng, street)
    if facility.postal_town and rng.random() < 0.7:
        row["postort"] = facility.postal_town
    if rng.random() < 0.8:
        row["kommunkod"] = facility.municipality_id
    if reference and rng.random() < 0.3:
        row["referens_dnr"] = reference
    return row


def _unknown_home(
    rng: random.Random, facilities: list[Facility], municipalities: list[Municipality]
) -> dict[str, str]:
    municipality = rng.choice(municipalities)
    kind = rng.random()
    if kind < 0.35:
        # A new home of a provider the register knows: the right provider, no such home yet.
        known = rng.choice(facilities)
        return {
            "verksamhet": f"{_fresh_word(rng).capitalize()}hemmet",
            "organisationsnummer": known.provider.organisation_number,
            "huvudman": known.provider.name,
            "kommunkod": known.municipality_id,
        }
    if kind < 0.7:
        # A name like an existing home's, somewhere else: the trap for matching by name alone.
        lookalike = rng.choice(facilities)
        other = rng.choice([m for m in municipalities if m.code != lookalike.municipality_id])
        row = {
            "verksamhet": _as_typed(rng, lookalike.name),
            "organisationsnummer": _company_number(rng),
            "kommunkod": other.code,
        }
        return {k: v for k, v in row.items() if rng.random() < 0.8 or k == "verksamhet"}
    return {
        "verksamhet": f"{_fresh_word(rng).capitalize()} ungdomsboende",
        "organisationsnummer": _company_number(rng) if rng.random() < 0.6 else "",
        "adress": f"{rng.choice(STREETS)} {rng.randint(1, 60)}",
        "kommunkod": municipality.code,
    }


def write_csv(cases: list[LabelledCase], path, labels_path=None) -> None:
    """The records as an ``import_cases`` file; the labels (diarienummer, verksamhetsid, scenario)
    beside it when asked."""
    import csv

    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow(list(CASE_COLUMNS))
        for case in cases:
            writer.writerow([case.row[column] for column in CASE_COLUMNS])
    if labels_path is not None:
        with open(labels_path, "w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file, delimiter=";")
            writer.writerow(["diarienummer", "verksamhetsid", "scenario"])
            for case in cases:
                writer.writerow([case.row["diarienummer"], case.facility_id, case.scenario])
