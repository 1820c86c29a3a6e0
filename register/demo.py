"""Demo data: a deterministic, fictional register in the real geography (``seed_demo``).

Everything is built in memory from ``random.Random(seed)`` and today's date by pure functions,
then written in one transaction with ``services.register_bulk_create``, so every row has its
history row. Names, numbers, addresses and decisions are fictional; the SiS homes are the real
ones by name and kommun (``data/sis_ungdomshem.csv``, rows marked ``high`` only). Managers'
personnummer are from Skatteverket's test range (födelsenummer 980–999) and their phone numbers
from PTS's range reserved for fiction (070-174 06 05 … 070-174 06 99).
"""

import csv
import datetime
import random
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone
from stdnum import luhn

from register import services
from register.codes import (
    AppealStatus,
    DecisionKind,
    FacilityStatus,
    FacilityType,
    FollowUp,
    Gender,
    Outcome,
    Ownership,
    PermitStatus,
    ReviewArea,
    TargetGroup,
)
from register.models import (
    Decision,
    Facility,
    Inspection,
    Manager,
    Municipality,
    Permit,
    Provider,
    Registration,
)
from register.selectors import inspection_overdue_cutoff
from register.validation import months_after

DEMO_NAMESPACE = uuid.UUID("5d1f6a0e-8f7b-4c1e-9a55-0d3c2b7e4a10")
SEED = 2026
DEFAULT_FACILITY_COUNT = 1100
MIN_FACILITY_COUNT = 40
DEMO_ID_PREFIX = "DEMO-"
REASON = "seed_demo"
YEARS_OF_SUPERVISION = 6
SIS_CSV = Path(__file__).resolve().parent / "data" / "sis_ungdomshem.csv"
SIS_NAME = "Statens institutionsstyrelse"
SIS_ORGANISATION_NUMBER = "202100-4011"
# The new socialtjänstlag (2025:400) replaced SoL (2001:453) on this day.
NEW_SOCIAL_SERVICES_ACT = datetime.date(2025, 7, 1)
# Stödboende became a form of care on 1 January 2016.
STODBOENDE_FROM = datetime.date(2016, 1, 1)
OLDEST_START = datetime.date(1995, 1, 1)

REFUSAL_MESSAGE = (
    "Databasen innehåller riktiga registeruppgifter (verksamheter vars verksamhetsid inte börjar "
    "med DEMO-): seed_demo körs inte."
)

# Register models, in write order (deletion runs in reverse for the PROTECT foreign keys).
REGISTER_MODELS: tuple[type[models.Model], ...] = (
    Provider,
    Facility,
    Permit,
    Registration,
    Manager,
    Inspection,
    Decision,
)


class DemoDataRefused(Exception):
    """The database holds real register data; demo data must not replace it."""


@dataclass(frozen=True)
class SisHome:
    name: str
    municipality_code: str
    closed: bool


@dataclass
class DemoData:
    providers: list[Provider] = field(default_factory=list)
    facilities: list[Facility] = field(default_factory=list)
    permits: list[Permit] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    managers: list[Manager] = field(default_factory=list)
    inspections: list[Inspection] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    def rows(self) -> list[tuple[type[models.Model], list]]:
        return [
            (Provider, self.providers),
            (Facility, self.facilities),
            (Permit, self.permits),
            (Registration, self.registrations),
            (Manager, self.managers),
            (Inspection, self.inspections),
            (Decision, self.decisions),
        ]


# Reference tables ------------------------------------------------------------------------------

# Rough population per län (thousands, 2024): how facilities spread over the country.
COUNTY_WEIGHTS = {
    "01": 2454, "03": 404, "04": 302, "05": 471, "06": 369, "07": 204, "08": 246,
    "09": 61, "10": 157, "12": 1422, "13": 344, "14": 1766, "17": 283, "18": 307,
    "19": 280, "20": 288, "21": 287, "22": 244, "23": 132, "24": 275, "25": 249,
}  # fmt: skip

# The first two digits of postal codes in each län (roughly), for fictional addresses.
POSTAL_PREFIXES = {
    "01": "11 12 13 14 15 16 17 18 19", "03": "74 75", "04": "61 63 64", "05": "58 59 60",
    "06": "55 56 57", "07": "34 35 36", "08": "38 39", "09": "62", "10": "29 37",
    "12": "21 22 23 24 25 26 27 28", "13": "30 31 43", "14": "41 42 44 45 46 50 52 54",
    "17": "65 66 67 68", "18": "69 70 71", "19": "72 73", "20": "77 78 79", "21": "80 81 82",
    "22": "85 86 87 88", "23": "83 84", "24": "90 91 92 93", "25": "94 95 96 97 98",
}  # fmt: skip

REGION_NAMES = {
    "01": "Region Stockholm", "03": "Region Uppsala", "04": "Region Sörmland",
    "05": "Region Östergötland", "06": "Region Jönköpings län", "07": "Region Kronoberg",
    "08": "Region Kalmar län", "09": "Region Gotland", "10": "Region Blekinge",
    "12": "Region Skåne", "13": "Region Halland", "14": "Västra Götalandsregionen",
    "17": "Region Värmland", "18": "Region Örebro län", "19": "Region Västmanland",
    "20": "Region Dalarna", "21": "Region Gävleborg", "22": "Region Västernorrland",
    "23": "Region Jämtland Härjedalen", "24": "Region Västerbotten", "25": "Region Norrbotten",
}  # fmt: skip

# What the public sources say about single SiS homes (see the CSV's notes); the rest is demo.
SIS_FACTS: dict[str, dict] = {
    "Bärby": {"age_from": 16},
    "Johannisberg": {"places": 32},
    "Tysslinge": {"start_date": datetime.date(2015, 1, 1)},
    "Ljungbacken": {"places": 53},
    "Ljungaskog": {"gender": Gender.FLICKOR},
    "Vemyra": {"gender": Gender.POJKAR},
    "Gudhemsgården": {
        "start_date": datetime.date(2024, 11, 1),
        "gender": Gender.POJKAR,
        "age_from": 15,
        "places": 35,
    },
    "Lövsta": {"end_date": datetime.date(2019, 6, 30)},
}
SIS_DEFAULT_START = datetime.date(1993, 7, 1)  # SiS was founded on this day.


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


