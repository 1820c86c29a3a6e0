"""Protected homes (skyddade boenden, DESIGN.md): never shown to an outsider — open data, the
keyless API, the DCAT catalogue — in any way that tells they exist; shown to signed-in users and
municipalities' systems, every view logged.

The outsider's view of every channel is read before the protected homes are written and again
after, and compared byte for byte: totals, page lengths, sort positions, a provider's list of homes,
errors and the changes feed included."""

import io
import json

import pytest
from django.db import connection
from openpyxl import load_workbook

from access.models import AccessEvent
from access.roles import Role
from api.opendata import DATASETS, FORMATS
from register import services
from register.models import Facility, Provider
from tests.api_support import api_client_with_token, bearer, body, get_json
from tests.assertions import assert_none_shown, assert_shows, without_form_tokens
from tests.factories import (
    DecisionFactory,
    FacilityFactory,
    InspectionFactory,
    ProviderFactory,
    add_protected_homes,
    make_user,
    sign_in,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roomy_rate_limit")]


ALL = "status=aktiv&status=nedlagd&status=aterkallad&status=forbud"


def outsider_view(client, public_register, hidden_provider_id: str) -> dict[str, bytes]:
    """Everything an outsider can read, by URL: the keyless API, open data, the catalogue."""
    urls = [
        "/api/v1/facilities",
        f"/api/v1/facilities?{ALL}&limit=1000",
        "/api/v1/facilities?limit=1&offset=1",  # a page's length and a sort position
        "/api/v1/facilities?limit=2&offset=0&sort=municipality",
        "/api/v1/facilities?sort=latest_decision",
        "/api/v1/facilities?text=Björken",
        "/api/v1/facilities?text=%C3%84NGSBO",
        "/api/v1/facilities?text=Skyddsstiftelsen",
        "/api/v1/facilities?target_group=skydd",
        "/api/v1/facilities?county=01&gender=flickor",
        "/api/v1/facilities?latest_outcome=forelaggande_vite",
        "/api/v1/facilities/S-1",  # the same 404 as for a home that does not exist
        "/api/v1/facilities/S-2",
        "/api/v1/facilities/P-1",
        "/api/v1/providers",
        "/api/v1/providers?limit=1&offset=2",
        f"/api/v1/providers/{public_register['shared'].public_id}",  # its list of homes
        f"/api/v1/providers/{hidden_provider_id}",
        "/api/v1/decisions",
        "/api/v1/decisions?facility_id=S-1",
        "/api/v1/decisions?diarienummer=3.2.2-900/2025",
        "/api/v1/decisions?outcome=forelaggande_vite",
        "/api/v1/decisions?limit=1&offset=0",
        "/api/v1/findings",
        "/api/v1/findings?facility_id=S-1",
        "/api/v1/findings?diarienummer=3.2.2-900/2025",
        "/api/v1/findings?assessment=allvarlig_brist",
        "/api/v1/findings?requirement_state=open&area=trygghet_sakerhet",
        "/api/v1/findings?limit=1&offset=1",
        "/api/v1/facilities?no_open_requirement=true",
        "/api/v1/facilities?no_serious_decision_years=5",
        "/api/v1/facilities?county=01&county=08&include_neighbours=true",
        "/api/v1/inspections",
        "/api/v1/inspections?facility_id=S-2",
        "/api/v1/changes",
        "/api/v1/changes?limit=3",
        "/oppna-data/",
        "/datasets/dcat",
    ]
    urls += [
        f"/oppna-data/{slug}.{form}" for slug in DATASETS for form in FORMATS if form != "xlsx"
    ]
    view = {}
    for url in urls:
        response = client.get(url)
        head = f"{response.status_code}\n{response.get('ETag', '')}\n"
        view[url] = head.encode() + without_form_tokens(body(response))
    for slug in DATASETS:  # a workbook's bytes hold the time it was written: compare its cells
        response = client.get(f"/oppna-data/{slug}.xlsx")
        sheet = load_workbook(io.BytesIO(body(response)), read_only=True).active
        view[f"{slug}.xlsx"] = json.dumps([list(row) for row in sheet.values], default=str).encode()
    return view


# Searches that find only protected homes, a page past the public providers, and a filter every
# public home fails (each has an open requirement): an outsider gets an empty page, before and
# after.
NOTHING_FOR_AN_OUTSIDER = {
    "/api/v1/providers?limit=1&offset=2",
    "/api/v1/facilities?no_open_requirement=true",
    "/api/v1/facilities?text=Björken",
    "/api/v1/facilities?text=%C3%84NGSBO",
    "/api/v1/facilities?text=Skyddsstiftelsen",
    "/api/v1/facilities?target_group=skydd",
    "/api/v1/facilities?latest_outcome=forelaggande_vite",
    "/api/v1/decisions?facility_id=S-1",
    "/api/v1/decisions?diarienummer=3.2.2-900/2025",
    "/api/v1/decisions?outcome=forelaggande_vite",
    "/api/v1/findings?facility_id=S-1",
    "/api/v1/findings?diarienummer=3.2.2-900/2025",
    "/api/v1/inspections?facility_id=S-2",
}


def assert_answers_with_the_public_homes(view: dict[str, bytes], not_found: set[str]) -> None:
    """Each answer of the outsider's view is what it is there to be (so that comparing two views
    compares answers, not two identical error pages): 404 for a protected home or its provider,
    otherwise 200 with the public homes' rows, or an empty page for a search that finds only
    protected homes."""
    for url, content in view.items():
        if url.endswith(".xlsx"):
            assert len(json.loads(content)) > 1, url  # the header and rows
            continue
        status, _etag, answer = content.split(b"\n", 2)
        if url in not_found:
            assert status == b"404", url
            continue
        assert status == b"200", (url, status)
        if url.startswith("/api/v1/changes") and connection.vendor == "postgresql":
            # The feed lists only ended transactions, and this test's never ends: on
            # PostgreSQL the follower below reads it.
            continue
        if url.startswith("/api/v1/") and url.split("?")[0].count("/") == 3:  # a list
            items = json.loads(answer)["items"]
            assert (items == []) == (url in NOTHING_FOR_AN_OUTSIDER), url
        elif url.endswith(".json"):
            assert json.loads(answer)["items"], url
        elif url.endswith(".csv"):
            assert b"P-1" in answer, url
        elif url == "/datasets/dcat":
            assert b"dcat:Dataset" in answer
        elif url == "/oppna-data/":
            assert b"CC BY 4.0" in answer
        else:  # a public home, or the provider of public homes
            assert b"P-1" in answer, url


def test_outsider_view__byte_for_byte_the_same_with_protected_homes_present_and_absent(
    client, public_register
):
    hidden_provider = ProviderFactory.build()  # its id, before it exists
    before = outsider_view(client, public_register, str(hidden_provider.public_id))
    add_protected_homes(public_register, provider_id=hidden_provider.public_id)
    after = outsider_view(client, public_register, str(hidden_provider.public_id))

    assert after.keys() == before.keys()
    not_found = {
        "/api/v1/facilities/S-1",
        "/api/v1/facilities/S-2",
        f"/api/v1/providers/{hidden_provider.public_id}",
    }
    assert_answers_with_the_public_homes(before, not_found)
    assert_answers_with_the_public_homes(after, not_found)
    differing = [url for url in before if before[url] != after[url]]
    assert differing == []
    # What was compared holds what it should: the public homes, and a 404 for the protected one.
    assert "Almgården".encode() in after["/api/v1/facilities"]
    assert json.loads(after["/api/v1/facilities"].split(b"\n", 2)[2])["total"] == 4
    assert after["/api/v1/facilities/S-1"].startswith(b"404\n")
    assert after[f"/api/v1/providers/{hidden_provider.public_id}"].startswith(b"404\n")
    # Nowhere but an error repeating the URL asked for.
    texts = ("S-1", "S-2", "Björken", "Ängsbo", "Skyddsstiftelsen", "Hemliga", "3.2.2-90")
    for text in texts:
        found = [url for url, content in after.items() if text.encode() in content]
        assert [url for url in found if text not in url] == [], text


def test_outsider_view__a_protected_home_answers_as_one_that_does_not_exist(
    client, public_register
):
    add_protected_homes(public_register)
    protected = client.get("/api/v1/facilities/S-1")
    missing = client.get("/api/v1/facilities/S-9")
    assert protected.status_code == missing.status_code == 404
    assert protected.content == missing.content.replace(b"S-9", b"S-1")


def test_changes_feed__a_protected_home_at_a_shared_provider_writes_no_provider_event(
    public_register,
):
    """The triggers: a provider event would tell an outsider that one of its homes changed."""
    from api.models import ChangeEvent

    last = ChangeEvent.objects.order_by("-id").first().id
    added = add_protected_homes(public_register)
    home = Facility.objects.get(pk=added["homes"][0].pk)
    home.places = 9
    services.facility_save(facility=home)
    events = ChangeEvent.objects.filter(id__gt=last)
    shared = str(public_register["shared"].public_id)
    assert not events.filter(resource="provider", resource_id=shared).exists()
    # A change of a public home of the same provider still marks the provider changed.
    public_home = Facility.objects.get(facility_id="P-1")
    public_home.places = 8
    services.facility_save(facility=public_home)
    assert events.filter(resource="provider", resource_id=shared).exists()


def test_municipal_system__sees_protected_homes_and_every_view_is_logged(client, public_register):
    add_protected_homes(public_register)
    _client, token = api_client_with_token("0880")
    headers = bearer(token)

    search = get_json(client, "/api/v1/facilities?target_group=skydd", **headers)
    assert [item["facility_id"] for item in search["items"]] == ["S-1"]
    assert search["items"][0]["protected"] is True
    detail = get_json(client, "/api/v1/facilities/S-2", **headers)
    assert detail["protected"] is True
    provider = get_json(
        client, f"/api/v1/providers/{public_register['shared'].public_id}", **headers
    )
    assert [home["facility_id"] for home in provider["facilities"]] == ["P-1", "S-1", "P-2"]
    decisions = get_json(client, "/api/v1/decisions?facility_id=S-1", **headers)
    assert [d["diarienummer"] for d in decisions["items"]] == ["3.2.2-900/2025"]
    assert [f["area"] for f in decisions["items"][0]["findings"]] == [
        "trygghet_sakerhet",
        "lokaler",
    ]
    findings = get_json(client, "/api/v1/findings?facility_id=S-2", **headers)
    assert [(f["diarienummer"], f["fine_amount"]) for f in findings["items"]] == [
        ("3.2.2-901/2025", 50_000),
        ("3.2.2-901/2025", None),
    ]

    logged = list(
        AccessEvent.objects.filter(action=AccessEvent.Action.PROTECTED_VIEW)
        .order_by("id")
        .values_list("role", "municipality_code", "object_id")
    )
    system = (Role.MUNICIPAL_SYSTEM, "0880")
    assert logged == [
        (*system, "S-1"),
        (*system, "S-2"),
        (*system, "S-1"),
        (*system, "S-1"),
        (*system, "S-2"),
    ]


def test_keyless_reads__log_no_protected_view(client, public_register):
    add_protected_homes(public_register)

    search = get_json(client, "/api/v1/facilities?target_group=skydd")
    protected = client.get("/api/v1/facilities/S-1")
    findings = get_json(client, "/api/v1/findings?limit=1000")

    # The reads were answered, as an outsider's are: nothing of the protected homes.
    assert search["items"] == []
    assert protected.status_code == 404
    assert {finding["facility_id"] for finding in findings["items"]} == {"P-1", "P-2", "P-3", "P-4"}
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.PROTECTED_VIEW).exists()


