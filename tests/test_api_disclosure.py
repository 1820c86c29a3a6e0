"""No API endpoint, export or feed gives personal data while PERSONAL_DATA_DISCLOSURE is off —
the portal's scan (tests/test_disclosure.py) over every endpoint, file and the catalogue — and the
open-data files hold exactly the public fields."""

import csv
import datetime
import io
import json

import pytest
from django.db import connection
from django.utils import timezone
from openpyxl import load_workbook
from rdflib import BNode, Graph, URIRef

from access.models import AccessEvent
from access.roles import Role
from api.opendata import DATASETS
from register import services
from register.models import (
    Decision,
    Facility,
    Finding,
    Inspection,
    Provider,
    protected_condition,
)
from stats import figures
from tests.api_support import (
    ALL_STATUSES,
    all_pages,
    api_client_with_token,
    bearer,
    body,
    get_json,
)
from tests.assertions import assert_none_shown, assert_shows
from tests.disclosure_support import (
    every_form,
    manager_and_sole_trader_home,
    secrets_of_the_register,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roomy_rate_limit")]


def every_api_output(http, **headers) -> dict[str, str]:
    """Every answer of the API, each seen to hold what it is there to give."""
    # Without a key protected homes, and providers of only such homes, are not there at all
    # (tests/test_protected_homes.py).
    outsider = "HTTP_AUTHORIZATION" not in headers
    facilities = Facility.objects.unprotected() if outsider else Facility.objects.all()
    providers = Provider.objects.shown_to_outsiders() if outsider else Provider.objects.all()
    outputs = {}

    def keep(url, *expected):
        outputs[url] = assert_shows(http.get(url, **headers), *expected)

    keep("/api/v1/api-info", '"api_name": "HVB-registret"')
    keep("/api/v1/code-lists", "facility_type")
    keep("/api/v1/counties", "Kalmar län")
    lists = {
        path: all_pages(http, path, params, **headers)
        for path, params in (
            ("/api/v1/facilities", ALL_STATUSES),
            ("/api/v1/providers", None),
            ("/api/v1/decisions", None),
            ("/api/v1/findings", None),
            ("/api/v1/inspections", None),
        )
    }
    assert {item["facility_id"] for item in lists["/api/v1/facilities"]} == {
        facility.facility_id for facility in facilities
    }
    assert {item["provider_id"] for item in lists["/api/v1/providers"]} == {
        str(provider.public_id) for provider in providers
    }
    assert all(lists.values()), {path: len(items) for path, items in lists.items()}
    for path, items in lists.items():
        outputs[path] = json.dumps(items, ensure_ascii=False)
    for facility in facilities:
        keep(f"/api/v1/facilities/{facility.facility_id}", facility.facility_id)
    for provider in providers:
        keep(f"/api/v1/providers/{provider.public_id}", str(provider.public_id))
    cursor, feed = "", []
    while True:
        page = get_json(http, f"/api/v1/changes?since={cursor}&limit=1000", **headers)
        feed += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    # On PostgreSQL the feed lists only ended transactions, and this test's never ends: there
    # the feed is empty, and the followers of tests/test_api_changes.py read it on both.
    if connection.vendor == "sqlite":
        assert {("facility", facility.facility_id) for facility in facilities} <= {
            (change["resource"], change["resource_id"]) for change in feed
        }
    outputs["changes"] = json.dumps(feed, ensure_ascii=False)
    return outputs


def a_public_row_of_each_dataset() -> dict[str, str]:
    """A value each open-data file must hold: the first public row's key."""
    public = {
        "verksamheter": Facility.objects.unprotected().values_list("facility_id", flat=True),
        "beslut": Decision.objects.exclude(protected_condition("facility__")).values_list(
            "diarienummer", flat=True
        ),
        "iakttagelser": Finding.objects.exclude(
            protected_condition("decision__facility__")
        ).values_list("decision__diarienummer", flat=True),
        "inspektioner": Inspection.objects.exclude(protected_condition("facility__")).values_list(
            "diarienummer", flat=True
        ),
    }
    assert public.keys() == DATASETS.keys()
    rows = {slug: values.order_by("pk").first() for slug, values in public.items()}
    assert None not in rows.values(), rows  # the demo register has rows of each
    return rows


def every_open_data_file(http) -> dict[str, str]:
    """Every file and page of open data, each seen to hold a public row."""
    files = {}
    for slug, row in a_public_row_of_each_dataset().items():
        for file_format in ("csv", "json"):
            url = f"/oppna-data/{slug}.{file_format}"
            files[url] = assert_shows(http.get(url), row)
        response = http.get(f"/oppna-data/{slug}.xlsx")
        assert response.status_code == 200
        workbook = load_workbook(io.BytesIO(body(response)))
        cells = [str(v) for row in workbook.active.iter_rows(values_only=True) for v in row]
        assert row in cells, slug
        files[f"/oppna-data/{slug}.xlsx"] = "\n".join(cells)
    files["/datasets/dcat"] = assert_shows(http.get("/datasets/dcat"), "dcat:Dataset")
    files["/oppna-data/"] = assert_shows(http.get("/oppna-data/"), "CC BY 4.0")
    return files


@pytest.mark.parametrize("with_key", [False, True], ids=["utan-nyckel", "med-nyckel"])
def test_disclosure_off__no_endpoint_export_or_feed_shows_personal_data(
    client, seeded_register, with_key
):
    headers = bearer(api_client_with_token()[1]) if with_key else {}
    secrets = secrets_of_the_register()
    assert len(secrets) > 100

    outputs = {**every_api_output(client, **headers), **every_open_data_file(client)}

    assert len(outputs) > 80
    for url, text in outputs.items():
        assert_none_shown(text, secrets, url)
    assert not AccessEvent.objects.filter(action=AccessEvent.Action.PERSONAL_DATA_VIEW).exists()


def test_disclosure_on__a_municipal_system_gets_the_manager_and_it_is_logged(
    client, seeded_register, settings
):
    settings.PERSONAL_DATA_DISCLOSURE = True
    api_client, token = api_client_with_token()
    facility = manager_and_sole_trader_home()
    manager = facility.managers.get(end_date__isnull=True)

    detail = get_json(client, f"/api/v1/facilities/{facility.facility_id}", **bearer(token))

    assert detail["manager"] == {
        "withheld": False,
        "name": manager.name,
        "email": manager.email,
        "phone": manager.phone,
    }
    assert detail["provider"]["name"] == facility.provider.name
    assert_none_shown(json.dumps(detail), every_form(manager.personal_identity_number))
    events = AccessEvent.objects.filter(
        action=AccessEvent.Action.PERSONAL_DATA_VIEW, user_id=api_client.account_user_id
    ).order_by("id")
    assert [(e.object_type, e.role, e.municipality_code) for e in events] == [
        ("provider", Role.MUNICIPAL_SYSTEM, "0880"),
        ("facility", Role.MUNICIPAL_SYSTEM, "0880"),
    ]
    # Open data and callers without a key still get nothing of it.
    anonymous = get_json(client, f"/api/v1/facilities/{facility.facility_id}")
    assert anonymous["manager"]["withheld"] is True
    listed = assert_shows(
        client.get("/oppna-data/verksamheter.csv"), facility.facility_id, "Enskild näringsidkare"
    )
    assert_none_shown(
        listed, [facility.provider.name, *every_form(manager.personal_identity_number)]
    )


PUBLIC_FACILITY_COLUMNS = [
    "facility_id", "name", "facility_type", "status", "status_date", "municipality_code",
    "municipality_name", "county_code", "county_name", "provider_organisation_number",
    "provider_name", "ownership", "is_sole_trader", "target_groups", "age_from", "age_to",
    "gender", "places", "start_date", "end_date", "latest_decision_date", "latest_outcome",
    "latest_appeal_status", "latest_decision_diarienummer", "last_inspection_date",
    "inspection_overdue",
]  # fmt: skip
PUBLIC_DECISION_COLUMNS = [
    "diarienummer", "facility_id", "kind", "decision_date", "outcome", "review_areas",
    "summary", "legal_reference", "follow_up", "appeal_status", "follows_up_diarienummer",
    "inspection_reason", "children_talked_with", "prohibition_until",
]  # fmt: skip
PUBLIC_FINDING_COLUMNS = [
    "diarienummer", "facility_id", "area", "assessment", "observation", "requirement",
    "due_date", "fine_amount", "requirement_state",
]  # fmt: skip
PUBLIC_INSPECTION_COLUMNS = ["diarienummer", "facility_id", "start_date", "end_date", "announced"]


@pytest.mark.parametrize(
    ("slug", "columns", "model"),
    [
        ("verksamheter", PUBLIC_FACILITY_COLUMNS, Facility),
        ("beslut", PUBLIC_DECISION_COLUMNS, Decision),
        ("iakttagelser", PUBLIC_FINDING_COLUMNS, Finding),
        ("inspektioner", PUBLIC_INSPECTION_COLUMNS, Inspection),
    ],
)
def test_open_data__exactly_the_public_fields_in_every_format(
    client, seeded_register, slug, columns, model
):
    with_findings(
        Decision.objects.filter(facility__in=Facility.objects.protected()).first(),
        Decision.objects.exclude(protected_condition("facility__")).first(),
    )
    csv_rows = list(csv.reader(io.StringIO(body(client.get(f"/oppna-data/{slug}.csv")).decode())))
    items = json.loads(body(client.get(f"/oppna-data/{slug}.json")))["items"]
    sheet = load_workbook(io.BytesIO(body(client.get(f"/oppna-data/{slug}.xlsx")))).active
    xlsx_rows = list(sheet.iter_rows(values_only=True))

    assert csv_rows[0] == columns
    assert list(xlsx_rows[0]) == columns
    assert all(list(item) == columns for item in items)
    # Nothing of a protected home (tests/test_protected_homes.py).
    if model is Facility:
        public = model.objects.unprotected()
    elif model is Finding:
        public = model.objects.exclude(protected_condition("decision__facility__"))
    else:
        public = model.objects.exclude(protected_condition("facility__"))
    assert model.objects.count() > public.count() > 0
    assert len(csv_rows) - 1 == len(items) == len(xlsx_rows) - 1 == public.count()
    assert [row[0] for row in csv_rows[1:]] == [
        item["diarienummer" if slug != "verksamheter" else "facility_id"] for item in items
    ]


def with_findings(*decisions) -> None:
    """A deficiency with a requirement and a finding without one on each decision (the demo
    register may hold none)."""
    for decision in decisions:
        services.findings_replace(
            decision=decision,
            findings=[
                {
                    "area": "trygghet_sakerhet",
                    "assessment": "brist",
                    "observation": "Rutiner saknades.",
                    "requirement": "Ta fram rutiner.",
                    "due_date": decision.decision_date + datetime.timedelta(days=30),
                },
                {"area": "lokaler", "assessment": "ingen_brist", "observation": "Lämpliga."},
            ],
        )


def test_open_data__findings_with_their_decision_and_requirement_state(client, seeded_register):
    # One no later decision follows up (the demo's follow-ups would settle its requirement).
    public = (
        Decision.objects.exclude(protected_condition("facility__"))
        .filter(follow_ups__isnull=True)
        .first()
    )
    with_findings(public)
    items = json.loads(body(client.get("/oppna-data/iakttagelser.json")))["items"]
    mine = sorted(
        (item for item in items if item["diarienummer"] == public.diarienummer),
        key=lambda item: item["area"] != "trygghet_sakerhet",
    )
    due = public.decision_date + datetime.timedelta(days=30)
    # The application's today is Swedish (timezone.localdate()), not the machine's date.
    state = "overdue" if due < timezone.localdate() else "open"

    assert mine == [
        {
            "diarienummer": public.diarienummer,
            "facility_id": public.facility.facility_id,
            "area": "trygghet_sakerhet",
            "assessment": "brist",
            "observation": "Rutiner saknades.",
            "requirement": "Ta fram rutiner.",
            "due_date": due.isoformat(),
            "fine_amount": None,
            "requirement_state": state,
        },
        {
            "diarienummer": public.diarienummer,
            "facility_id": public.facility.facility_id,
            "area": "lokaler",
            "assessment": "ingen_brist",
            "observation": "Lämpliga.",
            "requirement": "",
            "due_date": None,
            "fine_amount": None,
            "requirement_state": None,
        },
    ]


def test_open_data__sole_trader_withheld_legal_person_given(client, seeded_register):
    rows = {
        row["facility_id"]: row
        for row in json.loads(body(client.get("/oppna-data/verksamheter.json")))["items"]
    }
    sole = manager_and_sole_trader_home()
    legal = (
        Facility.objects.filter(provider__is_sole_trader=False).select_related("provider").first()
    )

    assert rows[sole.facility_id]["provider_name"] == "Enskild näringsidkare"
    assert rows[sole.facility_id]["provider_organisation_number"] == ""
    assert rows[legal.facility_id]["provider_name"] == legal.provider.name
    assert (
        rows[legal.facility_id]["provider_organisation_number"]
        == legal.provider.organisation_number
    )


def test_open_data__licence_stated_and_download_logged(client, seeded_register):
    response = client.get("/oppna-data/beslut.csv", REMOTE_ADDR="192.0.2.9")
    body(response)

    assert response["Link"] == '<http://creativecommons.org/licenses/by/4.0/>; rel="license"'
    assert 'filename="hvb-registret-beslut.csv"' in response["Content-Disposition"]
    event = AccessEvent.objects.get(action=AccessEvent.Action.OPEN_DATA_DOWNLOAD)
    assert (event.object_id, event.ip) == ("beslut.csv", "192.0.2.9")
    page = client.get("/oppna-data/").content.decode()
    assert "CC BY 4.0" in page
    assert client.get("/oppna-data/managers.csv").status_code == 404


def test_dcat__absolute_iris_no_blank_nodes_and_the_publisher(client, settings):
    # Imported here: pytest's collection probes module attributes, and rdflib's closed DCAT
    # namespace warns at every unknown name.
    from rdflib.namespace import DCAT, DCTERMS, RDF

    settings.OPEN_DATA_PUBLISHER_ORGANISATION_NUMBER = "2021006354"
    response = client.get("/datasets/dcat")
    graph = Graph().parse(data=response.content, format="xml")

    assert response["Content-Type"].startswith("application/rdf+xml")
    terms = {term for triple in graph for term in triple}
    assert not [term for term in terms if isinstance(term, BNode)]
    iris = [term for term in terms if isinstance(term, URIRef)]
    assert [
        iri for iri in iris if not str(iri).startswith(("http://", "https://", "mailto:"))
    ] == []
    catalogue = next(graph.subjects(RDF.type, DCAT.Catalog))
    publisher = URIRef("http://dataportal.se/organisation/SE2021006354")
    assert (catalogue, DCTERMS.publisher, publisher) in graph
    datasets = list(graph.objects(catalogue, DCAT.dataset))
    assert len(datasets) == 5
    statistics = URIRef("http://testserver/oppna-data/#statistik")
    assert statistics in datasets
    for dataset in datasets:
        assert (dataset, DCTERMS.publisher, publisher) in graph
        distributions = list(graph.objects(dataset, DCAT.distribution))
        # The register's files as CSV, JSON and XLSX; the statistics a CSV and a JSON per figure.
        assert len(distributions) == (2 * len(figures.FIGURE_KEYS) if dataset == statistics else 3)
        for distribution in distributions:
            assert (
                distribution,
                DCTERMS.license,
                URIRef("http://creativecommons.org/licenses/by/4.0/"),
            ) in graph
            assert str(next(graph.objects(distribution, DCAT.downloadURL))).startswith("http://")
