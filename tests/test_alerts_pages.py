"""The watch pages as their users meet them: the buttons, "Mina bevakningar", the notices, the
municipal administrator's hand-over page and IVO's numbers. Each for the owner, another
municipality's user, a municipal administrator, IVO staff and anonymous; bad input answered with
an exact message and nothing written; counts that never name who."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import AccessEvent, AllowlistEntry
from access.roles import Role
from alerts import delivery
from alerts.models import AlertSettings, Notice, Watch
from register.codes import Outcome
from register.models import County, Municipality, RegisterEvent
from tests.factories import (
    DecisionFactory,
    FacilityFactory,
    ProviderFactory,
    make_user,
    sign_in,
)

pytestmark = pytest.mark.django_db

KALMAR, STOCKHOLM = "0880", "0180"


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())).strip()


def section(response, heading_id: str) -> str:
    """The text of one section of a page, by its heading's id."""
    html = response.content.decode()
    start = html.index(f'id="{heading_id}"')
    end = html.find("</section>", start)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start:end]))


def fan_out() -> None:
    """Tell the watchers of every event not yet told (the worker's fan-out task, in-process)."""
    delivery.fan_out(
        list(RegisterEvent.objects.filter(fan_out__isnull=True).values_list("pk", flat=True))
    )


@pytest.fixture
def home(db):
    return FacilityFactory(name="Björkgården", facility_id="K0880-BJ")


@pytest.fixture
def owner(db):
    return make_user(Role.MUNICIPAL_USER, municipality=KALMAR, email="anna@kalmar.example")


@pytest.fixture
def owner_client(client, owner):
    sign_in(client, owner)
    return client


def signed_in(role: str, municipality: str = KALMAR, **kwargs):
    from django.test import Client

    client = Client()
    user = make_user(role, municipality=municipality, **kwargs)
    sign_in(client, user)
    return client, user


def watch(user, target) -> Watch:
    from alerts import services

    return services.watch_add(
        user=user, owner_municipality=user.account.municipality_id, target=target
    )


# The buttons ----------------------------------------------------------------------------------


