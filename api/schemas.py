"""The API's resources as pydantic schemas: every response is validated and serialised by its
schema (api/jsonrender.py), so they are what leaves the server as well as the OpenAPI document.
Plain pydantic models: the handlers build dicts, and ninja's ``Schema`` reads each field through
a getter made for ORM objects. Field names are snake_case throughout (DIGG AME.04–05);
dates are RFC 3339 full-date, times RFC 3339 date-time with offset."""

import datetime
import re
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel as Schema
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value):
    """Pydantic also reads a date from a number of seconds or days since 1970 (``0`` is
    1970-01-01) and from a date-time: a parameter takes an ISO date, YYYY-MM-DD, and only that."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value  # parsed, and a month 13 refused, by pydantic
    raise PydanticCustomError("date_parsing", "Input should be a valid date in YYYY-MM-DD format")


# A date in a query parameter (api/endpoints.py): every one is declared with this type.
IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date_only)]


class ProblemError(Schema):
    parameter: str = Field(examples=["limit"])
    detail: str = Field(examples=["Värdet får vara högst 1000."])


class Problem(Schema):
    """RFC 9457 problem details, with a machine-readable code and Swedish text."""

    type: str = Field(examples=["https://hvb-registret.ivo.se/api/v1/problem-types#finns-inte"])
    title: str = Field(examples=["Resursen finns inte"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["Verksamheten finns inte i registret."])
    instance: str = Field(examples=["/api/v1/facilities/X-1"])
    code: str = Field(examples=["finns-inte"])
    errors: list[ProblemError] | None = None


class ProblemTypeOut(Schema):
    code: str = Field(examples=["token-har-gatt-ut"])
    status: int = Field(examples=[401])
    title: str = Field(examples=["API-nyckeln har gått ut"])


class ApiInfo(Schema):
    api_name: str = Field(examples=["HVB-registret"])
    api_version: str = Field(examples=["1.0.0"])
    api_released: datetime.date
    api_status: str = Field(examples=["active"])
    api_documentation: str = Field(examples=["https://hvb-registret.ivo.se/api/v1/docs"])
    api_specification: str = Field(examples=["https://hvb-registret.ivo.se/api/v1/openapi.json"])
    open_data: bool = Field(description="Offentliga resurser kan läsas utan nyckel.")
    rate_limit_per_minute: int = Field(examples=[120])
    max_limit: int = Field(examples=[1000])
    licence: str = Field(examples=["http://creativecommons.org/licenses/by/4.0/"])


class Place(Schema):
    code: str = Field(examples=["0880"])
    name: str = Field(examples=["Kalmar"])


class ProviderRef(Schema):
    provider_id: UUID
    name: str = Field(
        examples=["Testomsorg AB"],
        description="En enskild näringsidkares namn är en personuppgift och visas bara enligt "
        "utlämnandepolicyn; annars 'Enskild näringsidkare' och withheld = true.",
    )
    organisation_number: str | None = Field(examples=["559000-0001"])
    ownership: str = Field(examples=["enskild"])
    is_sole_trader: bool
    withheld: bool


class Marking(Schema):
    """The marking of the latest decision: severity, symbol and text always together."""

    severity: str = Field(examples=["attention"])
    symbol: str = Field(examples=["!"])
    colour: str = Field(examples=["amber"])
    label: str = Field(examples=["Brister konstaterade"])


class LatestDecision(Schema):
    diarienummer: str = Field(examples=["3.2.2-13748/2022"])
    decision_date: datetime.date
    outcome: str = Field(examples=["brister"])
    appeal_status: str = Field(examples=["ej_overklagat"])


class Facility(Schema):
    facility_id: str = Field(examples=["K0880-001"])
    name: str = Field(examples=["Ängsgården"])
    facility_type: str = Field(examples=["hvb"])
    status: str = Field(
        examples=["aktiv"],
        description="Status i dag (kodlistan facility_status): tillfalligt_forbud medan ett "
        "tillfälligt förbud gäller, sedan den status verksamheten hade före förbudet.",
    )
    temporary_prohibition_until: datetime.date | None = Field(
        description="Sista dagen för det tillfälliga förbud som gäller i dag; null när inget "
        "gäller."
    )
    status_date: datetime.date | None
    municipality: Place
    county: Place
    provider: ProviderRef
    target_groups: list[str] = Field(examples=[["npf", "psykisk_ohalsa"]])
    age_from: int | None = Field(examples=[13])
    age_to: int | None = Field(examples=[17])
    gender: str | None = Field(examples=["alla"])
    places: int = Field(examples=[6])
    start_date: datetime.date | None
    end_date: datetime.date | None
    latest_decision: LatestDecision | None
    marking: Marking | None
    last_inspection_date: datetime.date | None
    unresolved_requirements: int = Field(
        examples=[2],
        description="Antal krav som ännu inte följts upp (öppna eller försenade), i beslut som "
        "ingen domstol har upphävt.",
    )
    inspection_overdue: bool = Field(
        description="Ingen inspektion på över 12 månader (3 kap. 19 § SoF), beräknat i dag."
    )
    protected: bool = Field(
        description=(
            "Skyddat boende: uppgifterna får inte spridas. Skyddade boenden visas bara för "
            "kommunernas system, och varje visning loggas."
        )
    )
    updated_at: datetime.datetime


class FacilityPage(Schema):
    total: int = Field(examples=[1])
    limit: int = Field(examples=[20])
    offset: int = Field(examples=[0])
    items: list[Facility]


REQUIREMENT_STATE = (
    "Kravets läge i dag (kodlistan requirement_state), härlett och aldrig satt för hand: open "
    "(dagen har inte kommit), overdue (dagen har passerat och inget senare beslut har följt upp "
    "det), met (ett beslut som följer upp detta fann ingen brist i samma område), not_met (det "
    "fann en brist där igen). null när IVO inte ställde något krav."
)


class DecisionFinding(Schema):
    """What IVO found in one area the decision reviewed and, where it found a deficiency, what
    the provider must do, by when, and any vite. Public text."""

    area: str = Field(
        examples=["trygghet_sakerhet"], description="Granskat område (kodlistan review_area)."
    )
    assessment: str = Field(
        examples=["brist"],
        description="IVO:s bedömning i området (kodlistan assessment): ingen_brist, brist eller "
        "allvarlig_brist.",
    )
    observation: str = Field(description="Vad IVO såg (offentlig text).")
    requirement: str = Field(
        description="Vad verksamheten ska göra; tom när IVO inte ställde något krav."
    )
    due_date: datetime.date | None = Field(
        description="Dagen då kravet ska vara uppfyllt eller redovisat."
    )
    fine_amount: int | None = Field(
        examples=[50000], description="Vite i kronor, vid ett föreläggande med vite."
    )
    requirement_state: str | None = Field(examples=["open"], description=REQUIREMENT_STATE)


class Decision(Schema):
    diarienummer: str = Field(examples=["3.2.2-13748/2022"])
    facility_id: str = Field(examples=["K0880-001"])
    kind: str = Field(examples=["tillsyn"])
    decision_date: datetime.date
    outcome: str = Field(examples=["brister"])
    review_areas: list[str] = Field(examples=[["trygghet_sakerhet"]])
    summary: str
    legal_reference: str = Field(
        examples=["26 kap. 1 § socialtjänstlagen (2025:400)"],
        description="Lagrum med lagens SFS-nummer: äldre beslut hänvisar till SoL (2001:453).",
    )
    follow_up: str = Field(examples=["ingen"])
    appeal_status: str = Field(
        examples=["ej_overklagat"],
        description="Om beslutet överklagats och hur det slutade (kodlistan appeal_status). Ett "
        "beslut som domstolen upphävt (upphavt) ändrar ingen status.",
    )
    follows_up_diarienummer: str | None = Field(
        examples=["3.2.2-1201/2023"],
        description="Diarienumret för det tidigare beslut om samma verksamhet som detta beslut "
        "följer upp.",
    )
    inspection_reason: str | None = Field(
        examples=["frekvenstillsyn"],
        description="Varför inspektionen bakom beslutet gjordes (kodlistan inspection_reason).",
    )
    children_talked_with: int | None = Field(
        examples=[4], description="Hur många barn och unga IVO talade med."
    )
    prohibition_until: datetime.date | None = Field(
        description="Sista dagen för ett tillfälligt förbud (utfallet tillfalligt_forbud)."
    )
    marking: Marking
    findings: list[DecisionFinding] = Field(
        description="Iakttagelser och krav, ett per granskat område."
    )
    updated_at: datetime.datetime


class DecisionPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[Decision]


class Finding(DecisionFinding):
    """A finding with its decision: the findings list."""

    diarienummer: str = Field(examples=["3.2.2-13748/2022"], description="Beslutets diarienummer.")
    facility_id: str = Field(examples=["K0880-001"], description="Verksamhetens id.")
    decision_date: datetime.date = Field(description="Beslutets datum.")
    updated_at: datetime.datetime = Field(description="När iakttagelsen senast ändrades.")


class FindingPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[Finding]


class Inspection(Schema):
    diarienummer: str = Field(examples=["3.2.2-1001/2024"])
    facility_id: str = Field(examples=["K0880-001"])
    start_date: datetime.date
    end_date: datetime.date | None
    announced: bool | None
    updated_at: datetime.datetime


class InspectionPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[Inspection]


class Manager(Schema):
    """The current manager: personal data, given only by the disclosure policy."""

    withheld: bool
    name: str
    email: str
    phone: str


class Address(Schema):
    """Where the home is run (besöksadress): given as personal data is, by the disclosure
    policy (proposed 4 kap. 3 a § SoF), and logged."""

    withheld: bool
    street_address: str
    postal_code: str
    postal_town: str


class Requirement(Schema):
    """A requirement (krav) of a decision, with its state today."""

    diarienummer: str = Field(examples=["3.2.2-13748/2022"], description="Beslutets diarienummer.")
    decision_date: datetime.date
    area: str = Field(examples=["trygghet_sakerhet"], description="Område (kodlistan review_area).")
    requirement: str = Field(description="Vad verksamheten ska göra.")
    due_date: datetime.date | None = Field(description="Senast detta datum.")
    state: str = Field(examples=["overdue"], description=REQUIREMENT_STATE)


class RecurringDeficiency(Schema):
    area: str = Field(examples=["dokumentation"], description="Område (kodlistan review_area).")
    decisions: list[str] = Field(
        examples=[["3.2.2-1201/2023", "3.2.2-13748/2025"]],
        description="Diarienumren för besluten som fann brist i området, äldst först.",
    )


class LatestInspection(Schema):
    diarienummer: str = Field(examples=["3.2.2-13748/2022"], description="Beslutets diarienummer.")
    decision_date: datetime.date
    inspection_reason: str | None = Field(
        examples=["frekvenstillsyn"], description="Kodlistan inspection_reason."
    )
    children_talked_with: int | None = Field(examples=[4])


class Supervision(Schema):
    """What supervision found, derived from the decisions and their findings (never stored)."""

    open_requirements: list[Requirement] = Field(
        description="Krav vars dag inte har kommit och som inte följts upp, tidigast först. "
        "Krav i beslut som domstolen upphävt räknas inte."
    )
    overdue_requirements: list[Requirement] = Field(
        description="Krav vars dag har passerat utan att ett senare beslut följt upp dem."
    )
    recurring_deficiencies: list[RecurringDeficiency] = Field(
        description="Återkommande brister: samma område med brist i två beslut inom tre år, "
        "där den senaste är högst tre år gammal."
    )
    latest_inspection: LatestInspection | None = Field(
        description="Det senaste beslut som anger inspektionens anledning eller hur många barn "
        "IVO talade med."
    )


class FacilityDetail(Facility):
    orientation: str
    summary: str
    manager: Manager | None
    address: Address | None
    supervision: Supervision
    decisions: list[Decision]
    inspections: list[Inspection]


class Provider(ProviderRef):
    pass


class ProviderPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[Provider]


class ProviderDetail(ProviderRef):
    facilities: list[Facility]


class County(Schema):
    code: str = Field(examples=["08"])
    name: str = Field(examples=["Kalmar län"])
    letter: str = Field(examples=["H"])


class Municipality(Schema):
    code: str = Field(examples=["0880"])
    name: str = Field(examples=["Kalmar"])
    county_code: str = Field(examples=["08"])


class Code(Schema):
    code: str = Field(examples=["brister"])
    label: str = Field(examples=["Brister konstaterade"])
    marking: Marking | None = None


class CodeList(Schema):
    name: str = Field(examples=["outcome"])
    codes: list[Code]


class Change(Schema):
    cursor: str = Field(examples=["0-1532"])
    resource: str = Field(examples=["facility"])
    resource_id: str = Field(examples=["K0880-001"])
    operation: str = Field(examples=["changed"])
    changed_at: datetime.datetime
    url: str = Field(
        examples=["/api/v1/facilities/K0880-001"],
        description="Var resursen hämtas (404 när den är borttagen).",
    )


class ChangePage(Schema):
    items: list[Change]
    next_cursor: str = Field(examples=["0-1532"])
    has_more: bool


class AccessEventOut(Schema):
    at: datetime.datetime
    client: str = Field(examples=["api-klient-3f1c…"])
    action: str = Field(examples=["facility_view"])
    object_type: str
    object_id: str
    fields: str


class AccessEventPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[AccessEventOut]


# Watches and notifications (the alerts app, through the API) -----------------------------------

WATCH_KIND_DESCRIPTION = (
    "Vad som bevakas: `facility` (en verksamhet, med dess id), `provider` (en huvudman och alla "
    "dess verksamheter, med huvudmannens id), `municipality` (nya verksamheter och allvarliga "
    "händelser i en kommun, med kommunkoden) eller `county` (detsamma i ett län, med länskoden)."
)


class WatchIn(Schema):
    """A watch to make for the key's own client."""

    kind: Literal["facility", "provider", "municipality", "county"] = Field(
        description=WATCH_KIND_DESCRIPTION, examples=["facility"]
    )
    target: str = Field(
        min_length=1,
        max_length=36,
        pattern=r"^[A-Za-z0-9-]+$",
        description="Verksamhetens id, huvudmannens id (UUID), kommunkoden (fyra siffror) "
        "eller länskoden (två siffror).",
        examples=["K0880-001"],
    )


