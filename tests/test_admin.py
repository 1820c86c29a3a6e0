import datetime

import pytest
from django.contrib import admin

from access import register_admin
from register.codes import FacilityStatus
from register.models import Decision, Facility, Finding, Provider
from tests.admin_support import NO_FINDINGS, form_data
from tests.factories import DecisionFactory, FacilityFactory, ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, django_user_model):
    """An IVO administrator signed in with password and code (access/staff_views.py)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from access.models import Account
    from access.roles import Role

    user = django_user_model.objects.create_superuser(
        username="ivo.admin", password="admin-password-for-tests"
    )
    Account.objects.create(user=user, role=Role.IVO_ADMIN)
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    client.force_login(user)
    # What django_otp.login does once the code is accepted: the session is verified by the device.
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.user = user
    return client


def test_every_register_model_in_the_admin_saves_through_a_service():
    register_admins = [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, register_admin.RegisterAdmin)
    ]
    register_models = {model for model, _admin in register_admins}
    register_models |= {inline.model for _model, a in register_admins for inline in a.inlines}
    assert register_models == set(register_admin._SAVE)


def test_admin_index__in_swedish(staff_client):
    response = staff_client.get("/admin/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Registerförvaltning" in content
    assert "Verksamheter" in content
    assert "Beslut" in content
    assert 'lang="sv"' in content


@pytest.mark.parametrize(
    "model",
    [
        "county",
        "municipality",
        "provider",
        "facility",
        "permit",
        "registration",
        "manager",
        "inspection",
        "decision",
    ],
)
def test_admin_changelist__search_and_filters_render(staff_client, model):
    DecisionFactory()
    response = staff_client.get(f"/admin/register/{model}/", {"q": "a"})
    assert response.status_code == 200


def test_admin_facility_edit__goes_through_services_and_leaves_history_with_the_user(
    staff_client,
):
    facility = FacilityFactory(places=6)
    url = f"/admin/register/facility/{facility.pk}/change/"
    data = form_data(staff_client.get(url))
    data["places"] = "9"

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = Facility.objects.get(pk=facility.pk).history.latest()
    assert latest.places == 9
    assert latest.prev_record.places == 6
    assert latest.history_user == staff_client.user
    assert latest.history_change_reason == "Ändrad i registerförvaltningen"


def test_admin_facility_edit__by_a_reader_of_english__history_reason_kept_in_swedish(
    staff_client, settings
):
    facility = FacilityFactory(places=6)
    staff_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    url = f"/admin/register/facility/{facility.pk}/change/"
    data = form_data(staff_client.get(url))
    data["places"] = "9"

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = Facility.objects.get(pk=facility.pk).history.latest()
    assert latest.history_change_reason == "Ändrad i registerförvaltningen"


def test_admin_add_and_rename__facility_and_provider__name_keys_written(staff_client):
    from tests.assertions import assert_name_keys_written

    data = {"organisation_number": "212000-0746", "name": "ÅSBO KOMMUN", "ownership": "kommunal"}
    assert staff_client.post("/admin/register/provider/add/", data).status_code == 302
    facility = FacilityFactory(name="Ängen", provider=Provider.objects.get())
    url = f"/admin/register/facility/{facility.pk}/change/"
    data = form_data(staff_client.get(url))
    data["name"] = "ÖSTRA ÄNGEN"

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Facility.objects.get(pk=facility.pk).name_key == "östra ängen"
    assert Provider.objects.get().name_key == "åsbo kommun"
    assert_name_keys_written()


def test_admin_facility_history_page_lists_the_changes(staff_client):
    facility = FacilityFactory()
    response = staff_client.get(f"/admin/register/facility/{facility.pk}/history/")
    assert response.status_code == 200
    assert "Historik" in response.content.decode()


def test_admin_decision_with_revocation__changes_facility_status_as_an_import_would(
    staff_client,
):
    facility = FacilityFactory()
    data = {
        "diarienummer": "3.2.2-13748/2022",
        "facility": facility.pk,
        "kind": "tillsyn",
        "decision_date": "2022-06-16",
        "outcome": "aterkallelse",
        "follow_up": "ingen",
        "appeal_status": "ej_overklagat",
        **NO_FINDINGS,
    }
    response = staff_client.post("/admin/register/decision/add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    facility = Facility.objects.get(pk=facility.pk)
    assert facility.status == FacilityStatus.ATERKALLAD
    assert facility.status_date == datetime.date(2022, 6, 16)


def test_admin_facility__status_a_revocation_gave__refused_with_the_decision_nothing_saved(
    staff_client,
):
    facility = FacilityFactory(places=6)
    DecisionFactory(
        facility=facility,
        diarienummer="3.2.2-2/2024",
        outcome="aterkallelse",
        decision_date=datetime.date(2024, 3, 1),
    )
    history_rows = Facility.history.count()
    url = f"/admin/register/facility/{facility.pk}/change/"
    data = form_data(staff_client.get(url))
    data["status"], data["places"] = "aktiv", "9"

    response = staff_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "status": [
            "Statusen ”Tillståndet återkallat” följer av beslut 3.2.2-2/2024 (2024-03-01) och "
            "ändras bara av ett senare beslut, eller när en domstol upphäver beslutet "
            "(överklagande: upphävt)."
        ]
    }
    stored = Facility.objects.get(pk=facility.pk)
    assert (stored.status, stored.places) == (FacilityStatus.ATERKALLAD, 6)
    assert Facility.history.count() == history_rows


def test_admin_provider_with_bad_organisation_number__shows_swedish_error_and_saves_nothing(
    staff_client,
):
    data = {"organisation_number": "212000-0747", "name": "Fel AB", "ownership": "enskild"}
    response = staff_client.post("/admin/register/provider/add/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "organisation_number": ["kontrollsiffran stämmer inte"]
    }
    assert Provider.objects.count() == 0


def test_admin_decision_in_the_future__refused(staff_client):
    facility = FacilityFactory()
    tomorrow = datetime.date.today() + datetime.timedelta(days=2)
    data = {
        "diarienummer": "3.2.2-1/2024",
        "facility": facility.pk,
        "kind": "tillsyn",
        "decision_date": tomorrow.isoformat(),
        "outcome": "forbud",
        "follow_up": "ingen",
        "appeal_status": "ej_overklagat",
        **NO_FINDINGS,
    }
    response = staff_client.post("/admin/register/decision/add/", data)
    assert response.status_code == 200
    assert "decision_date" in response.context["adminform"].form.errors
    assert Decision.objects.count() == 0


def test_admin_delete__leaves_a_deletion_row_in_history(staff_client):
    provider = ProviderFactory()
    response = staff_client.post(f"/admin/register/provider/{provider.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = Provider.history.get(history_type="-")
    assert deleted.history_user == staff_client.user


def test_admin_reference_data__read_only(staff_client):
    assert staff_client.get("/admin/register/municipality/add/").status_code == 403


# Findings, edited inline on their decision (issue 16) -------------------------------------------


def decision_form_with_findings(response, findings: list[dict[str, str]]) -> dict:
    """The decision's change form as shown, with ``findings`` as new rows of the inline."""
    data = form_data(response)
    (inline,) = response.context["inline_admin_formsets"]
    formset = inline.formset
    prefix = formset.prefix
    management = formset.management_form
    for name in management.fields:
        data[f"{prefix}-{name}"] = management[name].value()
    initial = formset.initial_form_count()
    data[f"{prefix}-TOTAL_FORMS"] = initial + len(findings)
    for form in formset.forms[:initial]:
        for bound_field in form:
            value = bound_field.value()
            data[bound_field.html_name] = "" if value is None else value
    for offset, finding in enumerate(findings):
        for name, value in finding.items():
            data[f"{prefix}-{initial + offset}-{name}"] = value
    return data