def test_portal__municipal_user_sees_protected_homes_marked_and_logged(client, public_register):
    add_protected_homes(public_register)
    user = make_user(Role.MUNICIPAL_USER, municipality="0880")
    sign_in(client, user)

    search = client.get("/?malgrupp=skydd")
    assert "Björken" in search.content.decode()
    assert "Skyddat boende – sprid inte uppgifterna" in search.content.decode()
    page = client.get("/verksamhet/S-2/")
    assert page.status_code == 200
    assert "Skyddat boende. Uppgifterna visas bara" in page.content.decode()
    provider = client.get(f"/huvudman/{public_register['shared'].public_id}/")
    assert "Björken" in provider.content.decode()

    logged = list(
        AccessEvent.objects.filter(action=AccessEvent.Action.PROTECTED_VIEW)
        .order_by("id")
        .values_list("username", "object_id")
    )
    assert logged == [(user.username, "S-1"), (user.username, "S-2"), (user.username, "S-1")]


def test_import__skyddad_marks_a_home_protected(tmp_path, public_register):
    from register.imports import import_facilities

    path = tmp_path / "verksamheter.csv"
    header = (
        "verksamhetsid;verksamhet;verksamhetstyp;organisationsnummer;huvudman;regi;kommunkod;"
        "antal_platser;status;skyddad\n"
    )
    provider = public_register["other"]
    row = f"X-1;Lönnen;hvb;{provider.organisation_number};{provider.name};enskild;0880;4;aktiv;"
    path.write_text(header + row + "ja\n", encoding="utf-8")
    import_facilities(path)
    assert Facility.objects.get(facility_id="X-1").protected_by_ivo is True
    assert Facility.objects.unprotected().filter(facility_id="X-1").count() == 0


