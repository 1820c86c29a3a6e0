"""``/api/v1``: the register for the municipalities' own systems (django-ninja, DIGG's REST API
profile). Handlers stay thin: parse, call one selector, build what may be shown through the
disclosure policy, log the access as the portal does, render.

Answers are built as plain dicts from the selector's rows and leave through their output schema
(api/jsonrender.py): the schemas in api/schemas.py are the whitelist of what is sent, and
schemathesis checks every response against the published OpenAPI document.
"""

import datetime
import hashlib
import logging
import re
from dataclasses import asdict
from functools import lru_cache
from typing import Annotated, Literal
from urllib.parse import unquote_plus
from uuid import UUID

from django.conf import settings
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import StringConstraints

from access import log
from access.disclosure import (
    address_facts,
    manager_facts,
    may_see_protected_homes,
    provider_facts,
    record_protected_views,
)
from access.models import AccessEvent
from access.roles import Role
from alerts.models import Watch
from alerts.services import watch_add, watch_remove
from api import changes as change_feed
from api import notifications as notification_feed
from api import schemas
from api.auth import BearerToken, ClientRateThrottle, query_deadline, query_deadline_lifted
from api.docs import SiteDocs
from api.jsonrender import Renderer, schema_response
from api.models import ApiClient, ChangeEvent
from api.opendata import (
    DECISION_COLUMNS,
    FINDING_COLUMNS,
    INSPECTION_COLUMNS,
    statistics_files,
)
from api.problems import (
    PROBLEM_TYPES,
    ApiProblem,
    method_not_allowed,
    not_found,
    problem_response,
    validation_problem,
)
from config.replicas import pin_after
from register import codes, selectors, validation
from register.counties import with_neighbours
from register.models import (
    County,
    Decision,
    Facility,
    Finding,
    Inspection,
    Municipality,
    Provider,
    RegisterEvent,
    protected_condition,
)
from register.supervision import Requirement, Supervision, supervision_of
from stats import figures
from stats.export import figure_json

logger = logging.getLogger(__name__)

API_VERSION = "1.0.0"
API_RELEASED = datetime.date(2026, 11, 23)
MAX_LIMIT = 1000
# Far beyond any list here, and well inside a 64-bit OFFSET on both databases.
MAX_OFFSET = 10_000_000

PUBLIC = BearerToken(public=True)
TOKEN_ONLY = BearerToken(public=False)
# Operations open without a token while API_OPEN_DATA is on (the access matrix test reads this).
PUBLIC_OPERATIONS: set[str] = set()

DESCRIPTION = """
Registret över HVB, stödboenden och särskilda ungdomshem för kommunernas egna system.
Följer DIGG:s REST API-profil.

**Nycklar.** IVO registrerar en API-klient per kommunsystem och ger ut en nyckel som visas en
gång. Skicka den som `Authorization: Bearer hvb_…`. Nycklar går ut och kan återkallas. De offentliga
resurserna (utan personuppgifter) kan också läsas utan nyckel när öppna data är påslaget.
Personuppgifter (föreståndarens kontaktuppgifter, en enskild näringsidkares namn) lämnas bara
enligt utlämnandepolicyn, och varje åtkomst loggas. Skyddade boenden (målgruppen skydd eller
markerade av IVO) visas bara med en kommuns nyckel, och varje visning loggas.

**Sidor.** Listor tar `limit` (1–1000, standard 20) och `offset`; svaret har `total`. En större
`limit` avvisas med 422 och koden `ogiltig-parameter`.

**Fel** är `application/problem+json` (RFC 9457) med `code` och svensk `title`/`detail`; alla
koder finns på `/api/v1/problem-types`. 401: `token-saknas`, `ogiltig-token`, `okand-token`,
`token-har-gatt-ut`, `token-aterkallad`. 403: `fel-kommun`. 404: `finns-inte`.
405: `metod-ej-tillaten`. 422: `ogiltig-parameter` (också för en markör av fel form och en
kropp som inte är JSON). 429: `for-manga-anrop` med `Retry-After`. 503: `tidsgrans` när en
fråga tar mer än en sekund.

**Ändringar.** `/api/v1/changes?since=<markör>` listar varje skapad, ändrad eller borttagen
verksamhet, huvudman, beslut och inspektion i ordning, med nästa markör. En iakttagelse eller
ett krav som skapas, ändras eller tas bort anges som en ändring av sitt beslut (och dess
verksamhet och huvudman). Börja utan markör och spara `next_cursor`; ingen ändring missas
eller räknas två gånger. Flödet med nyckel och flödet utan nyckel numreras var för sig: använd
markören från det flöde du läser. Enskilda resurser har `ETag`; skicka `If-None-Match` för 304.

**Bevakningar.** `GET /api/v1/watches` listar klientens egna bevakningar. `POST
/api/v1/watches` med `{"kind": "facility", "target": "K0880-001"}` lägger till en: `facility`
med verksamhetens id, `provider` med huvudmannens id (alla dess verksamheter, också framtida),
`municipality` med kommunkoden och `county` med länskoden (nya verksamheter och allvarliga
händelser där). 201 för en ny bevakning, 200 när den redan fanns; ett id som inte finns ger 404.
`DELETE /api/v1/watches/{id}` tar bort en (204). `GET /api/v1/notifications?since=<markör>`
listar i ordning händelserna som når någon av kommunens bevakningar, användarnas i tjänsten och
klientens egna, med en markör som ändringsflödets. En bevakning når bara händelser som
registrerats efter att den lades till; ett skyddat boendes händelser når bara den som bevakar
just det boendet. Händelserna har inga personuppgifter och inget om något barn: en ny
föreståndare anges bara som att verksamheten har fått en, en ny huvudman som är enskild
näringsidkare bara enligt utlämnandepolicyn. Bara med nyckel.

**Statistik.** `GET /api/v1/statistics` listar tabellerna över tillsynen, med länkar till
statistiksidorna och till öppna data (hela landet de senaste tio åren som CSV och JSON).
`GET /api/v1/statistics/{figure_key}` ger en tabell för en period (`from_year`–`to_year`, från
2000 till i år, högst 20 år), ett län (`county`) och en typ (`facility_type`). Andelar är tal
mellan 0 och 1, och en andel eller ett antal per 100 boenden har sitt underlag (`base`). En cell
som bygger på färre än 5 boenden är dold: `value` och `base` är null och `suppressed` true.
Skyddade boenden räknas bara i antalet boenden och platser i ett helt län och i hela landet.
Läses utan nyckel när öppna data är påslaget.

**Tider** är RFC 3339. `inspection_overdue`, `status` (ett tillfälligt förbud gäller till och
med sin sista dag) och kravens läge (`requirement_state`) beräknas mot dagens datum.
"""