class WatchOut(Schema):
    id: UUID = Field(description="Bevakningens id; används för att ta bort den.")
    kind: str = Field(description=WATCH_KIND_DESCRIPTION, examples=["facility"])
    target: str = Field(
        description="Verksamhetens id, huvudmannens id, kommunkoden eller länskoden.",
        examples=["K0880-001"],
    )
    created_at: datetime.datetime = Field(description="När bevakningen lades till.")


class WatchPage(Schema):
    total: int
    limit: int
    offset: int
    items: list[WatchOut]


class NotificationDetails(Schema):
    """The event's public facts: codes and dates, never anything about a person or a child."""

    diarienummer: str | None = Field(None, examples=["3.2.2-13748/2022"])
    outcome: str | None = Field(None, description="Beslutets utfall (kodlistan outcome).")
    appeal_status: str | None = Field(None, examples=["fastallt"])
    status_before: str | None = Field(None, description="Status före ändringen.")
    status: str | None = Field(None, description="Status efter ändringen.", examples=["forbud"])
    area: str | None = Field(None, description="Området för ett försenat krav (review_area).")
    due_date: datetime.date | None = Field(
        None, description="Dagen då kravet skulle vara åtgärdat."
    )
    last_inspection: datetime.date | None = Field(
        None, description="Senaste inspektionen, för en försenad inspektion (tom: ingen)."
    )


