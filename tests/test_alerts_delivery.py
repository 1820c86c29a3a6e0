"""Who is told of what (issue 18): every event kind made through the register's real write paths
(the imports, the back office, linking, the daily scan), told in the service (notices) and by
mail read from a real SMTP server on loopback (aiosmtpd) — to the right watchers and only to them,
exactly once, never with personal data or anything from a case record, and no more once access
has ended.

Each test runs the queued tasks in this process (tests.alerts_support.run_queued: django-tasks-db's
worker in batch mode); tests/test_alerts_worker.py runs the worker as a process and kills it.
"""

import datetime
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from access.models import AllowlistEntry
from access.roles import Role
from alerts import delivery, services, texts
from alerts.models import EventFanOut, MailChoice, Notice, Watch
from register import services as register_services
from register.codes import EventKind
from register.models import County, Decision, Facility, Manager, Municipality, RegisterEvent
from tests.admin_support import form_data
from tests.alerts_support import Mailbox, SmtpServer, assert_nothing_personal, run_queued
from tests.factories import (
    CaseRecordFactory,
    DecisionFactory,
    FacilityFactory,
    FindingFactory,
    InspectionFactory,
    ProviderFactory,
    make_user,
    sign_in,
)
from tests.import_support import personnummer_in_test_range, run, write

pytestmark = pytest.mark.django_db

# Personal data the tests put into the register and the case system: none may reach a notice.
MANAGER_BEFORE = "Bertil Bengtsson"
MANAGER = "Karin Karlsson"
MANAGER_NUMBER = personnummer_in_test_range("19811218", "987")
SOLE_TRADER = "Sara Svensson"
SOLE_TRADER_NUMBER = "811218-9876"
CASE_PROVIDER = "Anna Andersson"
CASE_NUMBER = "790101-9807"
FORBIDDEN = [
    MANAGER_BEFORE,
    MANAGER,
    MANAGER_NUMBER,
    MANAGER_NUMBER[2:],
    SOLE_TRADER,
    SOLE_TRADER_NUMBER,
    CASE_PROVIDER,
    CASE_NUMBER,
    "Hemliga vägen",
]

FACILITY_COLUMNS = (
    "verksamhetsid;verksamhet;verksamhetstyp;organisationsnummer;huvudman;regi;"
    "enskild_naringsidkare;kommunkod;antal_platser;status;startdatum;slutdatum;"
    "forestandare_namn;forestandare_personnummer\n"
)
DECISION_COLUMNS = "diarienummer;verksamhetsid;beslutstyp;beslutsdatum;utfall;overklagande\n"
FINDING_COLUMNS = "diarienummer;omrade;bedomning;iakttagelse;krav;senast\n"


@pytest.fixture
def smtp(settings, db):
    """A real SMTP server on loopback; after the test, every notice and mail made is scanned
    for personal data."""
    server = SmtpServer().start()
    for name, value in server.settings().items():
        setattr(settings, name, value)
    settings.NOTICE_RETRY_SECONDS = 1
    yield server.mailbox
    server.stop()
    assert_nothing_personal(server.mailbox, FORBIDDEN)


@dataclass
class World:
    """Homes of two providers in two län, and who watches what."""

    provider: object
    home: Facility  # Almgården, Kalmar: the home the events happen at
    sibling: Facility  # Björkgården, the same provider, Kalmar
    neighbour: Facility  # Nybro (Kalmar län), another provider
    elsewhere: Facility  # Stockholm, another provider
    users: dict[str, object] = field(default_factory=dict)

    def add_user(self, name: str, *, municipality: str = "0880", target=None, mail=None):
        user = make_user(
            Role.MUNICIPAL_USER, municipality=municipality, email=f"{name}@kommun.example"
        )
        self.users[name] = user
        if target is not None:
            services.watch_add(user=user, owner_municipality=municipality, target=target)
        if mail is not None:
            services.alert_settings_set(user=user, mail=mail)
        return user

    def name_of(self, user_id: int) -> str:
        return next(name for name, user in self.users.items() if user.pk == user_id)

    def told(self, kind: str | None = None) -> list[str]:
        """Who has a notice (of events of ``kind``), one entry a notice."""
        notices = Notice.objects.all()
        if kind is not None:
            notices = notices.filter(event__kind=kind)
        return sorted(self.name_of(user_id) for user_id in notices.values_list("user", flat=True))

    def mailed(self, mailbox) -> list[str]:
        """Whose address got a mail, one entry a mail."""
        return sorted(address.split("@")[0] for address in mailbox.addresses())