class Api(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        response["content"] = {
                            "application/problem+json": content["application/json"]
                        }
                if operation.get("operationId") in PUBLIC_OPERATIONS:
                    # Open without a token while open data is on; a token may still be sent.
                    operation["security"] = [{}, *operation.get("security", [])]
                for parameter in operation.get("parameters", []):
                    if parameter.get("in") in ("query", "path"):
                        _no_nul(parameter.get("schema", {}))
        return schema


def _no_nul(schema: dict) -> None:
    """Free-text parameters documented as refusing NUL, as ``_refuse_nul_characters`` does."""
    for option in schema.get("anyOf", []):
        _no_nul(option)
    if schema.get("type") == "array":
        _no_nul(schema.get("items", {}))
    elif schema.get("type") == "string" and not {"pattern", "enum", "format"} & schema.keys():
        schema["pattern"] = NO_NUL_PATTERN


NO_NUL_PATTERN = "^[^\\x00]*$"


api = Api(
    title="HVB-registret",
    version=API_VERSION,
    description=DESCRIPTION,
    urls_namespace="api",
    # Our own page in the site's design, drawn from the OpenAPI document (api/docs.py).
    docs=SiteDocs(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    renderer=Renderer(),
    throttle=[ClientRateThrottle()],
)


def _interactive(handler):
    """Every operation's queries stop after API_QUERY_TIMEOUT_MS (api/auth.py)."""
    from functools import wraps

    @wraps(handler)
    def wrapper(request, *args, **kwargs):
        _refuse_nul_characters(request, kwargs)
        with query_deadline():
            return handler(request, *args, **kwargs)

    return wrapper


def _refuse_nul_characters(request, path_values: dict) -> None:
    """A NUL character in a parameter is refused as invalid: no text in the register holds one,
    and PostgreSQL refuses it in a query (a 500 before; schemathesis found it)."""
    values = [(name, value) for name, listed in request.GET.lists() for value in listed]
    values += [(name, value) for name, value in path_values.items() if isinstance(value, str)]
    names = sorted({name for name, value in values if "\x00" in value})
    if names:
        errors = [
            {"parameter": name, "detail": _("Får inte innehålla nolltecken (NUL).")}
            for name in names
        ]
        raise ApiProblem(
            "ogiltig-parameter",
            "; ".join(f"{error['parameter']}: {error['detail']}" for error in errors),
            errors=errors,
        )


api.add_decorator(_interactive)


# --- errors: every one as problem+json ---


@api.exception_handler(ApiProblem)
def _problem(request, exc):
    return problem_response(request, exc)


@api.exception_handler(NinjaValidationError)
def _validation(request, exc):
    return problem_response(request, validation_problem(exc.errors))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem_response(request, not_found())


@api.exception_handler(Throttled)
def _throttled(request, exc):
    seconds = max(1, int(exc.wait or 1) + (1 if exc.wait and exc.wait % 1 else 0))
    return problem_response(
        request,
        ApiProblem(
            "for-manga-anrop",
            _("Högst %(limit)s anrop i minuten. Försök igen om %(seconds)s s.")
            % {"limit": settings.API_RATE_LIMIT_PER_MINUTE, "seconds": seconds},
            headers={"Retry-After": str(seconds)},
        ),
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem_response(request, ApiProblem("token-saknas", _("Ange en API-nyckel.")))


@api.exception_handler(HttpError)
def _http_error(request, exc):
    if exc.status_code == 405:
        return problem_response(request, method_not_allowed(request.method))
    if exc.status_code == 400:  # ninja's: a request body that is not JSON
        return problem_response(
            request,
            ApiProblem(
                "ogiltig-parameter",
                _("body: Ange ett JSON-objekt."),
                errors=[{"parameter": "body", "detail": _("Ange ett JSON-objekt.")}],
            ),
        )
    return problem_response(request, ApiProblem("serverfel", str(exc)))


@api.exception_handler(Exception)
def _server_error(request, exc):
    logger.exception("API error", exc_info=exc)
    return problem_response(
        request, ApiProblem("serverfel", _("Ett internt fel uppstod. Felet är loggat."))
    )


ERRORS = {401: schemas.Problem, 422: schemas.Problem, 429: schemas.Problem, 503: schemas.Problem}


def _get(path: str, response, *, auth=PUBLIC, **kwargs):
    """A GET operation with the documented problem responses; ``auth=PUBLIC`` ones are open
    without a token while API_OPEN_DATA is on."""

    def decorator(handler):
        if auth is PUBLIC:
            PUBLIC_OPERATIONS.add(f"api_endpoints_{handler.__name__}")
        responses = {200: response, **ERRORS}
        if auth is TOKEN_ONLY and kwargs.pop("other_municipality_refused", True):
            responses[403] = schemas.Problem
        responses.update(kwargs.pop("extra_responses", {}))
        return api.get(path, response=responses, auth=auth, **kwargs)(handler)

    return decorator


# --- building what may be shown ---


def _marking(outcome: str, appeal_status: str) -> dict:
    return _marking_in(outcome, appeal_status, get_language())


@lru_cache(maxsize=256)
def _marking_in(outcome: str, appeal_status: str, language: str) -> dict:
    """The marking's code, colour and label in the active language (the same few dozen on every
    page: built once per process). Shared: never change the dict returned."""
    marking = codes.marking_for(outcome, appeal_status)
    return {key: str(value) for key, value in asdict(marking).items()}


def facility_item(facility: Facility, request: HttpRequest) -> dict:
    """A facility of the search or a provider's list: public facts, marking, overdue flag; the
    provider through the disclosure policy."""
    return _with_provider(_public_facility(facility), facility.provider, request)


def _with_provider(public: dict, provider: Provider, request: HttpRequest) -> dict:
    """The item with its provider as the disclosure policy gives it to this request."""
    return {**public, "provider": _provider_ref(provider_facts(provider, request=request))}


def _public_facility(facility: Facility) -> dict:
    """The facility's facts that are the same for every viewer (the provider is left to
    ``_with_provider``)."""
    municipality = facility.municipality
    latest = None
    if facility.latest_outcome:
        latest = {
            "diarienummer": facility.latest_decision_diarienummer,
            "decision_date": facility.latest_decision_date,
            "outcome": facility.latest_outcome,
            "appeal_status": facility.latest_appeal_status,
        }
    return {
        "facility_id": facility.facility_id,
        "name": facility.name,
        "facility_type": facility.facility_type,
        # The status today (a temporary prohibition holds until its last day).
        "status": facility.current_status,
        "temporary_prohibition_until": facility.temporary_prohibition_until
        if facility.current_status == codes.FacilityStatus.TILLFALLIGT_FORBUD
        else None,
        "status_date": facility.status_date,
        "municipality": {"code": municipality.code, "name": municipality.name},
        "county": {"code": municipality.county.code, "name": municipality.county.name},
        "provider": None,
        "target_groups": list(facility.target_groups),
        "age_from": facility.age_from,
        "age_to": facility.age_to,
        "gender": facility.gender or None,
        "places": facility.places,
        "start_date": facility.start_date,
        "end_date": facility.end_date,
        "latest_decision": latest,
        "marking": _marking(facility.latest_outcome, facility.latest_appeal_status)
        if facility.latest_outcome
        else None,
        "last_inspection_date": facility.last_inspection_date,
        "unresolved_requirements": facility.unresolved_requirements,
        "inspection_overdue": bool(facility.inspection_overdue),
        "protected": facility.is_protected,
        "updated_at": facility.updated_at,
    }


def _provider_ref(provider) -> dict:
    return {
        "provider_id": provider.public_id,
        "name": provider.name,
        "organisation_number": provider.organisation_number or None,
        "ownership": provider.ownership,
        "is_sole_trader": provider.is_sole_trader,
        "withheld": provider.withheld,
    }


DECISION_FIELDS = (*DECISION_COLUMNS, "updated_at")
# The decision's own columns (the diarienummer it follows up is its follows_up's).
DECISION_MODEL_FIELDS = tuple(f for f in DECISION_FIELDS if f != "follows_up_diarienummer")
# The finding's own columns (its requirement's state is derived).
FINDING_MODEL_FIELDS = tuple(f for f in FINDING_COLUMNS if f != "requirement_state")
INSPECTION_FIELDS = (*INSPECTION_COLUMNS, "updated_at")
_AREA_ORDER = {area: index for index, area in enumerate(codes.ReviewArea.values)}


def decision_item(row: dict, findings: list[dict]) -> dict:
    """A decision's public facts with its findings (``finding_item``s, in the code list's order
    of areas)."""
    item = {field: row[field] for field in DECISION_FIELDS}
    item["facility_id"] = row["facility_code"]
    item["review_areas"] = list(row["review_areas"])
    item["inspection_reason"] = row["inspection_reason"] or None
    item["marking"] = _marking(row["outcome"], row["appeal_status"])
    item["findings"] = sorted(findings, key=lambda finding: _AREA_ORDER[finding["area"]])
    return item


def finding_item(row: dict) -> dict:
    """One finding as a decision carries it: what IVO found in the area, the requirement, its
    day, the vite and the requirement's state today."""
    return {field: row[field] for field in FINDING_COLUMNS}


def _findings_of(decision_ids: list[int], today: datetime.date) -> dict[int, list[dict]]:
    """The findings of a page of decisions, with their requirements' states: one query."""
    found: dict[int, list[dict]] = {pk: [] for pk in decision_ids}
    rows = selectors.findings_with_state(
        Finding.objects.filter(decision_id__in=decision_ids), today=today
    ).values(*FINDING_COLUMNS, "decision_id")
    for row in rows:
        found[row["decision_id"]].append(finding_item(row))
    return found


def inspection_item(row: dict) -> dict:
    item = {field: row[field] for field in INSPECTION_FIELDS}
    item["facility_id"] = row["facility_code"]
    return item


def _page(queryset, limit: int, offset: int) -> tuple[int, list]:
    """The number of matches and one page of them."""
    rows = list(queryset[offset : offset + limit])
    # A first page that is not full holds every match: no count needed.
    total = len(rows) if offset == 0 and len(rows) < limit else queryset.count()
    return total, rows


def _with_etag(request: HttpRequest, schema, data: dict) -> HttpResponse:
    response = schema_response(schema, data)
    etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
    wanted = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    if etag in tags or "*" in tags:
        response = HttpResponse(status=304)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


Limit = Query(20, ge=1, le=MAX_LIMIT, description="Antal rader, 1–1000.")
Offset = Query(0, ge=0, le=MAX_OFFSET, description="Antal rader att hoppa över.")
# The feeds' cursor (/changes, /notifications).
Since = Query(
    "",
    pattern=change_feed.CURSOR_PATTERN,
    description="Markören (next_cursor) från förra svaret; tom: från början.",
    examples=["0-1532"],
)
FeedLimit = Query(100, ge=1, le=MAX_LIMIT)
IfNoneMatch = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
}


# --- operations ---


@_get("/api-info", schemas.ApiInfo, tags=["API"])
def api_info(request):
    """Om API:t: version, status, dokumentation och villkor (DIGG:s api-info)."""
    return {
        "api_name": "HVB-registret",
        "api_version": API_VERSION,
        "api_released": API_RELEASED,
        "api_status": "active",
        "api_documentation": request.build_absolute_uri("/api/v1/docs"),
        "api_specification": request.build_absolute_uri("/api/v1/openapi.json"),
        "open_data": settings.API_OPEN_DATA,
        "rate_limit_per_minute": settings.API_RATE_LIMIT_PER_MINUTE,
        "max_limit": MAX_LIMIT,
        "licence": settings.OPEN_DATA_LICENSE_URL,
    }


@_get("/problem-types", list[schemas.ProblemTypeOut], tags=["API"])
def problem_types(request):
    """Alla felkoder som API:t svarar med, med HTTP-status och svensk rubrik."""
    return [
        {"code": problem.code, "status": problem.status, "title": str(problem.title)}
        for problem in PROBLEM_TYPES.values()
    ]


@_get("/facilities", schemas.FacilityPage, tags=["Verksamheter"])
def facilities(
    request,
    text: str = Query("", max_length=200, description="Namn, organisationsnummer, diarienummer."),
    facility_type: list[codes.FacilityType] = Query([]),
    target_group: list[codes.TargetGroup] = Query([], description="Alla ska tas emot."),
    child_age: int | None = Query(None, ge=0, le=21),
    gender: Literal["flickor", "pojkar"] | None = Query(None, description="Barnets kön."),
    county: list[Annotated[str, StringConstraints(pattern=r"^\d{2}$")]] = Query(
        [],
        description="Länskoder (SCB, två siffror); verksamheter i något av dem.",
        examples=[["08"]],
    ),
    include_neighbours: bool = Query(
        False,
        description="Ta också med grannlänen till varje angivet län (län med gemensam "
        "landgräns; Gotland har Stockholms och Kalmar län som grannar).",
    ),
    municipality: str | None = Query(None, pattern=r"^\d{4}$", examples=["0880"]),
    ownership: list[codes.Ownership] = Query([]),
    status: list[codes.FacilityStatus] = Query([], description="Utan val: bara aktiva."),
    min_places: int | None = Query(None, ge=0, le=10000),
    latest_outcome: list[codes.Outcome] = Query([]),
    no_serious_decision_years: int | None = Query(
        None,
        ge=1,
        le=100,
        description="Inget allvarligt beslut (märkningen röd: föreläggande med vite, tillfälligt "
        "förbud, förbud, återkallelse, sanktionsavgift) de senaste så här många åren; beslut som "
        "domstolen upphävt räknas inte.",
    ),
    no_open_requirement: bool = Query(
        False, description="Bara verksamheter utan krav som är öppna eller försenade."
    ),
    no_overdue_inspection: bool = Query(
        False,
        description="Bara verksamheter som inte saknar inspektion sedan mer än 12 månader.",
    ),
    sort: Literal["name", "municipality", "latest_decision"] = "name",
    limit: int = Limit,
    offset: int = Offset,
):
    """Sök verksamheter med samma filter som portalen. Varje verksamhet har sin märkning från
    senaste beslutet och flaggan för försenad inspektion."""
    search = selectors.FacilitySearch(
        text=text,
        facility_types=tuple(facility_type),
        target_groups=tuple(target_group),
        child_age=child_age,
        gender=gender or "",
        counties=_counties(county, include_neighbours),
        municipality=municipality or "",
        ownerships=tuple(ownership),
        statuses=tuple(status) or (codes.FacilityStatus.AKTIV,),
        min_places=min_places,
        latest_outcomes=tuple(latest_outcome),
        no_serious_decision_years=no_serious_decision_years,
        no_unresolved_requirement=no_open_requirement,
        no_overdue_inspection=no_overdue_inspection,
        ordering=sort,
        include_protected=may_see_protected_homes(request.user),
    )
    total, rows = _page(selectors.SearchResults(search), limit, offset)
    # As the portal: a personnummer typed into the search is not kept in the log.
    log.record(
        request,
        AccessEvent.Action.SEARCH,
        detail=validation.mask_personal_numbers(unquote_plus(request.GET.urlencode())),
    )
    record_protected_views(request, rows)
    items = [facility_item(row, request) for row in rows]
    return schema_response(
        schemas.FacilityPage, {"total": total, "limit": limit, "offset": offset, "items": items}
    )


def _counties(codes_given: list[str], include_neighbours: bool) -> tuple[str, ...]:
    """The län searched: those given, and with ``include_neighbours`` each one's neighbours;
    sorted, each once (one key for the kept pages whatever the order they were given in)."""
    found = set(codes_given)
    if include_neighbours:
        for code in codes_given:
            found.update(with_neighbours(code))
    return tuple(sorted(found))


@_get(
    "/facilities/{facility_id}",
    schemas.FacilityDetail,
    tags=["Verksamheter"],
    extra_responses={304: None, 404: schemas.Problem},
    openapi_extra={"parameters": [IfNoneMatch]},
)
def facility(request, facility_id: str):
    """En verksamhet med beslut och inspektioner, nyast först, och en sammanfattning av
    tillsynen (`supervision`): öppna och försenade krav, återkommande brister och senaste
    inspektionens anledning. `ETag` och `If-None-Match`."""
    today = timezone.localdate()
    include_protected = may_see_protected_homes(request.user)

    try:
        found = selectors.facility_with_history(
            facility_id, include_protected=include_protected, today=today
        )
    except Facility.DoesNotExist:
        raise not_found(_("Verksamheten finns inte i registret.")) from None
    public = _public_facility(found)
    supervision = supervision_of(found.decisions.all(), today=today)
    diarienummer = {
        entry.decision.pk: entry.decision.diarienummer for entry in supervision.decisions
    }
    public.update(
        orientation=found.orientation,
        summary=found.summary,
        manager=None,
        supervision=_supervision_summary(supervision),
        decisions=[
            decision_item(
                {
                    **_fields(entry.decision, DECISION_MODEL_FIELDS),
                    # The decision it follows up is one of the same facility's.
                    "follows_up_diarienummer": diarienummer.get(entry.decision.follows_up_id),
                    "facility_code": found.facility_id,
                },
                [
                    {
                        **_fields(finding, FINDING_MODEL_FIELDS),
                        "requirement_state": entry.requirements[finding.pk].state
                        if finding.pk in entry.requirements
                        else None,
                    }
                    for finding in entry.findings
                ],
            )
            for entry in supervision.decisions
        ],
        inspections=[
            inspection_item({**_fields(i, INSPECTION_FIELDS), "facility_code": found.facility_id})
            for i in found.inspections.all()
        ],
    )
    log.record(
        request, AccessEvent.Action.FACILITY_VIEW, object_type="facility", object_id=facility_id
    )
    record_protected_views(request, [found])
    data = _with_provider(public, found.provider, request)
    manager = manager_facts(found, request=request)
    data["manager"] = asdict(manager) if manager else None
    address = address_facts(found, request=request)
    data["address"] = asdict(address) if address else None
    return _with_etag(request, schemas.FacilityDetail, data)


def _fields(instance, names) -> dict:
    return {name: getattr(instance, name) for name in names}


def _requirement(requirement: Requirement) -> dict:
    return {
        "diarienummer": requirement.decision.diarienummer,
        "decision_date": requirement.decision.decision_date,
        "area": requirement.finding.area,
        "requirement": requirement.finding.requirement,
        "due_date": requirement.finding.due_date,
        "state": requirement.state,
    }


def _supervision_summary(supervision: Supervision) -> dict:
    """The facility's verdict from register.supervision: open and overdue requirements,
    recurring deficiencies, and the latest inspection's reason and children talked with."""
    inspected = next(
        (
            entry.decision
            for entry in supervision.decisions
            if entry.decision.inspection_reason or entry.decision.children_talked_with is not None
        ),
        None,
    )
    return {
        "open_requirements": [_requirement(r) for r in supervision.open_requirements],
        "overdue_requirements": [_requirement(r) for r in supervision.overdue_requirements],
        "recurring_deficiencies": [
            {"area": recurring.area, "decisions": [d.diarienummer for d in recurring.decisions]}
            for recurring in supervision.recent_recurring
        ],
        "latest_inspection": {
            "diarienummer": inspected.diarienummer,
            "decision_date": inspected.decision_date,
            "inspection_reason": inspected.inspection_reason or None,
            "children_talked_with": inspected.children_talked_with,
        }
        if inspected
        else None,
    }


@_get("/providers", schemas.ProviderPage, tags=["Huvudmän"])
def providers(
    request,
    ownership: list[codes.Ownership] = Query([]),
    limit: int = Limit,
    offset: int = Offset,
):
    """Huvudmän. En enskild näringsidkares namn och nummer lämnas bara enligt policyn."""
    # Sole traders after every legal person, in the order they were registered: their place
    # in a list sorted by name would tell the name the policy withholds.
    queryset = selectors.providers_for(
        include_protected=may_see_protected_homes(request.user)
    ).order_by(
        "is_sole_trader",
        Case(When(is_sole_trader=False, then=F("name")), default=Value("")),
        "id",
    )
    if ownership:
        queryset = queryset.filter(ownership__in=ownership)
    total, rows = _page(queryset, limit, offset)
    log.record(request, AccessEvent.Action.API_READ, object_type="provider")
    items = [_provider_ref(provider_facts(row, request=request)) for row in rows]
    return schema_response(
        schemas.ProviderPage, {"total": total, "limit": limit, "offset": offset, "items": items}
    )


@_get(
    "/providers/{provider_id}",
    schemas.ProviderDetail,
    tags=["Huvudmän"],
    extra_responses={304: None, 404: schemas.Problem},
    openapi_extra={"parameters": [IfNoneMatch]},
)
def provider(request, provider_id: UUID):
    """En huvudman med alla sina verksamheter, aktiva och avslutade."""
    include_protected = may_see_protected_homes(request.user)
    found = selectors.providers_for(include_protected=include_protected).filter(
        public_id=provider_id
    )
    found = found.first()
    if found is None:
        raise not_found(_("Huvudmannen finns inte i registret."))
    rows = list(selectors.provider_facilities(found, include_protected=include_protected))
    log.record(
        request,
        AccessEvent.Action.PROVIDER_VIEW,
        object_type="provider",
        object_id=str(provider_id),
    )
    record_protected_views(request, rows)
    data = _provider_ref(provider_facts(found, request=request))
    data["facilities"] = [facility_item(row, request) for row in rows]
    return _with_etag(request, schemas.ProviderDetail, data)


@_get("/decisions", schemas.DecisionPage, tags=["Beslut"])
def decisions(
    request,
    facility_id: str | None = Query(None, max_length=32),
    diarienummer: str | None = Query(None, max_length=40),
    decided_from: schemas.IsoDate | None = Query(None, examples=["2025-01-01"]),
    decided_to: schemas.IsoDate | None = Query(None, examples=["2025-12-31"]),
    outcome: list[codes.Outcome] = Query([]),
    limit: int = Limit,
    offset: int = Offset,
):
    """Beslut, nyast först: datum, granskade områden, utfall, diarienummer och märkning, lagrum,
    överklagande, vilket beslut det följer upp, inspektionens anledning, hur många barn IVO
    talade med, ett tillfälligt förbuds sista dag, och iakttagelser och krav per område med
    kravens läge i dag."""
    queryset = _of_homes_shown(Decision.objects.all(), request)
    if facility_id:
        queryset = queryset.filter(facility__facility_id=facility_id.upper())
    if diarienummer:
        queryset = queryset.filter(diarienummer=diarienummer)
    if decided_from:
        queryset = queryset.filter(decision_date__gte=decided_from)
    if decided_to:
        queryset = queryset.filter(decision_date__lte=decided_to)
    if outcome:
        queryset = queryset.filter(outcome__in=outcome)
    queryset = queryset.order_by("-decision_date", "-id").values(
        "id",
        *DECISION_MODEL_FIELDS,
        "facility_code",
        "facility_protected",
        follows_up_diarienummer=F("follows_up__diarienummer"),
    )
    total, rows = _page(queryset, limit, offset)
    findings = _findings_of([row["id"] for row in rows], timezone.localdate()) if rows else {}
    log.record(request, AccessEvent.Action.API_READ, object_type="decision")
    record_protected_views(request, {(r["facility_code"], r["facility_protected"]) for r in rows})
    items = [decision_item(row, findings[row["id"]]) for row in rows]
    return schema_response(
        schemas.DecisionPage, {"total": total, "limit": limit, "offset": offset, "items": items}
    )


@_get("/findings", schemas.FindingPage, tags=["Beslut"])
def findings(
    request,
    facility_id: str | None = Query(None, max_length=32, description="Verksamhetens id."),
    diarienummer: str | None = Query(None, max_length=40, description="Beslutets diarienummer."),
    area: list[codes.ReviewArea] = Query([], description="Granskade områden (något av dem)."),
    assessment: list[codes.Assessment] = Query([], description="Bedömningar (någon av dem)."),
    requirement_state: list[codes.RequirementState] = Query(
        [], description="Kravens läge i dag (något av dem); bara iakttagelser med krav."
    ),
    limit: int = Limit,
    offset: int = Offset,
):
    """Iakttagelser och krav, ett per beslut och granskat område, nyast beslut först: IVO:s
    bedömning, vad IVO såg, vad verksamheten ska göra och senast när, vite, och kravets läge i
    dag."""
    queryset = Finding.objects.all()
    if not may_see_protected_homes(request.user):
        queryset = queryset.exclude(protected_condition("decision__facility__"))
    if facility_id:
        queryset = queryset.filter(decision__facility__facility_id=facility_id.upper())
    if diarienummer:
        queryset = queryset.filter(decision__diarienummer=diarienummer)
    if area:
        queryset = queryset.filter(area__in=area)
    if assessment:
        queryset = queryset.filter(assessment__in=assessment)
    queryset = selectors.findings_with_state(queryset, today=timezone.localdate())
    if requirement_state:
        queryset = queryset.filter(requirement_state__in=requirement_state)
    queryset = queryset.order_by("-decision__decision_date", "-decision_id", "id").values(
        *FINDING_COLUMNS,
        "updated_at",
        diarienummer=F("decision__diarienummer"),
        decision_date=F("decision__decision_date"),
        facility_code=F("decision__facility__facility_id"),
        facility_protected=ExpressionWrapper(
            protected_condition("decision__facility__"), output_field=BooleanField()
        ),
    )
    total, rows = _page(queryset, limit, offset)
    log.record(request, AccessEvent.Action.API_READ, object_type="finding")
    record_protected_views(request, {(r["facility_code"], r["facility_protected"]) for r in rows})
    items = [
        {
            "diarienummer": row["diarienummer"],
            "facility_id": row["facility_code"],
            "decision_date": row["decision_date"],
            **finding_item(row),
            "updated_at": row["updated_at"],
        }
        for row in rows
    ]
    return schema_response(
        schemas.FindingPage, {"total": total, "limit": limit, "offset": offset, "items": items}
    )


def _of_homes_shown(queryset, request: HttpRequest):
    """Decisions or inspections of the homes this viewer is shown (protected ones only to a
    viewer who may see them), with their facility's verksamhetsid and protection."""
    if not may_see_protected_homes(request.user):
        queryset = queryset.exclude(protected_condition("facility__"))
    return queryset.annotate(
        facility_code=F("facility__facility_id"),
        facility_protected=ExpressionWrapper(
            protected_condition("facility__"), output_field=BooleanField()
        ),
    )


@_get("/inspections", schemas.InspectionPage, tags=["Inspektioner"])
def inspections(
    request,
    facility_id: str | None = Query(None, max_length=32),
    diarienummer: str | None = Query(None, max_length=40),
    limit: int = Limit,
    offset: int = Offset,
):
    """Inspektioner, nyast först."""
    queryset = _of_homes_shown(Inspection.objects.all(), request)
    if facility_id:
        queryset = queryset.filter(facility__facility_id=facility_id.upper())
    if diarienummer:
        queryset = queryset.filter(diarienummer=diarienummer)
    queryset = queryset.order_by("-start_date", "-id").values(
        *INSPECTION_FIELDS, "facility_code", "facility_protected"
    )
    total, rows = _page(queryset, limit, offset)
    log.record(request, AccessEvent.Action.API_READ, object_type="inspection")
    record_protected_views(request, {(r["facility_code"], r["facility_protected"]) for r in rows})
    items = [inspection_item(row) for row in rows]
    return schema_response(
        schemas.InspectionPage, {"total": total, "limit": limit, "offset": offset, "items": items}
    )


@_get("/counties", list[schemas.County], tags=["Geografi"])
def counties(request):
    """Sveriges 21 län med SCB:s koder."""
    return list(County.objects.order_by("code").values("code", "name", "letter"))


@_get("/municipalities", list[schemas.Municipality], tags=["Geografi"])
def municipalities(request, county: str | None = Query(None, pattern=r"^\d{2}$")):
    """Sveriges 290 kommuner med SCB:s koder, eventuellt för ett län."""
    queryset = Municipality.objects.order_by("code")
    if county:
        queryset = queryset.filter(county_id=county)
    return list(queryset.values("code", "name", county_code=F("county_id")))


CODE_LISTS = {
    "facility_type": codes.FacilityType,
    "ownership": codes.Ownership,
    "facility_status": codes.FacilityStatus,
    "decision_kind": codes.DecisionKind,
    "outcome": codes.Outcome,
    "appeal_status": codes.AppealStatus,
    "follow_up": codes.FollowUp,
    "review_area": codes.ReviewArea,
    "inspection_reason": codes.InspectionReason,
    "assessment": codes.Assessment,
    "requirement_state": codes.RequirementState,
    "target_group": codes.TargetGroup,
    "gender": codes.Gender,
    "permit_status": codes.PermitStatus,
    "severity": codes.Severity,
}


@_get("/code-lists", list[schemas.CodeList], tags=["Kodlistor"])
def code_lists(request):
    """Kodlistorna med svenska etiketter; utfallen med sin märkning (färg, symbol, text)."""
    result = []
    for name, choices in CODE_LISTS.items():
        entries = []
        for value, label in choices.choices:
            entry = {"code": value, "label": str(label)}
            if name == "outcome":
                entry["marking"] = _marking(value, codes.AppealStatus.EJ_OVERKLAGAT)
            entries.append(entry)
        result.append({"name": name, "codes": entries})
    return result


@_get("/statistics", list[schemas.StatisticsItem], tags=["Statistik"])
def statistics(request):
    """Statistiken över tillsynen: varje tabell med sin rubrik, sitt ämne och var den finns (i
    API:t, på statistiksidorna och som öppna data för hela landet de senaste tio åren)."""
    items = []
    for item in statistics_files(timezone.localdate()):
        items.append(
            {
                "key": item.key,
                "title": item.title,
                "topic": {"slug": item.topic.slug, "title": str(item.topic.title)},
                "links": {
                    "api": request.build_absolute_uri(f"/api/v1/statistics/{item.key}"),
                    "page": request.build_absolute_uri(f"/statistik/{item.topic.slug}/"),
                    "open_data_csv": request.build_absolute_uri(f"/oppna-data/{item.slug}.csv"),
                    "open_data_json": request.build_absolute_uri(f"/oppna-data/{item.slug}.json"),
                },
            }
        )
    return items


@_get(
    "/statistics/{figure_key}",
    schemas.StatisticsFigure,
    tags=["Statistik"],
    extra_responses={404: schemas.Problem},
)
def statistics_figure(
    request,
    figure_key: str,
    from_year: int | None = Query(
        None,
        description="Första året, från 2000. Utan: fem år bakåt från to_year, eller "
        "statistiksidornas förval.",
        examples=[2021],
    ),
    to_year: int | None = Query(
        None,
        description="Sista året, högst i år; perioden får vara högst 20 år. Utan: i år, eller "
        "statistiksidornas förval.",
        examples=[2025],
    ),
    county: str = Query("", description="Länskod (SCB); utan: hela landet.", examples=["08"]),
    facility_type: codes.FacilityType | None = Query(None, description="Utan: alla typer."),
):
    """En tabell i statistiken för en period, ett län och en typ av verksamhet: rader (år, län,
    områden), kolumner (antal, andelar 0–1, antal per 100 boenden, dagar) och för en andel eller
    ett antal per 100 underlaget (`base`). En cell som bygger på färre än 5 boenden är dold
    (`value` och `base` är null, `suppressed` true). Skyddade boenden räknas bara i antalet
    boenden och platser i ett helt län och i hela landet. `notes` säger vad som gäller för
    tabellen."""
    if figure_key not in figures.FIGURE_KEYS:
        raise not_found(
            _("Det finns ingen sådan statistik. /api/v1/statistics listar den som finns.")
        )
    today = timezone.localdate()
    filters = _statistics_filters(today, from_year, to_year, county, facility_type or "")
    with query_deadline_lifted():  # the tallies after a write (api/auth.py)
        figure = figures.compute(figure_key, filters, today=today)
    log.record(request, AccessEvent.Action.API_READ, object_type="statistics", object_id=figure_key)
    return schema_response(schemas.StatisticsFigure, figure_json(figure, filters))


def _statistics_filters(
    today: datetime.date,
    from_year: int | None,
    to_year: int | None,
    county: str,
    facility_type: str,
) -> figures.Filters:
    """The period, län and type asked for, checked; the pages' defaults for what is not given
    (a period of the default's length ending at ``to_year`` when only that is given)."""
    default = figures.default_filters(today)
    if to_year is None:
        to_year = today.year if from_year is not None else default.last_year
    if from_year is None:
        from_year = to_year - (default.last_year - default.first_year)
        from_year = max(from_year, figures.YEARS_FROM)
    errors = []
    for name, year in (("from_year", from_year), ("to_year", to_year)):
        if not figures.YEARS_FROM <= year <= today.year:
            errors.append(
                {
                    "parameter": name,
                    "detail": _("Ange ett år från %(first)s till och med %(last)s.")
                    % {"first": figures.YEARS_FROM, "last": today.year},
                }
            )
    if not errors and from_year > to_year:
        errors.append(
            {
                "parameter": "from_year",
                "detail": _("Första året får inte vara senare än det sista (%(to_year)s).")
                % {"to_year": to_year},
            }
        )
    elif not errors and to_year - from_year + 1 > figures.YEARS_SPAN_MAX:
        errors.append(
            {
                "parameter": "from_year",
                "detail": _("Perioden får vara högst %(years)s år.")
                % {"years": figures.YEARS_SPAN_MAX},
            }
        )
    if county and not County.objects.filter(code=county).exists():
        errors.append(
            {
                "parameter": "county",
                "detail": _("Okänt län. Ange en länskod, som 08; /api/v1/counties listar dem."),
            }
        )
    if errors:
        raise ApiProblem(
            "ogiltig-parameter",
            "; ".join(f"{error['parameter']}: {error['detail']}" for error in errors),
            errors=errors,
        )
    return figures.Filters(
        first_year=from_year, last_year=to_year, county=county, facility_type=facility_type
    )


RESOURCE_URLS = {
    ChangeEvent.Resource.FACILITY: "/api/v1/facilities/{}",
    ChangeEvent.Resource.PROVIDER: "/api/v1/providers/{}",
    ChangeEvent.Resource.DECISION: "/api/v1/decisions?diarienummer={}",
    ChangeEvent.Resource.INSPECTION: "/api/v1/inspections?diarienummer={}",
}


@_get("/changes", schemas.ChangePage, tags=["Synkronisering"])
def changes(
    request,
    since: str = Since,
    limit: int = FeedLimit,
):
    """Ändringar efter markören, i ordning: spara `next_cursor` och fråga igen."""
    from urllib.parse import quote

    cursor = change_feed.parse_cursor(since)
    events, has_more = change_feed.changes_after(
        cursor, limit=limit, include_protected=may_see_protected_homes(request.user)
    )
    # Read on the primary; the client fetches what it lists next: from the primary too, not from
    # a replica that may not have replayed it yet (config/replicas.py).
    pin_after(request)
    log.record(request, AccessEvent.Action.API_READ, object_type="changes", detail={"since": since})
    for resource in ("facility", "decision", "inspection"):
        record_protected_views(
            request,
            [(e.resource_id, e.protected) for e in events if e.resource == resource],
            object_type=resource,
        )
    items = [
        {
            "cursor": change_feed.format_cursor(event.transaction_id, event.position),
            "resource": event.resource,
            "resource_id": event.resource_id,
            "operation": event.operation,
            "changed_at": event.at,
            "url": RESOURCE_URLS[event.resource].format(quote(event.resource_id, safe="")),
        }
        for event in events
    ]
    next_cursor = items[-1]["cursor"] if items else change_feed.format_cursor(*cursor)
    return schema_response(
        schemas.ChangePage, {"items": items, "next_cursor": next_cursor, "has_more": has_more}
    )


@_get(
    "/municipalities/{code}/access-events",
    schemas.AccessEventPage,
    auth=TOKEN_ONLY,
    tags=["Åtkomstlogg"],
)
def municipality_access_events(request, code: str, limit: int = Limit, offset: int = Offset):
    """Vad kommunens egna API-klienter har läst: åtkomstloggen för kommunens system. Bara med
    en nyckel för en klient i den kommunen."""
    client: ApiClient = request.auth
    if client.municipality_id != code:
        raise ApiProblem(
            "fel-kommun",
            _("Nyckeln gäller kommun %(own)s och kan inte läsa kommun %(other)s.")
            % {"own": client.municipality_id, "other": code[:4]},
        )
    queryset = AccessEvent.objects.filter(
        municipality_code=code, role=Role.MUNICIPAL_SYSTEM
    ).order_by("-at", "-id")
    total = queryset.count()
    rows = list(
        queryset.values("at", "username", "action", "object_type", "object_id", "fields")[
            offset : offset + limit
        ]
    )
    log.record(request, AccessEvent.Action.LOG_EXPORT, object_type="municipality", object_id=code)
    items = [
        {
            "at": row["at"],
            "client": row["username"],
            "action": row["action"],
            "object_type": row["object_type"],
            "object_id": row["object_id"],
            "fields": row["fields"],
        }
        for row in rows
    ]
    return schema_response(
        schemas.AccessEventPage, {"total": total, "limit": limit, "offset": offset, "items": items}
    )


# --- watches and notifications: a municipality's system follows homes (the alerts app) ---

KEY_ERRORS = ERRORS  # 401, 422, 429, 503


def _client(request) -> ApiClient:
    """The key's client: these operations take a key only (``auth=TOKEN_ONLY``)."""
    return request.auth


def _watch_item(watch: Watch) -> dict:
    if watch.kind == Watch.Kind.FACILITY:
        target = watch.facility.facility_id
    elif watch.kind == Watch.Kind.PROVIDER:
        target = str(watch.provider.public_id)
    elif watch.kind == Watch.Kind.MUNICIPALITY:
        target = watch.municipality_id
    else:
        target = watch.county_id
    return {
        "id": watch.public_id,
        "kind": watch.kind,
        "target": target,
        "created_at": watch.created_at,
    }


def _watches_of(client: ApiClient):
    """The client's own watches (its account's), with what each one watches."""
    return Watch.objects.filter(user_id=client.account_user_id).select_related(
        "facility", "provider"
    )


@_get(
    "/watches",
    schemas.WatchPage,
    auth=TOKEN_ONLY,
    tags=["Bevakningar"],
    other_municipality_refused=False,
)
def watches(request, limit: int = Limit, offset: int = Offset):
    """Klientens egna bevakningar, äldst först. Händelserna de ger läses i
    `/api/v1/notifications`, tillsammans med kommunens användares bevakningar."""
    total, rows = _page(_watches_of(_client(request)).order_by("created_at", "id"), limit, offset)
    log.record(request, AccessEvent.Action.API_READ, object_type="watch")
    items = [_watch_item(watch) for watch in rows]
    return schema_response(
        schemas.WatchPage, {"total": total, "limit": limit, "offset": offset, "items": items}
    )


_FACILITY_ID = validation.FACILITY_ID_PATTERN
_UUID = re.compile(r"^[0-9A-Fa-f]{8}(-?[0-9A-Fa-f]{4}){3}-?[0-9A-Fa-f]{12}$")


def _watch_target(kind: str, target: str, request):
    """What ``target`` names for a watch of ``kind``, or the problem that it names nothing.
    A protected home may be watched by a key (municipalities' systems see them), and is logged."""
    found = None
    if kind == Watch.Kind.FACILITY:
        if _FACILITY_ID.match(target):
            found = Facility.objects.filter(facility_id=target.upper()).first()
        if found is not None:
            record_protected_views(request, [found])
        missing = _("Det finns ingen verksamhet med id %(target)s i registret.")
    elif kind == Watch.Kind.PROVIDER:
        if _UUID.match(target):
            found = Provider.objects.filter(public_id=UUID(target)).first()
        missing = _("Det finns ingen huvudman med id %(target)s i registret.")
    elif kind == Watch.Kind.MUNICIPALITY:
        found = Municipality.objects.filter(code=target).first()
        missing = _("Det finns ingen kommun med koden %(target)s.")
    else:
        found = County.objects.filter(code=target).first()
        missing = _("Det finns inget län med koden %(target)s.")
    if found is None:
        detail = missing % {"target": target}
        raise ApiProblem("finns-inte", detail, errors=[{"parameter": "target", "detail": detail}])
    return found


WATCH_EXAMPLES = {
    "verksamhet": {
        "summary": "En verksamhet",
        "value": {"kind": "facility", "target": "K0880-001"},
    },
    "huvudman": {
        "summary": "En huvudman och alla dess verksamheter",
        "value": {"kind": "provider", "target": "3f1c2b9e-8d7a-4c1b-9e2f-0a1b2c3d4e5f"},
    },
    "kommun": {"summary": "En kommun", "value": {"kind": "municipality", "target": "0880"}},
    "län": {"summary": "Ett län", "value": {"kind": "county", "target": "08"}},
}


@api.post(
    "/watches",
    response={200: schemas.WatchOut, 201: schemas.WatchOut, 404: schemas.Problem, **KEY_ERRORS},
    auth=TOKEN_ONLY,
    tags=["Bevakningar"],
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"examples": WATCH_EXAMPLES}},
        }
    },
)
def watch_create(request, body: schemas.WatchIn):
    """Bevaka en verksamhet, en huvudman, en kommun eller ett län. 201 med den nya
    bevakningen; 200 med den som redan fanns när klienten redan bevakar samma sak. Ett id eller
    en kod som inte finns ger 404 (`finns-inte`) och ingen bevakning; ett värde av fel form
    422."""
    client = _client(request)
    target = _watch_target(body.kind, body.target, request)
    existing = _watches_of(client).filter(**{body.kind: target}).first()
    if existing is not None:
        return schema_response(schemas.WatchOut, _watch_item(existing))
    watch = watch_add(
        user=client.account_user, owner_municipality=client.municipality_id, target=target
    )
    response = schema_response(schemas.WatchOut, _watch_item(watch))
    response.status_code = 201
    return response