class Notification(Schema):
    cursor: str = Field(examples=["0-1532"])
    kind: str = Field(
        description="Händelsen: facility_created, decision, requirement_overdue, "
        "status_changed, appeal_decided, provider_changed, manager_changed eller "
        "inspection_overdue.",
        examples=["decision"],
    )
    kind_label: str = Field(examples=["Nytt beslut"])
    serious: bool = Field(description="Allvarlig enligt märkningens svårighetsgrad.")
    occurred_on: datetime.date
    recorded_at: datetime.datetime = Field(description="När händelsen registrerades.")
    facility_id: str = Field(examples=["K0880-001"])
    facility_name: str = Field(examples=["Testgården"])
    protected: bool = Field(description="Ett skyddat boende (varje visning loggas).")
    marking: Marking | None = Field(
        None, description="Beslutets märkning, för ett nytt beslut och ett avgjort överklagande."
    )
    deficient_areas: list[str] = Field(
        description="Områden med brist i ett nytt beslut (review_area), när iakttagelserna finns.",
        examples=[["trygghet_sakerhet"]],
    )
    details: NotificationDetails
    provider: ProviderRef | None = Field(
        None,
        description="Den nya huvudmannen, för provider_changed; en enskild näringsidkares namn "
        "och nummer bara enligt utlämnandepolicyn.",
    )
    url: str = Field(examples=["/api/v1/facilities/K0880-001"])