WOMEN = _words(
    "Anna Eva Maria Karin Sara Kristina Lena Emma Kerstin Marie Malin Ingrid Linda Jenny Sofia "
    "Helena Annika Susanne Johanna Camilla Åsa Ulrika Elin Therese Frida Ida Hanna Petra Lisa "
    "Maja Fatima Amira Leila Yasmin Noor Mirja"
)
MEN = _words(
    "Lars Mikael Anders Johan Erik Per Peter Karl Thomas Jan Daniel Fredrik Hans Andreas Stefan "
    "Mats Magnus Mattias Jonas Niklas Björn Ola Martin Henrik Patrik Jörgen Håkan Emil Oskar "
    "Viktor Ahmed Omar Ali Mehmet Tomas Göran"
)
SURNAMES = _words(
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson Gustafsson "
    "Pettersson Jonsson Jansson Hansson Bengtsson Jönsson Lindberg Jakobsson Magnusson "
    "Lindström Olofsson Lindqvist Lindgren Berg Axelsson Bergström Lundberg Lundgren Lind "
    "Lundqvist Mattsson Berglund Fredriksson Sandberg Henriksson Forsberg Sjöberg Wallin "
    "Engström Eklund Danielsson Lundin Håkansson Björk Bergman Gunnarsson Holm Wikström "
    "Samuelsson Isaksson Fransson Bergqvist Nyström Holmberg Arvidsson Löfgren Söderberg "
    "Nyberg Blomqvist Claesson Nordström Mårtensson Lundström Viklund Björklund Eliasson "
    "Pålsson Berggren Sandström Nordin Ström Åberg Falk Ekström Hermansson Holmgren Dahlberg "
    "Hellström Hedlund Sundberg Sjögren Blom Abrahamsson Martinsson Öberg Andreasson "
    "Strömberg Månsson Åkesson Norberg Lindholm Dahl Hassan Mohamed Yilmaz Nguyen Haddad"
)

# Place-like name parts for fictional companies and homes.
NAME_STARTS = _words(
    "Norr Söder Väster Öster Ek Björk Lind Ask Gran Tall Sjö Berg Dal Ängs Hag Löv Ros Sol "
    "Stjärn Mål Rönn Al Hassel Sälg Lärk Ljung Myr Bäck Forsa Kvarn Hjort Tran Svan Ugg "
    "Ekorr Lo Falk Vide Sand Sten"
)
NAME_ENDS = _words("backa vik ås berga holm lunda torp näs dal hult mo sund bo hagen lid ängen")
COMPANY_WORDS = (
    "Omsorg",
    "Vård",
    "Ungdomsvård",
    "Behandling",
    "Familjestöd",
    "Stöd & Boende",
    "Resurs",
    "Omsorgspartner",
    "Ungdomsresurs",
)
STREETS = _words(
    "Storgatan Skolvägen Kyrkvägen Björkvägen Industrigatan Parkvägen Ringvägen Åvägen "
    "Strandvägen Skogsvägen Ängsvägen Byvägen Prästgårdsvägen Sjövägen Backvägen"
)

# Outcomes of an ordinary supervision decision (status-changing outcomes only end a history).
ORDINARY_OUTCOMES = (
    (Outcome.INGA_BRISTER, 66),
    (Outcome.BRISTER, 22),
    (Outcome.FORELAGGANDE, 7),
    (Outcome.FORELAGGANDE_VITE, 2.5),
    (Outcome.SANKTIONSAVGIFT, 2.5),
)
CORE_AREAS = (
    ReviewArea.TRYGGHET_SAKERHET,
    ReviewArea.VALD_KRANKNINGAR,
    ReviewArea.DELAKTIGHET,
    ReviewArea.KOMPETENS_BEMANNING,
    ReviewArea.FORESTANDARE,
    ReviewArea.INSKRIVNA,
    ReviewArea.LOKALER,
    ReviewArea.DOKUMENTATION,
)
PERMIT_AREAS = (
    ReviewArea.LAMPLIGHET_AGARE,
    ReviewArea.EKONOMI,
    ReviewArea.LOKALER,
    ReviewArea.FORESTANDARE,
    ReviewArea.KOMPETENS_BEMANNING,
)

# Legal references per outcome, before and from 2025-07-01. Demo data: the old SoL paragraphs
# are the usual ones; those of the new law (2025:400) are illustrative, not checked against SFS.
LEGAL_REFERENCES: dict[str, tuple[str, str]] = {
    Outcome.INGA_BRISTER: ("13 kap. 2 §", "26 kap. 1 §"),
    Outcome.BRISTER: ("13 kap. 2 §", "26 kap. 1 §"),
    Outcome.FORELAGGANDE: ("13 kap. 8 §", "26 kap. 10 §"),
    Outcome.FORELAGGANDE_VITE: ("13 kap. 8 §", "26 kap. 10 §"),
    Outcome.SANKTIONSAVGIFT: ("16 kap. 6 a §", "29 kap. 1 §"),
    Outcome.ATERKALLELSE: ("13 kap. 9 §", "26 kap. 11 §"),
    Outcome.FORBUD: ("13 kap. 9 §", "26 kap. 11 §"),
    Outcome.TILLFALLIGT_FORBUD: ("13 kap. 10 §", "26 kap. 12 §"),
    Outcome.TILLSTAND_BEVILJAT: ("7 kap. 1 §", "24 kap. 1 §"),
}