@pytest.fixture
def world(db) -> World:
    provider = ProviderFactory(name="Almomsorg AB")
    other = ProviderFactory(name="Annan Omsorg AB")
    world = World(
        provider=provider,
        home=FacilityFactory(facility_id="A-1", name="Almgården", provider=provider),
        sibling=FacilityFactory(facility_id="A-2", name="Björkgården", provider=provider),
        neighbour=FacilityFactory(
            facility_id="N-1", name="Nybrogården", provider=other, municipality_id="0881"
        ),
        elsewhere=FacilityFactory(
            facility_id="S-9", name="Stockholmsgården", provider=other, municipality_id="0180"
        ),
    )
    run_queued()  # the homes' own events: nobody watched them yet
    world.add_user("hem", target=world.home)
    world.add_user("syskon", target=world.sibling)
    world.add_user("huvudman", target=provider)
    world.add_user("kommun", target=Municipality.objects.get(code="0880"))
    world.add_user("lan", target=County.objects.get(code="08"))
    world.add_user("ingen")  # watches nothing
    world.add_user("stockholm", municipality="0180", target=world.elsewhere)
    return world


def admin_client(role=Role.IVO_REGISTRATOR) -> Client:
    client = Client()
    user = make_user(role)
    sign_in(client, user)
    return client


def facility_row(facility: Facility, **cells) -> str:
    provider = facility.provider
    values = {
        "verksamhetsid": facility.facility_id,
        "verksamhet": facility.name,
        "verksamhetstyp": facility.facility_type,
        "organisationsnummer": provider.organisation_number,
        "huvudman": provider.name,
        "regi": provider.ownership,
        "enskild_naringsidkare": "ja" if provider.is_sole_trader else "nej",
        "kommunkod": facility.municipality_id,
        "antal_platser": str(facility.places),
        "status": facility.status,
        "startdatum": facility.start_date.isoformat() if facility.start_date else "",
        "slutdatum": "",
        "forestandare_namn": "",
        "forestandare_personnummer": "",
        **cells,
    }
    return ";".join(values[column] for column in FACILITY_COLUMNS.strip().split(";")) + "\n"


def import_facilities(tmp_path, *rows: str) -> None:
    run("import_facilities", write(tmp_path, FACILITY_COLUMNS + "".join(rows), "verksamheter.csv"))


def import_decisions(tmp_path, *rows: str) -> None:
    run("import_decisions", write(tmp_path, DECISION_COLUMNS + "".join(rows), "beslut.csv"))


def shown(notice: Notice) -> str:
    """The notice as the service lists it."""
    text = texts.describe(notice.event)
    return "\n".join([text.title, text.facility_name, text.place, *text.lines])


def forget(mailbox) -> None:
    """Run what the setup queued, then forget its notices and mails: a test counts its own."""
    run_queued()
    Notice.objects.all().delete()
    mailbox.messages.clear()