@pytest.fixture
def registrator_client(client):
    from access.roles import Role
    from tests.factories import make_user, sign_in

    user = make_user(Role.IVO_REGISTRATOR)
    sign_in(client, user)
    client.user = user
    return client


def test_admin_decision__registrator_adds_a_finding_with_a_requirement_inline__through_services(
    registrator_client,
):
    decision = DecisionFactory(outcome="forelaggande", decision_date=datetime.date(2024, 3, 1))
    url = f"/admin/register/decision/{decision.pk}/change/"
    page = registrator_client.get(url)
    assert "Iakttagelser och krav" in page.content.decode()
    data = decision_form_with_findings(
        page,
        [
            {
                "area": "dokumentation",
                "assessment": "brist",
                "observation": "Genomförandeplaner saknas för två ungdomar.",
                "requirement": "Verksamheten ska upprätta genomförandeplaner för alla ungdomar.",
                "due_date": "2024-05-31",
            }
        ],
    )

    response = registrator_client.post(url, data)

    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    finding = Finding.objects.get(decision=decision)
    assert (finding.area, finding.assessment, finding.due_date) == (
        "dokumentation",
        "brist",
        datetime.date(2024, 5, 31),
    )
    history = finding.history.get()
    assert (history.history_type, history.history_user) == ("+", registrator_client.user)
    assert history.history_change_reason == "Ändrad i registerförvaltningen"
    # finding_save refreshed the facility's derived count.
    assert Facility.objects.get(pk=decision.facility_id).unresolved_requirements == 1


def test_admin_decision__requirement_with_no_deficiency_inline__swedish_error_nothing_written(
    registrator_client,
):
    decision = DecisionFactory(outcome="inga_brister", summary="Före.")
    url = f"/admin/register/decision/{decision.pk}/change/"
    data = decision_form_with_findings(
        registrator_client.get(url),
        [
            {
                "area": "trygghet_sakerhet",
                "assessment": "ingen_brist",
                "requirement": "Verksamheten ska se över sina rutiner.",
            }
        ],
    )
    data["summary"] = "Ändrad samtidigt."
    history_rows = (Decision.history.count(), Finding.history.count())

    response = registrator_client.post(url, data)

    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert inline.formset.errors == [
        {"__all__": ["Ett krav kan bara ställas där IVO funnit en brist."]}
    ]
    assert "Ett krav kan bara ställas där IVO funnit en brist." in response.content.decode()
    assert Finding.objects.count() == 0
    assert Decision.objects.get(pk=decision.pk).summary == "Före."
    assert (Decision.history.count(), Finding.history.count()) == history_rows


def test_admin_decision__finding_deleted_inline__through_services_with_history(
    registrator_client,
):
    from tests.factories import FindingFactory

    finding = FindingFactory(area="lokaler")
    url = f"/admin/register/decision/{finding.decision_id}/change/"
    data = decision_form_with_findings(registrator_client.get(url), [])
    data["findings-0-DELETE"] = "on"

    response = registrator_client.post(url, data)

    assert response.status_code == 302
    assert not Finding.objects.exists()
    deleted = Finding.history.get(history_type="-")
    assert deleted.history_user == registrator_client.user


def test_admin_decision__new_fields_on_the_form(staff_client):
    decision = DecisionFactory()
    form = (
        staff_client.get(f"/admin/register/decision/{decision.pk}/change/")
        .context["adminform"]
        .form
    )
    assert {
        "legal_reference",
        "appeal_status",
        "follows_up",
        "inspection_reason",
        "children_talked_with",
        "prohibition_until",
    } <= set(form.fields)