def test_import__skyddad_refuses_anything_but_ja_or_nej_and_writes_nothing(
    tmp_path, public_register
):
    from register.imports import ImportFailed, import_facilities

    path = tmp_path / "verksamheter.csv"
    provider = public_register["other"]
    path.write_text(
        "verksamhetsid;verksamhet;verksamhetstyp;organisationsnummer;huvudman;regi;kommunkod;"
        "antal_platser;status;skyddad\n"
        f"X-1;Lönnen;hvb;{provider.organisation_number};{provider.name};enskild;0880;4;aktiv;kanske\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportFailed) as failure:
        import_facilities(path)
    assert [str(error) for error in failure.value.errors] == [
        "rad 2, kolumn skyddad: ska vara ja eller nej"
    ]
    assert not Facility.objects.filter(facility_id="X-1").exists()


# 3 a § (proposed): where the home is run, to municipal users only with PERSONAL_DATA_DISCLOSURE.


@pytest.fixture
def home_with_address(db):
    return FacilityFactory(
        facility_id="A-1", street_address="Storgatan 12", postal_code="39231", postal_town="Kalmar"
    )


def address_views() -> list[tuple]:
    return list(
        AccessEvent.objects.filter(action=AccessEvent.Action.PERSONAL_DATA_VIEW)
        .order_by("id")
        .values_list("role", "object_id", "fields")
    )


ADDRESS_FIELDS = "facility.street_address,facility.postal_code,facility.postal_town"


@pytest.mark.parametrize("disclosure", [False, True], ids=["av", "på"])
def test_address__shown_to_municipal_users_only_with_disclosure_and_logged(
    client, settings, home_with_address, disclosure
):
    settings.PERSONAL_DATA_DISCLOSURE = disclosure
    user = make_user(Role.MUNICIPAL_USER, municipality="0880")
    sign_in(client, user)
    page = assert_shows(client.get("/verksamhet/A-1/"), home_with_address.name)
    _client, token = api_client_with_token("0880")
    api = get_json(client, "/api/v1/facilities/A-1", **bearer(token))

    if disclosure:
        assert "Storgatan 12" in page and "39231 Kalmar" in page
        assert api["address"] == {
            "withheld": False,
            "street_address": "Storgatan 12",
            "postal_code": "39231",
            "postal_town": "Kalmar",
        }
        assert address_views() == [
            (Role.MUNICIPAL_USER, "A-1", ADDRESS_FIELDS),
            (Role.MUNICIPAL_SYSTEM, "A-1", ADDRESS_FIELDS),
        ]
    else:
        assert "Storgatan" not in page and "39231" not in page
        assert "Besöksadressen visas inte." in page
        assert api["address"] == {
            "withheld": True,
            "street_address": "",
            "postal_code": "",
            "postal_town": "",
        }
        assert address_views() == []


def test_address__never_to_an_outsider_even_with_disclosure(client, settings, home_with_address):
    settings.PERSONAL_DATA_DISCLOSURE = True
    detail = assert_shows(client.get("/api/v1/facilities/A-1"), '"facility_id": "A-1"')
    assert json.loads(detail)["address"]["withheld"] is True
    assert_none_shown(detail, ["Storgatan", "39231"])
    for slug in DATASETS:
        # Each file's header (its rows have a facility_id column); the home in its own.
        expected = ["facility_id", "A-1"] if slug == "verksamheter" else ["facility_id"]
        csv_file = assert_shows(client.get(f"/oppna-data/{slug}.csv"), *expected)
        assert_none_shown(csv_file, ["Storgatan", "39231"], slug)


def test_outsider_follower__ends_with_the_outsiders_register_and_never_hears_of_a_protected_home(
    client,
    settings,
    writers,
):
    """A keyless follower of the changes feed through protected homes written, a provider
    renamed, a home turning protected and one turning public, and a protected home deleted: it
    ends with exactly what an outsider reads afresh, its cursors have no gaps, and it never
    names a protected home. On PostgreSQL the writes are committed by a connection of their own
    (the feed lists only ended transactions: tests/test_api_changes.py)."""
    from tests.api_support import Mirror, on_writer, server_state

    # A log entry, or the rate limit's count in the database cache, would give the test's own
    # transaction an id and hold the feed back: the count is kept in memory here.
    settings.ACCESS_LOG_ENABLED = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    do = on_writer(writers[0] if writers else None)
    mirror = Mirror(client)
    mirror.poll()  # what earlier tests committed (PostgreSQL): its numbers are not this test's
    first = len(mirror.seen)

    def build():
        shared = ProviderFactory(name="Delad Omsorg AB")
        FacilityFactory(facility_id="F-1", name="Almgården", provider=shared)
        FacilityFactory(facility_id="F-2", name="Dungen", provider=shared)
        home = FacilityFactory(
            facility_id="FS-1", name="Björken", provider=shared, target_groups=["skydd"]
        )
        DecisionFactory(facility=home, diarienummer="3.2.2-7001/2025")
        hidden = FacilityFactory(
            facility_id="FS-2",
            name="Ängsbo",
            provider=ProviderFactory(name="Skyddsstiftelsen"),
            protected_by_ivo=True,
        )
        InspectionFactory(facility=hidden, diarienummer="3.2.2-7002/2025")

    do(build)
    mirror.poll_until(lambda resources: ("facility", "F-2") in resources)

    def changes():
        shared = Provider.objects.get(name="Delad Omsorg AB")
        shared.name = "Delad Omsorg i Sverige AB"
        services.provider_save(provider=shared)
        turned = Facility.objects.get(facility_id="F-1")
        turned.protected_by_ivo = True
        services.facility_save(facility=turned)
        opened = Facility.objects.get(facility_id="FS-1")
        opened.target_groups = ["hedersrelaterat"]
        services.facility_save(facility=opened)
        gone = Facility.objects.get(facility_id="FS-2")
        for inspection in gone.inspections.all():
            services.register_object_delete(instance=inspection)
        services.register_object_delete(instance=gone)
        FacilityFactory(facility_id="F-9", name="Sist", provider=shared)

    do(changes)
    mirror.poll_until(lambda resources: ("facility", "F-9") in resources)

    assert mirror.resources == server_state(client)
    assert {key for key in mirror.resources if key[0] == "facility"} == {
        ("facility", "F-2"),
        ("facility", "FS-1"),  # public now
        ("facility", "F-9"),
    }
    assert ("decision", "3.2.2-7001/2025") in mirror.resources  # came with its home
    positions = [int(cursor.split("-")[1]) for cursor in mirror.seen[first:]]
    assert positions == list(range(positions[0], positions[0] + len(positions)))
    named = json.dumps(mirror.changes)
    for secret in ("FS-2", "3.2.2-7002/2025", "Skyddsstiftelsen"):
        assert secret not in named
    turned = [
        (c["resource_id"], c["operation"]) for c in mirror.changes if c["resource"] == "facility"
    ]
    assert ("F-1", "removed") in turned and ("FS-1", "created") in turned


def test_back_office__the_protected_filter_follows_the_registers_definition(
    client, public_register
):
    add_protected_homes(public_register)
    sign_in(client, make_user(Role.IVO_REGISTRATOR))
    protected = assert_shows(client.get("/admin/register/facility/?skyddat=ja"), "S-1", "S-2")
    public = assert_shows(client.get("/admin/register/facility/?skyddat=nej"), "P-1", "P-4")
    # S-1 by its target group alone, S-2 by IVO's mark.
    assert_none_shown(protected, ["P-1", "P-2", "P-3", "P-4"])
    assert_none_shown(public, ["S-1", "S-2"])