def test_facility_page__municipal_user__bevaka_button_posts_and_returns_to_the_page(
    owner_client, owner, home
):
    page = owner_client.get(f"/verksamhet/{home.facility_id}/")
    html = page.content.decode()
    assert f'action="/bevakningar/verksamhet/{home.facility_id}/"' in html
    assert "Bevaka" in text_of(page) and "csrfmiddlewaretoken" in html

    response = owner_client.post(
        f"/bevakningar/verksamhet/{home.facility_id}/",
        {"next": f"/verksamhet/{home.facility_id}/"},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/verksamhet/{home.facility_id}/"
    watch = Watch.objects.get(user=owner)
    assert (watch.kind, watch.facility, watch.owner_municipality_id) == ("facility", home, KALMAR)
    after = owner_client.get(response["Location"])
    assert "Du bevakar nu Björkgården." in text_of(after)
    assert "✓ Du bevakar verksamheten Sluta bevaka" in text_of(after)
    assert f'action="/bevakningar/{watch.public_id}/sluta/"' in after.content.decode()


def test_watch_facility__twice__one_watch(owner_client, owner, home):
    for _ in range(2):
        owner_client.post(f"/bevakningar/verksamhet/{home.facility_id}/")

    assert Watch.objects.filter(user=owner).count() == 1


def test_search_hit__button_returns_to_the_same_hit(owner_client, owner, home):
    page = owner_client.get("/", {"q": "Björk"})
    html = page.content.decode()
    assert f'id="verksamhet-{home.facility_id}"' in html
    assert f'value="/?q=Bj%C3%B6rk#verksamhet-{home.facility_id}"' in html
    assert "Bevaka Björkgården" in text_of(page)  # the hit's name, for a screen reader

    response = owner_client.post(
        f"/bevakningar/verksamhet/{home.facility_id}/",
        {"next": f"/?q=Bj%C3%B6rk#verksamhet-{home.facility_id}"},
    )

    assert response["Location"] == f"/?q=Bj%C3%B6rk#verksamhet-{home.facility_id}"
    assert "Sluta bevaka Björkgården" in text_of(owner_client.get("/", {"q": "Björk"}))


def test_watch__next_elsewhere__back_to_the_facility_instead(owner_client, home):
    response = owner_client.post(
        f"/bevakningar/verksamhet/{home.facility_id}/", {"next": "https://elak.example/"}
    )

    assert response["Location"] == f"/verksamhet/{home.facility_id}/"


def test_provider_page__bevaka_huvudmannen__all_its_homes(owner_client, owner, home):
    provider = home.provider
    page = owner_client.get(f"/huvudman/{provider.public_id}/")
    assert "Bevaka huvudmannen" in text_of(page)

    response = owner_client.post(
        f"/bevakningar/huvudman/{provider.public_id}/",
        {"next": f"/huvudman/{provider.public_id}/"},
    )

    assert response["Location"] == f"/huvudman/{provider.public_id}/"
    assert Watch.objects.get(user=owner).provider == provider
    assert "Du bevakar huvudmannen" in text_of(owner_client.get(response["Location"]))


def test_provider_page__sole_trader__name_not_in_the_message(owner_client, owner):
    provider = ProviderFactory(
        name="Sven Svensson", organisation_number="700101-9905", is_sole_trader=True
    )
    FacilityFactory(provider=provider)

    response = owner_client.post(f"/bevakningar/huvudman/{provider.public_id}/", follow=True)

    assert "Sven Svensson" not in response.content.decode()
    assert Watch.objects.filter(user=owner, provider=provider).exists()


def test_watch_facility__unknown_id__404_and_nothing_written(owner_client, owner):
    response = owner_client.post("/bevakningar/verksamhet/FINNS-INTE/")

    assert response.status_code == 404
    assert not Watch.objects.exists()


def test_watch_provider__not_a_uuid__404_and_nothing_written(owner_client):
    response = owner_client.post("/bevakningar/huvudman/inte-ett-id/")

    assert response.status_code == 404
    assert not Watch.objects.exists()


def test_watch_facility__get__405_and_nothing_written(owner_client, home):
    response = owner_client.get(f"/bevakningar/verksamhet/{home.facility_id}/")

    assert response.status_code == 405
    assert not Watch.objects.exists()


def test_watch_facility__protected_home__watched_by_a_municipal_user(owner_client, owner):
    protected = FacilityFactory(name="Skyddsgården", target_groups=["skydd"])

    response = owner_client.post(f"/bevakningar/verksamhet/{protected.facility_id}/")

    assert response.status_code == 302
    assert Watch.objects.filter(user=owner, facility=protected).exists()


@pytest.mark.parametrize("role", [Role.IVO_REGISTRATOR, Role.IVO_ADMIN])
def test_buttons__ivo_staff__none_shown_and_refused(role, home):
    client, _user = signed_in(role)

    page = client.get(f"/verksamhet/{home.facility_id}/")
    refused = client.post(f"/bevakningar/verksamhet/{home.facility_id}/")

    assert "Bevaka" not in text_of(page)
    assert "Notiser" not in text_of(page)
    assert refused.status_code == 403
    assert not Watch.objects.exists()


def test_watch__anonymous__sent_to_login_and_nothing_written(client, home):
    response = client.post(f"/bevakningar/verksamhet/{home.facility_id}/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))
    assert not Watch.objects.exists()


def test_unwatch__own_watch__removed_and_back(owner_client, owner, home):
    mine = watch(owner, home)

    response = owner_client.post(
        f"/bevakningar/{mine.public_id}/sluta/", {"next": f"/verksamhet/{home.facility_id}/"}
    )

    assert response["Location"] == f"/verksamhet/{home.facility_id}/"
    assert not Watch.objects.exists()


def test_unwatch__another_users_watch__404_and_it_stays(owner_client, home):
    _client, colleague = signed_in(Role.MUNICIPAL_USER)
    theirs = watch(colleague, home)

    response = owner_client.post(f"/bevakningar/{theirs.public_id}/sluta/")

    assert response.status_code == 404
    assert Watch.objects.filter(pk=theirs.pk).exists()


# Mina bevakningar -----------------------------------------------------------------------------


def test_watches_page__grouped_with_each_homes_current_marking(owner_client, owner, home):
    DecisionFactory(facility=home, outcome=Outcome.FORELAGGANDE_VITE)
    other = FacilityFactory(name="Ekgården")
    watch(owner, home)
    watch(owner, other)
    watch(owner, home.provider)
    watch(owner, Municipality.objects.get(code="0881"))
    watch(owner, County.objects.get(code="01"))

    response = owner_client.get("/bevakningar/")

    assert response.status_code == 200
    facilities = section(response, "facilities-heading")
    assert "Björkgården" in facilities and "Ekgården" in facilities
    assert "✕ Föreläggande med vite" in facilities
    assert "Inget beslut registrerat" in facilities  # Ekgården
    assert facilities.count("Sluta bevaka") == 2
    providers = section(response, "providers-heading")
    assert home.provider.name in providers and "Sluta bevaka" in providers
    areas = section(response, "areas-heading")
    assert "Nybro kommun" in areas and "Stockholms län" in areas
    assert "ny verksamhet registreras där" in areas  # what an area watch tells


def test_watches_page__other_municipalitys_user__sees_only_their_own(home, owner):
    watch(owner, home)
    client, _stranger = signed_in(Role.MUNICIPAL_USER, municipality=STOCKHOLM)

    response = client.get("/bevakningar/")

    assert response.status_code == 200
    assert "Björkgården" not in response.content.decode()
    assert "Du bevakar inga verksamheter." in text_of(response)


def test_watches_page__protected_home__its_showing_logged(owner_client, owner):
    protected = FacilityFactory(name="Skyddsgården", target_groups=["skydd"])
    watch(owner, protected)

    before = AccessEvent.objects.filter(action=AccessEvent.Action.PROTECTED_VIEW).count()
    response = owner_client.get("/bevakningar/")

    assert "Skyddsgården" in text_of(response)
    logged = AccessEvent.objects.filter(action=AccessEvent.Action.PROTECTED_VIEW)
    assert logged.count() == before + 1
    assert logged.order_by("-pk").first().object_id == protected.facility_id


def test_watch_area__kommun__watched(owner_client, owner):
    response = owner_client.post("/bevakningar/omrade/", {"kommun": "0881"})

    assert response["Location"] == "/bevakningar/"
    watch = Watch.objects.get(user=owner)
    assert (watch.kind, watch.municipality_id) == ("municipality", "0881")


def test_watch_area__lan__watched(owner_client, owner):
    owner_client.post("/bevakningar/omrade/", {"lan": "08"})

    watch = Watch.objects.get(user=owner)
    assert (watch.kind, watch.county_id) == ("county", "08")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kommun": "9999"}, "Kommun: Välj en kommun i listan."),
        ({"kommun": ""}, "Kommun: Välj en kommun."),
        ({"lan": "99"}, "Län: Välj ett län i listan."),
        ({"lan": ""}, "Län: Välj ett län."),
    ],
)
def test_watch_area__bad_input__exact_error_and_nothing_written(owner_client, data, message):
    response = owner_client.post("/bevakningar/omrade/", data)

    assert response.status_code == 400
    assert message in text_of(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Watch.objects.exists()


def test_mail_choice__daily__saved(owner_client, owner):
    page = owner_client.get("/bevakningar/")
    assert "skickas alltid med e-post med en gång" in text_of(page)
    assert re.search(r'<input[^>]*value="at_once"[^>]*checked', page.content.decode())

    response = owner_client.post("/bevakningar/e-post/", {"mail": "daily"})

    assert response["Location"] == "/bevakningar/"
    assert AlertSettings.objects.get(user=owner).mail == "daily"


@pytest.mark.parametrize("value", ["weekly", ""])
def test_mail_choice__invalid__exact_error_and_nothing_written(owner_client, value):
    response = owner_client.post("/bevakningar/e-post/", {"mail": value})

    assert response.status_code == 400
    assert "Välj hur du vill få e-post." in text_of(response)
    assert not AlertSettings.objects.exists()


# Notiser --------------------------------------------------------------------------------------


def test_notices__newest_first_with_marking_serious_and_unread(owner_client, owner, home):
    watch(owner, home)
    DecisionFactory(
        facility=home,
        diarienummer="3.2.2-1/2025",
        decision_date=datetime.date(2025, 1, 10),
        outcome=Outcome.BRISTER,
    )
    DecisionFactory(
        facility=home,
        diarienummer="3.2.2-2/2025",
        decision_date=datetime.date(2025, 3, 1),
        outcome=Outcome.FORBUD,
    )
    fan_out()

    response = owner_client.get("/notiser/")

    text = text_of(response)
    assert "Nytt beslut: Förbud" in text and "Nytt beslut: Brister konstaterade" in text
    assert text.index("Nytt beslut: Förbud") < text.index("Nytt beslut: Brister konstaterade")
    items = re.findall(r'<li class="notice-item([^"]*)"', response.content.decode())
    assert items == [" notice-item--unread notice-item--serious", " notice-item--unread"]
    assert "● Oläst ✕ Allvarligt 2025-03-01 Nytt beslut: Förbud Björkgården , Kalmar ✕ Förbud" in (
        text
    )
    assert "Beslut 3.2.2-2/2025 den 2025-03-01." in text
    assert f'href="/verksamhet/{home.facility_id}/"' in response.content.decode()


def test_notices__header_count_and_mark_all_read(owner_client, owner, home):
    watch(owner, home)
    DecisionFactory(facility=home)
    DecisionFactory(facility=home)
    fan_out()

    page = owner_client.get("/")
    html = page.content.decode()
    assert '<a href="/notiser/" aria-label="Notiser, 2 olästa notiser">Notiser (2)</a>' in html
    assert "Mina bevakningar" in text_of(page)

    response = owner_client.post("/notiser/lasta/")

    assert response["Location"] == "/notiser/"
    assert not Notice.objects.filter(user=owner, read_at__isnull=True).exists()
    after = owner_client.get("/notiser/")
    assert "olästa notiser" not in after.content.decode()
    assert "Oläst" not in text_of(after)


def test_notices__only_the_users_own(home, owner):
    watch(owner, home)
    DecisionFactory(facility=home)
    fan_out()
    client, _stranger = signed_in(Role.MUNICIPAL_USER, municipality=STOCKHOLM)

    response = client.get("/notiser/")

    assert "Björkgården" not in response.content.decode()
    assert "Du har inga notiser ännu." in text_of(response)
    assert "olästa" not in response.content.decode()


def test_notices__25_a_page(owner_client, owner, home):
    watch(owner, home)
    for number in range(27):
        DecisionFactory(facility=home, diarienummer=f"3.2.2-{100 + number}/2025")
    fan_out()

    first = owner_client.get("/notiser/")
    second = owner_client.get("/notiser/?sida=2")

    assert first.content.decode().count('<li class="notice-item') == 25
    assert second.content.decode().count('<li class="notice-item') == 2
    assert "Sida 1 av 2" in text_of(first)


def test_notices__protected_home__each_showing_logged(owner_client, owner):
    protected = FacilityFactory(name="Skyddsgården", target_groups=["skydd"])
    watch(owner, protected)
    DecisionFactory(facility=protected)
    DecisionFactory(facility=protected)
    fan_out()
    logged = AccessEvent.objects.filter(
        action=AccessEvent.Action.PROTECTED_VIEW, object_id=protected.facility_id
    )
    before = logged.count()

    response = owner_client.get("/notiser/")

    assert "Skyddsgården" in text_of(response)
    assert logged.count() == before + 1  # one entry for the home, however many notices
    assert logged.order_by("-pk").first().user_id == owner.pk


@pytest.mark.parametrize("disclosure", [False, True])
def test_notices__new_manager__name_only_with_disclosure_and_then_logged(
    owner_client, owner, home, settings, disclosure
):
    from register import services as register_services

    settings.PERSONAL_DATA_DISCLOSURE = disclosure
    watch(owner, home)
    register_services.manager_set_current(
        facility=home, values={"name": "Karin Karlsson", "personal_identity_number": ""}
    )
    fan_out()
    logged = AccessEvent.objects.filter(
        action=AccessEvent.Action.PERSONAL_DATA_VIEW, object_id=home.facility_id
    )

    response = owner_client.get("/notiser/")

    page = text_of(response)
    assert "Verksamheten har fått en ny föreståndare." in page
    if disclosure:  # 3 a § SoF (proposed): shown to a municipal user, and logged
        assert "Föreståndare: Karin Karlsson." in page
        assert logged.filter(user_id=owner.pk).count() == 1
    else:
        assert "Karin" not in page
        assert not logged.exists()


def test_notices__mark_read__only_the_users_own(owner_client, owner, home):
    _client, colleague = signed_in(Role.MUNICIPAL_USER)
    watch(owner, home)
    watch(colleague, home)
    DecisionFactory(facility=home)
    fan_out()

    owner_client.post("/notiser/lasta/")

    assert Notice.objects.get(user=colleague).read_at is None


def notice_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if "alerts_notice" in q["sql"]]


