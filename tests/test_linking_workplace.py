"""The linking pages as one workplace: every record they name is a link to it, and another
facility is chosen for a case by searching for it (a GET form without JavaScript, JSON
suggestions with it) rather than by typing its id."""

import datetime
from html.parser import HTMLParser

import pytest

from access.models import AccessEvent
from access.roles import Role
from linking.matching import match_case_records
from linking.models import CaseRecord, CaseStatus, LinkAction
from register.models import Decision, Facility, Provider
from tests.factories import (
    CaseRecordFactory,
    FacilityFactory,
    ProviderFactory,
    make_user,
    sign_in,
)

pytestmark = pytest.mark.django_db


class _Page(HTMLParser):
    """The links of a page (text → hrefs) and its radio buttons' values."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.radios: list[tuple[str, bool]] = []
        self._href: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a":
            self._href, self._text = attributes.get("href"), []
        elif tag == "input" and attributes.get("type") == "radio":
            self.radios.append((attributes["value"], "checked" in attributes))

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((" ".join("".join(self._text).split()), self._href))
            self._href = None

    def hrefs(self, text: str) -> list[str]:
        return [href for link_text, href in self.links if link_text == text]


def page_of(response) -> _Page:
    return _Page(response.content.decode())


def text_of(response) -> str:
    import re
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


@pytest.fixture
def registrator(client):
    user = make_user(Role.IVO_REGISTRATOR)
    sign_in(client, user)
    client.user = user
    return client


@pytest.fixture
def ekbacken(db):
    provider = ProviderFactory(name="Ekbacken Omsorg AB")
    return {
        "hvb": FacilityFactory(facility_id="E-1", name="Ekbackens HVB", provider=provider),
        "stod": FacilityFactory(facility_id="E-2", name="Ekbackens stödboende", provider=provider),
    }


@pytest.fixture
def case(ekbacken):
    record = CaseRecordFactory(
        diarienummer="8.5-3001/2024",
        decision_date=datetime.date(2024, 9, 2),
        outcome="brister",
        facility_name="Ekbackens HVB",
        organisation_number=ekbacken["hvb"].provider.organisation_number,
        municipality_id="0880",
    )
    match_case_records([record])
    record.refresh_from_db()
    return record


def case_url(case: CaseRecord, action: str = "") -> str:
    return f"/ivo/koppling/{case.public_id}/" + (f"{action}/" if action else "")


# Links ----------------------------------------------------------------------------------------


def test_quality_report__a_facility_s_name_links_to_its_page_and_rätta_to_its_admin_page(
    registrator,
):
    facility = FacilityFactory(facility_id="Q-2", name="Tallbacken")  # lacks address and more

    page = page_of(registrator.get("/ivo/kvalitet/"))

    # Under each finding it has: facts missing, and no inspection in the last 12 months.
    assert page.hrefs("Tallbacken") == ["/verksamhet/Q-2/"] * 2
    assert (
        page.hrefs("Rätta Tallbacken (Q-2)")
        == [f"/admin/register/facility/{facility.pk}/change/"] * 2
    )


def test_quality_report__rätta_opens_a_page_where_the_registrar_may_change_the_facility(
    registrator,
):
    facility = FacilityFactory(facility_id="Q-2", name="Tallbacken")
    fix = page_of(registrator.get("/ivo/kvalitet/")).hrefs("Rätta Tallbacken (Q-2)")[0]

    response = registrator.get(fix)

    assert response.status_code == 200
    assert response.context["original"] == facility
    assert response.context["has_change_permission"] is True


def test_quality_report__a_provider_s_name_links_to_its_page_and_rätta_to_its_admin_page(
    registrator,
):
    provider = ProviderFactory(name="Felnummer AB")
    FacilityFactory(facility_id="Q-3", name="Gamla gården", provider=provider)
    # Data from before the register validated numbers: around the services on purpose.
    Provider.objects.filter(pk=provider.pk).update(organisation_number="556000-0002")

    page = page_of(registrator.get("/ivo/kvalitet/"))

    assert page.hrefs("Felnummer AB") == [f"/huvudman/{provider.public_id}/"]
    assert page.hrefs(f"Rätta Felnummer AB ({provider.public_id})") == [
        f"/admin/register/provider/{provider.pk}/change/"
    ]


def test_quality_report__an_unlinked_decision_is_corrected_on_its_case_page(registrator):
    case = CaseRecordFactory(diarienummer="8.5-3002/2024", facility_name="Okända gården")

    page = page_of(registrator.get("/ivo/kvalitet/"))

    assert page.hrefs("Rätta Okända gården (8.5-3002/2024)") == [case_url(case)]
    assert page.hrefs("Okända gården") == []  # a name typed in the case system has no page


def test_queue__the_best_suggestion_and_the_linked_facility_link_to_their_pages(
    registrator, case, ekbacken
):
    waiting = page_of(registrator.get("/ivo/koppling/"))
    registrator.post(case_url(case, "koppla"), {"verksamhetsid": "E-2"})
    linked = page_of(registrator.get("/ivo/koppling/?status=kopplad"))

    assert waiting.hrefs("Ekbackens HVB (E-1)") == ["/verksamhet/E-1/"]
    assert linked.hrefs("Ekbackens stödboende (E-2)") == ["/verksamhet/E-2/"]


def test_case_page__candidates_and_the_facility_of_an_action_link_to_their_pages(registrator, case):
    before = page_of(registrator.get(case_url(case)))
    registrator.post(case_url(case, "koppla"), {"verksamhetsid": "E-1"})
    after = page_of(registrator.get(case_url(case)))

    assert before.hrefs("Ekbackens HVB (E-1)") == ["/verksamhet/E-1/"]
    assert before.hrefs("Ekbackens stödboende (E-2)") == ["/verksamhet/E-2/"]
    # The lead paragraph's, the candidate's and the action's.
    assert after.hrefs("Ekbackens HVB (E-1)") == ["/verksamhet/E-1/"] * 3


def test_case_page__the_tables_scroll_in_their_own_labelled_regions(registrator, case):
    html = registrator.get(case_url(case)).content.decode()

    assert (
        '<div class="table-scroll" role="region" aria-labelledby="candidates-heading table-hint" '
        'tabindex="0">' in html
    )


# Choosing another facility by searching: without JavaScript ----------------------------------


@pytest.fixture
def many(ekbacken):
    """Names that begin with, have a word that begins with, and only hold "ekback"; a closed
    home; a home of the Ekbacken provider by another name; an id that begins with "E-1"."""
    FacilityFactory(facility_id="N-1", name="Norra Ekbacken")
    FacilityFactory(facility_id="S-1", name="Storekbacken")
    FacilityFactory(
        facility_id="E-3",
        name="Ekbackens gamla hem",
        status="nedlagd",
        end_date=datetime.date(2024, 12, 31),
    )
    FacilityFactory(facility_id="L-1", name="Lindgården", provider=ekbacken["hvb"].provider)
    FacilityFactory(facility_id="E-10", name="Åsgården", municipality_id="0180")


def choices(client, case, query: str) -> list[str]:
    response = client.get(case_url(case), {"sok": query})
    assert response.status_code == 200
    return [value for value, _checked in page_of(response).radios]


def test_search__by_name__beginnings_first_then_words_then_inside_then_the_provider_s(
    registrator, case, many
):
    assert choices(registrator, case, "ekback") == ["E-1", "E-2", "E-3", "N-1", "S-1", "L-1"]


def test_search__by_id__the_exact_id_first_and_chosen(registrator, case, many):
    response = registrator.get(case_url(case), {"sok": "e-1"})

    assert page_of(response).radios == [("E-1", True), ("E-10", False)]


def test_search__by_organisation_number_and_by_kommun(registrator, case, many, ekbacken):
    number = ekbacken["hvb"].provider.organisation_number

    assert choices(registrator, case, number) == ["E-1", "E-2", "L-1"]
    assert choices(registrator, case, "stockholm") == ["E-10"]


def test_search__at_most_ten_choices(registrator, case):
    for number in range(12):
        FacilityFactory(facility_id=f"M-{number:02d}", name=f"Mångården {number:02d}")

    assert choices(registrator, case, "mångården") == [f"M-{n:02d}" for n in range(10)]


def test_search__no_hits__says_so_and_offers_no_choice(registrator, case):
    response = registrator.get(case_url(case), {"sok": "Finnsintegården"})

    assert page_of(response).radios == []
    assert "Ingen verksamhet i registret matchar ”Finnsintegården”." in text_of(response)


def test_search__empty__asks_for_a_text_and_offers_no_choice(registrator, case):
    response = registrator.get(case_url(case), {"sok": "  "})

    assert page_of(response).radios == []
    assert (
        "Skriv en del av verksamhetens namn, verksamhetsid, organisationsnummer eller kommun."
        in text_of(response)
    )


def test_search__one_letter__asks_for_two(registrator, case):
    response = registrator.get(case_url(case), {"sok": "e"})

    assert page_of(response).radios == []
    assert "Skriv minst 2 tecken." in text_of(response)


def test_search__the_example_id_of_old_is_gone(registrator, case):
    assert "K0880-001" not in registrator.get(case_url(case)).content.decode()


def test_search_then_koppla__links_the_chosen_facility(registrator, case, many):
    page = page_of(registrator.get(case_url(case), {"sok": "Lindgården"}))
    assert page.radios == [("L-1", True)]

    response = registrator.post(
        case_url(case, "koppla"), {"sok": "Lindgården", "verksamhetsid": "L-1"}, follow=True
    )

    assert "Ärendet 8.5-3001/2024 är kopplat till Lindgården (L-1)" in text_of(response)
    case.refresh_from_db()
    assert (case.status, case.facility.facility_id) == (CaseStatus.LINKED, "L-1")
    assert LinkAction.objects.get().kind == LinkAction.Kind.OTHER


def test_koppla__unknown_id__the_error_on_the_search_box_the_choices_again_nothing_linked(
    registrator, case, many
):
    response = registrator.post(
        case_url(case, "koppla"), {"sok": "Lindgården", "verksamhetsid": "X-404"}
    )

    assert response.status_code == 400
    text = text_of(response)
    assert "Verksamhet: Det finns ingen verksamhet med id X-404 i registret." in text
    html = response.content.decode()
    assert 'href="#sok"' in html  # the error summary leads to the search box …
    assert (
        'aria-describedby="sok-help verksamhetsid-error" aria-invalid="true"' in html
    )  # … which says it
    assert page_of(response).radios == [("L-1", True)]
    case.refresh_from_db()
    assert (case.status, case.facility) == (CaseStatus.REVIEW, None)
    assert not Decision.objects.exists()
    assert not LinkAction.objects.exists()


def test_koppla__no_choice_made__asks_for_one_and_links_nothing(registrator, case):
    response = registrator.post(case_url(case, "koppla"), {"sok": "Ekbacken"})

    assert response.status_code == 400
    assert "Verksamhet: Välj en verksamhet." in text_of(response)
    assert not LinkAction.objects.exists()


def test_koppla__a_malformed_id__the_exact_error_and_nothing_linked(registrator, case):
    response = registrator.post(case_url(case, "koppla"), {"verksamhetsid": "K 0880/1"})

    assert response.status_code == 400
    assert "Ska vara 1–32 tecken: bokstäver a–z, siffror och bindestreck." in text_of(response)
    assert not LinkAction.objects.exists()


def test_search__a_protected_home__shown_to_ivo_staff_and_the_view_logged(registrator, case):
    FacilityFactory(facility_id="S-9", name="Skyddade gården", protected_by_ivo=True)

    assert choices(registrator, case, "skyddade") == ["S-9"]
    event = AccessEvent.objects.get(action=AccessEvent.Action.PROTECTED_VIEW)
    assert (event.object_type, event.object_id) == ("facility", "S-9")


# Suggestions while typing: the JSON endpoint --------------------------------------------------

SUGGESTIONS = "/ivo/koppling/verksamheter/"


def test_suggestions__anonymous__sent_to_log_in(client, ekbacken):
    response = client.get(SUGGESTIONS, {"sok": "ekback"})

    assert response.status_code == 302
    assert response["Location"].startswith("/logga-in/")


@pytest.mark.parametrize("role", [Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN, Role.IVO_CASE_OFFICER])
def test_suggestions__roles_that_do_not_link__refused(client, ekbacken, role):
    sign_in(client, make_user(role))

    response = client.get(SUGGESTIONS, {"sok": "ekback"})

    assert response.status_code == 403
    assert b"Ekbacken" not in response.content


def test_suggestions__id_name_and_kommun_in_the_search_s_order(registrator, many):
    response = registrator.get(SUGGESTIONS, {"sok": "e-1"})

    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "results": [
            {"id": "E-1", "name": "Ekbackens HVB", "kommun": "Kalmar"},
            {"id": "E-10", "name": "Åsgården", "kommun": "Stockholm"},
        ]
    }


def test_suggestions__too_short_or_no_hits__an_empty_list(registrator, many):
    assert registrator.get(SUGGESTIONS, {"sok": "e"}).json() == {"results": []}
    assert registrator.get(SUGGESTIONS, {"sok": "Finnsintegården"}).json() == {"results": []}
    assert registrator.get(SUGGESTIONS).json() == {"results": []}


def test_suggestions__a_protected_home__suggested_to_ivo_staff_and_the_view_logged(registrator):
    FacilityFactory(facility_id="S-9", name="Skyddade gården", protected_by_ivo=True)

    assert [
        row["id"] for row in registrator.get(SUGGESTIONS, {"sok": "skydd"}).json()["results"]
    ] == ["S-9"]
    assert (
        AccessEvent.objects.filter(
            action=AccessEvent.Action.PROTECTED_VIEW, object_id="S-9"
        ).count()
        == 1
    )


def test_facility_choices__protected_homes_left_out_for_a_viewer_who_may_not_see_them(db):
    from linking.selectors import facility_choices

    FacilityFactory(facility_id="S-9", name="Skyddade gården", protected_by_ivo=True)
    FacilityFactory(facility_id="S-8", name="Skyddsvärnet", target_groups=["skydd"])
    FacilityFactory(facility_id="S-7", name="Skyddsgatans HVB")

    assert [f.facility_id for f in facility_choices("s-", include_protected=False)] == ["S-7"]
    assert [f.facility_id for f in facility_choices("skydd", include_protected=False)] == ["S-7"]
    assert [f.facility_id for f in facility_choices("skydd", include_protected=True)] == [
        "S-9",
        "S-7",
        "S-8",
    ]
    assert Facility.objects.count() == 3


def test_quality_report__a_protected_home_in_it__shown_to_ivo_staff_and_the_view_logged(
    registrator,
):
    FacilityFactory(facility_id="S-9", name="Skyddade gården", protected_by_ivo=True)
    FacilityFactory(facility_id="Q-2", name="Tallbacken")

    page = page_of(registrator.get("/ivo/kvalitet/"))
    registrator.get("/ivo/kvalitet/?format=csv")

    assert page.hrefs("Skyddade gården") == ["/verksamhet/S-9/"] * 2
    logged = AccessEvent.objects.filter(action=AccessEvent.Action.PROTECTED_VIEW)
    assert list(logged.values_list("object_id", flat=True)) == ["S-9", "S-9"]  # page, then CSV


def test_case_page__a_protected_home_among_the_candidates__the_view_logged(registrator):
    FacilityFactory(facility_id="S-9", name="Skyddade gården", protected_by_ivo=True)
    record = CaseRecordFactory(facility_name="Skyddade gården", municipality_id="0880")
    match_case_records([record])

    response = registrator.get(case_url(record))

    assert page_of(response).hrefs("Skyddade gården (S-9)") == ["/verksamhet/S-9/"]
    event = AccessEvent.objects.get(action=AccessEvent.Action.PROTECTED_VIEW)
    assert (event.object_type, event.object_id) == ("facility", "S-9")
