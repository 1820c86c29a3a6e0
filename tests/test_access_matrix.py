"""Every URL of the site × every role (and anonymous) → the status a GET answers with.

The expectations are written out below, one row per URL name, not derived from
``access.roles.ROLE_PERMISSIONS``: a change to who may do what has to be made here too, so it is
made on purpose. Each view declares what it needs (access.decorators: ``@requires(permission)``
or ``@public``); a view that declares nothing fails the first test, and a URL name without a row
fails the second, so no page is added without deciding who may see it. The back office (Django
admin) is guarded as a whole (access.staff_views) and per model (tests/test_admin_roles.py).
"""

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from access.models import AllowlistEntry
from access.roles import Role
from documents.models import DecisionRequest
from linking.models import CaseStatus
from tests.factories import (
    CaseRecordFactory,
    DecisionFactory,
    FacilityFactory,
    make_user,
    sign_in,
)

pytestmark = pytest.mark.django_db

ROLES = [None, *Role.values]
LOGIN = "login"  # a redirect to the login page

# The columns, in ROLES' order (the test below checks that they are Role's values).
COLUMNS = (
    None,
    Role.MUNICIPAL_USER,
    Role.MUNICIPAL_ADMIN,
    Role.IVO_REGISTRATOR,
    Role.IVO_CASE_OFFICER,
    Role.IVO_ADMIN,
    Role.MUNICIPAL_SYSTEM,  # its account signed in with a session, as no system should be
)
# What a GET answers, for a request, decision, case and allowlist entry of Kalmar (the fixture
# `objects`). 405: the role passed the permission check, and the page takes POST only. 404 after
# the check: nothing there for this fixture (no document attached, the request not yet released,
# no automatic release; OIDC off in the tests; the API's own 404 for an unknown path). The API
# reads no session (api/auth.py): it answers a signed-in browser as any caller without a key.
# fmt: off
EXPECTED: dict[str, tuple] = {
    #                                    anonym  k-anv  k-adm  regis. handl. ivo-ad k-sys
    # The municipal portal.
    "portal:search":                    (LOGIN,   200,   200,   200,   200,   200,   403),
    "portal:facility":                  (LOGIN,   200,   200,   200,   200,   200,   403),
    "portal:provider":                  (LOGIN,   200,   200,   200,   200,   200,   403),
    # Logging in and out: open to everyone.
    "access:login":                     (  200,   200,   200,   200,   200,   200,   200),
    "access:login_link":                (  200,   200,   200,   200,   200,   200,   200),
    "access:login_sent":                (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN, LOGIN),
    "access:logout":                    (  405,   405,   405,   405,   405,   405,   405),
    "access:language":                  (  405,   405,   405,   405,   405,   405,   405),
    "staff:login":                      (  200,   200,   200,   200,   200,   200,   200),
    "oidc_authentication_init":         (  404,   404,   404,   404,   404,   404,   404),
    "oidc_authentication_callback":     (  404,   404,   404,   404,   404,   404,   404),
    "oidc_logout":                      (  405,   405,   405,   405,   405,   405,   405),
    # Watches (bevakningar) and their notices: the municipality's users. 405: a POST only.
    "alerts:watches":                   (LOGIN,   200,   200,   403,   403,   403,   403),
    "alerts:watch_facility":            (LOGIN,   405,   405,   403,   403,   403,   403),
    "alerts:watch_provider":            (LOGIN,   405,   405,   403,   403,   403,   403),
    "alerts:watch_area":                (LOGIN,   405,   405,   403,   403,   403,   403),
    "alerts:mail_choice":               (LOGIN,   405,   405,   403,   403,   403,   403),
    "alerts:unwatch":                   (LOGIN,   405,   405,   403,   403,   403,   403),
    "alerts:notices":                   (LOGIN,   200,   200,   403,   403,   403,   403),
    "alerts:mark_read":                 (LOGIN,   405,   405,   403,   403,   403,   403),
    # The municipal administrator's own allowlist and access-log extract.
    "access:allowlist":                 (LOGIN,   403,   200,   403,   403,   403,   403),
    "access:allowlist_renew":           (LOGIN,   403,   405,   403,   403,   403,   403),
    "access:allowlist_revoke":          (LOGIN,   403,   405,   403,   403,   403,   403),
    "accesslog:municipal":              (LOGIN,   403,   200,   403,   403,   403,   403),
    "alerts:municipal":                 (LOGIN,   403,   200,   403,   403,   403,   403),
    "alerts:hand_over":                 (LOGIN,   403,   405,   403,   403,   403,   403),
    "alerts:remove_all":                (LOGIN,   403,   405,   403,   403,   403,   403),
    # The IVO administrator's: municipalities, the access log.
    "access:municipalities":            (LOGIN,   403,   403,   403,   403,   200,   403),
    "access:municipality_login_method": (LOGIN,   403,   403,   403,   403,   405,   403),
    "accesslog:search":                 (LOGIN,   403,   403,   403,   403,   200,   403),
    "accesslog:review":                 (LOGIN,   403,   403,   403,   403,   200,   403),
    "alerts:numbers":                   (LOGIN,   403,   403,   403,   403,   200,   403),
    # Decisions requested by a socialnämnd (3 d § SoF, proposed): its users ask and read.
    "documents:request":                (LOGIN,   200,   200,   403,   403,   403,   403),
    "documents:my_requests":            (LOGIN,   200,   200,   403,   403,   403,   403),
    "documents:request_detail":         (LOGIN,   200,   200,   403,   403,   403,   403),
    "documents:request_download":       (LOGIN,   404,   404,   403,   403,   403,   403),
    "documents:automatic_download":     (LOGIN,   404,   404,   404,   404,   404,   403),
    # ... IVO's case officers try them (sekretessprövning) ...
    "documents:queue":                  (LOGIN,   403,   403,   403,   200,   200,   403),
    "documents:numbers":                (LOGIN,   403,   403,   403,   200,   200,   403),
    "documents:handle":                 (LOGIN,   403,   403,   403,   200,   200,   403),
    "documents:take":                   (LOGIN,   403,   403,   403,   405,   405,   403),
    "documents:release":                (LOGIN,   403,   403,   403,   405,   405,   403),
    "documents:refuse":                 (LOGIN,   403,   403,   403,   405,   405,   403),
    "documents:hand_back":              (LOGIN,   403,   403,   403,   405,   405,   403),
    # ... and IVO staff attach the documents.
    "documents:decision_documents":     (LOGIN,   403,   403,   200,   200,   200,   403),
    "documents:full_download":          (LOGIN,   403,   403,   404,   404,   404,   403),
    # Linking case records, the quality report: the registrator and the IVO administrator.
    "linking:queue":                    (LOGIN,   403,   403,   200,   403,   200,   403),
    "linking:case":                     (LOGIN,   403,   403,   200,   403,   200,   403),
    "linking:facility_suggestions":     (LOGIN,   403,   403,   200,   403,   200,   403),
    "linking:link":                     (LOGIN,   403,   403,   405,   403,   405,   403),
    "linking:new_facility":             (LOGIN,   403,   403,   405,   403,   405,   403),
    "linking:undo":                     (LOGIN,   403,   403,   405,   403,   405,   403),
    "linking:quality":                  (LOGIN,   403,   403,   200,   403,   200,   403),
    # Open data and the API without a key: the public part, to anyone.
    "open_data":                        (  200,   200,   200,   200,   200,   200,   200),
    "open_data_download":               (  200,   200,   200,   200,   200,   200,   200),
    "dcat":                             (  200,   200,   200,   200,   200,   200,   200),
    "api:api-root":                     (  404,   404,   404,   404,   404,   404,   404),
    "api:api_info":                     (  200,   200,   200,   200,   200,   200,   200),
    "api:openapi-json":                 (  200,   200,   200,   200,   200,   200,   200),
    "api:openapi-view":                 (  200,   200,   200,   200,   200,   200,   200),
    "api:problem_types":                (  200,   200,   200,   200,   200,   200,   200),
    "api:code_lists":                   (  200,   200,   200,   200,   200,   200,   200),
    "api:counties":                     (  200,   200,   200,   200,   200,   200,   200),
    "api:municipalities":               (  200,   200,   200,   200,   200,   200,   200),
    "api:facilities":                   (  200,   200,   200,   200,   200,   200,   200),
    "api:facility":                     (  200,   200,   200,   200,   200,   200,   200),
    "api:providers":                    (  200,   200,   200,   200,   200,   200,   200),
    "api:provider":                     (  200,   200,   200,   200,   200,   200,   200),
    "api:decisions":                    (  200,   200,   200,   200,   200,   200,   200),
    "api:findings":                     (  200,   200,   200,   200,   200,   200,   200),
    "api:inspections":                  (  200,   200,   200,   200,   200,   200,   200),
    "api:changes":                      (  200,   200,   200,   200,   200,   200,   200),
    "api:statistics":                   (  200,   200,   200,   200,   200,   200,   200),
    "api:statistics_figure":            (  200,   200,   200,   200,   200,   200,   200),
    "api_not_found":                    (  404,   404,   404,   404,   404,   404,   404),
    # Statistics: aggregates of public data to anyone; a municipality's own comparison to its
    # users.
    "stats:index":                      (  200,   200,   200,   200,   200,   200,   200),
    "stats:topic":                      (  200,   200,   200,   200,   200,   200,   200),
    "stats:figure_csv":                 (  200,   200,   200,   200,   200,   200,   200),
    "stats:municipal":                  (LOGIN,   200,   200,   403,   403,   403,   403),
    # A municipality's own access log through the API: a key only (401 without one).
    "api:municipality_access_events":   (  401,   401,   401,   401,   401,   401,   401),
    # A municipality's system's watches and the events they reach: a key only. A GET of one
    # watch is 405: it is there to be deleted.
    "api:watches":                      (  401,   401,   401,   401,   401,   401,   401),
    "api:watch_create":                 (  401,   401,   401,   401,   401,   401,   401),
    "api:watch_delete":                 (  405,   405,   405,   405,   405,   405,   405),
    "api:notifications":                (  401,   401,   401,   401,   401,   401,   401),
    # For the load balancer and Prometheus (operations/): no session read. /metrics answers
    # the test client because it calls from loopback (OPERATIONS_ALLOWED_NETWORKS); elsewhere 404.
    "operations:healthz":               (  200,   200,   200,   200,   200,   200,   200),
    "operations:readyz":                (  200,   200,   200,   200,   200,   200,   200),
    "operations:metrics":               (  200,   200,   200,   200,   200,   200,   200),
}
# fmt: on