def test_header_count__one_count_query(owner_client, owner, home):
    watch(owner, home)
    DecisionFactory(facility=home)
    fan_out()
    owner_client.get("/")  # the session's first request stores its login time

    with CaptureQueriesContext(connection) as captured:
        owner_client.get("/")

    queries = notice_queries(captured)
    assert len(queries) == 1
    assert "COUNT(" in queries[0].upper() and "read_at" in queries[0]


def test_header_count__uses_the_partial_unread_index(owner, home):
    from alerts.selectors import unread_count

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's planner takes a table scan for a table this small")
    watch(owner, home)
    DecisionFactory(facility=home)
    fan_out()
    with CaptureQueriesContext(connection) as captured:
        unread_count(owner)
    with connection.cursor() as cursor:
        sql, params = captured.captured_queries[-1]["sql"], ()
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())

    assert "notice_unread_idx" in plan


def test_header_count__anonymous__no_query(client):
    with CaptureQueriesContext(connection) as captured:
        client.get("/logga-in/")

    assert notice_queries(captured) == []


def test_header_count__ivo_staff__no_query_and_no_link(home):
    client, _user = signed_in(Role.IVO_ADMIN)
    client.get("/")

    with CaptureQueriesContext(connection) as captured:
        page = client.get("/")

    assert notice_queries(captured) == []
    assert "Notiser" not in text_of(page)


