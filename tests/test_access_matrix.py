"""Every URL of the site × every role (and anonymous) → the expected status.

Each view declares what it needs (access.decorators: ``@requires(permission)`` or ``@public``);
a URL whose view declares nothing fails the first test, so no page is added without deciding who
may see it. The back office (Django admin) is guarded as a whole (access.staff_views).
"""

import datetime

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from access.decorators import PUBLIC
from access.models import AllowlistEntry
from access.roles import ROLE_PERMISSIONS, Permission, Role
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


def expected(role, permission) -> str:
    if permission == PUBLIC:
        return "open"
    if permission == Permission.USE_API:
        return "login"  # the API takes a key (api/auth.py), never a session, whatever the role
    if role is None:
        return "login"
    return "allowed" if permission in ROLE_PERMISSIONS[role] else "forbidden"


def observed(response) -> str:
    if response.status_code == 302 and response["Location"].startswith(reverse("access:login")):
        return "login"
    if response.status_code == 401:  # the API's "give a key" (problem+json)
        return "login"
    if response.status_code == 403:
        return "forbidden"
    assert response.status_code < 500, response.status_code
    return "allowed"


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonym")
def test_every_url_for_every_role(client, objects, role):
    if role is not None:
        sign_in(client, make_user(role, municipality="0880"))
    results = {}
    for name, view in site_urls():
        url = reverse(name, kwargs=sample_kwargs(name, objects))
        want = expected(role, view.required_permission)
        got = observed(client.get(url))
        if want == "open":
            assert got != "forbidden", (name, url)
            continue
        results[name] = (want, got)
    wrong = {name: pair for name, pair in results.items() if pair[0] != pair[1]}
    assert wrong == {}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonym")
def test_back_office_only_for_ivo_staff(client, role):
    if role is not None:
        sign_in(client, make_user(role, municipality="0880"))

    response = client.get("/admin/")

    if role in (Role.IVO_REGISTRATOR, Role.IVO_CASE_OFFICER, Role.IVO_ADMIN):
        assert response.status_code == 200
    elif role is None:
        assert response.status_code == 302
    else:
        assert response.status_code in (302, 403)
        assert "Back office" not in response.content.decode()


def test_expired_entry__municipal_user_loses_every_page(client, objects):
    user = make_user(Role.MUNICIPAL_ADMIN, municipality="0880")
    sign_in(client, user)
    AllowlistEntry.objects.filter(email=user.email).update(
        expires_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    )

    assert client.get("/kommun/frilistning/").status_code == 302
    assert client.get("/").status_code == 302


LINKING_PAGE_STATUS = {
    None: 302,
    Role.MUNICIPAL_USER: 403,
    Role.MUNICIPAL_ADMIN: 403,
    Role.IVO_REGISTRATOR: 200,
    Role.IVO_CASE_OFFICER: 403,
    Role.IVO_ADMIN: 200,
    Role.MUNICIPAL_SYSTEM: 403,
}


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "anonym")
def test_linking_pages__ivo_registrators_and_administrators_only(client, objects, role):
    if role is not None:
        sign_in(client, make_user(role, municipality="0880"))

    statuses = {
        path: client.get(path).status_code
        for path in ("/ivo/koppling/", f"/ivo/koppling/{objects['case_id']}/", "/ivo/kvalitet/")
    }

    assert set(statuses.values()) == {LINKING_PAGE_STATUS[role]}
