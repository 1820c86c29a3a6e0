"""The API (/api/v1) as a municipality's system uses it: search with the portal's filters, one
facility with its history, providers, decisions and inspections, code lists, paging limits,
problem responses, ETag, rate limit, the query timeout and the access log."""

import datetime
import json

import pytest
from django.core.cache import cache
from django.db import connection

from access.models import AccessEvent
from access.roles import Role
from api.auth import ClientRateThrottle
from register import selectors, services
from register.codes import AppealStatus, FacilityStatus, FacilityType, Outcome
from register.models import Provider
from tests.api_support import api_client_with_token, bearer, get_json
from tests.factories import (
    DecisionFactory,
    FacilityFactory,
    InspectionFactory,
    build_valid_organisation_number,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roomy_rate_limit")]


@pytest.fixture
def homes(db):
    kalmar = FacilityFactory(facility_id="K0880-001", name="Ängsgården", age_from=13, age_to=17)
    DecisionFactory(
        facility=kalmar,
        diarienummer="3.2.2-100/2024",
        decision_date=datetime.date(2024, 3, 1),
        outcome=Outcome.INGA_BRISTER,
    )
    DecisionFactory(
        facility=kalmar,
        diarienummer="3.2.2-101/2025",
        decision_date=datetime.date(2025, 2, 1),
        outcome=Outcome.BRISTER,
    )
    InspectionFactory(facility=kalmar, diarienummer="3.2.2-900/2025")
    stockholm = FacilityFactory(
        facility_id="S0180-001",
        name="Björkudden",
        facility_type=FacilityType.STODBOENDE,
        municipality_id="0180",
        age_from=16,
        age_to=20,
    )
    closed = FacilityFactory(
        facility_id="K0880-002",
        name="Gamla hemmet",
        status=FacilityStatus.NEDLAGD,
        end_date=datetime.date(2020, 1, 1),
    )
    return kalmar, stockholm, closed


def test_api_info__names_version_documentation_and_limits(client):
    info = get_json(client, "/api/v1/api-info")

    assert info["api_version"] == "1.0.0"
    assert info["api_documentation"].endswith("/api/v1/docs")
    assert info["max_limit"] == 1000
    assert info["licence"] == "http://creativecommons.org/licenses/by/4.0/"


def test_facilities__default_is_active_homes_with_total_and_page(client, homes):
    page = get_json(client, "/api/v1/facilities")

    assert page["total"] == 2
    assert (page["limit"], page["offset"]) == (20, 0)
    assert [item["facility_id"] for item in page["items"]] == ["S0180-001", "K0880-001"]


@pytest.mark.parametrize(
    ("query", "search"),
    [
        ("facility_type=stodboende", selectors.FacilitySearch(facility_types=("stodboende",))),
        ("child_age=14", selectors.FacilitySearch(child_age=14)),
        ("county=08", selectors.FacilitySearch(counties=("08",))),
        ("municipality=0180", selectors.FacilitySearch(municipality="0180")),
        ("latest_outcome=brister", selectors.FacilitySearch(latest_outcomes=("brister",))),
        ("text=ängs", selectors.FacilitySearch(text="ängs")),
        ("text=3.2.2-101", selectors.FacilitySearch(text="3.2.2-101")),
        (
            "status=aktiv&status=nedlagd&sort=latest_decision",
            selectors.FacilitySearch(statuses=("aktiv", "nedlagd"), ordering="latest_decision"),
        ),
    ],
)
def test_facilities__same_filters_as_the_portal_selector(client, homes, query, search):
    page = get_json(client, f"/api/v1/facilities?{query}")

    expected = [facility.facility_id for facility in selectors.facility_search(search)]
    assert [item["facility_id"] for item in page["items"]] == expected
    assert page["total"] == len(expected)


def test_facilities__marking_and_overdue_flag_as_on_the_portal(client, homes):
    items = {i["facility_id"]: i for i in get_json(client, "/api/v1/facilities")["items"]}

    assert items["K0880-001"]["marking"] == {
        "severity": "attention",
        "symbol": "!",
        "colour": "amber",
        "label": "Brister konstaterade",
    }
    assert items["K0880-001"]["latest_decision"]["diarienummer"] == "3.2.2-101/2025"
    # Never inspected and opened in 2015: overdue (3 kap. 19 § SoF).
    assert items["S0180-001"]["inspection_overdue"] is True
    assert items["S0180-001"]["marking"] is None


def test_facilities__overturned_decision_is_marked_grey(client, homes):
    kalmar, _stockholm, _closed = homes
    decision = kalmar.decisions.get(diarienummer="3.2.2-101/2025")
    decision.appeal_status = AppealStatus.UPPHAVT
    services.decision_save(decision=decision)

    item = get_json(client, "/api/v1/facilities?municipality=0880")["items"][0]

    assert item["marking"]["colour"] == "grey"
    assert item["marking"]["label"] == "Brister konstaterade – upphävt av domstol"


def test_facilities__paging_with_limit_and_offset(client, homes):
    page = get_json(client, "/api/v1/facilities?limit=1&offset=1")

    assert page["total"] == 2
    assert [item["facility_id"] for item in page["items"]] == ["K0880-001"]


@pytest.mark.parametrize(
    ("query", "parameter", "detail"),
    [
        ("limit=1001", "limit", "Värdet får vara högst 1000."),
        ("limit=0", "limit", "Värdet måste vara minst 1."),
        ("offset=-1", "offset", "Värdet måste vara minst 0."),
        ("child_age=tolv", "child_age", "Ange ett heltal."),
        ("child_age=22", "child_age", "Värdet får vara högst 21."),
        ("county=8", "county.0", "Värdet har fel form."),
        ("county=08&county=1", "county.1", "Värdet har fel form."),
        ("include_neighbours=ja", "include_neighbours", "Ange true eller false."),
        ("no_serious_decision_years=0", "no_serious_decision_years", "Värdet måste vara minst 1."),
        (
            "no_serious_decision_years=101",
            "no_serious_decision_years",
            "Värdet får vara högst 100.",
        ),
        ("no_serious_decision_years=tre", "no_serious_decision_years", "Ange ett heltal."),
        ("no_open_requirement=kanske", "no_open_requirement", "Ange true eller false."),
        ("no_overdue_inspection=2", "no_overdue_inspection", "Ange true eller false."),
    ],
)
def test_facilities__bad_parameter__problem_in_swedish(client, homes, query, parameter, detail):
    response = client.get(f"/api/v1/facilities?{query}")

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "ogiltig-parameter"
    assert problem["title"] == "Ogiltig parameter"
    assert problem["errors"] == [{"parameter": parameter, "detail": detail}]
    assert problem["type"].endswith("/api/v1/problem-types#ogiltig-parameter")


def test_facilities__unknown_code__lists_the_allowed_ones(client):
    problem = client.get("/api/v1/facilities?facility_type=villa").json()

    assert problem["errors"][0]["parameter"] == "facility_type.0"
    assert problem["errors"][0]["detail"].startswith("Okänt värde. Tillåtna värden: 'hvb'")


def test_facility__with_decisions_and_inspections_newest_first(client, homes):
    detail = get_json(client, "/api/v1/facilities/k0880-001")

    assert detail["name"] == "Ängsgården"
    assert [d["diarienummer"] for d in detail["decisions"]] == ["3.2.2-101/2025", "3.2.2-100/2024"]
    assert detail["decisions"][0]["marking"]["symbol"] == "!"
    assert [i["diarienummer"] for i in detail["inspections"]] == ["3.2.2-900/2025"]
    assert detail["manager"] == {"withheld": True, "name": "", "email": "", "phone": ""}
    assert detail["updated_at"].endswith("Z")  # RFC 3339


def test_facility__unknown__404_problem(client):
    response = client.get("/api/v1/facilities/FINNS-INTE")

    assert response.status_code == 404
    assert response.json()["code"] == "finns-inte"
    assert response.json()["detail"] == "Verksamheten finns inte i registret."


def test_unknown_path_under_the_api__404_problem_not_a_page(client):
    response = client.get("/api/v1/verksamheter")

    assert response.status_code == 404
    assert response.json()["code"] == "finns-inte"


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_other_methods__405_problem_in_swedish(client, homes, method):
    response = getattr(client, method)("/api/v1/facilities/K0880-001")

    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "metod-ej-tillaten"
    assert response.json()["detail"] == (
        f"Resursen tar inte emot {method.upper()}. Den tar emot GET."
    )
    assert "GET" in response["Allow"]


def test_expired_portal_session__the_api_answers_as_itself_not_with_the_login_page(
    client, homes, settings
):
    from access.roles import Role
    from tests.factories import make_user

    client.force_login(make_user(Role.MUNICIPAL_USER, municipality="0880"))
    settings.SESSION_IDLE_SECONDS = -1  # every session has been idle too long

    response = client.get("/api/v1/facilities/K0880-001")

    assert response.status_code == 200  # open data without a key, as for anyone
    assert response.json()["facility_id"] == "K0880-001"


def test_facility__etag_and_if_none_match_give_304_until_it_changes(client, homes):
    kalmar, _stockholm, _closed = homes
    first = client.get("/api/v1/facilities/K0880-001")
    etag = first["ETag"]

    again = client.get("/api/v1/facilities/K0880-001", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""

    kalmar.places = 9
    services.facility_save(facility=kalmar)
    changed = client.get("/api/v1/facilities/K0880-001", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["places"] == 9
    assert changed["ETag"] != etag


def test_provider__with_its_facilities_and_etag(client, homes):
    kalmar, _stockholm, _closed = homes
    url = f"/api/v1/providers/{kalmar.provider.public_id}"
    provider = get_json(client, url)

    assert provider["name"] == kalmar.provider.name
    assert provider["organisation_number"] == kalmar.provider.organisation_number
    assert [f["facility_id"] for f in provider["facilities"]] == ["K0880-001"]
    assert client.get(url, HTTP_IF_NONE_MATCH=client.get(url)["ETag"]).status_code == 304


def test_provider__sole_trader__name_and_number_withheld(client):
    owner = services.provider_save(
        provider=Provider(
            organisation_number="700101-9905",
            name="Gunilla Privatperson",
            ownership="enskild",
            is_sole_trader=True,
        )
    )
    FacilityFactory(provider=owner)

    provider = get_json(client, f"/api/v1/providers/{owner.public_id}")
    listed = get_json(client, "/api/v1/providers")["items"][0]

    for shown in (provider, listed, provider["facilities"][0]["provider"]):
        assert shown["name"] == "Enskild näringsidkare"
        assert shown["organisation_number"] is None
        assert shown["withheld"] is True


def test_providers__a_sole_traders_place_in_the_list_does_not_tell_the_name(client):
    for name, number, sole in (
        ("Alfa Omsorg AB", build_valid_organisation_number("559900001"), False),
        ("Mats Mattsson", "700101-9905", True),
        ("Zeta Omsorg AB", build_valid_organisation_number("559900002"), False),
    ):
        provider = services.provider_save(
            provider=Provider(
                organisation_number=number,
                name=name,
                ownership="enskild",
                is_sole_trader=sole,
            )
        )
        FacilityFactory(provider=provider)  # a provider without homes is not listed

    names = [item["name"] for item in get_json(client, "/api/v1/providers")["items"]]

    assert names == ["Alfa Omsorg AB", "Zeta Omsorg AB", "Enskild näringsidkare"]


def test_provider__not_a_uuid__422_problem(client):
    assert client.get("/api/v1/providers/abc").json()["code"] == "ogiltig-parameter"


def test_decisions__filters_by_facility_and_dates(client, homes):
    page = get_json(client, "/api/v1/decisions?facility_id=K0880-001&decided_from=2025-01-01")

    assert [d["diarienummer"] for d in page["items"]] == ["3.2.2-101/2025"]
    assert page["items"][0]["facility_id"] == "K0880-001"
    assert page["items"][0]["review_areas"] == []


@pytest.mark.parametrize("parameter", ["decided_from", "decided_to"])
@pytest.mark.parametrize("value", ["0", "1700000000", "2026-13-01", "2026-1-1", "2025-01-01T00:00"])
def test_decisions__date_not_an_iso_date__422_naming_the_parameter(client, homes, parameter, value):
    """Pydantic alone read ``0`` as 1970-01-01 and ``1700000000`` as a Unix time."""
    response = client.get(f"/api/v1/decisions?{parameter}={value}")

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "ogiltig-parameter"
    assert problem["errors"] == [
        {"parameter": parameter, "detail": "Ange ett datum som 2025-01-31."}
    ]


def test_decisions__iso_date_to__accepted(client, homes):
    page = get_json(client, "/api/v1/decisions?decided_to=2024-12-31")

    assert "3.2.2-101/2025" not in [d["diarienummer"] for d in page["items"]]


def test_inspections__by_diarienummer(client, homes):
    page = get_json(client, "/api/v1/inspections?diarienummer=3.2.2-900/2025")

    assert page["total"] == 1
    assert page["items"][0]["facility_id"] == "K0880-001"


def test_counties_and_municipalities__scb_codes(client):
    counties = get_json(client, "/api/v1/counties")
    kalmar_county = get_json(client, "/api/v1/municipalities?county=08")

    assert len(counties) == 21
    assert {"code": "0880", "name": "Kalmar", "county_code": "08"} in kalmar_county
    assert len(get_json(client, "/api/v1/municipalities")) == 290


def test_code_lists__labels_and_markings(client):
    lists = {entry["name"]: entry["codes"] for entry in get_json(client, "/api/v1/code-lists")}

    forbud = next(code for code in lists["outcome"] if code["code"] == "forbud")
    assert forbud["label"] == "Förbud"
    assert forbud["marking"] == {
        "severity": "serious",
        "symbol": "✕",
        "colour": "red",
        "label": "Förbud",
    }
    assert {"code": "hvb", "label": "HVB för barn och unga", "marking": None} in lists[
        "facility_type"
    ]


def test_problem_types__every_code_documented(client):
    codes = {entry["code"]: entry["status"] for entry in get_json(client, "/api/v1/problem-types")}

    assert codes["token-har-gatt-ut"] == 401
    assert codes["fel-kommun"] == 403
    assert codes["for-manga-anrop"] == 429
    assert codes["tidsgrans"] == 503


def test_open_data_off__public_resources_need_a_key(client, settings, homes):
    settings.API_OPEN_DATA = False

    response = client.get("/api/v1/facilities")

    assert response.status_code == 401
    assert response.json()["code"] == "token-saknas"
    assert response["WWW-Authenticate"].startswith("Bearer")
    _client, token = api_client_with_token()
    assert client.get("/api/v1/facilities", **bearer(token)).status_code == 200


def test_a_signed_in_session_gets_nothing_more_through_the_api(client, settings, homes):
    """The API reads no session: with disclosure on, a signed-in municipal user's browser still
    sees the manager withheld through the API."""
    from tests.factories import make_user

    settings.PERSONAL_DATA_DISCLOSURE = True
    client.force_login(make_user(Role.MUNICIPAL_USER))
    services.manager_set_current(facility=homes[0], values={"name": "Test Föreståndarsson"})

    detail = get_json(client, "/api/v1/facilities/K0880-001")

    assert detail["manager"]["withheld"] is True


def test_rate_limit__429_with_retry_after_and_problem(client, settings, homes):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    _client, token = api_client_with_token()
    for _ in range(3):
        assert client.get("/api/v1/api-info", **bearer(token)).status_code == 200

    response = client.get("/api/v1/api-info", **bearer(token))

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    problem = response.json()
    assert problem["code"] == "for-manga-anrop"
    assert problem["detail"].startswith("Högst 3 anrop i minuten.")
    # Counted per client: another client, and callers without a key, have their own count.
    _other, other_token = api_client_with_token(name="Annat system")
    assert client.get("/api/v1/api-info", **bearer(other_token)).status_code == 200
    assert client.get("/api/v1/api-info").status_code == 200


@pytest.fixture
def api_info_at(client, monkeypatch):
    """Calls /api/v1/api-info with a client's key at a time the rate limit's clock is set to:
    ``call(token, at)``, or at the last time set with ``at=None``."""
    clock = [1_000_000.0]
    monkeypatch.setattr(ClientRateThrottle, "timer", staticmethod(lambda: clock[0]))

    def call(token: str, at: float | None = None):
        clock[0] = clock[0] if at is None else at
        return client.get("/api/v1/api-info", **bearer(token))

    return call


def test_rate_limit__a_sliding_minute__each_request_counts_until_the_60th_second_after_its_own(
    api_info_at, settings, homes
):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    _client, token = api_client_with_token()

    def call(at: float):
        return api_info_at(token, at)

    assert call(1_000_000.2).status_code == 200
    assert call(1_000_010.5).status_code == 200
    assert call(1_000_010.7).status_code == 200
    refused = call(1_000_030.0)
    assert (refused.status_code, refused["Retry-After"]) == (429, "30")
    assert refused.json()["detail"] == "Högst 3 anrop i minuten. Försök igen om 30 s."
    assert call(1_000_059.9).status_code == 429  # refused calls do not count
    assert call(1_000_060.0).status_code == 200  # the first call's minute is over
    refused = call(1_000_061.4)  # room when both calls of second 1,000,010 have left
    assert (refused.status_code, refused["Retry-After"]) == (429, "9")
    assert [call(1_000_070.0).status_code for _ in range(3)] == [200, 200, 429]
    settings.API_RATE_LIMIT_PER_MINUTE = 2  # lowered: two of the three must leave first
    refused = call(1_000_071.0)
    assert (refused.status_code, refused["Retry-After"]) == (429, "59")


def test_rate_limit__a_clock_set_back_a_foreign_cache_value_and_a_limit_of_0(
    api_info_at, settings, homes
):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    api_client, token = api_client_with_token()
    cache.set(f"throttle_api_seconds_client-{api_client.public_id}", ["left by another program"])

    assert api_info_at(token, 1_000_000.5).status_code == 200  # counted from nothing, not a 500
    assert api_info_at(token, 1_000_000.5 - 3600).status_code == 200  # an hour back: same minute
    refused = api_info_at(token)
    assert (refused.status_code, refused["Retry-After"]) == (429, "60")
    assert api_info_at(token, 1_000_060.0).status_code == 200

    settings.API_RATE_LIMIT_PER_MINUTE = 0
    refused = api_info_at(api_client_with_token(name="Noll")[1])
    assert (refused.status_code, refused["Retry-After"]) == (429, "60")


HEAVY = (
    "(WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter "
    "WHERE n < 50000000) SELECT count(*) FROM counter) > 0"
)


def test_a_query_running_past_the_timeout_is_stopped_with_a_problem(
    client, settings, homes, monkeypatch
):
    """A search made heavy on purpose (a 50-million-row count the database must really run) is
    stopped by statement_timeout (PostgreSQL) or the progress handler (SQLite)."""
    settings.API_QUERY_TIMEOUT_MS = 100
    real_search = selectors.facility_search
    monkeypatch.setattr(
        "api.endpoints.selectors.facility_search",
        lambda search, **kwargs: real_search(search, **kwargs).extra(where=[HEAVY]),
    )

    response = client.get("/api/v1/facilities")

    assert response.status_code == 503
    problem = response.json()
    assert problem["code"] == "tidsgrans"
    assert problem["detail"].startswith("Frågan avbröts efter 0.1 s.")
    if connection.vendor == "sqlite":  # the handler is gone: the next query runs in full
        monkeypatch.undo()
        assert client.get("/api/v1/facilities").status_code == 200


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql__the_api_timeout_stays_for_api_calls_and_never_reaches_other_requests():
    """Outside a transaction (as in production) the API leaves its statement_timeout on the
    connection for the next API call, and any other request resets it first. Run on a connection
    of its own in autocommit: the test's own connection is inside a transaction."""
    from django.test import Client

    from tests.api_support import Writer

    def timeout_after(path: str) -> str:
        response = Client().get(path)
        assert response.status_code == 200, path
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            return cursor.fetchone()[0]

    writer = Writer()
    try:
        assert writer.call(lambda: timeout_after("/api/v1/api-info")) == "1s"
        assert writer.call(lambda: timeout_after("/api/v1/code-lists")) == "1s"
        assert writer.call(lambda: timeout_after("/oppna-data/")) == "0"
        assert writer.call(lambda: timeout_after("/api/v1/api-info")) == "1s"
    finally:
        writer.stop()


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/inspections?diarienummer=3.2%00", "diarienummer"),
        ("/api/v1/decisions?facility_id=K0880&facility_id=K%00", "facility_id"),
        ("/api/v1/facilities?text=%C3%84ngs%00", "text"),
        ("/api/v1/facilities/K0880-001%00", "facility_id"),
    ],
)
def test_a_nul_character_in_a_parameter__422_naming_it_and_nothing_logged(
    client, homes, url, parameter
):
    """PostgreSQL refuses NUL in a query: it was a 500 there (schemathesis found it)."""
    response = client.get(url)

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "ogiltig-parameter"
    assert problem["detail"] == f"{parameter}: Får inte innehålla nolltecken (NUL)."
    assert problem["errors"] == [
        {"parameter": parameter, "detail": "Får inte innehålla nolltecken (NUL)."}
    ]
    assert not AccessEvent.objects.exists()


def test_every_read_is_in_the_access_log_as_the_client(client, homes):
    api_client, token = api_client_with_token()

    client.get("/api/v1/facilities?text=ängs&child_age=14", **bearer(token))
    client.get("/api/v1/facilities/K0880-001", **bearer(token))
    client.get("/api/v1/decisions", **bearer(token))

    events = list(AccessEvent.objects.filter(user_id=api_client.account_user_id).order_by("id"))
    assert [(e.action, e.object_type, e.object_id) for e in events] == [
        (AccessEvent.Action.SEARCH, "", ""),
        (AccessEvent.Action.FACILITY_VIEW, "facility", "K0880-001"),
        (AccessEvent.Action.API_READ, "decision", ""),
    ]
    assert events[0].detail == "text=ängs&child_age=14"
    assert {(e.role, e.municipality_code) for e in events} == {(Role.MUNICIPAL_SYSTEM, "0880")}


def test_personnummer_typed_into_the_search_is_masked_in_the_log(client):
    assert get_json(client, "/api/v1/facilities?text=19811218-9876")["items"] == []

    event = AccessEvent.objects.get(action=AccessEvent.Action.SEARCH)
    assert event.detail == "text=ÅÅMMDD-XXXX"


def test_anonymous_reads_are_logged_with_the_address(client, homes):
    client.get("/api/v1/facilities/K0880-001", REMOTE_ADDR="192.0.2.7")

    event = AccessEvent.objects.get(action=AccessEvent.Action.FACILITY_VIEW)
    assert (event.user_id, event.ip) == (None, "192.0.2.7")


def test_openapi_document__problem_media_type_and_optional_security(client):
    schema = json.loads(client.get("/api/v1/openapi.json").content)

    facilities = schema["paths"]["/api/v1/facilities"]["get"]
    assert "application/problem+json" in facilities["responses"]["422"]["content"]
    assert facilities["security"][0] == {}
    events = schema["paths"]["/api/v1/municipalities/{code}/access-events"]["get"]
    assert {} not in events["security"]
    assert all(path == path.lower() for path in schema["paths"])