def site_urls():
    """(name, view) of every named URL outside the back office."""

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                yield f"{namespace}{pattern.name}", pattern.callback

    return sorted(set(walk(get_resolver().url_patterns)))


def test_every_view_declares_who_may_use_it():
    undeclared = [name for name, view in site_urls() if not hasattr(view, "required_permission")]

    assert undeclared == []


@pytest.fixture
def objects(db):
    facility = FacilityFactory(facility_id="K0880-001")
    decision = DecisionFactory(facility=facility, diarienummer="3.2.2-1/2024")
    entry = make_user(Role.MUNICIPAL_USER, municipality="0880", email="matris@example.com")
    request = DecisionRequest.objects.create(
        decision=decision,
        municipality_id="0880",
        requester_email=entry.email,
        state=DecisionRequest.State.RECEIVED,
    )
    case_record = CaseRecordFactory(status=CaseStatus.REVIEW)
    return {
        "case_id": str(case_record.public_id),
        "decision_pk": decision.pk,
        "request_public_id": str(request.public_id),
        "facility_id": facility.facility_id,
        "provider_public_id": str(facility.provider.public_id),
        "entry_public_id": str(AllowlistEntry.objects.get(email=entry.email).public_id),
    }


def sample_kwargs(name: str, objects) -> dict:
    pattern_kwargs = {
        "facility_id": objects["facility_id"],
        "link": "ingen-giltig-lank",
        "code": "0880",
        "case_id": objects["case_id"],
        # The API and open data (api/urls.py).
        "provider_id": objects["provider_public_id"],
        "rest": "finns-inte",
        "dataset": "verksamheter",
        "file_format": "csv",
        "watch_id": "3f1c2b9e-8d7a-4c1b-9e2f-0a1b2c3d4e5f",
        "figure_key": "homes-by-county",
        # The statistics (stats/urls.py): a topic and one of its figures.
        "topic": "beslut",
        "figure": "inspections-with-deficiencies",
    }
    kwargs = {}
    for key in _route_params(name):
        if key == "public_id" and name.startswith("documents:"):
            kwargs[key] = objects["request_public_id"]
        elif key == "public_id":
            kwargs[key] = (
                objects["entry_public_id"] if "allowlist" in name else objects["provider_public_id"]
            )
        elif key == "pk":
            kwargs[key] = objects["decision_pk"]
        else:
            kwargs[key] = pattern_kwargs[key]
    return kwargs


