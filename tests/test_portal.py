"""The placement portal: search, facility and provider pages, as a social worker meets them."""

import datetime
import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from register import services
from register.codes import FacilityStatus, FacilityType, Outcome, Ownership
from register.models import Facility, Municipality
from tests.assertions import assert_none_shown, assert_shows
from tests.disclosure_support import every_form
from tests.factories import (
    DecisionFactory,
    FacilityFactory,
    FindingFactory,
    InspectionFactory,
    ProviderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _signed_in(client, municipal_user):
    """A social worker of Kalmar kommun, signed in."""
    client.force_login(municipal_user)


def result_names(response) -> list[str]:
    """The facility names in the result list, in order."""
    html = response.content.decode()
    return re.findall(r'<h3 class="result__name"><a href="[^"]+">([^<]+)</a></h3>', html)


def reads(captured) -> int:
    """The page's queries, without the access log's own insert (on PostgreSQL the log shares the
    connection; on SQLite it has a database of its own)."""
    return sum(
        1
        for query in captured.captured_queries
        if "access_accessevent" not in query["sql"]
        and not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    )


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# The data every filter test searches: built here, so each expectation can be read off it.

KALMAR, STOCKHOLM, UPPSALA = "0880", "0180", "0380"


@pytest.fixture
def homes(db):
    """Eight homes that differ in every filtered fact."""
    private = ProviderFactory(name="Björkens Omsorg AB", ownership=Ownership.ENSKILD)
    municipal = ProviderFactory(
        name="Kalmar kommun", ownership=Ownership.KOMMUNAL, organisation_number="212000-0746"
    )
    regional = ProviderFactory(name="Region Uppsala", ownership=Ownership.REGIONAL)

    def home(name, **facts):
        facts.setdefault("provider", private)
        municipality = facts.pop("municipality", KALMAR)
        return FacilityFactory(
            name=name, municipality=Municipality.objects.get(code=municipality), **facts
        )

    made = {
        "Björkgården": home(
            "Björkgården",
            target_groups=["npf", "psykisk_ohalsa"],
            age_from=13,
            age_to=17,
            gender="flickor",
            places=6,
        ),
        "Ekgården": home(
            "Ekgården",
            target_groups=["missbruk"],
            age_from=15,
            age_to=20,
            gender="pojkar",
            places=4,
            municipality=STOCKHOLM,
        ),
        "Lindgården": home(
            "Lindgården",
            facility_type=FacilityType.STODBOENDE,
            target_groups=["ensamkommande"],
            age_from=16,
            age_to=20,
            gender="alla",
            places=10,
            provider=municipal,
        ),
        "Almgården": home(
            "Almgården",
            target_groups=["npf"],
            age_from=8,
            age_to=12,
            gender="alla",
            places=3,
            provider=regional,
            municipality=UPPSALA,
        ),
        "Askgården": home("Askgården", age_from=12, age_to=17, places=8),
        "Lönngården": home(
            "Lönngården",
            status=FacilityStatus.NEDLAGD,
            start_date=datetime.date(2010, 1, 1),
            end_date=datetime.date(2020, 1, 1),
            places=5,
        ),
        "Rönngården": home(
            "Rönngården",
            facility_type=FacilityType.SARSKILT_UNGDOMSHEM,
            places=12,
            municipality=UPPSALA,
            provider=ProviderFactory(
                name="Statens institutionsstyrelse", ownership=Ownership.STATLIG
            ),
        ),
        "Hasselgården": home("Hasselgården", age_from=13, age_to=18, places=2),
    }
    DecisionFactory(
        facility=made["Björkgården"],
        diarienummer="3.2.2-13748/2022",
        decision_date=datetime.date(2022, 11, 3),
        outcome=Outcome.BRISTER,
    )
    DecisionFactory(
        facility=made["Ekgården"],
        diarienummer="3.2.2-100/2024",
        decision_date=datetime.date(2024, 4, 1),
        outcome=Outcome.INGA_BRISTER,
    )
    DecisionFactory(
        facility=made["Askgården"],
        diarienummer="3.2.2-200/2025",
        decision_date=datetime.date(2025, 2, 1),
        outcome=Outcome.FORBUD,
    )  # sets Askgården's status to forbud
    return made


# Each filter as a URL parameter and the same rule written out in Python, so the page is checked
# against an oracle independent of the selector.
FILTERS = {
    "typ=hvb": lambda f: f.facility_type == "hvb",
    "malgrupp=npf": lambda f: "npf" in f.target_groups,
    "alder=16": lambda f: (
        (f.age_from is None or f.age_from <= 16) and (f.age_to is None or f.age_to >= 16)
    ),
    "kon=flickor": lambda f: f.gender in ("flickor", "alla", ""),
    "lan=08": lambda f: f.municipality_id.startswith("08"),
    "kommun=0880": lambda f: f.municipality_id == "0880",
    "regi=enskild": lambda f: f.provider.ownership == "enskild",
    "platser=5": lambda f: f.places >= 5,
    "utfall=brister": lambda f: f.latest_outcome == "brister",
    "q=gården": lambda f: "gården" in f.name.lower(),
}
STATUS_FILTERS = {
    "": lambda f: f.status == "aktiv",  # the default: active homes only
    "status=nedlagd": lambda f: f.status == "nedlagd",
    "status=aktiv&status=forbud": lambda f: f.status in ("aktiv", "forbud"),
}


def expected_names(*rules) -> list[str]:
    from register.selectors import facilities_with_marking

    facilities = facilities_with_marking().order_by("name")
    return sorted(f.name for f in facilities if all(rule(f) for rule in rules))


COMBINATIONS = [(first, second, "") for first, second in itertools.combinations(FILTERS, 2)] + [
    (name, None, status) for name in FILTERS for status in STATUS_FILTERS
]


@pytest.mark.parametrize("first,second,status", COMBINATIONS)
def test_search__filter_combinations__match_the_rule_written_out(
    client, homes, first, second, status
):
    params = [p for p in (first, second, status) if p]
    rules = [FILTERS[first], STATUS_FILTERS[status]] + ([FILTERS[second]] if second else [])

    response = client.get("/?" + "&".join(params))

    assert response.status_code == 200
    assert sorted(result_names(response)) == expected_names(*rules)
    assert expected_names(*rules) or second or status  # each filter alone finds a home


def test_search__all_filters_at_once__finds_the_one_home(client, homes):
    response = client.get(
        "/?q=björk&typ=hvb&malgrupp=npf&malgrupp=psykisk_ohalsa&alder=14&kon=flickor&lan=08"
        "&kommun=0880&regi=enskild&status=aktiv&platser=6&utfall=brister&sortera=latest_decision"
    )

    assert result_names(response) == ["Björkgården"]
    assert "1 verksamhet" in text_of(response)


@pytest.mark.parametrize(
    "query,name",
    [
        ("q=3.2.2-13748/2022", "Björkgården"),  # a decision's diarienummer
        ("q=212000-0746", "Lindgården"),  # a provider's organisationsnummer
        ("q=2120000746", "Lindgården"),  # without the dash
        ("q=kalmar kommun", "Lindgården"),  # a provider's name
        ("q=EKGÅRDEN", "Ekgården"),  # case does not matter
    ],
)
def test_search__free_text__name_number_and_diarienummer(client, homes, query, name):
    assert result_names(client.get(f"/?{query}")) == [name]


def test_search__nothing_matches__says_so_and_how_to_widen(client, homes):
    response = client.get("/?alder=3&lan=01")

    assert response.status_code == 200
    assert result_names(response) == []
    assert "0 verksamheter" in text_of(response)
    assert "Inga verksamheter matchar sökningen." in text_of(response)


@pytest.mark.parametrize(
    "query,message",
    [
        ("alder=femton", "Barnets ålder: Ange åldern som ett heltal, till exempel 15."),
        ("alder=30", "Barnets ålder: Registret gäller barn och unga upp till 21 år."),
        ("typ=villa", "Typ av verksamhet: Okänt värde villa. Välj bland alternativen."),
        ("lan=99", "Län: Okänt värde 99. Välj ett av alternativen i listan."),
        ("utfall=bra", "Utfall i senaste beslutet: Okänt värde bra. Välj bland alternativen."),
        ("platser=-1", "Minst antal platser: Antal platser kan inte vara negativt."),
        ("lan=01&kommun=0880", "Kommun: Kommunen ligger inte i det valda länet."),
        ("sortera=pris", "Sortera efter: Okänt värde pris. Välj ett av alternativen i listan."),
    ],
)
def test_search__bad_value__page_back_with_a_clear_message(client, homes, query, message):
    response = client.get(f"/?{query}")

    assert response.status_code == 400
    assert "Sökningen kunde inte göras" in text_of(response)
    assert message in text_of(response)
    assert result_names(response) == []


def test_search__bad_value__field_marked_invalid_for_screen_readers(client, homes):
    html = client.get("/?alder=femton").content.decode()

    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_alder"', html) or re.search(
        r'<input[^>]*id="id_alder"[^>]*aria-invalid="true"', html
    )
    assert 'aria-describedby="alder-help alder-error"' in html


