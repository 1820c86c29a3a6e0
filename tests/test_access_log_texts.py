"""The access log in words (access/log_texts.py): what each kind of entry says to the person who
reads the municipal extract, IVO's log search or the review report, what it links to, what it
keeps from a reader, and that a page of entries costs the same number of queries however long
it is."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access import log_texts
from access.log_generator import log_user
from access.models import AccessEvent
from access.roles import Role
from register.codes import TargetGroup
from tests.factories import DecisionFactory, FacilityFactory, ProviderFactory, make_user, sign_in

pytestmark = pytest.mark.django_db

Action = AccessEvent.Action
PROVIDER_ID = "ba67b44d-0000-4000-8000-000000000001"
SOLE_TRADER_ID = "ba67b44d-0000-4000-8000-000000000002"


@pytest.fixture
def register(db):
    provider = ProviderFactory(name="Mållid Omsorg AB", public_id=PROVIDER_ID)
    sole_trader = ProviderFactory(
        name="Anna Andersson",
        public_id=SOLE_TRADER_ID,
        is_sole_trader=True,
        organisation_number="700101-9905",
    )
    home = FacilityFactory(
        facility_id="F-MALLID", name="Behandlingshemmet Mållid", provider=provider
    )
    FacilityFactory(
        facility_id="S-GOMD",
        name="Gömstället",
        provider=sole_trader,
        target_groups=[TargetGroup.SKYDD],
    )
    DecisionFactory(facility=home, diarienummer="3.2.2-13748/2022")
    return home


def event(action, *, object_type="", object_id="", fields="", detail="") -> AccessEvent:
    return AccessEvent(
        at=timezone.now(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        fields=fields,
        detail=detail,
    )


def reader_request(role=Role.IVO_ADMIN):
    request = RequestFactory().get("/ivo/logg/")
    request.user = make_user(role, municipality="0880")
    return request


SENTENCES = [
    (
        event(Action.SEARCH, detail="typ=hvb&lan=08&alder=15&kon=flickor"),
        "Sökte: HVB för barn och unga, Kalmar län, 15 år, flicka",
    ),
    (
        event(
            Action.SEARCH,
            detail="q=Mållid&utfall=forelaggande_vite&utfall=forbud&utan_krav=on&sida=2&x=1",
        ),
        "Sökte: ”Mållid”, Utfall i senaste beslutet: Föreläggande med vite, Förbud, "
        "Inga krav som ska åtgärdas eller är försenade, x=1",
    ),
    (
        event(Action.SEARCH, detail="facility_type=hvb&county=08&include_neighbours=true"),
        "Sökte: HVB för barn och unga, Kalmar län, med grannlän",
    ),
    (event(Action.SEARCH, detail=""), "Sökte utan urval"),
    (
        event(Action.FACILITY_VIEW, object_type="facility", object_id="F-MALLID"),
        "Läste Behandlingshemmet Mållid",
    ),
    (
        event(Action.FACILITY_VIEW, object_type="facility", object_id="F-BORTA"),
        "Läste verksamheten F-BORTA",
    ),
    (
        event(Action.PROVIDER_VIEW, object_type="provider", object_id=PROVIDER_ID),
        "Läste huvudmannen Mållid Omsorg AB",
    ),
    (
        event(
            Action.PERSONAL_DATA_VIEW,
            object_type="facility",
            object_id="F-MALLID",
            fields="manager.name,manager.email",
        ),
        "Såg personuppgifter om Behandlingshemmet Mållid: föreståndarens namn, "
        "föreståndarens e-postadress",
    ),
    (
        event(Action.PROTECTED_VIEW, object_type="facility", object_id="S-GOMD"),
        "Såg det skyddade boendet Gömstället",
    ),
    (
        event(Action.DOCUMENT_DOWNLOAD, object_type="decision", object_id="3.2.2-13748/2022"),
        "Laddade ned beslut 3.2.2-13748/2022 om Behandlingshemmet Mållid",
    ),
    (
        event(
            Action.DOCUMENT_DOWNLOAD,
            object_type="decision",
            object_id="3.2.2-1/2020",
            detail="kopia=fullstandigt",
        ),
        "Laddade ned det fullständiga beslutet 3.2.2-1/2020",
    ),
    (event(Action.LOGIN, detail="sätt=engångslänk"), "Loggade in med engångslänk eller kod"),
    (
        event(Action.LOGIN_FAILED, detail="orsak=adressen är inte frilistad"),
        "Inloggningen misslyckades: adressen är inte frilistad",
    ),
    (
        event(Action.LOGIN_LINK_REQUESTED, detail="adress=a@kalmar.se"),
        "Begärde en inloggningslänk till a@kalmar.se",
    ),
    (event(Action.LOGOUT), "Loggade ut"),
    (
        event(Action.SESSION_ENDED, detail="orsak=frilistningen har gått ut"),
        "Sessionen avslutades: frilistningen har gått ut",
    ),
    (
        event(
            Action.ALLOWLIST_CHANGE,
            object_type="allowlist",
            detail="ändring=återkallad adress=a@kalmar.se kommun=0880 roll=kommun till=2027-01-31",
        ),
        "Ändrade frilistningen för a@kalmar.se: återkallad 2027-01-31",
    ),
    (
        event(Action.LOG_EXPORT, object_type="access_log", detail="sida=municipal format=csv"),
        "Exporterade kommunens loggutdrag som CSV-fil",
    ),
    (
        event(Action.LOG_VIEW, object_type="access_log", detail="sida=search format=html"),
        "Sökte i åtkomstloggen",
    ),
    (
        event(Action.LOG_EXPORT, object_type="access_log", detail="sida=municipal format=html"),
        "Läste kommunens loggutdrag",  # as a page read was logged before log_view
    ),
    (event(Action.API_READ, object_type="decision"), "Hämtade beslut genom API:t"),
    (
        event(Action.OPEN_DATA_DOWNLOAD, object_type="dataset", object_id="verksamheter.csv"),
        "Laddade ned öppna data: verksamheter.csv",
    ),
    (
        event(Action.API_CLIENT_CHANGE, object_type="api_client", object_id="k-1"),
        "Ändrade API-klienten k-1",
    ),
]


@pytest.mark.parametrize(
    ("entry", "sentence"), SENTENCES, ids=[f"{e.action}-{n}" for n, (e, _s) in enumerate(SENTENCES)]
)
def test_log_line__each_kind_of_entry__reads_as_a_swedish_sentence(register, entry, sentence):
    (described,) = log_texts.describe([entry], request=reader_request())

    assert described.line.text == sentence


def test_log_line__every_action_of_the_log__has_a_sentence_of_its_own():
    assert {entry.action for entry, _sentence in SENTENCES} == set(Action.values)


def test_log_line__names_link_to_the_record_they_concern(register):
    entries = log_texts.describe(
        [
            event(Action.FACILITY_VIEW, object_type="facility", object_id="F-MALLID"),
            event(Action.PROVIDER_VIEW, object_type="provider", object_id=PROVIDER_ID),
            event(Action.DOCUMENT_DOWNLOAD, object_type="decision", object_id="3.2.2-13748/2022"),
        ],
        request=reader_request(),
    )

    assert [entry.line.html for entry in entries] == [
        'Läste <a href="/verksamhet/F-MALLID/">Behandlingshemmet Mållid</a>',
        f'Läste huvudmannen <a href="/huvudman/{PROVIDER_ID}/">Mållid Omsorg AB</a>',
        'Laddade ned beslut <a href="/verksamhet/F-MALLID/">3.2.2-13748/2022</a> '
        "om Behandlingshemmet Mållid",
    ]


def test_log_line__text_from_the_log__is_escaped_in_html(register):
    (entry,) = log_texts.describe(
        [event(Action.SEARCH, detail="q=<script>alert(1)</script>")], request=reader_request()
    )

    assert "<script>" not in entry.line.html
    assert "&lt;script&gt;" in entry.line.html


def test_log_line__a_sole_traders_name__never_in_the_log_line(register):
    (entry,) = log_texts.describe(
        [event(Action.PROVIDER_VIEW, object_type="provider", object_id=SOLE_TRADER_ID)],
        request=reader_request(),
    )

    assert entry.line.text == "Läste huvudmannen en enskild näringsidkare"
    assert f'href="/huvudman/{SOLE_TRADER_ID}/"' in entry.line.html
    assert "Anna Andersson" not in entry.line.html


def test_log_line__a_protected_home__named_to_a_reader_who_may_see_it_and_the_view_logged(
    register,
):
    request = reader_request(Role.MUNICIPAL_ADMIN)
    entries = [event(Action.FACILITY_VIEW, object_type="facility", object_id="S-GOMD")] * 2

    described = log_texts.describe(entries, request=request)

    assert described[0].line.text == "Läste Gömstället"
    shown = list(
        AccessEvent.objects.filter(action=Action.PROTECTED_VIEW).values_list(
            "username", "object_type", "object_id"
        )
    )
    assert shown == [(request.user.username, "facility", "S-GOMD")]
    out = io.StringIO()
    call_command("verify_access_log", stdout=out)  # the entries take their place in the chain
    assert "intakt" in out.getvalue()


def test_log_line__a_protected_home__to_a_reader_without_the_right__unnamed_and_unlinked(
    register,
):
    request = RequestFactory().get("/")
    request.user = make_user(Role.MUNICIPAL_USER, municipality="0880")
    request.user.account.role = ""  # an account whose role was taken away

    (entry,) = log_texts.describe(
        [event(Action.FACILITY_VIEW, object_type="facility", object_id="S-GOMD")], request=request
    )

    assert entry.line.text == "Läste ett skyddat boende"
    assert "<a" not in entry.line.html and "S-GOMD" not in entry.line.html
    assert not AccessEvent.objects.filter(action=Action.PROTECTED_VIEW).exists()


# -- the pages -------------------------------------------------------------------------------


def add_views(user, facility_ids) -> None:
    AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                at=timezone.now() - datetime.timedelta(minutes=n),
                user_id=user.user_id,
                username=user.username,
                role=user.role,
                municipality_code=user.municipality_code,
                action=Action.FACILITY_VIEW,
                object_type="facility",
                object_id=facility_id,
            )
            for n, facility_id in enumerate(facility_ids)
        ]
    )


def queries_for(client, url) -> int:
    contexts = [CaptureQueriesContext(connection) for connection in connections.all()]
    for context in contexts:
        context.__enter__()
    try:
        response = client.get(url)
    finally:
        for context in contexts:
            context.__exit__(None, None, None)
    assert response.status_code == 200
    return sum(len(context.captured_queries) for context in contexts)


def test_municipal_extract__the_same_number_of_queries_for_two_entries_as_for_fifty(client, db):
    user = log_user(make_user(Role.MUNICIPAL_USER, municipality="0880"))
    homes = [FacilityFactory() for _ in range(50)]
    sign_in(client, make_user(Role.MUNICIPAL_ADMIN, municipality="0880"))
    add_views(user, [home.facility_id for home in homes[:2]])
    client.get("/kommun/logg/")  # the first request of a session does some work of its own
    few = queries_for(client, "/kommun/logg/?handelse=facility_view")
    add_views(user, [home.facility_id for home in homes[2:]])

    many = queries_for(client, "/kommun/logg/?handelse=facility_view")

    assert many == few


def test_municipal_extract__entries_in_words_with_links_and_swedish_dates(client, register):
    user = log_user(make_user(Role.MUNICIPAL_USER, municipality="0880", email="hanna@kalmar.se"))
    AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                at=datetime.datetime(2026, 12, 7, 13, 5, tzinfo=datetime.UTC),
                user_id=user.user_id,
                username=user.username,
                role=user.role,
                municipality_code="0880",
                action=Action.SEARCH,
                detail="utfall=forelaggande_vite&lan=08",
            ),
            AccessEvent(
                at=datetime.datetime(2026, 12, 7, 13, 6, tzinfo=datetime.UTC),
                user_id=user.user_id,
                username=user.username,
                role=user.role,
                municipality_code="0880",
                action=Action.FACILITY_VIEW,
                object_type="facility",
                object_id="F-MALLID",
            ),
        ]
    )
    sign_in(client, make_user(Role.MUNICIPAL_ADMIN, municipality="0880"))

    page = client.get("/kommun/logg/", {"anvandare": "hanna"}).content.decode()

    assert "Sökte: Kalmar län, Utfall i senaste beslutet: Föreläggande med vite" in page
    assert 'Läste <a href="/verksamhet/F-MALLID/">Behandlingshemmet Mållid</a>' in page
    assert "utfall=forelaggande_vite" not in page
    assert "7 dec 2026 kl. 14.05" in page  # 13.05 UTC is 14.05 in Sweden in December


def test_municipal_extract__in_english__the_month_in_english(client, register):
    user = log_user(make_user(Role.MUNICIPAL_USER, municipality="0880"))
    AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                at=datetime.datetime(2026, 12, 7, 13, 5, tzinfo=datetime.UTC),
                user_id=user.user_id,
                username=user.username,
                role=user.role,
                municipality_code="0880",
                action=Action.LOGOUT,
            )
        ]
    )
    sign_in(client, make_user(Role.MUNICIPAL_ADMIN, municipality="0880"))
    client.cookies["sprak"] = "en"

    page = client.get("/kommun/logg/").content.decode()

    assert '<html lang="en"' in page
    assert "7 Dec 2026, " in page


def test_review_report__examples_are_entries_in_words_linked_to_the_home(client, register):
    user = log_user(make_user(Role.MUNICIPAL_USER, municipality="0880"))
    night = timezone.localtime(timezone.now() - datetime.timedelta(days=2)).replace(
        hour=23, minute=0
    )
    AccessEvent.objects.bulk_create(
        [
            AccessEvent(
                at=night + datetime.timedelta(minutes=n),
                user_id=user.user_id,
                username=user.username,
                role=user.role,
                municipality_code=user.municipality_code,
                action=Action.FACILITY_VIEW,
                object_type="facility",
                object_id="F-MALLID",
            )
            for n in range(12)
        ]
    )
    sign_in(client, make_user(Role.IVO_ADMIN))

    response = client.get("/ivo/logg/granskning/")

    night_group = next(g for g in response.context["groups"] if g["kind"] == "night")
    (item,) = night_group["items"]
    assert [example.line.text for example in item["examples"]] == [
        "Läste Behandlingshemmet Mållid"
    ] * len(item["finding"].example_event_ids)
    assert item["examples"]
    assert 'Läste <a href="/verksamhet/F-MALLID/">Behandlingshemmet Mållid</a>' in (
        response.content.decode()
    )