@pytest.mark.parametrize("path", ["/bevakningar/", "/notiser/"])
def test_pages__anonymous__sent_to_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("access:login"))


@pytest.mark.parametrize("path", ["/bevakningar/", "/notiser/"])
@pytest.mark.parametrize("role", [Role.IVO_REGISTRATOR, Role.IVO_CASE_OFFICER, Role.IVO_ADMIN])
def test_pages__ivo_staff__403(path, role):
    client, _user = signed_in(role)

    assert client.get(path).status_code == 403


# The municipal administrator ------------------------------------------------------------------


@pytest.fixture
def admin_client(db):
    client, _admin = signed_in(Role.MUNICIPAL_ADMIN)
    return client


def revoke(user) -> None:
    AllowlistEntry.objects.filter(email=user.email).update(revoked_at=timezone.now())


def test_municipal_page__counts_per_home_never_who(admin_client, owner, home):
    _c, colleague = signed_in(Role.MUNICIPAL_USER, email="bo@kalmar.example")
    _s, stranger = signed_in(Role.MUNICIPAL_USER, municipality=STOCKHOLM, email="s@sthlm.example")
    watch(owner, home)
    watch(colleague, home)
    watch(stranger, home)  # another municipality's: not counted here

    response = admin_client.get("/kommun/bevakningar/")

    assert response.status_code == 200
    counts = section(response, "counts-heading")
    assert re.search(r"Björkgården .* 2$", counts.strip()), counts
    html = response.content.decode()
    for email in ("anna@kalmar.example", "bo@kalmar.example", "s@sthlm.example"):
        assert email not in html