def test_search__result_shows_marking_with_symbol_text_and_date(client, homes):
    html = client.get("/?q=björkgården").content.decode()

    assert (
        '<span class="marking marking--attention"><span class="marking__symbol" '
        'aria-hidden="true">!</span> Brister konstaterade <span class="marking__date">'
        "2022-11-03</span></span>"
    ) in html


def test_search__overdue_inspection__flagged_in_the_list(client, homes):
    InspectionFactory(facility=homes["Ekgården"], start_date=datetime.date(2025, 1, 1))

    response = client.get("/?sortera=name")
    text = text_of(response)

    # Ekgården had an inspection within the year only if today is before 2026-01-01; the rule
    # itself is tested in test_selectors. Here: a home never inspected shows the flag.
    hassel = text.split("Hasselgården", 1)[1].split("Senaste beslut", 2)[1]
    assert "Ingen inspektion på över 12 månader" in hassel


def test_search__sorting_by_latest_decision__newest_first_undecided_last(client, homes):
    names = result_names(client.get("/?sortera=latest_decision&status=aktiv&status=forbud"))

    assert names[:3] == ["Askgården", "Ekgården", "Björkgården"]


def test_search__pagination__keeps_the_filters_in_its_links(client, homes):
    for number in range(25):
        FacilityFactory(name=f"Extra {number:02d}", places=7)

    first = client.get("/?q=extra")
    second = client.get("/?q=extra&sida=2")

    assert len(result_names(first)) == 20
    assert result_names(second) == [f"Extra {number}" for number in range(20, 25)]
    assert 'href="?q=extra&amp;sida=2"' in first.content.decode()
    assert "Sida 2 av 2" in text_of(second)


