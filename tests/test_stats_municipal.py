"""/statistik/kommun/: a municipality's homes (where its users requested decisions or watch the
home) beside the whole country, only as aggregates, with the same suppression, without protected
homes, and only for the municipality's own users."""

import pytest
from django.urls import reverse

from access.roles import Role
from alerts.services import watch_add
from documents.models import DecisionRequest
from register.models import Decision, Municipality
from stats import figures
from stats.views import municipality_homes
from tests.factories import make_user, sign_in
from tests.stats_support import ALL_CLEAR, DEFICIENT, figure_tables, homes_with_decisions

pytestmark = pytest.mark.django_db

URL = reverse("stats:municipal")
PERIOD = {"fran": "2024", "till": "2025"}
OWN = "Andel med brister – Kommunens boenden"


def request_decision(home, municipality: str = "0880") -> None:
    DecisionRequest.objects.create(
        decision=Decision.objects.filter(facility=home).first(),
        municipality_id=municipality,
        requester_email="begaran@example.com",
        state=DecisionRequest.State.RECEIVED,
    )


def watch(user, home) -> None:
    watch_add(user=user, owner_municipality=user.account.municipality, target=home)


@pytest.fixture
def kalmar_user(db):
    return make_user(Role.MUNICIPAL_USER, municipality="0880")


@pytest.fixture
def homes(db):
    """Three of Kalmar's homes with deficiencies in 2025, three without; six in Stockholm
    without, so the country's share is 3 of 12."""
    return {
        "kalmar": homes_with_decisions("0880", [DEFICIENT] * 3 + [ALL_CLEAR] * 3),
        "stockholm": homes_with_decisions("0180", [ALL_CLEAR] * 6),
    }


def deficiencies_2025(response) -> list[str]:
    """[Kommunens boenden, Hela landet] of the share of inspections with deficiencies, 2025."""
    return figure_tables(response)["inspections-with-deficiencies"]["2025"]


def test_anonymous__is_sent_to_log_in(client):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))


@pytest.mark.parametrize("role", [Role.IVO_CASE_OFFICER, Role.IVO_ADMIN])
def test_ivo_staff__is_refused(client, role):
    sign_in(client, make_user(role))

    assert client.get(URL).status_code == 403


def test_municipal_user__sees_its_homes_beside_the_country(client, kalmar_user, homes):
    for home in homes["kalmar"][:3]:
        watch(kalmar_user, home)
    for home in homes["kalmar"][3:]:
        request_decision(home)
    sign_in(client, kalmar_user)

    response = client.get(URL, PERIOD)

    assert response.status_code == 200
    table = figure_tables(response)["inspections-with-deficiencies"]
    assert table["År"] == [OWN, "Andel med brister – Hela landet"]
    assert table["2025"] == ["50\xa0% (av 6 tillsynsbeslut)", "25\xa0% (av 12 tillsynsbeslut)"]
    text = response.content.decode()
    assert "Jämförelsen bygger på 6 boenden." in text
    # Only aggregates: never a home's name or its register id.
    for home in homes["kalmar"]:
        assert home.name not in text
        assert home.facility_id not in text


def test_municipal_user__a_watch_of_a_provider_or_an_area_is_no_home_of_its_own(kalmar_user, homes):
    watch_add(
        user=kalmar_user,
        owner_municipality=kalmar_user.account.municipality,
        target=homes["kalmar"][0].provider,
    )
    watch_add(
        user=kalmar_user,
        owner_municipality=kalmar_user.account.municipality,
        target=Municipality.objects.get(code="0880"),
    )

    assert municipality_homes(kalmar_user.account.municipality) == frozenset()


def test_other_municipalitys_requests_and_watches_do_not_count(client, kalmar_user, homes):
    stockholm_user = make_user(Role.MUNICIPAL_USER, municipality="0180")
    for home in homes["kalmar"][:3]:
        watch(stockholm_user, home)
    for home in homes["kalmar"][3:]:
        request_decision(home, municipality="0180")
    sign_in(client, kalmar_user)

    response = client.get(URL, PERIOD)

    assert municipality_homes(kalmar_user.account.municipality) == frozenset()
    assert "färre än 5 boenden" in response.content.decode()
    assert deficiencies_2025(response)[0] == "–visas inte, se noten under tabellen"


def test_fewer_than_five_homes__every_own_figure_is_a_dash(client, kalmar_user, homes, monkeypatch):
    for home in homes["kalmar"][:4]:
        watch(kalmar_user, home)
    computed = []
    compute = figures.compute
    monkeypatch.setattr(
        figures,
        "compute",
        lambda key, filters, **kwargs: (
            computed.append(filters.facilities) or compute(key, filters, **kwargs)
        ),
    )
    sign_in(client, kalmar_user)

    response = client.get(URL, PERIOD)

    text = response.content.decode()
    assert "färre än 5 boenden. Därför visas inga siffror för kommunens boenden" in text
    # Nothing is computed over the four homes; every cell of theirs is a dash.
    assert set(computed) == {None}
    for table in figure_tables(response).values():
        for label, cells in table.items():
            if label in ("År", "Område"):
                continue
            assert cells[0] == "–visas inte, se noten under tabellen", label


def test_protected_home_the_municipality_watches_is_never_counted(client, kalmar_user, homes):
    # Five public homes (three with deficiencies) and a protected one with deficiencies too.
    (protected,) = homes_with_decisions("0880", [DEFICIENT], protected_by_ivo=True)
    for home in [*homes["kalmar"][:5], protected]:
        watch(kalmar_user, home)
    sign_in(client, kalmar_user)

    response = client.get(URL, PERIOD)

    assert protected.pk not in municipality_homes(kalmar_user.account.municipality)
    # Three of the five public homes' decisions; the protected home's is in neither column.
    assert deficiencies_2025(response) == [
        "60\xa0% (av 5 tillsynsbeslut)",
        "25\xa0% (av 12 tillsynsbeslut)",
    ]
    assert "Jämförelsen bygger på 5 boenden." in response.content.decode()


def test_bad_filter__errors_and_no_figure(client, kalmar_user, monkeypatch):
    computed = []
    monkeypatch.setattr(figures, "compute", lambda *args, **kwargs: computed.append(args))
    sign_in(client, kalmar_user)

    response = client.get(URL, {"fran": "2025", "till": "2024"})

    assert response.status_code == 400
    assert computed == []
    assert "Första året kan inte vara senare än det sista." in response.content.decode()