def test_municipal_page__departed_address__a_number_never_which_homes(admin_client, owner, home):
    other = FacilityFactory(name="Ekgården")
    watch(owner, home)
    watch(owner, other)
    revoke(owner)

    response = admin_client.get("/kommun/bevakningar/")

    departed = section(response, "departed-heading")
    assert "anna@kalmar.example – 2 bevakningar Överlåt till" in departed
    assert "Björkgården" not in departed and "Ekgården" not in departed
    # Nor in the counts: a home watched here by the departed user alone would point at them.
    counts = section(response, "counts-heading")
    assert "Björkgården" not in counts and "Ekgården" not in counts


def test_municipal_page__expired_address__listed_as_departed(admin_client, owner, home):
    watch(owner, home)
    AllowlistEntry.objects.filter(email=owner.email).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )

    response = admin_client.get("/kommun/bevakningar/")

    assert "anna@kalmar.example – 1 bevakning " in section(response, "departed-heading")


def test_municipal_page__other_municipality__its_departed_not_shown(owner, home):
    watch(owner, home)
    revoke(owner)
    client, _admin = signed_in(Role.MUNICIPAL_ADMIN, municipality=STOCKHOLM)

    response = client.get("/kommun/bevakningar/")

    assert "anna@kalmar.example" not in response.content.decode()
    assert "Björkgården" not in response.content.decode()