@pytest.mark.parametrize("url", ["/", "/?alder=15&lan=08", "/?q=gården&sortera=latest_decision"])
def test_search__queries__fixed_whatever_the_number_of_results(client, homes, url):
    client.get(url)  # the session's first request stores its login time: one write, once
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(30):
        home = FacilityFactory(name=f"Fler {number}", age_from=10, age_to=18)
        earlier = DecisionFactory(
            facility=home,
            diarienummer=f"3.2.2-{5000 + number}/2023",
            decision_date=datetime.date(2023, 5, 1),
            outcome=Outcome.FORELAGGANDE,
        )
        FindingFactory(
            decision=earlier,
            area="lokaler",
            assessment="brist",
            requirement="Installera brandlarm.",
            due_date=datetime.date(2023, 9, 1),
        )
        latest = DecisionFactory(
            facility=home, diarienummer=f"3.2.2-{5000 + number}/2024", follows_up=earlier
        )
        FindingFactory(decision=latest, area="lokaler", assessment="brist")
        FindingFactory(decision=latest, area="delaktighet")

    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    if any(name.startswith("Fler ") for name in result_names(response)):
        assert "Återkommande brister ↻ Lokaler" in text_of(response)  # the findings were read
    assert len(many) == len(few)
    # 5 for the page (count, hits, län and kommuner, the hits' decisions and their findings);
    # session, user, account, allowlist; 2 for watches (the header's unread count, the buttons)
    assert reads(many) <= 11


# The facility page ----------------------------------------------------------------------------


