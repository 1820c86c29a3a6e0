"""Mail in the reader's language (issue 19): the worker writes notice mails and daily summaries
with no request, each in the language its recipient chose with the language switch
(``Account.language``; empty means Swedish), subject, body and code-list labels alike. Mails are
read from a real SMTP server on loopback (aiosmtpd), as tests/test_alerts_delivery.py reads them.
"""

import datetime

import pytest
from django.utils import timezone, translation

from access.models import Account
from access.roles import Role
from alerts import delivery, services
from alerts.models import MailChoice, Notice
from register.codes import Outcome
from register.models import RegisterEvent
from tests.alerts_support import Mailbox, SmtpServer
from tests.factories import DecisionFactory, FacilityFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    yield server.mailbox
    server.stop()


def watcher(email: str, language: str, home, *, mail: str | None = None):
    user = make_user(Role.MUNICIPAL_USER, email=email)
    Account.objects.filter(user=user).update(language=language)
    services.watch_add(user=user, owner_municipality="0880", target=home)
    if mail is not None:
        services.alert_settings_set(user=user, mail=mail)
    return user


def label_in(language: str, label) -> str:
    with translation.override(language):
        return str(label)


def fan_out_decisions(*decisions) -> list[int]:
    events = RegisterEvent.objects.filter(decision__in=decisions, kind="decision")
    delivery.fan_out(list(events.order_by("pk").values_list("pk", flat=True)))
    return list(Notice.objects.order_by("pk").values_list("pk", flat=True))


def test_notice_mails_in_one_batch__english_reader_gets_english_swedish_reader_swedish(smtp):
    home = FacilityFactory(name="Solgården")
    watcher("svensk@kalmar.example", "", home)
    watcher("english@kalmar.example", "en", home)
    prohibition = DecisionFactory(
        facility=home,
        diarienummer="8.5-11111/2025",
        decision_date=datetime.date(2025, 3, 1),
        outcome=Outcome.FORBUD,
    )

    assert delivery.send_mails(fan_out_decisions(prohibition)) == 2

    (swedish,) = smtp.to("svensk@kalmar.example")
    (english,) = smtp.to("english@kalmar.example")
    sv_label = label_in("sv", Outcome.FORBUD.label)
    en_label = label_in("en", Outcome.FORBUD.label)
    assert swedish["Subject"] == f"Allvarligt: Nytt beslut: {sv_label} – Solgården"
    assert english["Subject"] == f"Serious: New decision: {en_label} – Solgården"
    swedish_text, english_text = Mailbox.text(swedish), Mailbox.text(english)
    assert swedish_text.split("\n")[1:3] == ["Hej!", ""]
    assert "Beslut 8.5-11111/2025 den 2025-03-01." in swedish_text
    assert "Du får det här e-postmeddelandet för att du bevakar verksamheten" in swedish_text
    assert english_text.split("\n")[1:3] == ["Hello,", ""]
    assert "Decision 8.5-11111/2025 dated 1 Mar 2025." in english_text
    assert "Solgården, Kalmar (1 Mar 2025)" in english_text
    assert "You are getting this e-mail because you watch the home" in english_text
    assert "Health and Social Care Inspectorate" in english_text
    for swedish_word in ("Hej", "Beslut", "bevakar", "Inspektionen"):
        assert swedish_word not in english_text


def test_daily_summary__written_in_each_readers_language(smtp):
    home = FacilityFactory(name="Solgården")
    swedish_reader = watcher("svensk@kalmar.example", "", home, mail=MailChoice.DAILY)
    english_reader = watcher("english@kalmar.example", "en", home, mail=MailChoice.DAILY)
    first = DecisionFactory(facility=home, diarienummer="8.5-1/2025", outcome=Outcome.BRISTER)
    second = DecisionFactory(facility=home, diarienummer="8.5-2/2025", outcome=Outcome.BRISTER)
    fan_out_decisions(first, second)
    due = timezone.now() + datetime.timedelta(days=2)

    assert delivery.send_digest(swedish_reader.pk, due) == 2
    assert delivery.send_digest(english_reader.pk, due) == 2

    (swedish,) = smtp.to("svensk@kalmar.example")
    (english,) = smtp.to("english@kalmar.example")
    assert swedish["Subject"] == "Bevakningar i HVB-registret: 2 händelser"
    assert english["Subject"] == "Watches in HVB-registret: 2 events"
    assert "Det här har hänt i verksamheter du bevakar:" in Mailbox.text(swedish)
    english_text = Mailbox.text(english)
    assert "This has happened at homes you watch:" in english_text
    en_label = label_in("en", Outcome.BRISTER.label)
    assert english_text.count(f"New decision: {en_label}\nSolgården") == 2


def test_sending_in_english__leaves_the_worker_in_its_own_language(smtp):
    home = FacilityFactory(name="Solgården")
    watcher("english@kalmar.example", "en", home)
    decision = DecisionFactory(facility=home, diarienummer="8.5-3/2025", outcome=Outcome.FORBUD)

    with translation.override("sv"):
        delivery.send_mails(fan_out_decisions(decision))
        assert translation.get_language() == "sv"

    assert smtp.to("english@kalmar.example")[0]["Subject"].startswith("Serious: ")
