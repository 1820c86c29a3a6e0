"""A security review of the protected-home rule (DESIGN.md "What may be shown to whom"; issue 15
point 1): channels where an outsider (no session, no key) can still infer that a protected home
exists, and views of protected homes that write no ``protected_view`` entry.

Each test asserts what the rule requires; each failed against the code the review read."""

import json

import pytest

from access.models import AccessEvent
from access.roles import Role
from register import services
from register.models import Decision, Facility, Inspection, Provider
from tests.api_support import body
from tests.factories import add_protected_homes, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roomy_rate_limit")]


def feed(client, since: str = "") -> dict:
    response = client.get(f"/api/v1/changes?limit=1000&since={since}")
    assert response.status_code == 200
    return json.loads(body(response))


def event_id(cursor: str) -> int:
    return int(cursor.split("-")[1])


@pytest.mark.usefixtures("sqlite_feed")
def test_changes_feed__cursors_do_not_count_the_hidden_events_between_two_public_ones(
    client, public_register
):
    """Event ids are one sequence for every event, hidden or not: the outsider's next cursor
    jumps by the number of protected-home events written in between (on SQLite nothing else
    makes a gap). Without protected homes the public write's event is the next id."""
    last = feed(client)["next_cursor"]
    add_protected_homes(public_register)  # 2 homes, 2 decisions, 2 inspections: hidden events
    home = Facility.objects.get(facility_id="P-4")
    home.places += 1
    services.facility_save(facility=home)
    items = feed(client, last)["items"]
    assert [item["resource_id"] for item in items][:1] == ["P-4"]
    # As if the protected homes had never been written: the very next id.
    assert event_id(items[0]["cursor"]) == event_id(last) + 1


@pytest.mark.usefixtures("sqlite_feed")
def test_changes_feed__a_providers_rename_does_not_tell_how_many_protected_homes_it_runs(
    client, public_register
):
    """A provider's change writes one event for it and one for each of its homes, protected ones
    included (hidden at read time), with consecutive ids. The outsider sees the provider's public
    homes and the gap up to the next visible event: the number of protected homes it runs."""
    add_protected_homes(public_register)  # S-1 at "Delad Omsorg AB", beside P-1 and P-2
    last = feed(client)["next_cursor"]
    shared = Provider.objects.get(pk=public_register["shared"].pk)
    shared.name = "Delad Omsorg i Sverige AB"
    services.provider_save(provider=shared)
    other = Facility.objects.get(facility_id="P-4")  # any later public write
    other.places += 1
    services.facility_save(facility=other)
    items = feed(client, last)["items"]
    ids = [event_id(item["cursor"]) for item in items]
    assert [item["resource_id"] for item in items[1:3]] == ["P-1", "P-2"]
    # What the outsider can compute: ids used minus events shown = the provider's hidden homes.
    hidden = (ids[-1] - ids[0] + 1) - len(ids)
    assert hidden == 0


@pytest.mark.usefixtures("sqlite_feed")
def test_changes_feed__deleting_a_protected_home_does_not_publish_its_history(
    client, public_register
):
    """The feed hides an event when the home it names is protected *now*: once the home (or its
    decision) is gone, nothing matches and its created/changed/removed events are shown."""
    add_protected_homes(public_register)
    home = Facility.objects.get(facility_id="S-2")
    for model in (Decision, Inspection):
        for row in model.objects.filter(facility=home):
            services.register_object_delete(instance=row)
    services.register_object_delete(instance=home)  # the admin's delete
    content = json.dumps(feed(client), ensure_ascii=False)
    assert '"P-1"' in content and "3.2.2-100/2024" in content  # the public homes' events
    assert "S-2" not in content
    assert "3.2.2-901/2025" not in content  # its decision's diarienummer