def _route_params(name: str) -> list[str]:
    resolver = get_resolver()
    namespace, _, url_name = name.rpartition(":")
    if namespace:
        resolver = resolver.namespace_dict[namespace][1]
    possibilities = resolver.reverse_dict.getlist(url_name)
    return list(possibilities[0][0][0][1]) if possibilities else []


def observed(response) -> int | str:
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith(reverse("access:login")):
        return LOGIN
    return response.status_code


def test_the_table_has_a_column_for_anonymous_and_each_role():
    assert list(COLUMNS) == ROLES


def test_every_url_of_the_site_has_a_row_in_the_table():
    names = {name for name, _view in site_urls()}

    assert sorted(names - EXPECTED.keys()) == []  # a URL whose row is still to be written
    assert sorted(EXPECTED.keys() - names) == []  # a row for a URL that is gone


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonym")
def test_every_url_for_every_role(client, objects, role):
    if role is not None:
        sign_in(client, make_user(role, municipality="0880"))
    column = COLUMNS.index(role)

    got = {
        name: observed(client.get(reverse(name, kwargs=sample_kwargs(name, objects))))
        for name, _view in site_urls()
    }

    want = {name: row[column] for name, row in EXPECTED.items()}
    assert {name: (want.get(name), got[name]) for name in got if got[name] != want.get(name)} == {}


# The back office's front page. LOGIN here: the staff login (password and second factor).
BACK_OFFICE = {
    None: LOGIN,
    Role.MUNICIPAL_USER: 403,
    Role.MUNICIPAL_ADMIN: 403,
    Role.IVO_REGISTRATOR: 200,
    Role.IVO_CASE_OFFICER: 200,
    Role.IVO_ADMIN: 200,
    Role.MUNICIPAL_SYSTEM: 403,
}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonym")
def test_back_office_only_for_ivo_staff(client, role):
    if role is not None:
        sign_in(client, make_user(role, municipality="0880"))

    response = client.get("/admin/")

    if BACK_OFFICE[role] == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("staff:login"))
    else:
        assert response.status_code == BACK_OFFICE[role]
        shown = "Registerförvaltning" in response.content.decode()
        assert shown == (response.status_code == 200)


def test_expired_entry__municipal_user_loses_every_page(client, objects):
    user = make_user(Role.MUNICIPAL_ADMIN, municipality="0880")
    sign_in(client, user)
    AllowlistEntry.objects.filter(email=user.email).update(
        expires_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )

    assert client.get("/kommun/frilistning/").status_code == 302
    assert client.get("/").status_code == 302