def body(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")


# A new decision -------------------------------------------------------------------------------


def test_decision_by_import__home_and_provider_watchers_told_with_marking_then_deficient_areas(
    world, smtp, tmp_path
):
    import_decisions(tmp_path, "3.2.2-500/2025;A-1;tillsyn;2025-01-10;brister;ej_overklagat\n")
    run_queued()

    assert world.told() == ["hem", "huvudman"]
    assert world.mailed(smtp) == ["hem", "huvudman"]
    (mail,) = smtp.to("hem@kommun.example")
    assert mail["Subject"] == "Nytt beslut: Brister konstaterade – Almgården"
    assert "Almgården, Kalmar (2025-01-10)\nBeslut 3.2.2-500/2025 den 2025-01-10." in body(mail)
    assert "Brister inom" not in body(mail)  # no findings yet
    assert "/verksamhet/A-1/" in body(mail)
    notice = Notice.objects.get(user=world.users["hem"])
    assert (notice.serious, notice.mail, notice.mail_attempts) == (False, Notice.Mail.SENT, 0)

    findings = (
        FINDING_COLUMNS
        + "3.2.2-500/2025;dokumentation;brist;Planer saknas.;Upprätta planer.;2025-04-30\n"
        + "3.2.2-500/2025;lokaler;ingen_brist;;;\n"
    )
    run("import_findings", write(tmp_path, findings, "iakttagelser.csv"))

    text = texts.describe(notice.event)
    assert text.deficient_areas == ["Dokumentation"]
    assert "Brister inom: Dokumentation." in shown(notice)


def test_decision_by_back_office__serious_prohibition__home_provider_and_area_watchers_told(
    world, smtp
):
    data = {
        "diarienummer": "3.2.2-501/2025",
        "facility": world.home.pk,
        "kind": "tillsyn",
        "decision_date": "2025-01-10",
        "outcome": "forbud",
        "follow_up": "ingen",
        "appeal_status": "ej_overklagat",
        "findings-TOTAL_FORMS": "0",
        "findings-INITIAL_FORMS": "0",
        "findings-MIN_NUM_FORMS": "0",
        "findings-MAX_NUM_FORMS": "1000",
    }
    response = admin_client().post("/admin/register/decision/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    run_queued()

    # Serious: the kommun's and the län's watchers too; the status change is the decision's own.
    assert world.told() == ["hem", "huvudman", "kommun", "lan"]
    assert world.told(EventKind.DECISION) == world.told()
    assert world.mailed(smtp) == ["hem", "huvudman", "kommun", "lan"]
    (mail,) = smtp.to("lan@kommun.example")
    assert mail["Subject"] == "Allvarligt: Nytt beslut: Förbud – Almgården"
    assert body(mail).startswith("Hej!\n\nALLVARLIGT – Nytt beslut: Förbud\n")
    assert Notice.objects.filter(serious=True).count() == 4


def test_ordinary_decision_in_the_kommun__area_watchers_not_told(world, smtp, tmp_path):
    import_decisions(tmp_path, "3.2.2-502/2025;N-1;tillsyn;2025-01-10;forelaggande;\n")
    run_queued()

    assert world.told() == []
    assert smtp.messages == []


def test_serious_decision_in_another_kommun_of_the_lan__lan_watcher_told_kommun_watcher_not(
    world, smtp, tmp_path
):
    import_decisions(tmp_path, "3.2.2-503/2025;N-1;tillsyn;2025-01-10;forelaggande_vite;\n")
    run_queued()

    assert world.told() == ["lan"]
    assert world.mailed(smtp) == ["lan"]


# Revocation: serious, mailed at once whatever the user chose ---------------------------------


def test_revocation_by_import__mailed_at_once_also_to_daily_and_service_only_users(
    world, smtp, tmp_path
):
    world.add_user("dagligen", target=world.home, mail=MailChoice.DAILY)
    world.add_user("tjansten", target=world.home, mail=MailChoice.SERVICE_ONLY)

    import_decisions(tmp_path, "3.2.2-504/2025;A-1;tillsyn;2025-01-10;aterkallelse;\n")
    run_queued()

    everyone = ["dagligen", "hem", "huvudman", "kommun", "lan", "tjansten"]
    assert world.told() == everyone
    assert world.mailed(smtp) == everyone
    assert set(Notice.objects.values_list("mail", "digest")) == {(Notice.Mail.SENT, False)}
    assert smtp.to("tjansten@kommun.example")[0]["Subject"] == (
        "Allvarligt: Nytt beslut: Återkallelse av tillstånd – Almgården"
    )
    world.home.refresh_from_db()
    assert world.home.status == "aterkallad"
    assert not RegisterEvent.objects.filter(kind=EventKind.STATUS_CHANGED).exists()


def test_ordinary_decision__service_only_user__notice_without_mail_daily_user__not_yet(
    world, smtp, tmp_path
):
    world.add_user("dagligen", target=world.home, mail=MailChoice.DAILY)
    world.add_user("tjansten", target=world.home, mail=MailChoice.SERVICE_ONLY)

    import_decisions(tmp_path, "3.2.2-505/2025;A-1;tillsyn;2025-01-10;brister;\n")
    run_queued()

    assert world.told() == ["dagligen", "hem", "huvudman", "tjansten"]
    assert world.mailed(smtp) == ["hem", "huvudman"]
    mails = dict(Notice.objects.values_list("user__email", "mail"))
    assert mails["tjansten@kommun.example"] == Notice.Mail.NOT_SENT
    assert mails["dagligen@kommun.example"] == Notice.Mail.PENDING


# Status changes -------------------------------------------------------------------------------


def test_closure_and_reopening_by_facilities_import__home_and_provider_watchers_told_each(
    world, smtp, tmp_path
):
    import_facilities(tmp_path, facility_row(world.home, status="nedlagd", slutdatum="2025-02-01"))
    run_queued()

    assert world.told() == ["hem", "huvudman"]
    assert [m["Subject"] for m in smtp.to("hem@kommun.example")] == [
        "Ändrad status: Nedlagd – Almgården"
    ]
    assert "Status var ”Aktiv” och är nu ”Nedlagd” sedan 2025-02-01." in body(smtp.messages[0])

    world.home.refresh_from_db()
    import_facilities(tmp_path, facility_row(world.home, status="aktiv"))
    run_queued()

    assert world.told(EventKind.STATUS_CHANGED) == ["hem", "hem", "huvudman", "huvudman"]
    assert [m["Subject"] for m in smtp.to("huvudman@kommun.example")] == [
        "Ändrad status: Nedlagd – Almgården",
        "Ändrad status: Aktiv – Almgården",
    ]
    assert world.mailed(smtp) == ["hem", "hem", "huvudman", "huvudman"]


def test_closure_by_back_office__home_and_provider_watchers_told(world, smtp):
    client = admin_client(Role.IVO_ADMIN)
    url = f"/admin/register/facility/{world.home.pk}/change/"
    data = form_data(client.get(url))
    data.update(status="nedlagd", end_date="2025-02-01", status_date="2025-02-01")

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    run_queued()
    assert world.told() == ["hem", "huvudman"]
    assert world.mailed(smtp) == ["hem", "huvudman"]
    assert smtp.messages[0]["Subject"] == "Ändrad status: Nedlagd – Almgården"


# Appeals --------------------------------------------------------------------------------------


def test_appeal_overturns_prohibition_by_import__watchers_told_once_status_back(
    world, smtp, tmp_path
):
    DecisionFactory(
        facility=world.home,
        diarienummer="3.2.2-506/2024",
        decision_date=datetime.date(2024, 6, 1),
        outcome="forbud",
    )
    forget(smtp)  # the prohibition's own notices: not what this test is about

    import_decisions(tmp_path, "3.2.2-506/2024;A-1;tillsyn;2024-06-01;forbud;upphavt\n")
    run_queued()

    assert world.told() == ["hem", "huvudman", "kommun", "lan"]
    assert world.told(EventKind.APPEAL_DECIDED) == world.told()
    (mail,) = smtp.to("hem@kommun.example")
    assert mail["Subject"] == "Domstolen upphävde beslutet – Almgården"
    assert "Beslut 3.2.2-506/2024: Förbud – upphävt av domstol." in body(mail)
    world.home.refresh_from_db()
    assert world.home.status == "aktiv"


def test_appeal_upheld_by_back_office__ordinary_decision__home_and_provider_watchers_told(
    world, smtp
):
    decision = DecisionFactory(
        facility=world.home,
        diarienummer="3.2.2-507/2024",
        outcome="brister",
        appeal_status="overklagat",
    )
    forget(smtp)
    client = admin_client()
    url = f"/admin/register/decision/{decision.pk}/change/"
    page = client.get(url)
    data = form_data(page)
    (inline,) = page.context["inline_admin_formsets"]
    for name in inline.formset.management_form.fields:
        data[f"{inline.formset.prefix}-{name}"] = inline.formset.management_form[name].value()
    data["appeal_status"] = "fastallt"

    response = client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    run_queued()
    assert world.told() == ["hem", "huvudman"]
    assert world.told(EventKind.APPEAL_DECIDED) == ["hem", "huvudman"]
    (mail,) = smtp.to("huvudman@kommun.example")
    assert mail["Subject"] == "Domstolen fastställde beslutet – Almgården"


# A new provider, a new manager ------------------------------------------------------------------


def test_new_provider_by_import__a_sole_trader__told_without_name_or_number(world, smtp, tmp_path):
    import_facilities(
        tmp_path,
        facility_row(
            world.home,
            organisationsnummer=SOLE_TRADER_NUMBER,
            huvudman=SOLE_TRADER,
            regi="enskild",
            enskild_naringsidkare="ja",
        ),
    )
    run_queued()

    world.home.refresh_from_db()
    assert world.home.provider.name == SOLE_TRADER
    # The old provider's watcher is told its home has gone to another.
    assert world.told(EventKind.PROVIDER_CHANGED) == ["hem", "huvudman"]
    assert world.mailed(smtp) == ["hem", "huvudman"]
    (mail,) = smtp.to("hem@kommun.example")
    assert mail["Subject"] == "Ny huvudman – Almgården"
    assert "Verksamheten drivs nu av Enskild näringsidkare." in body(mail)
    # assert_nothing_personal (the smtp fixture) finds neither the name nor the number.


def test_new_manager_by_import__the_fact_only_never_the_name_or_personnummer(world, smtp, tmp_path):
    register_services.manager_set_current(
        facility=world.home, values={"name": MANAGER_BEFORE}, reason="test"
    )
    forget(smtp)

    import_facilities(
        tmp_path,
        facility_row(
            world.home, forestandare_namn=MANAGER, forestandare_personnummer=MANAGER_NUMBER
        ),
    )
    run_queued()

    assert Manager.objects.get(end_date__isnull=True).name == MANAGER
    assert world.told() == ["hem", "huvudman"]
    assert world.mailed(smtp) == ["hem", "huvudman"]
    (mail,) = smtp.to("hem@kommun.example")
    assert mail["Subject"] == "Ny föreståndare – Almgården"
    assert "Verksamheten har fått en ny föreståndare." in body(mail)
    for message in smtp.messages:
        assert MANAGER not in Mailbox.text(message)
        assert MANAGER_NUMBER[2:] not in Mailbox.text(message)
    for notice in Notice.objects.all():
        assert MANAGER not in shown(notice)


# What only the calendar makes -------------------------------------------------------------------


def test_requirement_and_inspection_overdue__daily_scan_tells_once_even_run_twice(world, smtp):
    today = timezone.localdate()
    decision = DecisionFactory(
        facility=world.home,
        diarienummer="3.2.2-508/2025",
        decision_date=today - datetime.timedelta(days=60),
        outcome="forelaggande",
    )
    FindingFactory(
        decision=decision,
        area="dokumentation",
        assessment="brist",
        requirement="Upprätta planer.",
        due_date=today - datetime.timedelta(days=3),
    )
    InspectionFactory(
        facility=world.home,
        diarienummer="3.2.2-509/2024",
        start_date=today - datetime.timedelta(days=368),
    )
    forget(smtp)

    for _scan in range(2):  # two days' scans, or two workers': once each
        cache.clear()
        delivery.sweep(now=timezone.now())
        run_queued()

    assert world.told(EventKind.REQUIREMENT_OVERDUE) == ["hem", "huvudman"]
    assert world.told(EventKind.INSPECTION_OVERDUE) == ["hem", "huvudman"]
    assert world.told() == ["hem", "hem", "huvudman", "huvudman"]
    subjects = sorted(m["Subject"] for m in smtp.to("hem@kommun.example"))
    assert subjects == [
        "Inspektion försenad – Almgården",
        "Krav inte åtgärdat i tid: Dokumentation – Almgården",
    ]
    assert world.mailed(smtp) == ["hem", "hem", "huvudman", "huvudman"]


# Linking ----------------------------------------------------------------------------------------


def test_case_linked_in_the_review__its_decision_tells_the_watchers_nothing_from_the_case(
    world, smtp
):
    case = CaseRecordFactory(
        diarienummer="8.5-3001/2025",
        decision_date=datetime.date(2025, 1, 20),
        outcome="brister",
        facility_name="Almgården",
        municipality_id="0880",
        organisation_number=CASE_NUMBER,
        provider_name=CASE_PROVIDER,
        status="granskas",
    )
    client = admin_client()

    response = client.post(f"/ivo/koppling/{case.public_id}/koppla/", {"verksamhetsid": "A-1"})

    assert response.status_code == 302
    assert Decision.objects.get(diarienummer="8.5-3001/2025").facility == world.home
    run_queued()
    assert world.told() == ["hem", "huvudman"]
    assert world.mailed(smtp) == ["hem", "huvudman"]
    assert smtp.messages[0]["Subject"] == "Nytt beslut: Brister konstaterade – Almgården"


# Area and provider watches, protected homes ------------------------------------------------------


def test_new_home_by_import__provider_and_area_watchers_told_then_of_its_decisions(
    world, smtp, tmp_path
):
    new = Facility(
        facility_id="A-3",
        name="Cedergården",
        facility_type="hvb",
        provider=world.provider,
        municipality_id="0880",
        places=4,
        status="aktiv",
        start_date=datetime.date(2025, 1, 2),
    )
    import_facilities(tmp_path, facility_row(new))
    run_queued()

    assert world.told(EventKind.FACILITY_CREATED) == ["huvudman", "kommun", "lan"]
    assert smtp.to("kommun@kommun.example")[0]["Subject"] == "Ny verksamhet – Cedergården"

    import_decisions(tmp_path, "3.2.2-510/2025;A-3;tillsyn;2025-02-10;brister;\n")
    run_queued()

    # Present and future homes: the provider's watcher hears of the new home's decision.
    assert world.told(EventKind.DECISION) == ["huvudman"]
    assert world.mailed(smtp) == ["huvudman", "huvudman", "kommun", "lan"]


def test_protected_home__serious_decision__only_its_own_watcher_mail_without_name_or_place(
    world, smtp, tmp_path
):
    hidden = FacilityFactory(
        facility_id="H-1",
        name="Ängsbo",
        provider=world.provider,
        protected_by_ivo=True,
        street_address="Hemliga vägen 1",
    )
    run_queued()
    world.add_user("skyddat", target=hidden)

    import_decisions(tmp_path, "3.2.2-511/2025;H-1;tillsyn;2025-01-10;forbud;\n")
    run_queued()

    # Not the provider's, the kommun's or the län's watchers: where it is must not spread.
    assert world.told() == ["skyddat"]
    (mail,) = smtp.messages
    assert mail["To"] == "skyddat@kommun.example"
    assert mail["Subject"] == "Allvarligt: Nytt beslut: Förbud – en verksamhet du bevakar"
    text = f"{mail['Subject']}\n{body(mail)}"
    for secret in ("Ängsbo", "Kalmar", "Hemliga"):
        assert secret not in text
    assert "En verksamhet du bevakar (skyddat boende) (2025-01-10)" in text
    # In the service the watcher of that very home sees which home it is.
    assert shown(Notice.objects.get()).splitlines()[1] == "Ängsbo"


# Exactly once ---------------------------------------------------------------------------------


def test_second_fan_out_of_the_same_event__no_second_notice_no_second_mail(world, smtp, tmp_path):
    import_decisions(tmp_path, "3.2.2-512/2025;A-1;tillsyn;2025-01-10;brister;\n")
    run_queued()
    event = RegisterEvent.objects.get(kind=EventKind.DECISION)

    # As if the fan-out's record were lost: the notices' unique key still holds.
    EventFanOut.objects.filter(event=event).delete()
    assert delivery.fan_out([event.pk]) == 2  # tried to make them, the database kept one each
    delivery.sweep(now=timezone.now() + datetime.timedelta(hours=1))
    run_queued()

    assert world.told() == ["hem", "huvudman"]
    assert world.mailed(smtp) == ["hem", "huvudman"]


def test_watch_made_after_the_event_before_its_fan_out__told_from_the_next_event_on(
    world, smtp, tmp_path
):
    import_decisions(tmp_path, "3.2.2-513/2025;A-1;tillsyn;2025-01-10;brister;\n")
    # The worker has not fanned the decision out yet when a second user starts to watch.
    event = RegisterEvent.objects.get(kind=EventKind.DECISION)
    world.add_user("sen", target=world.home)
    Watch.objects.filter(user=world.users["sen"]).update(
        created_at=event.created_at + datetime.timedelta(seconds=1)
    )
    run_queued()

    assert world.told() == ["hem", "huvudman"]
    assert world.mailed(smtp) == ["hem", "huvudman"]


def test_smtp_server_refuses_twice__mailed_once_after_two_backoffs_attempts_recorded(
    world, smtp, tmp_path, settings
):
    smtp.refuse("hem@kommun.example", "451 4.7.1 Försök igen senare", times=2)
    import_decisions(tmp_path, "3.2.2-513/2025;A-1;tillsyn;2025-01-10;brister;\n")

    run_queued()
    notice = Notice.objects.get(user=world.users["hem"])
    assert (notice.mail, notice.mail_attempts) == (Notice.Mail.PENDING, 1)
    assert world.mailed(smtp) == ["huvudman"]  # the others are not held back
    run_queued()  # at once: the retry is not due yet
    assert Notice.objects.get(pk=notice.pk).mail_attempts == 1

    for _attempt in range(2):
        notice.refresh_from_db()
        wait_until(notice.mail_lease_until)
        run_queued()

    notice.refresh_from_db()
    assert (notice.mail, notice.mail_attempts) == (Notice.Mail.SENT, 2)
    assert "451" in notice.mail_error
    assert world.mailed(smtp) == ["hem", "huvudman"]
    (first, second) = [when for _address, _reply, when in smtp.refused]
    arrived = notice.mailed_at.timestamp()
    # Backoff: NOTICE_RETRY_SECONDS, then twice that.
    assert second - first >= settings.NOTICE_RETRY_SECONDS
    assert arrived - second >= 2 * settings.NOTICE_RETRY_SECONDS


def wait_until(moment: datetime.datetime) -> None:
    import time

    time.sleep(max(0.0, (moment - timezone.now()).total_seconds()) + 0.05)


# Access ends ------------------------------------------------------------------------------------


def revoke(user) -> None:
    """The municipality's administrator revokes the user's address on the allowlist page."""
    client = Client()
    client.force_login(make_user(Role.MUNICIPAL_ADMIN, municipality="0880"))
    entry = AllowlistEntry.objects.get(email=user.email)
    response = client.post(f"/kommun/frilistning/{entry.public_id}/aterkalla/")
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.revoked_at is not None


def test_revoked_user__no_notice_no_mail_for_the_next_event_watch_kept(world, smtp, tmp_path):
    revoke(world.users["hem"])

    import_decisions(tmp_path, "3.2.2-514/2025;A-1;tillsyn;2025-01-10;forbud;\n")
    run_queued()

    assert "hem" not in world.told()
    assert "hem" not in world.mailed(smtp)
    assert world.told() == ["huvudman", "kommun", "lan"]
    assert world.users["hem"].watches.get().facility == world.home


def test_expired_allowlist_entry__no_notice_no_mail(world, smtp, tmp_path):
    AllowlistEntry.objects.filter(email="hem@kommun.example").update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    import_decisions(tmp_path, "3.2.2-515/2025;A-1;tillsyn;2025-01-10;brister;\n")
    run_queued()

    assert world.told() == ["huvudman"]
    assert world.mailed(smtp) == ["huvudman"]
    assert world.users["hem"].watches.count() == 1


def test_revoked_after_the_notice_was_made_before_its_mail__not_mailed_state_stopped(
    world, smtp, tmp_path
):
    import_decisions(tmp_path, "3.2.2-516/2025;A-1;tillsyn;2025-01-10;brister;\n")
    event = RegisterEvent.objects.get(kind=EventKind.DECISION)
    delivery.fan_out([event.pk])  # the notices made, their mails queued, none sent yet
    assert world.told() == ["hem", "huvudman"]

    revoke(world.users["hem"])
    run_queued()

    notice = Notice.objects.get(user=world.users["hem"])
    assert notice.mail == Notice.Mail.STOPPED
    assert world.mailed(smtp) == ["huvudman"]
    assert world.users["hem"].watches.count() == 1


# The daily summary ------------------------------------------------------------------------------


def test_daily_choice__ordinary_events_in_one_mail_at_the_digest_hour_serious_at_once(
    world, smtp, tmp_path, settings
):
    settings.NOTICE_DIGEST_HOUR = 7
    world.add_user("dagligen", target=world.home, mail=MailChoice.DAILY)
    made_at = timezone.now()

    import_decisions(tmp_path, "3.2.2-517/2025;A-1;tillsyn;2025-01-10;brister;\n")
    world.home.refresh_from_db()
    import_facilities(tmp_path, facility_row(world.home, status="nedlagd", slutdatum="2025-02-01"))
    import_decisions(tmp_path, "3.2.2-518/2024;S-9;tillsyn;2024-05-10;forbud;\n")  # not watched
    run_queued()
    import_decisions(tmp_path, "3.2.2-519/2025;A-1;tillsyn;2025-02-10;forelaggande_vite;\n")
    run_queued()

    # The serious one at once; the two ordinary ones wait for the summary.
    assert [m["Subject"] for m in smtp.to("dagligen@kommun.example")] == [
        "Allvarligt: Nytt beslut: Föreläggande med vite – Almgården"
    ]
    due = delivery.next_digest_at(made_at)
    assert timezone.localtime(due).hour == 7
    waiting = Notice.objects.filter(user=world.users["dagligen"], mail=Notice.Mail.PENDING)
    assert set(waiting.values_list("digest", "mail_due_at")) == {(True, due)}

    delivery.sweep(now=due - datetime.timedelta(minutes=1))
    run_queued()
    assert len(smtp.to("dagligen@kommun.example")) == 1

    delivery.sweep(now=due)
    run_queued()
    delivery.sweep(now=due + datetime.timedelta(minutes=5))  # a later sweep sends it not again
    run_queued()

    _serious, summary = smtp.to("dagligen@kommun.example")
    assert summary["Subject"] == "Bevakningar i HVB-registret: 2 händelser"
    assert "Nytt beslut: Brister konstaterade\nAlmgården, Kalmar" in body(summary)
    assert "Ändrad status: Nedlagd\nAlmgården, Kalmar" in body(summary)
    assert set(
        Notice.objects.filter(user=world.users["dagligen"]).values_list("mail", flat=True)
    ) == {Notice.Mail.SENT}


# The sweep ------------------------------------------------------------------------------------


def test_sweep__work_still_queued_within_a_lease__not_queued_again_then_after_it__queued(
    world, smtp, tmp_path, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.NOTICE_LEASE_SECONDS = 600
    cache.clear()
    import_decisions(tmp_path, "3.2.2-514/2025;A-1;tillsyn;2025-01-10;brister;\n")
    queued = DBTaskResult.objects.count()  # the fan-out, waiting for a worker

    counts = delivery.sweep(now=timezone.now() + datetime.timedelta(seconds=599))

    assert counts["events"] == 0
    assert DBTaskResult.objects.count() == queued

    counts = delivery.sweep(now=timezone.now() + datetime.timedelta(seconds=601))

    assert counts["events"] == 1  # as if its worker had been killed: queued again
    run_queued()
    assert world.mailed(smtp) == ["hem", "huvudman"]  # once each, the two fan-outs together


def test_sweep__the_day_s_first__prunes_finished_tasks_older_than_two_weeks(world, smtp):
    from django_tasks_db.models import DBTaskResult

    run_queued()
    finished = DBTaskResult.objects.filter(status="SUCCESSFUL")
    assert finished.exists()
    finished.update(finished_at=timezone.now() - datetime.timedelta(days=15))
    cache.clear()

    delivery.sweep()

    assert not DBTaskResult.objects.filter(status="SUCCESSFUL").exists()