@pytest.mark.usefixtures("sqlite_feed")
def test_changes_feed__a_protected_homes_changed_id_does_not_publish_the_old_one(
    client, public_register
):
    """The admin lets IVO correct a verksamhetsid (or a decision's diarienummer): the events
    under the old key name nothing that exists and are shown."""
    add_protected_homes(public_register)
    home = Facility.objects.get(facility_id="S-1")
    home.facility_id = "S-1B"
    services.facility_save(facility=home)
    decision = Decision.objects.get(diarienummer="3.2.2-900/2025")
    decision.diarienummer = "3.2.2-900/2026"
    services.decision_save(decision=decision)
    content = json.dumps(feed(client), ensure_ascii=False)
    assert '"P-1"' in content and "3.2.2-100/2024" in content  # the public homes' events
    assert '"S-1"' not in content
    assert "3.2.2-900/2025" not in content


@pytest.mark.usefixtures("sqlite_feed")
def test_changes_feed__a_home_that_becomes_protected_leaves_the_feed_as_a_deleted_one_does(
    client, public_register
):
    """Hiding by the home's present state removes a home that becomes protected from the whole
    history, without a 'removed' event: a client re-reading the feed sees pages it read before
    change, and can tell "became protected" (events vanish) from "deleted" (a removed event)."""
    before = feed(client)["items"]
    home = Facility.objects.get(facility_id="P-4")
    home.protected_by_ivo = True
    services.facility_save(facility=home)
    after = feed(client)["items"]
    # The feed's past is the same, and the home's last event says it is gone.
    assert after[: len(before)] == before
    assert [(i["resource_id"], i["operation"]) for i in after if i["resource"] == "facility"][
        -1
    ] == ("P-4", "removed")


@pytest.mark.usefixtures("sqlite_feed")
def test_provider_of_only_protected_homes__stays_unknown_when_its_home_moves_away(
    client, public_register
):
    """A provider whose every home is protected is hidden; when its home moves to another
    provider (or is deleted) it has no homes at all and is shown, with its past events: an
    outsider learns that a provider existed that ran nothing public."""
    added = add_protected_homes(public_register)
    hidden = added["only_provider"]
    home = Facility.objects.get(facility_id="S-2")
    home.provider = Provider.objects.get(pk=public_register["other"].pk)
    services.facility_save(facility=home)
    assert client.get(f"/api/v1/providers/{hidden.public_id}").status_code == 404
    content = json.dumps(feed(client), ensure_ascii=False)
    assert str(public_register["other"].public_id) in content  # the public providers' events
    assert str(hidden.public_id) not in content


# --- Allowed viewers ------------------------------------------------------------------------------


def test_deactivated_municipal_user__signed_in_through_oidc_no_longer_sees_protected_homes(
    client, public_register
):
    """Sessions started by the federated login name MunicipalOIDCBackend, whose get_user (from
    mozilla-django-oidc) does not check is_active; role_of does not either, nor the session
    middleware (it checks the allowlist entry only). A magic-link session (ModelBackend) ends."""
    add_protected_homes(public_register)
    user = make_user(Role.MUNICIPAL_USER, municipality="0880")
    client.force_login(user, backend="access.oidc.MunicipalOIDCBackend")
    user.is_active = False  # IVO blocks the account ("kontot är avstängt")
    user.save(update_fields=["is_active"])
    response = client.get("/?malgrupp=skydd")
    # The session still names the user, but the account has no role any more: refused.
    assert response.status_code == 403
    assert "Björken" not in response.content.decode()


def test_decision_request_pages__log_the_protected_home_they_name(client, public_register):
    """/beslut/<pk>/begar/ (and the request list and detail) print the facility's name: a view
    of a protected home without a protected_view entry."""
    add_protected_homes(public_register)
    user = make_user(Role.MUNICIPAL_USER, municipality="0880")
    client.force_login(user)
    decision = Decision.objects.get(diarienummer="3.2.2-900/2025")  # of S-1, Björken
    response = client.get(f"/beslut/{decision.pk}/begar/")
    assert response.status_code == 200 and "Björken" in response.content.decode()
    assert AccessEvent.objects.filter(
        action=AccessEvent.Action.PROTECTED_VIEW, object_id="S-1"
    ).exists()