class NotificationPage(Schema):
    items: list[Notification]
    next_cursor: str = Field(examples=["0-1532"])
    has_more: bool


# --- statistics (stats/export.py writes the shape; issue 20) ---


class StatisticsTopic(Schema):
    slug: str = Field(examples=["brister"])
    title: str = Field(examples=["Brister"])


class StatisticsLinks(Schema):
    api: str = Field(examples=["https://hvb-registret.ivo.se/api/v1/statistics/requirements"])
    page: str = Field(examples=["https://hvb-registret.ivo.se/statistik/krav/"])
    open_data_csv: str = Field(
        examples=["https://hvb-registret.ivo.se/oppna-data/statistik-requirements.csv"],
        description="Hela landet de senaste tio åren som CSV (öppna data).",
    )
    open_data_json: str = Field(
        examples=["https://hvb-registret.ivo.se/oppna-data/statistik-requirements.json"],
        description="Hela landet de senaste tio åren som JSON (öppna data).",
    )


class StatisticsItem(Schema):
    key: str = Field(examples=["inspections-with-deficiencies"])
    title: str = Field(examples=["Inspektioner med brister"])
    topic: StatisticsTopic
    links: StatisticsLinks


class StatisticsColumn(Schema):
    key: str = Field(examples=["share"])
    label: str = Field(examples=["Andel med brister"])
    kind: Literal["count", "places", "share", "rate", "days"] = Field(
        description="count: ett antal; places: platser; share: en andel 0–1; rate: per 100 "
        "boenden; days: dagar."
    )
    base_label: str | None = Field(
        examples=["tillsynsbeslut"],
        description="För en andel eller ett antal per 100: vad underlaget (base) räknar.",
    )


