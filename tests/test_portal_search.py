"""The search answers "does it fit": several län at once (a län with its neighbours as one
choice), the supervision filters, and hits that show what rules a home in or out."""

import datetime
import re

import pytest
from django.utils import timezone

from register.codes import AppealStatus, Assessment, Outcome, ReviewArea
from register.models import Municipality
from tests.factories import DecisionFactory, FacilityFactory, FindingFactory, InspectionFactory

pytestmark = pytest.mark.django_db


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture(autouse=True)
def _signed_in(client, municipal_user):
    client.force_login(municipal_user)


def names(response) -> list[str]:
    html = response.content.decode()
    return sorted(re.findall(r'<h3 class="result__name"><a href="[^"]+">([^<]+)</a></h3>', html))


def text_of(response) -> str:
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r" ([,.])", r"\1", spaced)


def hit(response, name: str) -> str:
    """The text of one hit in the result list (its watch button left out)."""
    html = response.content.decode().split("</ol>", 1)[0]
    item = next(part for part in html.split('<li class="result"') if f">{name}</a></h3>" in part)
    item = re.sub(r"<form\b.*?</form>", " ", item.split(">", 1)[1], flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip()


def home(name: str, municipality: str, **facts):
    return FacilityFactory(
        name=name,
        municipality=Municipality.objects.get(code=municipality),
        start_date=datetime.date(2015, 1, 1),
        **facts,
    )


@pytest.fixture
def homes(db):
    """Homes in Kalmar län, its neighbours and further away, with their supervision."""
    made = {
        "Kalmarhemmet": home(
            "Kalmarhemmet",
            "0880",
            age_from=13,
            age_to=17,
            gender="flickor",
            target_groups=["npf", "psykisk_ohalsa"],
            places=6,
        ),
        "Växjöhemmet": home("Växjöhemmet", "0780"),  # Kronobergs län: a neighbour
        "Visbyhemmet": home("Visbyhemmet", "0980"),  # Gotland: a neighbour by ferry
        "Karlskronahemmet": home("Karlskronahemmet", "1080"),  # Blekinge: a neighbour
        "Stockholmshemmet": home("Stockholmshemmet", "0180"),  # not a neighbour
        "Uppsalahemmet": home("Uppsalahemmet", "0380"),  # not a neighbour
    }
    for facility in made.values():
        InspectionFactory(facility=facility, start_date=days(-30))
    # Kalmarhemmet: an open requirement, and the same area deficient twice (recurring).
    first = DecisionFactory(
        facility=made["Kalmarhemmet"], decision_date=days(-400), outcome=Outcome.FORELAGGANDE
    )
    FindingFactory(
        decision=first,
        area=ReviewArea.LOKALER,
        assessment=Assessment.BRIST,
        requirement="Installera brandlarm.",
        due_date=days(-300),
    )
    latest = DecisionFactory(
        facility=made["Kalmarhemmet"],
        decision_date=days(-20),
        outcome=Outcome.FORELAGGANDE,
        follows_up=first,
    )
    FindingFactory(
        decision=latest,
        area=ReviewArea.LOKALER,
        assessment=Assessment.BRIST,
        requirement="Installera brandlarm i alla sovrum.",
        due_date=days(45),
    )
    # Växjöhemmet: a serious decision two years ago.
    DecisionFactory(
        facility=made["Växjöhemmet"],
        decision_date=days(-730),
        outcome=Outcome.FORELAGGANDE_VITE,
    )
    # Karlskronahemmet: a serious decision a court overturned: it does not count.
    DecisionFactory(
        facility=made["Karlskronahemmet"],
        decision_date=days(-100),
        outcome=Outcome.FORBUD,
        appeal_status=AppealStatus.UPPHAVT,
    )
    # Visbyhemmet: an overdue requirement.
    injunction = DecisionFactory(
        facility=made["Visbyhemmet"], decision_date=days(-200), outcome=Outcome.FORELAGGANDE
    )
    FindingFactory(
        decision=injunction,
        area=ReviewArea.DOKUMENTATION,
        assessment=Assessment.BRIST,
        requirement="För journal.",
        due_date=days(-50),
    )
    # Uppsalahemmet: never inspected (its inspection is two years old).
    made["Uppsalahemmet"].inspections.all().delete()
    InspectionFactory(facility=made["Uppsalahemmet"], start_date=days(-800))
    return made


NEIGHBOURHOOD = ["Kalmarhemmet", "Karlskronahemmet", "Visbyhemmet", "Växjöhemmet"]


@pytest.mark.parametrize(
    "query,expected",
    [
        ("lan=08", ["Kalmarhemmet"]),
        ("lan=08&lan=01", ["Kalmarhemmet", "Stockholmshemmet"]),
        ("lan=&lan=01&lan=03", ["Stockholmshemmet", "Uppsalahemmet"]),  # "Alla län" and two
        ("lan=08&grannlan=on", NEIGHBOURHOOD),
        # Each län chosen brings its own neighbours: Uppsala län brings Stockholms.
        ("lan=08&grannlan=on&lan=03", [*NEIGHBOURHOOD, "Stockholmshemmet", "Uppsalahemmet"]),
        ("lan=08&lan=08", ["Kalmarhemmet"]),
        ("lan=08&grannlan=on&kommun=0780", ["Växjöhemmet"]),  # a neighbour's kommun
    ],
)
def test_search__several_lan_and_neighbours(client, homes, query, expected):
    response = client.get(f"/?{query}")

    assert response.status_code == 200
    assert names(response) == sorted(expected)


@pytest.mark.parametrize(
    "query,expected",
    [
        # Växjöhemmet's vite is two years old to the day: within 3 and 5 years, not 1.
        ("utan_allvarligt=1", NEIGHBOURHOOD),
        ("utan_allvarligt=3", ["Kalmarhemmet", "Karlskronahemmet", "Visbyhemmet"]),
        ("utan_allvarligt=5", ["Kalmarhemmet", "Karlskronahemmet", "Visbyhemmet"]),
        ("utan_krav=on", ["Karlskronahemmet", "Växjöhemmet"]),
        ("inspekterad=on", NEIGHBOURHOOD),
        ("utan_allvarligt=3&utan_krav=on", ["Karlskronahemmet"]),
    ],
)
def test_search__supervision_filters(client, homes, query, expected):
    response = client.get(f"/?lan=08&grannlan=on&{query}")

    assert response.status_code == 200
    assert names(response) == sorted(expected)


def test_search__no_overdue_inspection__leaves_out_a_home_not_inspected_for_a_year(client, homes):
    assert "Uppsalahemmet" in names(client.get("/?lan=03"))
    assert names(client.get("/?lan=03&inspekterad=on")) == []


@pytest.mark.parametrize(
    "query,message",
    [
        ("lan=08&lan=99", "Län: Okänt värde 99. Välj ett av alternativen i listan."),
        ("grannlan=on", "Ta med grannlän: Välj ett län att ta med grannlänen till."),
        ("lan=&grannlan=on", "Ta med grannlän: Välj ett län att ta med grannlänen till."),
        (
            "utan_allvarligt=4",
            "Inget allvarligt beslut: Okänt värde 4. Välj ett av alternativen i listan.",
        ),
        (
            "utan_allvarligt=tre",
            "Inget allvarligt beslut: Okänt värde tre. Välj ett av alternativen i listan.",
        ),
        (
            "lan=01&lan=03&kommun=0880",
            "Kommun: Kommunen ligger inte i något av de valda länen.",
        ),
        (
            "lan=08&grannlan=on&kommun=0180",
            "Kommun: Kommunen ligger inte i något av de valda länen.",
        ),
    ],
)
def test_search__bad_value__clear_message_and_no_results(client, homes, query, message):
    response = client.get(f"/?{query}")

    assert response.status_code == 400
    assert "Sökningen kunde inte göras" in text_of(response)
    assert message in text_of(response)
    assert names(response) == []


def test_search__several_lan__the_form_shows_them_back(client, homes):
    html = client.get("/?lan=08&lan=07&grannlan=on").content.decode()

    select = re.search(r'<select name="lan"[^>]*>.*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="(\d*)" selected>', select) == ["08"]
    assert re.search(
        r'<input type="checkbox" name="lan" value="07" id="id_lan_fler_07" checked>', html
    )
    assert not re.search(r'value="01" id="id_lan_fler_01" checked', html)
    assert 'id="id_lan_fler_08"' not in html  # the one in the list is not offered twice
    assert '<details class="more-counties" open>' in html
    assert re.search(r'<input type="checkbox" name="grannlan"[^>]*checked', html)


def test_search__hit_tells_whether_it_fits_without_opening_it(client, homes):
    response = client.get("/?lan=08")

    assert hit(response, "Kalmarhemmet") == (
        "Kalmarhemmet HVB för barn och unga · Kalmar, Kalmar län · Enskild regi "
        "13–17 år Flickor Neuropsykiatriska funktionsnedsättningar, Psykisk ohälsa 6 platser "
        f"Senaste beslut ! Föreläggande {days(-20):%Y-%m-%d} "
        f"Krav att åtgärda ○ Ska vara åtgärdat 1 krav, senast {days(45):%Y-%m-%d} "
        "Återkommande brister ↻ Lokaler"
    )


def test_search__hit_with_an_overdue_requirement__says_overdue(client, homes):
    response = client.get("/?lan=09")

    assert f"Krav att åtgärda ! Försenat 1 krav, senast {days(-50):%Y-%m-%d}" in hit(
        response, "Visbyhemmet"
    )


def test_search__hit_without_requirements__says_none(client, homes):
    assert "Krav att åtgärda Inga" in hit(client.get("/?lan=07"), "Växjöhemmet")


def test_search__temporary_prohibition__status_today_in_the_hit(client, homes):
    DecisionFactory(
        facility=homes["Stockholmshemmet"],
        decision_date=days(-5),
        outcome=Outcome.TILLFALLIGT_FORBUD,
        prohibition_until=days(90),
    )

    assert names(client.get("/?lan=01")) == []  # no longer active today
    response = client.get("/?lan=01&status=tillfalligt_forbud")
    assert f"Status i dag Tillfälligt förbud till och med {days(90):%Y-%m-%d}" in hit(
        response, "Stockholmshemmet"
    )


def test_search__neighbours_listed_for_the_kommun_filter_script(client, homes):
    html = client.get("/").content.decode()

    data = re.search(r'<script id="county-neighbours" type="application/json">(.*?)</script>', html)
    assert '"08": ["05", "06", "07", "09", "10"]' in data.group(1)


@pytest.mark.parametrize(
    ("language", "label", "any_gender"),
    [("sv", "Barnets kön", "Alla"), ("en", "Child's gender", "All")],
)
def test_search__childs_gender__any_is_called_all_in_each_language(
    client, language, label, any_gender
):
    client.cookies["sprak"] = language

    html = client.get("/").content.decode()

    select = html.split('name="kon"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r"<option[^>]*>([^<]+)</option>", select)[0] == any_gender
    assert label in html.replace("&#x27;", "'")
    assert "Spelar ingen roll" not in html