def test_hand_over__watches_moved_duplicates_skipped_and_logged(admin_client, owner, home):
    _c, colleague = signed_in(Role.MUNICIPAL_USER, email="bo@kalmar.example")
    other = FacilityFactory(name="Ekgården")
    watch(owner, home)
    watch(owner, other)
    watch(colleague, home)  # already watched by the receiver
    revoke(owner)

    response = admin_client.post(
        "/kommun/bevakningar/overlat/", {"fran": owner.pk, "till": colleague.pk}
    )

    assert response["Location"] == "/kommun/bevakningar/"
    assert not Watch.objects.filter(user=owner).exists()
    assert sorted(
        Watch.objects.filter(user=colleague).values_list("facility__name", flat=True)
    ) == [
        "Björkgården",
        "Ekgården",
    ]
    entry = AccessEvent.objects.filter(object_type="watches").get()
    assert entry.action == AccessEvent.Action.ALLOWLIST_CHANGE
    assert "bevakningar överlåtna" in entry.detail and "bo@kalmar.example" in entry.detail
    assert "1 bevakning är överlåten till bo@kalmar.example." in text_of(
        admin_client.get("/kommun/bevakningar/")
    )


def test_hand_over__to_another_municipalitys_user__refused_nothing_changed(
    admin_client, owner, home
):
    _s, stranger = signed_in(Role.MUNICIPAL_USER, municipality=STOCKHOLM)
    watch(owner, home)
    revoke(owner)

    response = admin_client.post(
        "/kommun/bevakningar/overlat/", {"fran": owner.pk, "till": stranger.pk}
    )

    assert response.status_code == 400
    assert "Välj en användare i kommunen som har behörighet." in text_of(response)
    assert Watch.objects.get().user == owner
    assert not AccessEvent.objects.filter(object_type="watches").exists()


def test_hand_over__to_a_departed_user__refused(admin_client, owner, home):
    _c, gone = signed_in(Role.MUNICIPAL_USER)
    watch(owner, home)
    revoke(owner)
    revoke(gone)

    response = admin_client.post(
        "/kommun/bevakningar/overlat/", {"fran": owner.pk, "till": gone.pk}
    )

    assert response.status_code == 400
    assert Watch.objects.get().user == owner