@api.delete(
    "/watches/{watch_id}",
    response={204: None, 404: schemas.Problem, **KEY_ERRORS},
    auth=TOKEN_ONLY,
    tags=["Bevakningar"],
)
def watch_delete(request, watch_id: UUID):
    """Sluta bevaka. Händelser som redan har listats i `/api/v1/notifications` ligger kvar
    där; en annan klients bevakning, eller en kommunanvändares, går inte att ta bort (404)."""
    watch = _watches_of(_client(request)).filter(public_id=watch_id).first()
    if watch is None:
        raise not_found(_("Bevakningen finns inte."))
    watch_remove(watch=watch)
    return HttpResponse(status=204)


def _event_details(event: RegisterEvent) -> dict:
    """The event's codes and dates that may be shown (``details`` is read by name: nothing
    else in it leaves)."""
    details = event.details or {}
    return {
        "diarienummer": details.get("diarienummer") or None,
        "outcome": details.get("outcome") or None,
        "appeal_status": details.get("appeal_status") or None,
        "status_before": details.get("status_before") or None,
        "status": details.get("status") or None,
        "area": details.get("area") or None,
        "due_date": details.get("due_date") or None,
        "last_inspection": details.get("last_inspection") or None,
    }


def _deficient_areas_of(events: list[RegisterEvent]) -> dict[int, list[str]]:
    """The areas found deficient in the page's new decisions, in the code list's order: one
    query."""
    decision_ids = {e.decision_id for e in events if e.kind == codes.EventKind.DECISION}
    found: dict[int, list[str]] = {}
    if decision_ids:
        rows = Finding.objects.filter(
            decision_id__in=decision_ids, assessment__in=codes.DEFICIENT_ASSESSMENTS
        ).values_list("decision_id", "area")
        for decision_id, area in rows:
            found.setdefault(decision_id, []).append(area)
    return {key: sorted(set(areas), key=_AREA_ORDER.__getitem__) for key, areas in found.items()}