class StatisticsValue(Schema):
    value: int | float | None = Field(
        examples=[0.3125],
        description="null när värdet är dolt (färre än 5 boenden) eller inte kan räknas ut.",
    )
    base: int | None = Field(
        examples=[32], description="Antalet bakom en andel eller ett antal per 100."
    )
    suppressed: bool = Field(description="Dolt: bygger på färre än 5 boenden.")


class StatisticsRow(Schema):
    key: str = Field(
        examples=["2025"], description="Ett år, en länskod (total: hela landet) eller en kod."
    )
    label: str = Field(examples=["2025"])
    values: dict[str, StatisticsValue] = Field(description="Per kolumnens key.")


class StatisticsFilters(Schema):
    from_year: int = Field(examples=[2021])
    to_year: int = Field(examples=[2025])
    county: str | None = Field(examples=["08"])
    facility_type: str | None = Field(examples=["hvb"])


class StatisticsFigure(Schema):
    key: str = Field(examples=["inspections-with-deficiencies"])
    title: str = Field(examples=["Inspektioner med brister"])
    summary: str = Field(examples=["Andelen inspektioner med brister var 31 % 2025."])
    row_heading: str = Field(examples=["År"])
    columns: list[StatisticsColumn]
    rows: list[StatisticsRow]
    notes: list[str] = Field(examples=[["– : färre än 5 boenden, dolt."]])
    filters: StatisticsFilters
