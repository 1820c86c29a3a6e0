"""The back office per role (issue 15, point 10): what each IVO role may list, add, change and
delete in the admin, written out here model by model (not read from access/roles.py, so a change
there has to be made here too), and that no one else gets anything."""

import pytest
from django.core.management import call_command

from access.models import Account
from access.roles import ROLE_MODEL_PERMISSIONS, Role
from api import services as api_services
from register.models import County, Decision, Manager, Municipality
from tests.admin_support import NO_FINDINGS
from tests.factories import DecisionFactory, InspectionFactory, make_user, sign_in

pytestmark = pytest.mark.django_db

REGISTRATOR, CASE_OFFICER, ADMIN = Role.IVO_REGISTRATOR, Role.IVO_CASE_OFFICER, Role.IVO_ADMIN

# (changelist, add page, change page, may change, delete page) per role.
NOTHING = (403, 403, 403, False, 403)
READ = (200, 403, 200, False, 403)
EDIT = (200, 200, 200, True, 403)
EDIT_DELETE = (200, 200, 200, True, 200)
READ_DELETE = (200, 403, 200, False, 200)

EXPECTED = {
    "register.county": {REGISTRATOR: READ, CASE_OFFICER: READ, ADMIN: READ},
    "register.municipality": {REGISTRATOR: READ, CASE_OFFICER: READ, ADMIN: READ},
    "register.provider": {REGISTRATOR: EDIT, CASE_OFFICER: READ, ADMIN: EDIT_DELETE},
    "register.facility": {REGISTRATOR: EDIT, CASE_OFFICER: READ, ADMIN: EDIT_DELETE},
    "register.permit": {REGISTRATOR: EDIT, CASE_OFFICER: READ, ADMIN: EDIT_DELETE},
    "register.registration": {REGISTRATOR: EDIT, CASE_OFFICER: READ, ADMIN: EDIT_DELETE},
    "register.manager": {REGISTRATOR: EDIT, CASE_OFFICER: NOTHING, ADMIN: EDIT_DELETE},
    "register.inspection": {REGISTRATOR: EDIT, CASE_OFFICER: EDIT, ADMIN: EDIT_DELETE},
    "register.decision": {REGISTRATOR: EDIT, CASE_OFFICER: EDIT, ADMIN: EDIT_DELETE},
    "api.apiclient": {REGISTRATOR: NOTHING, CASE_OFFICER: NOTHING, ADMIN: EDIT},
    "api.apitoken": {
        REGISTRATOR: NOTHING,
        CASE_OFFICER: NOTHING,
        ADMIN: (200, 403, 200, True, 403),
    },
    "auth.user": {REGISTRATOR: NOTHING, CASE_OFFICER: NOTHING, ADMIN: (200, 403, 200, True, 403)},
    "auth.group": {REGISTRATOR: NOTHING, CASE_OFFICER: NOTHING, ADMIN: NOTHING},
    "otp_totp.totpdevice": {REGISTRATOR: NOTHING, CASE_OFFICER: NOTHING, ADMIN: NOTHING},
    "axes.accessattempt": {REGISTRATOR: NOTHING, CASE_OFFICER: NOTHING, ADMIN: READ_DELETE},
    "axes.accesslog": {REGISTRATOR: NOTHING, CASE_OFFICER: NOTHING, ADMIN: READ},
    "axes.accessfailurelog": {REGISTRATOR: NOTHING, CASE_OFFICER: NOTHING, ADMIN: READ},
}