def notification_item(
    event: RegisterEvent, deficient_areas: dict[int, list[str]], request: HttpRequest
) -> dict:
    """One event as the feed tells it. A new manager is the fact only (the name is the
    facility's, through the disclosure policy); a new provider through the policy."""
    from urllib.parse import quote

    facility = event.facility
    marked = event.kind in (codes.EventKind.DECISION, codes.EventKind.APPEAL_DECIDED)
    details = event.details or {}
    provider = None
    if event.kind == codes.EventKind.PROVIDER_CHANGED and event.provider is not None:
        provider = _provider_ref(provider_facts(event.provider, request=request))
    return {
        "cursor": change_feed.format_cursor(event.transaction_id, event.pk),
        "kind": event.kind,
        "kind_label": str(codes.EventKind(event.kind).label),
        "serious": event.serious,
        "occurred_on": event.occurred_on,
        "recorded_at": event.created_at,
        "facility_id": facility.facility_id,
        "facility_name": facility.name,
        "protected": event.protected or facility.is_protected,
        "marking": _marking(details["outcome"], details.get("appeal_status", ""))
        if marked and details.get("outcome")
        else None,
        "deficient_areas": deficient_areas.get(event.decision_id, [])
        if event.kind == codes.EventKind.DECISION
        else [],
        "details": _event_details(event),
        "provider": provider,
        "url": "/api/v1/facilities/" + quote(facility.facility_id, safe=""),
    }