def test_facility_page__summary_facts_and_timeline_newest_first(client, homes):
    facility = homes["Björkgården"]
    InspectionFactory(
        facility=facility,
        diarienummer="3.2.2-13748/2022",
        start_date=datetime.date(2022, 9, 14),
        end_date=datetime.date(2022, 9, 15),
        announced=False,
    )
    DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-9/2024",
        decision_date=datetime.date(2024, 6, 1),
        outcome=Outcome.FORELAGGANDE,
        review_areas=["trygghet_sakerhet", "lokaler"],
        summary="IVO förelägger hemmet att åtgärda brister i lokalerna.",
    )

    response = client.get(reverse("portal:facility", args=[facility.facility_id]))
    text = text_of(response)

    assert response.status_code == 200
    assert "Läget i dag Senaste beslut ! Föreläggande 2024-06-01" in text
    assert "Senaste inspektion 2022-09-14 (oanmäld)" in text
    assert "Organisationsnummer " + facility.provider.organisation_number in text
    assert "Neuropsykiatriska funktionsnedsättningar, Psykisk ohälsa" in text
    assert "13–17 år" in text
    timeline = text.split("Beslut och inspektioner", 1)[1]
    assert (
        timeline.index("2024-06-01")
        < timeline.index("2022-11-03")
        < timeline.index("Inspektion 2022-09-14 – 2022-09-15 (oanmäld)")
    )
    assert "Granskade områden: Lokaler, Trygghet och säkerhet" in timeline
    assert "IVO förelägger hemmet att åtgärda brister i lokalerna." in timeline
    assert "räknas fram av registret ur IVO:s beslut och sätts aldrig för hand" in text


def test_facility_page__request_decision_link__opens_the_request_form(client, homes):
    facility = Facility.objects.get(name="Björkgården")
    html = client.get(reverse("portal:facility", args=[facility.facility_id])).content.decode()
    link = re.search(r'href="(/beslut/\d+/begar/)">Begär ut beslut<span', html).group(1)

    response = client.get(link)

    assert response.status_code == 200
    assert "Begär ut beslut 3.2.2-13748/2022" in text_of(response)


def test_facility_page__unknown_id__404(client, homes):
    assert client.get("/verksamhet/FINNS-INTE/").status_code == 404


def test_facility_page__queries__fixed_whatever_the_length_of_the_history(client, homes):
    facility = homes["Ekgården"]
    url = reverse("portal:facility", args=[facility.facility_id])
    client.get(url)  # the session's first request stores its login time: one write, once
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for year in range(2010, 2024):
        InspectionFactory(
            facility=facility,
            diarienummer=f"3.2.2-77/{year}",
            start_date=datetime.date(year, 3, 1),
        )
        DecisionFactory(
            facility=facility,
            diarienummer=f"3.2.2-77/{year}",
            decision_date=datetime.date(year, 5, 1),
        )

    with CaptureQueriesContext(connection) as many:
        client.get(url)

    assert len(many) == len(few)
    # 6 for the page (findings too), 2 for the documents beside decisions, 4 access,
    # 2 for watches (the header's unread count, the button)
    assert reads(many) <= 14


# The provider page ----------------------------------------------------------------------------


def test_provider_page__every_home_with_its_marking_including_closed_and_prohibited(client, homes):
    provider = homes["Björkgården"].provider

    response = client.get(reverse("portal:provider", args=[provider.public_id]))
    names = result_names(response)
    text = text_of(response)

    assert names == ["Askgården", "Björkgården", "Ekgården", "Hasselgården", "Lönngården"]
    assert "5 verksamheter" in text
    assert "3 är aktiva." in text
    assert "Förbud mot verksamheten" in text
    assert "✕ Förbud 2025-02-01" in text


def test_provider_page__linked_from_the_facility_page(client, homes):
    facility = homes["Ekgården"]
    html = client.get(reverse("portal:facility", args=[facility.facility_id])).content.decode()

    assert f'href="/huvudman/{facility.provider.public_id}/"' in html


@pytest.mark.parametrize("public_id", ["1", "00000000-0000-0000-0000-000000000000"])
def test_provider_page__unknown_or_malformed_id__404(client, homes, public_id):
    assert client.get(f"/huvudman/{public_id}/").status_code == 404