def _objects() -> dict[str, object]:
    """One row of every model the admin shows, for its change and delete pages."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.auth.models import Group
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from register import services
    from register.models import Permit, Registration

    decision = DecisionFactory()
    facility = decision.facility
    inspection = InspectionFactory(facility=facility)
    manager = services.manager_save(
        manager=Manager(facility=facility, name="Greta Föreståndarsson", start_date=None)
    )
    permit = services.permit_save(
        permit=Permit(facility=facility, diarienummer="3.5.1-1/2015", granted_on=None)
    )
    registration = services.registration_save(
        registration=Registration(facility=facility, diarienummer="3.5.1-2/2015")
    )
    staff = make_user(Role.IVO_REGISTRATOR)
    api_client = api_services.api_client_create(
        name="Kalmars system", municipality=Municipality.objects.get(code="0880"), actor=staff
    )
    _issued, _token = api_services.api_token_issue(client=api_client, actor=staff)
    return {
        "register.county": County.objects.first(),
        "register.municipality": Municipality.objects.first(),
        "register.provider": facility.provider,
        "register.facility": facility,
        "register.permit": permit,
        "register.registration": registration,
        "register.manager": manager,
        "register.inspection": inspection,
        "register.decision": decision,
        "api.apiclient": api_client,
        "api.apitoken": api_client.tokens.first(),
        "auth.user": staff,
        "auth.group": Group.objects.create(name="En grupp"),
        "otp_totp.totpdevice": TOTPDevice.objects.create(user=staff, name="x", confirmed=True),
        "axes.accessattempt": AccessAttempt.objects.create(
            username="någon", ip_address="127.0.0.2", failures_since_start=1
        ),
        "axes.accesslog": AccessLog.objects.create(username="någon", ip_address="127.0.0.2"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            username="någon", ip_address="127.0.0.2"
        ),
    }


@pytest.mark.parametrize("role", [REGISTRATOR, CASE_OFFICER, ADMIN])
def test_back_office__each_role_gets_its_models_and_no_others(client, role):
    objects = _objects()
    sign_in(client, make_user(role))

    got = {}
    for label, obj in objects.items():
        base = "/admin/{}/{}/".format(*label.split("."))
        change = client.get(f"{base}{obj.pk}/change/")
        got[label] = (
            client.get(base).status_code,
            client.get(f"{base}add/").status_code,
            change.status_code,
            bool(change.status_code == 200 and change.context["has_change_permission"]),
            client.get(f"{base}{obj.pk}/delete/").status_code,
        )

    assert got == {label: expected[role] for label, expected in EXPECTED.items()}


@pytest.mark.parametrize("role", [REGISTRATOR, CASE_OFFICER, ADMIN])
def test_back_office_index__lists_what_the_role_may_see(client, role):
    sign_in(client, make_user(role))

    response = client.get("/admin/")

    assert response.status_code == 200
    listed = {
        f"{app['app_label']}.{model['object_name'].lower()}"
        for app in response.context["app_list"]
        for model in app["models"]
    }
    assert listed == {label for label, expected in EXPECTED.items() if expected[role] != NOTHING}


def test_case_officer_created_by_the_command__records_a_decision_through_the_admin(client):
    """The bug reported: create_ivo_user's case officer got 403 on decisions. The decision is
    saved through register.services: the status rule applies and history names the officer."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    call_command("create_ivo_user", "karin.ivo", "karin@ivo.se", "--role", "ivo_handlaggare")
    officer = Account.objects.get(user__username="karin.ivo").user
    TOTPDevice.objects.create(user=officer, name="app", confirmed=True)
    facility = DecisionFactory().facility
    sign_in(client, officer)

    assert client.get("/admin/register/decision/add/").status_code == 200
    response = client.post(
        "/admin/register/decision/add/",
        {
            "diarienummer": "3.2.2-13748/2022",
            "facility": facility.pk,
            "kind": "tillsyn",
            "decision_date": "2022-06-16",
            "outcome": "aterkallelse",
            "follow_up": "ingen",
            "appeal_status": "ej_overklagat",
            **NO_FINDINGS,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    decision = Decision.objects.get(diarienummer="3.2.2-13748/2022")
    history = decision.history.get()
    assert (history.history_type, history.history_user) == ("+", officer)
    assert history.history_change_reason == "Ändrad i registerförvaltningen"
    facility.refresh_from_db()
    assert facility.status == "aterkallad"  # the revocation rule, as an import applies it
    assert facility.history.latest().history_user == officer


def test_case_officer__cannot_delete_a_decision(client):
    decision = DecisionFactory()
    sign_in(client, make_user(CASE_OFFICER))

    response = client.post(f"/admin/register/decision/{decision.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Decision.objects.filter(pk=decision.pk).exists()


@pytest.mark.parametrize(
    "role", [None, Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN, Role.MUNICIPAL_SYSTEM]
)
def test_back_office__nothing_for_anyone_else(client, role):
    decision = DecisionFactory()
    if role is not None:
        sign_in(client, make_user(role, municipality="0880"))

    for path in (
        "/admin/",
        "/admin/register/decision/",
        f"/admin/register/decision/{decision.pk}/change/",
        "/admin/register/manager/",
        "/admin/auth/user/",
    ):
        response = client.get(path)
        if role is None:
            assert response.status_code == 302 and "/personal/" in response["Location"], path
        else:
            assert response.status_code == 403, path
        assert "Registerförvaltning" not in response.content.decode()


def test_ivo_role__unverified_session__no_model_permissions(client):
    """An IVO role's permissions need the second factor: signed in by password alone, the
    role's model permissions are not given (and the back office sends them to the login)."""
    user = make_user(REGISTRATOR)
    client.force_login(user)

    response = client.get("/admin/register/decision/")

    assert response.status_code == 302
    assert not response.wsgi_request.user.has_perm("register.view_decision")


def test_roles__no_one_may_change_or_delete_access_log_entries():
    for permissions in ROLE_MODEL_PERMISSIONS.values():
        assert not {perm for perm in permissions if perm.startswith("access.")}


def test_role_changed__permissions_follow_at_the_next_request(client):
    user = make_user(CASE_OFFICER)
    sign_in(client, user)
    assert client.get("/admin/register/manager/").status_code == 403

    Account.objects.filter(user=user).update(role=REGISTRATOR)

    assert client.get("/admin/register/manager/").status_code == 200


def test_ivo_admin__changes_a_colleagues_role_but_not_rights_beyond_it(client):
    administrator = make_user(ADMIN)
    colleague = make_user(CASE_OFFICER)
    sign_in(client, administrator)
    url = f"/admin/auth/user/{colleague.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields and "user_permissions" not in form.fields
    account_form = page.context["inline_admin_formsets"][0].formset.forms[0]
    role_choices = {value for value, _label in account_form.fields["role"].choices}
    assert role_choices == {REGISTRATOR, CASE_OFFICER, ADMIN}

    response = client.post(
        url,
        {
            "username": colleague.username,
            "email": colleague.email,
            "is_active": "on",
            "is_superuser": "on",  # read-only: ignored
            "account-TOTAL_FORMS": "1",
            "account-INITIAL_FORMS": "1",
            "account-MIN_NUM_FORMS": "0",
            "account-MAX_NUM_FORMS": "1",
            "account-0-id": colleague.account.pk,
            "account-0-user": colleague.pk,
            "account-0-role": REGISTRATOR,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    colleague.refresh_from_db()
    assert colleague.account.role == REGISTRATOR
    assert not colleague.is_superuser
    assert client.get(f"/admin/auth/user/{colleague.pk}/password/").status_code == 403


def test_ivo_admin__cannot_change_a_superuser_or_their_own_role(client, django_user_model):
    administrator = make_user(ADMIN)
    superuser = django_user_model.objects.create_superuser(username="root", password="x" * 20)
    sign_in(client, administrator)

    own = client.get(f"/admin/auth/user/{administrator.pk}/change/")
    assert "role" not in own.context["inline_admin_formsets"][0].formset.forms[0].fields
    response = client.get(f"/admin/auth/user/{superuser.pk}/change/")
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False


def test_demo_registrator__has_its_roles_permissions_only():
    from access.demo import ensure_demo_users

    ensure_demo_users()
    from django.contrib.auth import get_user_model

    registrator = get_user_model().objects.get(username="ivo.registrator")
    assert registrator.get_all_permissions() == set(ROLE_MODEL_PERMISSIONS[REGISTRATOR])
    assert not registrator.has_perm("register.delete_decision")