@_get(
    "/notifications",
    schemas.NotificationPage,
    auth=TOKEN_ONLY,
    tags=["Bevakningar"],
    other_municipality_refused=False,
)
def notifications(
    request,
    since: str = Since,
    limit: int = FeedLimit,
):
    """Händelser som når någon av kommunens bevakningar (kommunens användares och klientens
    egna), äldst först: nya beslut med märkning och områden med brist, ändrad status,
    överklaganden som avgjorts, ny huvudman, ny föreståndare (bara att det skett), försenade
    krav och inspektioner, nya verksamheter. Spara `next_cursor` och fråga igen; ingen händelse
    missas eller listas två gånger."""
    client = _client(request)
    cursor = change_feed.parse_cursor(since)
    events, has_more, next_cursor = notification_feed.notifications_after(
        cursor, municipality_code=client.municipality_id, limit=limit
    )
    pin_after(request)  # as the changes feed: what it names is read next, on the primary
    log.record(
        request, AccessEvent.Action.API_READ, object_type="notifications", detail={"since": since}
    )
    record_protected_views(
        request,
        sorted({(e.facility.facility_id, e.protected or e.facility.is_protected) for e in events}),
    )
    deficient_areas = _deficient_areas_of(events)
    items = [notification_item(event, deficient_areas, request) for event in events]
    return schema_response(
        schemas.NotificationPage,
        {
            "items": items,
            "next_cursor": change_feed.format_cursor(*next_cursor),
            "has_more": has_more,
        },
    )
