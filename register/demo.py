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
    DEFICIENT_ASSESSMENTS,
    AppealStatus,
    Assessment,
    DecisionKind,
    FacilityStatus,
    FacilityType,
    FollowUp,
    Gender,
    InspectionReason,
    Outcome,
    Ownership,
    PermitStatus,
    ReviewArea,
    TargetGroup,
)
from register.counties import with_neighbours
from register.models import (
    Decision,
    Facility,
    Finding,
    Inspection,
    Manager,
    Municipality,
    Permit,
    Provider,
    RegisterEvent,
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
    Finding,
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
    findings: list[Finding] = field(default_factory=list)

    def rows(self) -> list[tuple[type[models.Model], list]]:
        """What to write, in order: a decision only after the one it follows up."""
        return [
            (Provider, self.providers),
            (Facility, self.facilities),
            (Permit, self.permits),
            (Registration, self.registrations),
            (Manager, self.managers),
            (Inspection, self.inspections),
            *((Decision, generation) for generation in follow_up_generations(self.decisions)),
            (Finding, self.findings),
        ]


def follow_up_generations(decisions: Sequence[Decision]) -> list[list[Decision]]:
    """``decisions`` in groups that can be written one after the other: first those that follow
    up none, then those that follow up one of the first, and so on (bulk_create needs the
    decision a row points at to have its key already)."""
    depth: dict[int, int] = {}
    for decision in decisions:  # in the order built: the followed-up one always comes first
        earlier = decision.follows_up
        depth[id(decision)] = 0 if earlier is None else depth[id(earlier)] + 1
    generations: list[list[Decision]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for decision in decisions:
        generations[depth[id(decision)]].append(decision)
    return generations


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

# Findings ---------------------------------------------------------------------------------------
#
# What IVO saw in each area and, where it found a deficiency, what the provider must do. Generic
# fictional supervision language: never about one child, no names, no personal data.

# Per area: what IVO saw where all was well, what it saw where it was not, and what it required;
# the n-th text of each tuple belongs together (a deficiency, its requirement, and its remedy).
AREA_TEXTS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    ReviewArea.TRYGGHET_SAKERHET: (
        (
            "Verksamheten har rutiner för att förebygga och hantera risksituationer, och "
            "personalen känner till dem. Varje barn har en kontaktperson bland personalen.",
            "Det finns en aktuell riskbedömning för varje placering, och personalen följer "
            "rutinerna för tillsyn nattetid.",
        ),
        (
            "Verksamheten gör inte systematiska riskbedömningar inför och under placeringen. "
            "Personalen kunde inte redogöra för hur risker för barnen hanteras.",
            "Rutinerna för tillsyn nattetid följs inte. Under vissa perioder fanns ingen vaken "
            "personal på boendet.",
        ),
        (
            "Verksamheten ska ta fram och tillämpa rutiner för riskbedömning vid inskrivning och "
            "under placeringen, och redovisa dem till IVO.",
            "Verksamheten ska säkerställa att det finns vaken personal på boendet dygnet runt och "
            "redovisa schemaläggningen till IVO.",
        ),
    ),
    ReviewArea.VALD_KRANKNINGAR: (
        (
            "Verksamheten har rutiner för att upptäcka och förebygga våld och kränkningar mellan "
            "barnen. Händelser dokumenteras och följs upp.",
            "Personalen har utbildning i bemötande och konflikthantering, och inträffade "
            "händelser har analyserats.",
        ),
        (
            "Händelser med våld mellan barnen har inte dokumenterats eller följts upp. Det saknas "
            "rutiner för hur personalen ska agera.",
            "Verksamheten har inte rapporterat och utrett missförhållanden enligt bestämmelserna "
            "om lex Sarah.",
        ),
        (
            "Verksamheten ska ta fram rutiner för att förebygga, upptäcka och följa upp våld och "
            "kränkningar, och se till att all personal känner till dem.",
            "Verksamheten ska säkerställa att personalen rapporterar missförhållanden och att de "
            "utreds enligt bestämmelserna om lex Sarah.",
        ),
    ),
    ReviewArea.DELAKTIGHET: (
        (
            "Barnen får information om sin vård och kan påverka vardagen på boendet, till exempel "
            "genom regelbundna husmöten.",
            "Husreglerna är förankrade hos barnen och innehåller inga inskränkningar som saknar "
            "stöd i lag.",
        ),
        (
            "Barnen har inte fått information om sina rättigheter eller om hur de kan framföra "
            "klagomål. Genomförandeplanerna är inte upprättade tillsammans med barnen.",
            "Husreglerna innehåller generella inskränkningar som saknar stöd i lag, och de är "
            "inte förankrade hos barnen.",
        ),
        (
            "Verksamheten ska säkerställa att varje barn får information om sin vård och sina "
            "rättigheter och görs delaktigt i sin genomförandeplan.",
            "Verksamheten ska se över husreglerna så att de inte innehåller inskränkningar som "
            "saknar stöd i lag.",
        ),
    ),
    ReviewArea.KOMPETENS_BEMANNING: (
        (
            "Det finns en plan för kompetensutveckling, och nyanställd personal introduceras "
            "enligt en fastställd rutin.",
            "Bemanningen motsvarar barnens behov, och personalen har utbildning som svarar mot "
            "verksamhetens inriktning.",
        ),
        (
            "Andelen personal med relevant utbildning är låg, och flera arbetspass bemannas av "
            "timanställda utan introduktion.",
            "Bemanningen räcker inte för att barnen ska få den tillsyn och det stöd de behöver, "
            "särskilt kvällar och helger.",
        ),
        (
            "Verksamheten ska säkerställa att personalen har den kompetens som målgruppen kräver "
            "och redovisa en plan för kompetensförsörjning.",
            "Verksamheten ska anpassa bemanningen efter barnens behov och redovisa hur det ska "
            "ske.",
        ),
    ),
    ReviewArea.FORESTANDARE: (
        (
            "Föreståndaren har den utbildning och erfarenhet som krävs och finns på plats i "
            "verksamheten.",
            "Föreståndaren leder det dagliga arbetet och ansvarar för att verksamheten följer "
            "gällande regler.",
        ),
        (
            "Föreståndaren uppfyller inte kraven på utbildning och erfarenhet och har inte "
            "tillräcklig tid i verksamheten.",
            "Verksamheten har bytt föreståndare utan att anmäla det till IVO.",
        ),
        (
            "Verksamheten ska säkerställa att föreståndaren har den utbildning, erfarenhet och "
            "tid i verksamheten som krävs.",
            "Verksamheten ska anmäla byte av föreståndare till IVO och säkerställa att "
            "verksamheten leds av en föreståndare som uppfyller kraven.",
        ),
    ),
    ReviewArea.INSKRIVNA: (
        (
            "De inskrivna barnen hör till verksamhetens målgrupp och ryms inom tillståndets "
            "omfattning.",
            "Verksamheten har tagit emot barn inom den ålder och det antal platser som "
            "tillståndet avser.",
        ),
        (
            "Verksamheten har tagit emot barn utanför sin målgrupp och har tidvis haft fler "
            "inskrivna än antalet platser.",
            "Verksamheten har inte kunnat visa att den kan tillgodose behoven hos alla inskrivna "
            "barn.",
        ),
        (
            "Verksamheten ska bara ta emot barn inom den målgrupp och det antal platser som "
            "tillståndet avser.",
            "Verksamheten ska inför varje inskrivning bedöma om den kan tillgodose barnets behov "
            "och dokumentera bedömningen.",
        ),
    ),
    ReviewArea.LOKALER: (
        (
            "Lokalerna är ändamålsenliga och ger barnen möjlighet till avskildhet. Varje barn har "
            "ett eget rum.",
            "Lokalerna är i gott skick, och brandskyddet är kontrollerat.",
        ),
        (
            "Lokalerna är slitna, och flera rum kan inte låsas inifrån. Barnen har inte tillgång "
            "till egna utrymmen.",
            "Brandskyddet är bristfälligt: brandvarnare saknades i två rum och en utrymningsväg "
            "var blockerad.",
        ),
        (
            "Verksamheten ska åtgärda bristerna i lokalerna så att varje barn har ett eget rum "
            "som kan låsas.",
            "Verksamheten ska åtgärda bristerna i brandskyddet och redovisa vad som har gjorts.",
        ),
    ),
    ReviewArea.BEGRANSNINGSATGARDER: (
        (
            "Begränsningsåtgärder beslutas och dokumenteras enligt LVU, och besluten följs upp.",
            "Personalen har utbildning i de särskilda befogenheterna, och åtgärderna följs upp "
            "regelbundet.",
        ),
        (
            "Vissa begränsningsåtgärder har verkställts utan beslut, och dokumentationen av dem "
            "är ofullständig.",
            "Avskiljningar har pågått längre än nödvändigt utan att det har dokumenterats varför.",
        ),
        (
            "Verksamheten ska säkerställa att begränsningsåtgärder bara används med stöd i lag "
            "och att varje åtgärd beslutas och dokumenteras.",
            "Verksamheten ska följa upp varje avskiljning och säkerställa att den inte pågår "
            "längre än nödvändigt.",
        ),
    ),
    ReviewArea.DOKUMENTATION: (
        (
            "Dokumentationen av barnens vård är aktuell, och det finns genomförandeplaner för "
            "samtliga barn.",
            "Journalerna förs löpande och förvaras så att obehöriga inte kommer åt dem.",
        ),
        (
            "Genomförandeplaner saknas för flera barn, och journalerna förs inte löpande.",
            "Dokumentationen förvaras så att obehöriga kan komma åt den.",
        ),
        (
            "Verksamheten ska upprätta en genomförandeplan för varje barn och föra journal "
            "löpande.",
            "Verksamheten ska förvara dokumentationen så att obehöriga inte får tillgång till den.",
        ),
    ),
    ReviewArea.LAMPLIGHET_AGARE: (
        (
            "Ägaren och personer i ledande ställning har den insikt i regelverket och den "
            "lämplighet i övrigt som krävs.",
            "IVO:s prövning visar inget som talar mot ägarens lämplighet.",
        ),
        (
            "Ägaren har inte visat tillräcklig insikt i de regler som gäller för verksamheten.",
            "Ägaren har inte fullgjort sina skyldigheter mot det allmänna.",
        ),
        (
            "Verksamheten ska redovisa hur ägaren säkerställer kunskap om och efterlevnad av "
            "regelverket.",
            "Verksamheten ska lämna de uppgifter om ägarkretsen som IVO har begärt.",
        ),
    ),
    ReviewArea.EKONOMI: (
        (
            "Verksamheten har visat att den har ekonomiska förutsättningar att bedriva "
            "verksamheten.",
            "Ekonomin har granskats och bedöms vara stabil.",
        ),
        (
            "Verksamheten har inte kunnat visa att den har ekonomiska förutsättningar att "
            "bedriva verksamheten långsiktigt.",
            "Verksamheten har skulder som kan påverka förmågan att bedriva en god och säker vård.",
        ),
        (
            "Verksamheten ska redovisa en ekonomisk plan som visar hur verksamheten ska kunna "
            "bedrivas långsiktigt.",
            "Verksamheten ska redovisa hur skulderna ska hanteras så att vården inte påverkas.",
        ),
    ),
    ReviewArea.BARNS_UPPLEVELSE: (
        (
            "De barn och unga som IVO talade med beskriver att de känner sig trygga och att "
            "personalen finns till hands.",
            "Barnen berättar att de blir lyssnade på och att de vet vem de kan vända sig till.",
        ),
        (
            "Flera av de barn och unga som IVO talade med beskriver att de inte känner sig trygga "
            "på boendet, särskilt kvällstid.",
            "Barnen uppger att de inte vet hur de kan framföra klagomål och att deras synpunkter "
            "inte tas till vara.",
        ),
        (
            "Verksamheten ska utreda varför barnen inte känner sig trygga och redovisa vilka "
            "åtgärder som vidtas.",
            "Verksamheten ska säkerställa att barnen kan framföra synpunkter och klagomål och att "
            "dessa tas om hand.",
        ),
    ),
}
FOLLOWED_UP_TEXTS = (
    "Verksamheten har redovisat och genomfört åtgärder med anledning av beslutet {diarienummer}.",
    "Verksamheten har inte åtgärdat alla brister som IVO påtalade i beslutet {diarienummer}.",
)
MET_TEXT = "Verksamheten har åtgärdat bristen som IVO påtalade i beslutet {diarienummer}. "
NOT_MET_TEXT = "Bristen som IVO påtalade i beslutet {diarienummer} kvarstår. "
SERIOUS_TEXT = " IVO bedömer bristen som allvarlig."
FINE_TEXT = " Föreläggandet förenas med vite."
FOLLOWS_UP_SUMMARY = "IVO har följt upp beslutet {diarienummer}. "

# Why IVO inspected, for a decision that follows up none (DESIGN.md: mostly the yearly one).
INSPECTION_REASONS = (
    (InspectionReason.FREKVENSTILLSYN, 80),
    (InspectionReason.KLAGOMAL, 8),
    (InspectionReason.ANMALAN, 7),
    (InspectionReason.INITIATIV, 5),
)
# The next inspection after a deficiency follows that decision up this often.
FOLLOW_UP_SHARE = 0.85
# IVO follows up the latest requirements of an active home soon after their day this often.
LATE_FOLLOW_UP_SHARE = 0.6
# A follow-up that finds deficiencies finds an earlier one again (a requirement not met) this often.
NOT_MET_SHARE = 0.4
BARNS_UPPLEVELSE_SHARE = 0.45
CHILDREN_TALKED_WITH_SHARE = 0.85
# A requirement's day, in days after the decision, by outcome.
DUE_DAYS = {
    Outcome.BRISTER: (30, 90),
    Outcome.FORELAGGANDE: (60, 150),
    Outcome.FORELAGGANDE_VITE: (45, 120),
}
REQUIREMENT_SHARE_BRISTER = 0.85  # a plain deficiency usually comes with a requirement
FINE_RANGE = (100_000, 1_000_000, 50_000)  # vite in kronor: from, to, step
# Outcomes whose deficiencies are serious (allvarlig brist) in every deficient area.
SERIOUS_DEFICIENCY_OUTCOMES = (
    Outcome.FORELAGGANDE_VITE,
    Outcome.TILLFALLIGT_FORBUD,
    Outcome.FORBUD,
    Outcome.ATERKALLELSE,
)
# Interventions that end a history (tillfälligt förbud too, though it ends): each comes after
# deficiencies and an injunction with vite that were not put right.
STATUS_INTERVENTIONS = (Outcome.ATERKALLELSE, Outcome.FORBUD, Outcome.TILLFALLIGT_FORBUD)
# Homes in Kalmar län and its neighbours for the social worker's path of issue 16 (a girl of 15,
# no serious decision in three years, a requirement still to be met): this many, two in Kalmar.
SHOWCASE_COUNTY = "08"
SHOWCASE_COUNT = 4


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
    # normal, overdue, new, nedlagd, aterkallad, forbud, sis; forbud_upphavt (a prohibition a
    # court overturned), tf_active and tf_ended (a temporary prohibition in force and ended),
    # showcase (the social worker's path: SHOWCASE_COUNTY)
    scenario: str
    municipality: Municipality
    sis_home: SisHome | None = None


@dataclass
class _Visit:
    """One inspection in a facility's history, and what to decide on it."""

    inspected_on: datetime.date
    outcome: str
    decided_on: datetime.date | None = None  # fixed (an intervention's day); else after ``lag``
    follow_up: bool | None = None  # True: follows up the decision before; None: by chance
    lag: tuple[int, int] = (14, 75)  # days from the inspection's last day to the decision
    appeal: str | None = None  # fixed appeal status; else drawn
    prohibition_months: int = 3  # a temporary prohibition's length
    open_requirement: bool = False  # its requirements' days lie ahead


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
        self.findings_by_decision: dict[int, list[Finding]] = {}  # by id() of the decision
        # Which of an area's texts a decision used (AREA_TEXTS), by id() of the decision and
        # area: a follow-up speaks of the same deficiency.
        self.texts_used: dict[tuple[int, str], int] = {}
        # Each facility's deficiencies so far (decision date, area), by id() of the facility.
        self.deficiencies: dict[int, list[tuple[datetime.date, str]]] = defaultdict(list)

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
        # The first 21 go round the län so that even a small demo covers all of them; the
        # showcase homes go to Kalmar län and its neighbours.
        weights = [COUNTY_WEIGHTS.get(code, 100) for code in self.counties]
        showcase_counties = (SHOWCASE_COUNTY, *with_neighbours(SHOWCASE_COUNTY))
        showcases = round_robin = 0
        for index in range(count):
            facility_type = types[index]
            if scenarios[index] == "showcase":
                county = showcase_counties[showcases % len(showcase_counties)]
                showcases += 1
                facility_type = FacilityType.HVB
            elif round_robin < len(self.counties):
                county = self.counties[round_robin]
                round_robin += 1
            else:
                county = rng.choices(self.counties, weights=weights)[0]
            plans.append(
                _Plan(
                    facility_type=facility_type,
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
            ("forbud_upphavt", max(1, round(count * 0.002))),
            ("tf_active", max(1, round(count * 0.002))),
            ("tf_ended", max(1, round(count * 0.002))),
            ("showcase", SHOWCASE_COUNT),
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
                # Short kommun names only (register/data/README.md): no "X kommun".
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
        if plan.scenario in (
            "aterkallad",
            "forbud",
            "forbud_upphavt",
            "tf_active",
            "tf_ended",
            "overdue",
        ):
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

    def care_profile(self, facility_type: str, *, showcase: bool = False) -> dict:
        """Target groups, ages, gender, places and orientation; a showcase home takes girls (or
        all) of 15 and is not protected (it shows in every search)."""
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
                 TargetGroup.VALD_OVERGREPP, TargetGroup.SEXUELLT_BETEENDE,
                 *(() if showcase else (TargetGroup.SKYDD,))),
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
        if showcase:
            gender = rng.choice((Gender.FLICKOR, Gender.ALLA))
            age_from, age_to = rng.choice((12, 13, 14, 15)), rng.choice((17, 18, 20))
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
            profile = self.care_profile(plan.facility_type, showcase=plan.scenario == "showcase")
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
            decision = self.decision(
                facility=facility,
                diarienummer=permit.diarienummer,
                kind=DecisionKind.TILLSTAND,
                decided_on=granted,
                outcome=Outcome.TILLSTAND_BEVILJAT,
                areas=areas,
                reason=InspectionReason.TILLSTANDSPROVNING,
            )
            self.findings(decision, deficient=[], not_met=[], earlier=[])
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
        follows: Decision | None = None,
        reason: str = "",
        children: int | None = None,
        appeal: str | None = None,
        prohibition_months: int = 3,
    ) -> Decision:
        age = (self.today - decided_on).days
        follow_up = FollowUp.INGEN
        drawn_appeal = AppealStatus.EJ_OVERKLAGAT
        if outcome == Outcome.BRISTER:
            follow_up = FollowUp.AVSLUTAD if age > 180 else FollowUp.PLANERAD
        elif outcome in (Outcome.FORELAGGANDE, Outcome.FORELAGGANDE_VITE, Outcome.SANKTIONSAVGIFT):
            follow_up = FollowUp.AVSLUTAD if age > 365 else FollowUp.PAGAR
        elif outcome in (Outcome.ATERKALLELSE, Outcome.FORBUD, Outcome.TILLFALLIGT_FORBUD):
            follow_up = FollowUp.PAGAR
            drawn_appeal = AppealStatus.OVERKLAGAT if age < 300 else AppealStatus.FASTALLT
        if outcome in (Outcome.FORELAGGANDE_VITE, Outcome.SANKTIONSAVGIFT):
            draw = self.rng.random()
            if draw < 0.35:
                drawn_appeal = AppealStatus.OVERKLAGAT if age < 300 else AppealStatus.FASTALLT
            elif draw < 0.45 and age >= 300:
                drawn_appeal = AppealStatus.UPPHAVT
        summary = decision_summary(outcome=outcome, areas=areas)
        if follows is not None:
            summary = FOLLOWS_UP_SUMMARY.format(diarienummer=follows.diarienummer) + summary
            follows.follow_up = FollowUp.AVSLUTAD  # this decision is the follow-up
        decision = Decision(
            diarienummer=diarienummer,
            facility=facility,
            kind=kind,
            decision_date=decided_on,
            outcome=outcome,
            review_areas=sorted(set(areas)),
            summary=summary,
            legal_reference=legal_reference(outcome=outcome, decided_on=decided_on),
            follow_up=follow_up,
            appeal_status=appeal or drawn_appeal,
            follows_up=follows,
            inspection_reason=reason,
            children_talked_with=children,
            prohibition_until=(
                months_after(decided_on, prohibition_months)
                if outcome == Outcome.TILLFALLIGT_FORBUD
                else None
            ),
        )
        self.data.decisions.append(decision)
        self.findings_by_decision[id(decision)] = []
        return decision

    # Findings ------------------------------------------------------------------------------

    def add_finding(self, decision: Decision, area: str, assessment: str, **values) -> Finding:
        finding = Finding(decision=decision, area=area, assessment=assessment, **values)
        self.data.findings.append(finding)
        self.findings_by_decision[id(decision)].append(finding)
        return finding

    def deficient_areas(self, decision: Decision) -> list[str]:
        """The areas (not the follow-up of earlier decisions) where ``decision`` found a
        deficiency, in the order built."""
        return [
            finding.area
            for finding in self.findings_by_decision[id(decision)]
            if finding.assessment in DEFICIENT_ASSESSMENTS
            and finding.area != ReviewArea.UPPFOLJNING_TIDIGARE_BESLUT
        ]

    def findings(
        self,
        decision: Decision,
        *,
        deficient: list[str],
        not_met: list[str],
        earlier: list[str],
        open_requirement: bool = False,
    ) -> None:
        """One finding per area ``decision`` reviewed, consistent with its outcome: the areas in
        ``deficient`` deficient (serious under a vite or an intervention), with a requirement,
        its day and any vite where the outcome asks for one; every other area without a
        deficiency. ``earlier``: the areas found deficient by the decision it follows up, of
        which those in ``not_met`` are deficient again and the rest put right."""
        rng = self.rng
        outcome = decision.outcome
        earlier_decision = decision.follows_up
        followed = earlier_decision.diarienummer if earlier_decision is not None else ""
        for area in decision.review_areas:
            if area == ReviewArea.UPPFOLJNING_TIDIGARE_BESLUT:
                text = FOLLOWED_UP_TEXTS[1 if not_met else 0].format(diarienummer=followed)
                assessment = Assessment.BRIST if not_met else Assessment.INGEN_BRIST
                self.add_finding(decision, area, assessment, observation=text)
                continue
            ok, found, required = AREA_TEXTS[area]
            text = rng.randrange(len(found))
            if area in earlier:  # the same deficiency, put right or not
                text = self.texts_used.get((id(earlier_decision), area), text)
            self.texts_used[id(decision), area] = text
            if area not in deficient:
                prefix = MET_TEXT.format(diarienummer=followed) if area in earlier else ""
                observation = prefix + ok[text]
                self.add_finding(decision, area, Assessment.INGEN_BRIST, observation=observation)
                continue
            serious = outcome in SERIOUS_DEFICIENCY_OUTCOMES or (
                outcome == Outcome.FORELAGGANDE and rng.random() < 0.25
            )
            observation = (
                (NOT_MET_TEXT.format(diarienummer=followed) if area in not_met else "")
                + found[text]
                + (SERIOUS_TEXT if serious else "")
            )
            values: dict = {}
            if outcome in DUE_DAYS and (
                open_requirement
                or outcome != Outcome.BRISTER
                or rng.random() < REQUIREMENT_SHARE_BRISTER
            ):
                due = decision.decision_date + days(rng.randint(*DUE_DAYS[outcome]))
                if open_requirement:  # its day lies ahead
                    due = max(due, self.today + days(rng.randint(21, 100)))
                values = {"requirement": required[text], "due_date": due}
                if outcome == Outcome.FORELAGGANDE_VITE:
                    values["requirement"] += FINE_TEXT
                    start, stop, step = FINE_RANGE
                    values["fine_amount"] = rng.randrange(start, stop + 1, step)
            self.add_finding(
                decision,
                area,
                Assessment.ALLVARLIG_BRIST if serious else Assessment.BRIST,
                observation=observation,
                **values,
            )

    # Supervision ---------------------------------------------------------------------------

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

    def interventions(self, plan: _Plan) -> list[_Visit]:
        """The fixed end of a history that ends in an intervention, or shows a home with an open
        requirement: the visits after the ordinary ones."""
        rng, today = self.rng, self.today
        scenario = plan.scenario
        if scenario in ("aterkallad", "forbud"):
            decided_on = today - days(rng.randint(40, 540))
            outcome = Outcome.ATERKALLELSE if scenario == "aterkallad" else Outcome.FORBUD
            return [_Visit(decided_on - days(rng.randint(20, 60)), outcome, decided_on, True)]
        if scenario == "forbud_upphavt":  # a court overturned the prohibition: still active
            decided_on = today - days(rng.randint(120, 240))
            visit = _Visit(decided_on - days(rng.randint(20, 60)), Outcome.FORBUD, decided_on, True)
            visit.appeal = AppealStatus.UPPHAVT
            return [visit]
        if scenario == "tf_active":  # a temporary prohibition holds today, appealed
            decided_on = today - days(rng.randint(10, 50))
            visit = _Visit(decided_on - days(rng.randint(7, 30)), Outcome.TILLFALLIGT_FORBUD)
            visit.decided_on, visit.follow_up = decided_on, True
            visit.appeal, visit.prohibition_months = AppealStatus.OVERKLAGAT, rng.choice((3, 6))
            return [visit]
        if scenario == "tf_ended":  # a temporary prohibition that ended; then a follow-up
            decided_on = today - days(rng.randint(220, 330))
            visit = _Visit(decided_on - days(rng.randint(7, 30)), Outcome.TILLFALLIGT_FORBUD)
            visit.decided_on, visit.follow_up = decided_on, True
            visit.appeal = rng.choice((AppealStatus.EJ_OVERKLAGAT, AppealStatus.FASTALLT))
            ended = months_after(decided_on, visit.prohibition_months)
            after = _Visit(
                ended + days(rng.randint(10, 40)),
                rng.choice((Outcome.FORELAGGANDE, Outcome.INGA_BRISTER)),
                follow_up=True,
                lag=(14, 40),
            )
            return [visit, after]
        if scenario == "showcase":  # a recent deficiency whose requirement's day lies ahead
            inspected_on = random_date(rng, today - days(100), today - days(45))
            outcome = rng.choice((Outcome.BRISTER, Outcome.FORELAGGANDE))
            return [_Visit(inspected_on, outcome, open_requirement=True, lag=(14, 30))]
        return []

    def visits(self, facility: Facility, plan: _Plan) -> list[_Visit]:
        """Six years of inspections: the ordinary ones, then any fixed end (``interventions``)."""
        rng = self.rng
        ending = self.interventions(plan)
        horizon = self.today - days(1)
        if facility.end_date is not None:
            horizon = facility.end_date - days(90)
        elif plan.scenario == "overdue":
            # The latest inspection lies 13–20 months back (3 kap. 19 § SoF: flagged overdue).
            horizon = self.today - days(rng.randint(395, 600))
        elif plan.scenario == "showcase":
            horizon = ending[0].inspected_on - days(rng.randint(120, 200))
        elif ending:
            horizon = ending[0].inspected_on - days(150)
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

        visits: list[_Visit] = []
        previous = None
        for inspected_on in dates:
            previous = self.ordinary_outcome(previous, mild=plan.scenario in ("sis", "showcase"))
            visits.append(_Visit(inspected_on, previous))
        if ending and ending[0].outcome in STATUS_INTERVENTIONS:
            # Escalation: deficiencies, an injunction with vite not complied with (it follows
            # the deficiencies up), then the intervention (which follows the injunction up).
            for position, outcome in ((-2, Outcome.BRISTER), (-1, Outcome.FORELAGGANDE_VITE)):
                if len(visits) >= -position:
                    visits[position].outcome = outcome
            if visits:
                visits[-1].follow_up = True
        return visits + ending

    def supervise(self, facility: Facility, plan: _Plan) -> None:
        """Six years of inspections, each with its decision (when already decided) and its
        findings; the next inspection after a deficiency mostly follows that decision up, and
        IVO mostly follows up the latest requirements soon after their day."""
        pending: Decision | None = None  # the latest decision with deficiencies not followed up
        latest: datetime.date | None = None  # the latest inspection's last day, when decided
        for visit in self.visits(facility, plan):
            pending, latest = self.inspect(facility, plan, visit, pending)
        if latest is not None and pending is not None:
            visit = self.late_follow_up(facility, plan, pending, after=latest)
            if visit is not None:
                self.inspect(facility, plan, visit, pending)

    def inspect(
        self, facility: Facility, plan: _Plan, visit: _Visit, pending: Decision | None
    ) -> tuple[Decision | None, datetime.date | None]:
        """The inspection and, when already decided, its decision: the decision with
        deficiencies still to follow up afterwards, and the inspection's last day (None while
        its case is open)."""
        rng = self.rng
        last_day = visit.inspected_on + days(rng.choice((0, 0, 1)))
        diarienummer = self.diarienummer(case_class=CLASS_SUPERVISION, year=visit.inspected_on.year)
        self.data.inspections.append(
            Inspection(
                facility=facility,
                diarienummer=diarienummer,
                start_date=visit.inspected_on,
                end_date=last_day,
                announced=rng.random() < 0.6,
            )
        )
        decided_on = visit.decided_on or last_day + days(rng.randint(*visit.lag))
        if decided_on > self.today:
            return pending, None  # the case is still open
        follows = None
        if pending is not None and (
            visit.follow_up or (visit.follow_up is None and rng.random() < FOLLOW_UP_SHARE)
        ):
            follows = pending
        decision = self.supervision_decision(
            facility=facility,
            plan=plan,
            visit=visit,
            diarienummer=diarienummer,
            decided_on=decided_on,
            follows=follows,
        )
        if follows is not None:
            pending = None
        if self.deficient_areas(decision):
            pending = decision
        if decision.outcome in (Outcome.ATERKALLELSE, Outcome.FORBUD) and (
            not decision.is_overturned
        ):
            # What services._apply_status_rule would do with the latest decision (a temporary
            # prohibition leaves the stored status: register.supervision.current_status).
            facility.status = (
                FacilityStatus.ATERKALLAD
                if decision.outcome == Outcome.ATERKALLELSE
                else FacilityStatus.FORBUD
            )
            facility.status_date = decided_on
        return pending, last_day

    def late_follow_up(
        self, facility: Facility, plan: _Plan, pending: Decision, *, after: datetime.date
    ) -> _Visit | None:
        """A follow-up of the latest requirements a few weeks after their day, before the next
        yearly inspection, for most active homes (the rest keep them overdue or open)."""
        rng = self.rng
        if plan.scenario not in ("normal", "new", "sis") or facility.end_date is not None:
            return None
        due = [f.due_date for f in self.findings_by_decision[id(pending)] if f.due_date]
        if not due or rng.random() >= LATE_FOLLOW_UP_SHARE:
            return None
        inspected_on = max(due) + days(rng.randint(7, 45))
        if inspected_on <= after or inspected_on > self.today - days(25):
            return None
        outcome = rng.choices(
            (Outcome.INGA_BRISTER, Outcome.BRISTER, Outcome.FORELAGGANDE), (65, 25, 10)
        )[0]
        return _Visit(inspected_on, outcome, follow_up=True, lag=(10, 24))

    def supervision_decision(
        self,
        *,
        facility: Facility,
        plan: _Plan,
        visit: _Visit,
        diarienummer: str,
        decided_on: datetime.date,
        follows: Decision | None,
    ) -> Decision:
        """A supervision decision with its findings: a follow-up reviews again the areas the
        decision it follows up found deficient and finds each put right (met) or not (not
        met, deficient again: a recurring deficiency), besides a few areas of its own."""
        rng = self.rng
        outcome = visit.outcome
        deficient_outcome = outcome != Outcome.INGA_BRISTER
        earlier = self.deficient_areas(follows) if follows is not None else []
        not_met: list[str] = []
        if (
            earlier
            and deficient_outcome
            and (outcome in SERIOUS_DEFICIENCY_OUTCOMES or rng.random() < NOT_MET_SHARE)
        ):
            not_met = rng.sample(earlier, rng.randint(1, len(earlier)))
        others = [area for area in CORE_AREAS if area not in earlier]
        extra = rng.sample(
            others, min(len(others), rng.randint(0, 2) if follows else rng.randint(2, 4))
        )
        if ReviewArea.BARNS_UPPLEVELSE not in earlier and rng.random() < BARNS_UPPLEVELSE_SHARE:
            extra.insert(rng.randint(0, len(extra)), ReviewArea.BARNS_UPPLEVELSE)
        if plan.scenario == "sis" and ReviewArea.BEGRANSNINGSATGARDER not in earlier:
            extra.append(ReviewArea.BEGRANSNINGSATGARDER)
        # A new deficiency mostly lies where the home had none lately: a recurring deficiency
        # mostly comes from a requirement not met.
        lately = years_before(decided_on, 3)
        recent = [area for day, area in self.deficiencies[id(facility)] if day >= lately]
        extra.sort(key=lambda area: area in recent)
        new: list[str] = []
        if deficient_outcome and not not_met:
            if not extra:
                not_met = earlier[:1]  # nothing else reviewed: the earlier deficiency remains
            new = extra[: rng.choices((1, 2), (75, 25))[0]]
        elif deficient_outcome and extra and rng.random() < 0.2:
            new = extra[:1]
        deficient = not_met + new
        areas = [
            *deficient,
            *(area for area in earlier if area not in deficient),
            *(area for area in extra if area not in deficient),
        ]
        if follows is not None:
            areas.append(ReviewArea.UPPFOLJNING_TIDIGARE_BESLUT)
        if follows is not None:
            reason = InspectionReason.UPPFOLJNING
        elif outcome in STATUS_INTERVENTIONS:
            reason = rng.choice(
                (InspectionReason.KLAGOMAL, InspectionReason.ANMALAN, InspectionReason.INITIATIV)
            )
        else:
            reasons, weights = zip(*INSPECTION_REASONS, strict=True)
            reason = rng.choices(reasons, weights=weights)[0]
        children = None
        talks = ReviewArea.BARNS_UPPLEVELSE in areas
        if talks or rng.random() < CHILDREN_TALKED_WITH_SHARE:
            children = rng.randint(2 if talks else 0, max(3, min(facility.places or 6, 8)))
        decision = self.decision(
            facility=facility,
            diarienummer=diarienummer,
            kind=DecisionKind.TILLSYN,
            decided_on=decided_on,
            outcome=outcome,
            areas=areas,
            follows=follows,
            reason=reason,
            children=children,
            appeal=visit.appeal,
            prohibition_months=visit.prohibition_months,
        )
        self.findings(
            decision,
            deficient=deficient,
            not_met=not_met,
            earlier=earlier,
            open_requirement=visit.open_requirement,
        )
        self.deficiencies[id(facility)].extend((decided_on, area) for area in deficient)
        return decision

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
    queryset = RegisterEvent.objects.filter(facility__facility_id__startswith=DEMO_ID_PREFIX)
    queryset._raw_delete(queryset.db)
    queryset = Finding.objects.filter(decision__facility__facility_id__startswith=DEMO_ID_PREFIX)
    queryset._raw_delete(queryset.db)
    for model in (Decision, Inspection, Manager, Permit, Registration):
        queryset = model.objects.filter(facility__facility_id__startswith=DEMO_ID_PREFIX)
        queryset._raw_delete(queryset.db)
    queryset = Facility.objects.filter(facility_id__startswith=DEMO_ID_PREFIX)
    queryset._raw_delete(queryset.db)
    queryset = Provider.objects.filter(pk__in=demo_provider_pks, facilities__isnull=True)
    queryset._raw_delete(queryset.db)
    history[Finding].objects.filter(
        decision_id__in=history[Decision]
        .objects.filter(facility_id__in=demo_facility_pks)
        .values("id")
    ).delete()
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
    # The derived columns that read findings (unresolved requirements), now that they exist.
    services.refresh_latest([facility.pk for facility in data.facilities])


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