SUMMARIES = {
    Outcome.INGA_BRISTER: "IVO har granskat {areas}. Verksamheten uppfyller kraven inom de "
    "granskade områdena och ärendet avslutas.",
    Outcome.BRISTER: "IVO har granskat {areas} och konstaterar brister när det gäller {first}. "
    "Verksamheten ska redovisa vilka åtgärder som har vidtagits.",
    Outcome.FORELAGGANDE: "IVO förelägger verksamheten att åtgärda brister när det gäller "
    "{first}. Åtgärderna ska redovisas till IVO inom angiven tid.",
    Outcome.FORELAGGANDE_VITE: "IVO förelägger verksamheten vid vite att åtgärda allvarliga "
    "brister när det gäller {first}.",
    Outcome.SANKTIONSAVGIFT: "IVO beslutar om sanktionsavgift eftersom verksamheten inte har "
    "fullgjort sina skyldigheter när det gäller {first}.",
    Outcome.TILLFALLIGT_FORBUD: "IVO förbjuder tillfälligt fortsatt verksamhet i avvaktan på "
    "slutligt beslut, på grund av allvarliga brister när det gäller {first}.",
    Outcome.FORBUD: "IVO förbjuder fortsatt verksamhet. Allvarliga brister när det gäller {first} "
    "har inte åtgärdats trots föreläggande.",
    Outcome.ATERKALLELSE: "IVO återkallar tillståndet att bedriva verksamheten. Ett föreläggande "
    "har inte följts och missförhållandena när det gäller {first} är allvarliga.",
    Outcome.TILLSTAND_BEVILJAT: "IVO beviljar tillstånd att bedriva verksamheten enligt "
    "ansökan. Ägarens lämplighet, ekonomi, lokaler och bemanning har prövats.",
}

# Diarienummer classes (opaque to the register; these only make the demo look varied).
CLASS_SUPERVISION = "8.5"
CLASS_PERMIT = "8.4.1"
CLASS_REGISTRATION = "3.2.2"