def test_hand_over__from_a_user_who_still_has_access__refused(admin_client, owner, home):
    _c, colleague = signed_in(Role.MUNICIPAL_USER)
    watch(owner, home)  # owner's access holds

    response = admin_client.post(
        "/kommun/bevakningar/overlat/", {"fran": owner.pk, "till": colleague.pk}
    )

    assert response.status_code == 400
    assert "Adressen har inga bevakningar att överlåta." in text_of(response)
    assert Watch.objects.get().user == owner


def test_remove_all__departed_watches_gone_and_logged(admin_client, owner, home):
    watch(owner, home)
    watch(owner, home.provider)
    revoke(owner)

    response = admin_client.post("/kommun/bevakningar/ta-bort/", {"fran": owner.pk})

    assert response["Location"] == "/kommun/bevakningar/"
    assert not Watch.objects.exists()
    entry = AccessEvent.objects.filter(object_type="watches").get()
    assert "bevakningar borttagna" in entry.detail and "antal=2" in entry.detail


def test_remove_all__user_with_access__refused_nothing_removed(admin_client, owner, home):
    watch(owner, home)

    response = admin_client.post("/kommun/bevakningar/ta-bort/", {"fran": owner.pk})

    assert response.status_code == 400
    assert "Adressen har inga bevakningar att ta bort." in text_of(response)
    assert Watch.objects.exists()


def test_municipal_page__municipal_user__403(owner_client):
    assert owner_client.get("/kommun/bevakningar/").status_code == 403
    assert owner_client.post("/kommun/bevakningar/ta-bort/", {"fran": 1}).status_code == 403


# IVO's numbers --------------------------------------------------------------------------------


def test_numbers__ivo_admin__events_per_day_and_delivery_never_who(owner, home):
    watch(owner, home)
    DecisionFactory(facility=home, outcome=Outcome.FORBUD)
    fan_out()
    Notice.objects.update(mail=Notice.Mail.FAILED, mail_attempts=3)
    client, _admin = signed_in(Role.IVO_ADMIN)

    response = client.get("/ivo/bevakningar/")

    assert response.status_code == 200
    text = text_of(response)
    today = timezone.localdate().isoformat()
    # Today's row: a new home, a decision (kinds in EventKind's order), 2 in all.
    assert re.search(rf"{today} 1 1 0 0 0 0 0 0 2", text), text
    assert (
        "Notiser 1 E-postmeddelanden skickade 0 E-postmeddelanden som misslyckades 1"
        " Försökta igen 1"
    ) in text
    assert "Äldsta väntande e-postmeddelande Inget e-postmeddelande väntar" in text
    assert "anna@kalmar.example" not in response.content.decode()
    assert text.count(" 0 0 0 0 0 0 0 0 0") >= 29  # the other days


def test_numbers__oldest_waiting_mail__its_age(owner, home):
    watch(owner, home)
    DecisionFactory(facility=home, outcome=Outcome.FORBUD)
    fan_out()
    Notice.objects.update(mail_due_at=timezone.now() - datetime.timedelta(hours=3))
    client, _admin = signed_in(Role.IVO_ADMIN)

    text = text_of(client.get("/ivo/bevakningar/"))

    assert "Väntar på att skickas 1" in text
    assert re.search(r"Äldsta väntande e-postmeddelande 3 timmar \(sedan ", text), text


@pytest.mark.parametrize(
    "role", [Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN, Role.IVO_REGISTRATOR, Role.IVO_CASE_OFFICER]
)
def test_numbers__other_roles__403(role):
    client, _user = signed_in(role)

    assert client.get("/ivo/bevakningar/").status_code == 403


def test_staff_navigation__links_to_the_new_pages():
    ivo, _a = signed_in(Role.IVO_ADMIN)
    municipal, _m = signed_in(Role.MUNICIPAL_ADMIN)

    # The numbers are a page of the menu's "Kvalitet", in its second row.
    assert 'href="/ivo/bevakningar/"' in ivo.get("/ivo/kvalitet/").content.decode()
    assert 'href="/kommun/bevakningar/"' in municipal.get("/").content.decode()
