"""One send task mails many watchers of the same events (bench/alerts.py: 5,000 watchers of one
home): each mail carries its own event's text, and the event is described once per task, not
once per mail. Mails read from a real SMTP server on loopback (aiosmtpd)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.roles import Role
from alerts import delivery, services
from alerts.models import Notice
from register.codes import Outcome
from register.models import RegisterEvent
from tests.factories import DecisionFactory, FacilityFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_decisions_told_to_three_watchers():
    home = FacilityFactory(name="Solgården")
    for n in range(3):
        user = make_user(Role.MUNICIPAL_USER, email=f"bevakare{n}@kalmar.example")
        services.watch_add(user=user, owner_municipality="0880", target=home)
    prohibition = DecisionFactory(
        facility=home, diarienummer="8.5-11111/2024", outcome=Outcome.FORBUD
    )
    fine = DecisionFactory(
        facility=home, diarienummer="8.5-22222/2024", outcome=Outcome.SANKTIONSAVGIFT
    )
    events = list(
        RegisterEvent.objects.filter(decision__in=[prohibition, fine], kind="decision").order_by(
            "pk"
        )
    )
    delivery.fan_out([event.pk for event in events])
    return list(Notice.objects.order_by("pk").values_list("pk", flat=True))


def test_send_mails__two_events_in_one_task__each_mail_tells_its_own_decision(
    two_decisions_told_to_three_watchers, smtp_server
):
    assert delivery.send_mails(two_decisions_told_to_three_watchers) == 6

    told = sorted(
        (message["To"], "8.5-11111/2024" in body, "8.5-22222/2024" in body)
        for message, body in zip(smtp_server.messages, smtp_server.bodies(), strict=True)
    )
    assert told == sorted(
        (f"bevakare{n}@kalmar.example", prohibition, not prohibition)
        for n in range(3)
        for prohibition in (True, False)
    )
    subjects = sorted(str(message["Subject"]).strip() for message in smtp_server.messages)
    assert (
        subjects
        == ["Allvarligt: Nytt beslut: Förbud – Solgården"] * 3
        + ["Allvarligt: Nytt beslut: Sanktionsavgift – Solgården"] * 3
    )


def test_send_mails__many_watchers_of_one_event__its_findings_read_once_per_event(
    two_decisions_told_to_three_watchers, smtp_server
):
    with CaptureQueriesContext(connection) as queries:
        delivery.send_mails(two_decisions_told_to_three_watchers)

    findings_read = [q for q in queries.captured_queries if "register_finding" in q["sql"]]
    assert len(findings_read) == 2  # one per event, not one per mail
    assert len(smtp_server.messages) == 6