def test_provider_page__queries__fixed_whatever_the_number_of_homes(client, homes):
    provider = homes["Björkgården"].provider
    url = reverse("portal:provider", args=[provider.public_id])
    client.get(url)  # the session's first request stores its login time: one write, once
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for number in range(15):
        home = FacilityFactory(provider=provider, name=f"Syster {number}")
        decision = DecisionFactory(facility=home, outcome=Outcome.FORELAGGANDE)
        FindingFactory(
            decision=decision, assessment="brist", requirement="Rutiner för larm.", due_date=None
        )

    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(many) == len(few)
    # 4 for the page and its homes' decisions and findings, 4 for the session and the user,
    # 2 for watches (the header's unread count, the buttons)
    assert reads(many) <= 10
    # Each home says what it must still put right, as a search hit does.
    shown = Facility.objects.filter(provider=provider).unprotected().count()
    assert response.content.decode().count("Krav att åtgärda") == shown > 15
    assert response.content.decode().count("1 krav") >= 15


# Privacy: personal data never leaves the server (DESIGN.md) -----------------------------------

SOLE_TRADER_NAME = "Gunilla Privatperson"
MANAGER_NAME = "Föreståndaren Hemlig"


@pytest.fixture
def personal_data(homes):
    """A sole trader's home with a manager: the names and numbers that must never be shown."""
    owner_number = "700101-9905"  # test range (födelsenummer 990)
    sole_trader = services.provider_save(
        provider=ProviderFactory.build(
            name=SOLE_TRADER_NAME,
            organisation_number=owner_number,
            is_sole_trader=True,
            ownership=Ownership.ENSKILD,
        )
    )
    facility = FacilityFactory(name="Familjehemmet Tallen", provider=sole_trader)
    services.manager_set_current(
        facility=facility,
        values={
            "name": MANAGER_NAME,
            "personal_identity_number": "19811218-9876",
            "email": "hemlig@example.com",
            "phone": "070-174 06 05",
        },
    )
    DecisionFactory(facility=facility, diarienummer="3.2.2-4242/2024")
    return facility


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/?q=Tallen",
        "/verksamhet/{facility_id}/",
        "/huvudman/{provider}/",
        "/beslut/{decision}/begar/",
    ],
)
def test_personal_data__never_on_any_portal_page(client, personal_data, url):
    decision = personal_data.decisions.get()
    response = client.get(
        url.format(
            facility_id=personal_data.facility_id,
            provider=personal_data.provider.public_id,
            decision=decision.pk,
        )
    )

    page = assert_shows(response, "Familjehemmet Tallen")
    assert_none_shown(
        page,
        [
            SOLE_TRADER_NAME,
            "Privatperson",
            *every_form("700101-9905"),
            MANAGER_NAME,
            *every_form("19811218-9876"),
            "hemlig@example.com",
            "174 06 05",
        ],
    )


def test_personal_data__sole_trader_name_or_number__finds_nothing(client, personal_data):
    for query in ("Privatperson", "700101-9905"):
        response = client.get("/", {"q": query})

        assert_shows(response, "Inga verksamheter matchar sökningen.")
        assert result_names(response) == []
    # The home is there, found by its own name.
    assert result_names(client.get("/", {"q": "Tallen"})) == ["Familjehemmet Tallen"]


def test_facility_page__sole_trader__says_the_name_is_withheld(client, personal_data):
    text = text_of(client.get(f"/verksamhet/{personal_data.facility_id}/"))

    assert "Enskild näringsidkare" in text
    assert "personuppgifter för en enskild näringsidkare och visas inte" in text


# Access ----------------------------------------------------------------


def test_portal__anonymous__sent_to_login_and_back(client, homes):
    client.logout()

    response = client.get("/?alder=15")

    assert response.status_code == 302
    assert response["Location"] == "/logga-in/?next=/%3Falder%3D15"


def test_search__personnummer_typed_in__not_kept_in_the_access_log(client, homes):
    from access.models import AccessEvent

    client.get("/?q=19811218-9876&alder=15")

    event = AccessEvent.objects.filter(action="search").latest("id")
    assert "9876" not in event.detail
    assert "q=ÅÅMMDD-XXXX" in event.detail and "alder=15" in event.detail


def test_search__latest_outcome__a_decision_overturned_by_a_court_does_not_match(client, homes):
    from register.models import Decision

    decision = Decision.objects.get(diarienummer="3.2.2-13748/2022")
    decision.appeal_status = "upphavt"
    services.decision_save(decision=decision)

    assert result_names(client.get("/?utfall=brister")) == []