# Small pure helpers ----------------------------------------------------------------------------


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def random_date(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    """A day between ``start`` and ``end``, both included (``start`` when the span is empty)."""
    span = (end - start).days
    return start + datetime.timedelta(days=rng.randint(0, span)) if span > 0 else start


def days(count: int) -> datetime.timedelta:
    return datetime.timedelta(days=count)


def ascii_fold(text: str) -> str:
    """``Åsa Öberg`` → ``Asa Oberg``: e-mail local parts stay ASCII."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def organisation_number_from(prefix: str) -> str:
    """A Luhn-valid organisationsnummer ``NNNNNN-NNNN`` starting with the 9 digits of ``prefix``."""
    return f"{prefix[:6]}-{prefix[6:]}{luhn.calc_check_digit(prefix)}"


def legal_reference(*, outcome: str, decided_on: datetime.date) -> str:
    old, new = LEGAL_REFERENCES[outcome]
    if decided_on < NEW_SOCIAL_SERVICES_ACT:
        return f"{old} socialtjänstlagen (2001:453)"
    return f"{new} socialtjänstlagen (2025:400)"


def _join_swedish(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} och {parts[-1]}"


def decision_summary(*, outcome: str, areas: Sequence[str]) -> str:
    labels = [str(ReviewArea(area).label).lower() for area in areas]
    return SUMMARIES[outcome].format(areas=_join_swedish(labels), first=labels[0])


def read_sis_homes(*, path: Path = SIS_CSV) -> list[SisHome]:
    """SiS's särskilda ungdomshem whose name and kommun the sources confirm (certainty high)."""
    with open(path, encoding="utf-8", newline="") as file:
        return [
            SisHome(
                name=row["name"].split(" (")[0].strip(),
                municipality_code=row["kommunkod"].strip(),
                closed=row["status"].strip().upper().startswith("CLOSED"),
            )
            for row in csv.DictReader(file)
            if row["certainty"].strip() == "high"
        ]


# The builder -----------------------------------------------------------------------------------


@dataclass
class _Plan:
    facility_type: str
    ownership: str
    scenario: str  # normal, overdue, new, nedlagd, aterkallad, forbud, sis
    municipality: Municipality
    sis_home: SisHome | None = None


class _Builder:
    def __init__(
        self,
        *,
        municipalities: Sequence[Municipality],
        sis_homes: Sequence[SisHome],
        today: datetime.date,
        seed: int,
        facility_count: int,
    ) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.window_start = years_before(today, YEARS_OF_SUPERVISION)
        self.cutoff = inspection_overdue_cutoff(today)
        self.municipalities = sorted(municipalities, key=lambda item: item.code)
        self.municipality_by_code = {item.code: item for item in self.municipalities}
        self.by_county: dict[str, list[Municipality]] = defaultdict(list)
        for municipality in self.municipalities:
            self.by_county[municipality.county_id].append(municipality)
        self.counties = sorted(self.by_county)
        self.sis_homes = list(sis_homes)
        self.facility_count = facility_count
        self.data = DemoData()
        self.diarienummer_next: dict[int, int] = {}
        self.company_serial = 100000 + self.rng.randrange(300000)
        self.personal_numbers: set[str] = set()
        self.emails: set[str] = set()
        self.provider_names: set[str] = set()
        self.facility_names: set[str] = set()
        self.municipal_providers: dict[str, Provider] = {}
        self.regional_providers: dict[str, Provider] = {}

    # Numbers and names ---------------------------------------------------------------------

    def diarienummer(self, *, case_class: str, year: int) -> str:
        """IVO's form ``8.5-12345/2021``; running numbers are unique within a year."""
        number = self.diarienummer_next.get(year) or 1000 + self.rng.randrange(4000)
        self.diarienummer_next[year] = number + self.rng.randint(1, 29)
        return f"{case_class}-{number}/{year}"

    def company_organisation_number(self) -> str:
        self.company_serial += self.rng.randint(1, 997)
        return organisation_number_from(f"559{self.company_serial:06d}")

    def personal_identity_number(self, *, female: bool, latest_birth_year: int) -> str:
        """A personnummer from Skatteverket's test range: födelsenummer 980–999, Luhn-valid.

        The third digit of the födelsenummer is even for women and odd for men.
        """
        last_year = max(1960, min(1995, latest_birth_year))
        while True:
            born = random_date(
                self.rng, datetime.date(1960, 1, 1), datetime.date(last_year, 12, 31)
            )
            serial = 980 + self.rng.randrange(0, 20, 2) + (0 if female else 1)
            digits = f"{born:%y%m%d}{serial}"
            number = f"{born:%Y%m%d}-{serial}{luhn.calc_check_digit(digits)}"
            if number not in self.personal_numbers:
                self.personal_numbers.add(number)
                return number

    def person(self) -> tuple[str, str, bool]:
        female = self.rng.random() < 0.62
        first = self.rng.choice(WOMEN if female else MEN)
        return first, self.rng.choice(SURNAMES), female

    def email(self, first: str, last: str) -> str:
        base = ascii_fold(f"{first}.{last}").lower().replace(" ", "")
        address, suffix = f"{base}@example.com", 2
        while address in self.emails:
            address, suffix = f"{base}{suffix}@example.com", suffix + 1
        self.emails.add(address)
        return address

    def phone(self) -> str:
        return f"070-174 06 {self.rng.randint(5, 99):02d}"

    def place_word(self) -> str:
        return self.rng.choice(NAME_STARTS) + self.rng.choice(NAME_ENDS)

    def company_name(self) -> str:
        while True:
            name = f"Demo {self.rng.choice(COMPANY_WORDS)} {self.place_word().capitalize()} AB"
            if name not in self.provider_names:
                self.provider_names.add(name)
                return name

    def facility_name(self, facility_type: str) -> str:
        for _ in range(30):
            word = self.place_word().capitalize()
            if facility_type == FacilityType.STODBOENDE:
                patterns = (f"Stödboendet {word}", f"{word} stödboende", f"{word}s stödboende")
            else:
                patterns = (
                    f"{word}gården",
                    f"HVB {word}",
                    f"{word}hemmet",
                    f"Behandlingshemmet {word}",
                    f"{word} ungdomsboende",
                    f"{word}gårdens HVB",
                )
            name = self.rng.choice(patterns)
            if name not in self.facility_names:
                break
        self.facility_names.add(name)
        return name

    # Plans ---------------------------------------------------------------------------------

    def plans(self) -> list[_Plan]:
        rng = self.rng
        plans = [
            _Plan(
                facility_type=FacilityType.SARSKILT_UNGDOMSHEM,
                ownership=Ownership.STATLIG,
                scenario="sis",
                municipality=self.municipality_by_code[home.municipality_code],
                sis_home=home,
            )
            for home in self.sis_homes
        ]
        count = self.facility_count - len(plans)
        stodboende = round(count * 0.21)
        types = [FacilityType.STODBOENDE] * stodboende + [FacilityType.HVB] * (count - stodboende)
        rng.shuffle(types)
        regional = max(1, round(count * 0.015))
        municipal = max(2, round(count * 0.17))
        ownerships = (
            [Ownership.REGIONAL] * regional
            + [Ownership.KOMMUNAL] * municipal
            + [Ownership.ENSKILD] * (count - regional - municipal)
        )
        rng.shuffle(ownerships)
        scenarios = self.scenarios(ownerships)
        # The first 21 go round the län so that even a small demo covers all of them.
        weights = [COUNTY_WEIGHTS.get(code, 100) for code in self.counties]
        for index in range(count):
            if index < len(self.counties):
                county = self.counties[index]
            else:
                county = rng.choices(self.counties, weights=weights)[0]
            plans.append(
                _Plan(
                    facility_type=types[index],
                    ownership=ownerships[index],
                    scenario=scenarios[index],
                    municipality=rng.choice(self.by_county[county]),
                )
            )
        return plans

    def scenarios(self, ownerships: list[str]) -> list[str]:
        """The course of each facility: quotas, so that even a small demo has each kind."""
        rng = self.rng
        count = len(ownerships)
        scenarios = ["normal"] * count
        private = [index for index, owner in enumerate(ownerships) if owner == Ownership.ENSKILD]
        rng.shuffle(private)
        revoked = max(1, round(count * 0.008))
        for index in private[:revoked]:
            scenarios[index] = "aterkallad"
        rest = [index for index in range(count) if scenarios[index] == "normal"]
        rng.shuffle(rest)
        quotas = (
            ("forbud", max(1, round(count * 0.008))),
            ("nedlagd", max(2, round(count * 0.07))),
            ("new", max(1, round(count * 0.03))),
        )
        position = 0
        for scenario, quota in quotas:
            for index in rest[position : position + quota]:
                scenarios[index] = scenario
            position += quota
        active = count - sum(scenarios.count(name) for name in ("aterkallad", "forbud", "nedlagd"))
        # About 5 % of active HVB and stödboenden lack an inspection in the last 12 months.
        for index in rest[position : position + max(2, round(active * 0.05))]:
            scenarios[index] = "overdue"
        return scenarios

    # Providers -----------------------------------------------------------------------------

    def provider(self, **values) -> Provider:
        # Stable provider URLs across re-seeds: the id follows from the (fictional) number.
        values.setdefault("public_id", uuid.uuid5(DEMO_NAMESPACE, values["organisation_number"]))
        provider = Provider(**values)
        self.data.providers.append(provider)
        return provider

    def municipal_provider(self, municipality: Municipality) -> Provider:
        if municipality.code not in self.municipal_providers:
            serial = 700 + [item.code for item in self.municipalities].index(municipality.code)
            self.municipal_providers[municipality.code] = self.provider(
                organisation_number=organisation_number_from(f"212000{serial:03d}"),
                # Short kommun names only (../shared/reference/README.md): no "X kommun".
                name=f"Socialnämnden i {municipality.name} (demo)",
                ownership=Ownership.KOMMUNAL,
            )
        return self.municipal_providers[municipality.code]

    def regional_provider(self, county: str) -> Provider:
        if county not in self.regional_providers:
            serial = 900 + self.counties.index(county)
            self.regional_providers[county] = self.provider(
                organisation_number=organisation_number_from(f"232100{serial:03d}"),
                name=f"{REGION_NAMES.get(county, f'Region {county}')} (demo)",
                ownership=Ownership.REGIONAL,
            )
        return self.regional_providers[county]

    def private_providers(self, plans: list[_Plan]) -> dict[int, Provider]:
        """Group the private facilities under companies: most own one or two, a few are chains;
        some single homes are run by sole traders."""
        rng = self.rng
        indices = [index for index, plan in enumerate(plans) if plan.ownership == Ownership.ENSKILD]
        rng.shuffle(indices)
        groups: list[list[int]] = [indices[:1]]  # at least one single home (a sole trader)
        position = 1
        while position < len(indices):
            size = rng.choices((1, 2, 3, 5, 9, 16), weights=(58, 20, 10, 7, 3, 2))[0]
            groups.append(indices[position : position + size])
            position += size
        singles = [number for number, group in enumerate(groups) if len(group) == 1]
        sole_traders = set(rng.sample(singles, max(1, round(len(singles) * 0.06))))
        owners: dict[int, Provider] = {}
        for number, group in enumerate(groups):
            if number in sole_traders:
                first, last, female = self.person()
                personal_number = self.personal_identity_number(
                    female=female, latest_birth_year=1990
                )
                provider = self.provider(
                    organisation_number=personal_number[2:],  # the trade register's 10 digits
                    name=f"{first} {last} {rng.choice(('Omsorg', 'Behandling', 'Familjevård'))}",
                    ownership=Ownership.ENSKILD,
                    is_sole_trader=True,
                )
            else:
                provider = self.provider(
                    organisation_number=self.company_organisation_number(),
                    name=self.company_name(),
                    ownership=Ownership.ENSKILD,
                )
            for index in group:
                owners[index] = provider
        return owners

    # Facilities ----------------------------------------------------------------------------

    def start_date(self, plan: _Plan) -> datetime.date:
        earliest = (
            STODBOENDE_FROM if plan.facility_type == FacilityType.STODBOENDE else OLDEST_START
        )
        if plan.scenario == "new":
            return random_date(self.rng, self.today - days(330), self.today - days(30))
        if plan.scenario in ("aterkallad", "forbud", "overdue"):
            latest = self.today - days(800)
        elif plan.scenario == "nedlagd":
            latest = years_before(self.today, 3)
        else:
            latest = self.today - days(400)
        # A quarter opened during the six years shown; the rest earlier.
        if self.rng.random() < 0.25 and self.window_start < latest:
            earliest = max(earliest, self.window_start)
        return random_date(self.rng, earliest, latest)

    def address(self, municipality: Municipality) -> dict[str, str]:
        prefix = self.rng.choice(POSTAL_PREFIXES.get(municipality.county_id, "10").split())
        street = self.rng.choice((*STREETS, f"{self.place_word().capitalize()}vägen"))
        return {
            "street_address": f"{street} {self.rng.randint(1, 80)}",
            "postal_code": f"{prefix}{self.rng.randint(0, 9)} {self.rng.randint(0, 99):02d}",
            "postal_town": municipality.name,
        }

    def care_profile(self, facility_type: str) -> dict:
        rng = self.rng
        if facility_type == FacilityType.STODBOENDE:
            groups = rng.sample(
                (TargetGroup.ENSAMKOMMANDE, TargetGroup.PSYKISK_OHALSA, TargetGroup.NPF,
                 TargetGroup.NORMBRYTANDE, TargetGroup.HEDERSRELATERAT),
                rng.randint(1, 2),
            )  # fmt: skip
            age_from, age_to = 16, rng.choice((18, 20, 20, 20))
            places = rng.randint(4, 20)
            orientation = "Stödboende med eget boende och stöd av personal dagtid. "
        else:
            groups = rng.sample(
                (TargetGroup.MISSBRUK, TargetGroup.NORMBRYTANDE, TargetGroup.PSYKISK_OHALSA,
                 TargetGroup.NPF, TargetGroup.ENSAMKOMMANDE, TargetGroup.HEDERSRELATERAT,
                 TargetGroup.VALD_OVERGREPP, TargetGroup.SEXUELLT_BETEENDE, TargetGroup.SKYDD),
                rng.randint(1, 3),
            )  # fmt: skip
            age_from = rng.choice((0, 6, 10, 12, 13, 13, 14, 15, 16))
            age_to = rng.choice([age for age in (12, 17, 18, 20, 21) if age >= age_from + 2])
            places = rng.randint(3, 16)
            orientation = rng.choice(
                (
                    "Behandlingshem med miljöterapeutisk inriktning. ",
                    "Utredning och behandling med familjearbete. ",
                    "Akut- och utredningsplatser. ",
                    "Långsiktig behandling med skola i egen regi. ",
                )
            )
        gender = rng.choices((Gender.ALLA, Gender.POJKAR, Gender.FLICKOR), (50, 25, 25))[0]
        if TargetGroup.SKYDD in groups or TargetGroup.HEDERSRELATERAT in groups:
            gender = Gender.FLICKOR if rng.random() < 0.6 else Gender.ALLA
        labels = [str(TargetGroup(group).label).lower() for group in sorted(groups)]
        return {
            "target_groups": sorted(groups),
            "age_from": age_from,
            "age_to": age_to,
            "gender": gender,
            "places": places,
            "orientation": orientation + "Målgrupp: " + _join_swedish(labels) + ".",
        }

    def sis_profile(self, home: SisHome) -> dict:
        facts = SIS_FACTS.get(home.name, {})
        profile = {
            "target_groups": [TargetGroup.MISSBRUK, TargetGroup.NORMBRYTANDE],
            "age_from": facts.get("age_from", 12),
            "age_to": 21,
            "gender": facts.get("gender", ""),
            "places": facts.get("places", self.rng.randint(12, 40)),
            "orientation": "Särskilt ungdomshem enligt 12 § LVU.",
            "start_date": facts.get("start_date", SIS_DEFAULT_START),
        }
        if home.closed:
            profile["end_date"] = facts.get("end_date", self.window_start - days(365))
        return profile

    def facility(self, *, number: int, plan: _Plan, provider: Provider) -> Facility:
        if plan.sis_home is not None:
            profile = self.sis_profile(plan.sis_home)
            name = f"SiS ungdomshem {plan.sis_home.name}"
        else:
            profile = self.care_profile(plan.facility_type)
            profile["start_date"] = self.start_date(plan)
            name = self.facility_name(plan.facility_type)
            if plan.scenario == "nedlagd":
                earliest = max(profile["start_date"] + days(365), self.window_start + days(60))
                profile["end_date"] = random_date(self.rng, earliest, self.today - days(30))
        facility = Facility(
            facility_id=f"{DEMO_ID_PREFIX}{number:04d}",
            name=name,
            facility_type=plan.facility_type,
            provider=provider,
            municipality=plan.municipality,
            status=FacilityStatus.AKTIV,
            **self.address(plan.municipality),
            **profile,
        )
        if facility.end_date is not None:
            facility.status = FacilityStatus.NEDLAGD
            facility.status_date = facility.end_date
        self.data.facilities.append(facility)
        return facility

    # Permits, registrations, managers ------------------------------------------------------

    def permit(self, facility: Facility) -> Permit:
        granted = facility.start_date - days(self.rng.randint(20, 150))
        applied = granted - days(self.rng.randint(60, 200))
        gender = {"flickor": "flickor", "pojkar": "pojkar"}.get(
            facility.gender, "flickor och pojkar"
        )
        permit = Permit(
            facility=facility,
            diarienummer=self.diarienummer(case_class=CLASS_PERMIT, year=applied.year),
            granted_on=granted,
            scope=(
                f"{FacilityType(facility.facility_type).label}: {gender} "
                f"{facility.age_from}–{facility.age_to} år, {facility.places} platser."
            ),
            status=(
                PermitStatus.UPPHORT
                if facility.status == FacilityStatus.NEDLAGD
                else PermitStatus.GALLANDE
            ),
        )
        self.data.permits.append(permit)
        if granted >= self.window_start:
            # The permit decision belongs to the permit case and shares its diarienummer.
            areas = sorted(self.rng.sample(PERMIT_AREAS, 4))
            self.decision(
                facility=facility,
                diarienummer=permit.diarienummer,
                kind=DecisionKind.TILLSTAND,
                decided_on=granted,
                outcome=Outcome.TILLSTAND_BEVILJAT,
                areas=areas,
            )
        return permit

    def registration(self, facility: Facility) -> Registration:
        registered = facility.start_date - days(self.rng.randint(10, 60))
        registration = Registration(
            facility=facility,
            diarienummer=self.diarienummer(case_class=CLASS_REGISTRATION, year=registered.year),
            registered_on=registered,
        )
        self.data.registrations.append(registration)
        return registration

    def manager(
        self, *, facility: Facility, start: datetime.date, end: datetime.date | None
    ) -> Manager:
        first, last, female = self.person()
        manager = Manager(
            facility=facility,
            name=f"{first} {last}",
            personal_identity_number=self.personal_identity_number(
                female=female, latest_birth_year=start.year - 25
            ),
            email=self.email(first, last),
            phone=self.phone(),
            start_date=start,
            end_date=end,
        )
        self.data.managers.append(manager)
        return manager

    def managers(self, facility: Facility) -> None:
        """The current manager, and for some homes the one before."""
        start = facility.start_date
        last_day = facility.end_date or self.today
        current_from = random_date(self.rng, years_before(last_day, 8), last_day - days(30))
        current_from = max(start, current_from)
        if current_from > start + days(365) and self.rng.random() < 0.5:
            earlier_from = max(start, years_before(current_from, 6))
            self.manager(facility=facility, start=earlier_from, end=current_from - days(1))
        self.manager(facility=facility, start=current_from, end=facility.end_date)

    # Supervision ---------------------------------------------------------------------------

    def decision(
        self,
        *,
        facility: Facility,
        diarienummer: str,
        kind: str,
        decided_on: datetime.date,
        outcome: str,
        areas: list[str],
    ) -> Decision:
        age = (self.today - decided_on).days
        follow_up = FollowUp.INGEN
        appeal = AppealStatus.EJ_OVERKLAGAT
        if outcome == Outcome.BRISTER:
            follow_up = FollowUp.AVSLUTAD if age > 180 else FollowUp.PLANERAD
        elif outcome in (Outcome.FORELAGGANDE, Outcome.FORELAGGANDE_VITE, Outcome.SANKTIONSAVGIFT):
            follow_up = FollowUp.AVSLUTAD if age > 365 else FollowUp.PAGAR
        elif outcome in (Outcome.ATERKALLELSE, Outcome.FORBUD, Outcome.TILLFALLIGT_FORBUD):
            follow_up = FollowUp.PAGAR
            appeal = AppealStatus.OVERKLAGAT if age < 300 else AppealStatus.FASTALLT
        if outcome in (Outcome.FORELAGGANDE_VITE, Outcome.SANKTIONSAVGIFT):
            draw = self.rng.random()
            if draw < 0.35:
                appeal = AppealStatus.OVERKLAGAT if age < 300 else AppealStatus.FASTALLT
            elif draw < 0.45 and age >= 300:
                appeal = AppealStatus.UPPHAVT
        decision = Decision(
            diarienummer=diarienummer,
            facility=facility,
            kind=kind,
            decision_date=decided_on,
            outcome=outcome,
            review_areas=sorted(set(areas)),
            summary=decision_summary(outcome=outcome, areas=areas),
            legal_reference=legal_reference(outcome=outcome, decided_on=decided_on),
            follow_up=follow_up,
            appeal_status=appeal,
            prohibition_until=(
                months_after(decided_on, 3) if outcome == Outcome.TILLFALLIGT_FORBUD else None
            ),
        )
        self.data.decisions.append(decision)
        return decision

    def inspection_dates(
        self, *, start: datetime.date, horizon: datetime.date, yearly_gap: tuple[int, int]
    ) -> list[datetime.date]:
        if start < self.window_start:
            current = self.window_start + days(self.rng.randint(0, 300))
        else:
            current = start + days(self.rng.randint(60, 240))
        dates = []
        while current <= horizon:
            dates.append(current)
            current += days(self.rng.randint(*yearly_gap))
        return dates

    def ordinary_outcome(self, previous: str | None, *, mild: bool) -> str:
        if mild:  # the real SiS homes get only the mildest fictional outcomes
            return Outcome.BRISTER if self.rng.random() < 0.25 else Outcome.INGA_BRISTER
        outcomes, weights = zip(*ORDINARY_OUTCOMES, strict=True)
        outcome = self.rng.choices(outcomes, weights=weights)[0]
        if previous not in (None, Outcome.INGA_BRISTER) and self.rng.random() < 0.5:
            outcome = Outcome.INGA_BRISTER  # deficiencies are mostly remedied by the next visit
        return outcome

    def supervise(self, facility: Facility, plan: _Plan) -> None:
        """Six years of inspections, each with its decision (when already decided)."""
        rng = self.rng
        final_outcome: str | None = None
        final_date: datetime.date | None = None
        horizon = self.today - days(1)
        if facility.end_date is not None:
            horizon = facility.end_date - days(90)
        elif plan.scenario == "overdue":
            # The latest inspection lies 13–20 months back (3 kap. 19 § SoF: flagged overdue).
            horizon = self.today - days(rng.randint(395, 600))
        elif plan.scenario in ("aterkallad", "forbud"):
            final_date = self.today - days(rng.randint(40, 540))
            final_outcome = (
                Outcome.ATERKALLELSE
                if plan.scenario == "aterkallad"
                else rng.choice((Outcome.FORBUD, Outcome.TILLFALLIGT_FORBUD))
            )
            horizon = final_date - days(150)
        dates = self.inspection_dates(
            start=facility.start_date,
            horizon=horizon,
            yearly_gap=(180, 300) if plan.scenario == "sis" else (270, 380),
        )
        if plan.scenario == "normal" and (not dates or dates[-1] < self.cutoff + days(10)):
            # Frekvenstillsyn: an active home has been inspected within the last 12 months.
            earliest = max(self.cutoff + days(10), (dates[-1] + days(90)) if dates else self.cutoff)
            dates.append(random_date(rng, earliest, self.today - days(1)))
        if plan.scenario == "overdue" and not dates:
            dates.append(random_date(rng, facility.start_date + days(60), horizon))
        if plan.scenario == "new" and rng.random() < 0.5:
            dates = []  # not yet due for its first inspection

        outcomes: list[str] = []
        previous = None
        for _ in dates:
            previous = self.ordinary_outcome(previous, mild=plan.scenario == "sis")
            outcomes.append(previous)
        if final_outcome is not None:
            # Escalation: deficiencies, an injunction not complied with, then the intervention.
            for position, outcome in zip(
                (-2, -1), (Outcome.BRISTER, Outcome.FORELAGGANDE_VITE), strict=True
            ):
                if len(outcomes) >= -position:
                    outcomes[position] = outcome
            dates.append(final_date - days(rng.randint(20, 60)))
            outcomes.append(final_outcome)

        for number, (inspected_on, outcome) in enumerate(zip(dates, outcomes, strict=True)):
            last_day = inspected_on + days(rng.choice((0, 0, 1)))
            diarienummer = self.diarienummer(case_class=CLASS_SUPERVISION, year=inspected_on.year)
            self.data.inspections.append(
                Inspection(
                    facility=facility,
                    diarienummer=diarienummer,
                    start_date=inspected_on,
                    end_date=last_day,
                    announced=rng.random() < 0.6,
                )
            )
            is_final = final_outcome is not None and number == len(dates) - 1
            decided_on = final_date if is_final else last_day + days(rng.randint(14, 75))
            if decided_on > self.today:
                continue  # the case is still open
            areas = rng.sample(CORE_AREAS, rng.randint(2, 4))
            if plan.scenario == "sis":
                areas.append(ReviewArea.BEGRANSNINGSATGARDER)
            if number and outcomes[number - 1] != Outcome.INGA_BRISTER:
                areas.append(ReviewArea.UPPFOLJNING_TIDIGARE_BESLUT)
            self.decision(
                facility=facility,
                diarienummer=diarienummer,
                kind=DecisionKind.TILLSYN,
                decided_on=decided_on,
                outcome=outcome,
                areas=areas,
            )

        if final_outcome in (Outcome.ATERKALLELSE, Outcome.FORBUD):
            # What services._apply_status_rule would do with the latest decision (a temporary
            # prohibition leaves the stored status: register.supervision.current_status).
            facility.status = (
                FacilityStatus.ATERKALLAD
                if final_outcome == Outcome.ATERKALLELSE
                else FacilityStatus.FORBUD
            )
            facility.status_date = final_date

    # The whole -----------------------------------------------------------------------------

    def build(self) -> DemoData:
        plans = self.plans()
        private = self.private_providers(plans)
        sis = None
        for index, plan in enumerate(plans):
            if plan.ownership == Ownership.STATLIG:
                sis = sis or self.provider(
                    organisation_number=SIS_ORGANISATION_NUMBER,
                    name=SIS_NAME,
                    ownership=Ownership.STATLIG,
                )
                provider = sis
            elif plan.ownership == Ownership.KOMMUNAL:
                provider = self.municipal_provider(plan.municipality)
            elif plan.ownership == Ownership.REGIONAL:
                provider = self.regional_provider(plan.municipality.county_id)
            else:
                provider = private[index]
            facility = self.facility(number=index + 1, plan=plan, provider=provider)
            permit = None
            if plan.ownership == Ownership.ENSKILD:
                permit = self.permit(facility)
            elif plan.ownership in (Ownership.KOMMUNAL, Ownership.REGIONAL):
                self.registration(facility)
            # SiS has no duty to notify: IVO enters its homes itself.
            self.managers(facility)
            self.supervise(facility, plan)
            if permit is not None and facility.status == FacilityStatus.ATERKALLAD:
                permit.status = PermitStatus.ATERKALLAT
        return self.data


def build_demo_data(
    *,
    municipalities: Sequence[Municipality],
    sis_homes: Sequence[SisHome],
    today: datetime.date,
    seed: int = SEED,
    facility_count: int = DEFAULT_FACILITY_COUNT,
) -> DemoData:
    """The demo register as unsaved model instances; the same arguments give the same data."""
    if facility_count < MIN_FACILITY_COUNT:
        raise ValueError(f"Demodata kräver minst {MIN_FACILITY_COUNT} verksamheter.")
    return _Builder(
        municipalities=municipalities,
        sis_homes=sis_homes,
        today=today,
        seed=seed,
        facility_count=facility_count,
    ).build()


# Writing ---------------------------------------------------------------------------------------


def refuse_real_data() -> None:
    if Facility.objects.exclude(facility_id__startswith=DEMO_ID_PREFIX).exists():
        raise DemoDataRefused(REFUSAL_MESSAGE)


def delete_demo_data() -> None:
    """Remove the demo rows and their history; call only after ``refuse_real_data``.

    The rows go without per-row delete signals (``_raw_delete``): each would write a history row
    that is deleted again below. History rows of real records deleted earlier stay.
    """
    history = {model: model.history.model for model in REGISTER_MODELS}
    demo_facility_history = history[Facility].objects.filter(facility_id__startswith=DEMO_ID_PREFIX)
    demo_facility_pks = demo_facility_history.values("id")
    # Providers that have owned demo facilities and never a real one.
    demo_provider_pks = demo_facility_history.values("provider_id").exclude(
        provider_id__in=history[Facility]
        .objects.exclude(facility_id__startswith=DEMO_ID_PREFIX)
        .values("provider_id")
    )
    _delete_rows_of_other_apps()
    for model in (Decision, Inspection, Manager, Permit, Registration):
        queryset = model.objects.filter(facility__facility_id__startswith=DEMO_ID_PREFIX)
        queryset._raw_delete(queryset.db)
    queryset = Facility.objects.filter(facility_id__startswith=DEMO_ID_PREFIX)
    queryset._raw_delete(queryset.db)
    queryset = Provider.objects.filter(pk__in=demo_provider_pks, facilities__isnull=True)
    queryset._raw_delete(queryset.db)
    for model in (Decision, Inspection, Manager, Permit, Registration):
        history[model].objects.filter(facility_id__in=demo_facility_pks).delete()
    history[Provider].objects.filter(id__in=demo_provider_pks).exclude(
        id__in=Provider.objects.values("pk")
    ).delete()
    demo_facility_history.delete()


# Sent before the demo rows go, with the demo facilities' primary keys (a subquery): apps whose
# rows point at demo facilities or their decisions (a request for a demo decision, a case linked
# to a demo home) remove them, so the register needs to know nothing of them.
demo_data_deleting = Signal()


def _delete_rows_of_other_apps() -> None:
    demo_facility_pks = Facility.objects.filter(facility_id__startswith=DEMO_ID_PREFIX).values("pk")
    demo_data_deleting.send(sender=Facility, facility_pks=demo_facility_pks)


def write_demo_data(data: DemoData) -> None:
    for model, objects in data.rows():
        services.register_bulk_create(model, objects, actor=None, reason=REASON)


@transaction.atomic
def seed_demo(
    *,
    facility_count: int = DEFAULT_FACILITY_COUNT,
    seed: int = SEED,
    today: datetime.date | None = None,
) -> DemoData:
    """Replace the demo data (refusing if real register data exist). The demo logins are
    access.demo's (the seed_demo command sets them)."""
    refuse_real_data()
    data = build_demo_data(
        municipalities=list(Municipality.objects.all()),
        sis_homes=read_sis_homes(),
        today=today or timezone.localdate(),
        seed=seed,
        facility_count=facility_count,
    )
    delete_demo_data()
    write_demo_data(data)
    services.update_query_statistics()
    return data


# A large decisions file for the demo facilities (bench/imports.py, the import tests) ------------

# A case class the demo's own cases never use, so the file's diarienummer are new to the register.
IMPORT_CASE_CLASS = "8.5.9"
IMPORT_YEARS = 20
# The rare decisions that set a facility's status (services._apply_status_rule): in per mille.
IMPORT_STATUS_OUTCOMES_PER_MILLE = 4


def decision_import_rows(
    *, facilities: Sequence[Facility], count: int, today: datetime.date, seed: int = SEED
) -> list[dict[str, str]]:
    """``count`` rows of an ``import_decisions`` file (register-import.md) for ``facilities``
    (each with its provider): twenty years of supervision spread over the homes, each decision
    with its inspection (nine in ten), outcomes weighted as the demo's, a few revocations (homes
    in private ownership) and prohibitions. Deterministic for the same arguments."""
    rng = random.Random(seed)
    ordered = sorted(facilities, key=lambda facility: facility.facility_id)
    earliest = years_before(today, IMPORT_YEARS)
    next_number: dict[int, int] = {}
    outcomes, weights = zip(*ORDINARY_OUTCOMES, strict=True)
    rows = []
    for index in range(count):
        facility = ordered[index % len(ordered)]
        first = max(earliest, facility.start_date or earliest)
        last = min(today - days(1), facility.end_date or today)
        if last <= first + days(90):
            first = earliest
        decided_on = random_date(rng, first + days(80), last)
        draw = rng.randrange(1000)
        if draw < IMPORT_STATUS_OUTCOMES_PER_MILLE:
            private = facility.provider.ownership == Ownership.ENSKILD
            outcome = Outcome.ATERKALLELSE if private and draw % 2 else Outcome.FORBUD
        else:
            outcome = rng.choices(outcomes, weights=weights)[0]
        areas = rng.sample(CORE_AREAS, rng.randint(2, 4))
        year = decided_on.year
        number = next_number.get(year, 1000)
        next_number[year] = number + 1
        row = {
            "diarienummer": f"{IMPORT_CASE_CLASS}-{number}/{year}",
            "verksamhetsid": facility.facility_id,
            "beslutstyp": DecisionKind.TILLSYN.value,
            "beslutsdatum": decided_on.isoformat(),
            "utfall": str(outcome),
            "granskade_omraden": "|".join(sorted(areas)),
            "inspektionsdatum": "",
            "inspektion_anmald": "",
            "sammanfattning": decision_summary(outcome=outcome, areas=areas),
        }
        if rng.random() < 0.9:
            inspected_on = decided_on - days(rng.randint(14, 75))
            last_day = inspected_on + days(rng.choice((0, 0, 1)))
            row["inspektionsdatum"] = (
                inspected_on.isoformat()
                if last_day == inspected_on
                else f"{inspected_on.isoformat()}|{last_day.isoformat()}"
            )
            row["inspektion_anmald"] = "ja" if rng.random() < 0.6 else "nej"
        rows.append(row)
    return rows
