"""Full decisions on request (3 d § SoF): documents, requests, handling, release and download."""

import datetime
import threading
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access import services as access_services
from access.models import AccessEvent
from access.roles import Role
from documents import selectors, services
from documents.models import DecisionDocument, DecisionRequest
from tests.assertions import assert_shows
from tests.documents_helpers import pdf_bytes, pdf_upload
from tests.factories import DecisionFactory, FacilityFactory, make_user, sign_in

pytestmark = pytest.mark.django_db

State = DecisionRequest.State


@pytest.fixture
def decision(db):
    facility = FacilityFactory(name="Lönngården", facility_id="K0880-LONN")
    return DecisionFactory(facility=facility, diarienummer="3.2.2-555/2025")


def client_for(user) -> Client:
    client = Client()
    sign_in(client, user)
    return client


@pytest.fixture
def worker():
    return make_user(Role.MUNICIPAL_USER, municipality="0880", email="anna@kalmar.example")


@pytest.fixture
def officer():
    return make_user(Role.IVO_CASE_OFFICER)


@pytest.fixture
def registrator_user():
    return make_user(Role.IVO_REGISTRATOR)


def stored_files() -> list[Path]:
    root = Path(django_settings.STORAGES["documents"]["OPTIONS"]["location"])
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def page_text(response) -> str:
    import re
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def open_request(decision, user) -> DecisionRequest:
    return services.request_decision(decision=decision, user=user)


# --- Uploads ------------------------------------------------------------------------------------


def upload_full(client, decision, upload):
    return client.post(
        reverse("documents:decision_documents", args=[decision.pk]),
        {"which": "full", "upload": upload},
    )


def test_upload__full_decision__stored_with_who_and_when(decision, registrator_user):
    response = upload_full(client_for(registrator_user), decision, pdf_upload())

    assert response.status_code == 302
    document = DecisionDocument.objects.get(decision=decision)
    assert document.full_uploaded_by == registrator_user
    assert document.full_uploaded_at is not None
    assert [path.read_bytes() for path in stored_files()] == [pdf_bytes()]
    # The uploader's file name is not kept: it may carry a name.
    assert "beslut.pdf" not in document.full_file.name


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            pdf_upload("beslut.pdf", b"Detta \xe4r ett Word-dokument, inte en PDF.\n" * 20),
            "Filen beslut.pdf är inte en PDF-fil (innehållet avgör, inte filnamnet).",
        ),
        (
            pdf_upload("trasig.pdf", b"%PDF-1.7\n" + b"skrap utan sidor\n" * 50),
            "Filen trasig.pdf är inte en PDF-fil (innehållet avgör, inte filnamnet).",
        ),
        (pdf_upload("tom.pdf", b""), "Filen tom.pdf är tom."),
    ],
    ids=["renamed-text-file", "pdf-header-no-pdf", "empty"],
)
def test_upload__refused__exact_message_and_nothing_stored(
    decision, registrator_user, upload, message
):
    response = upload_full(client_for(registrator_user), decision, upload)

    assert response.status_code == 400
    assert message in page_text(response)
    assert not DecisionDocument.objects.exists()
    assert stored_files() == []


def test_upload__oversized__refused_and_nothing_stored(decision, registrator_user, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    content = pdf_bytes(padding=4000)
    assert len(content) > 1024

    response = upload_full(client_for(registrator_user), decision, pdf_upload("stor.pdf", content))

    assert response.status_code == 400
    # Skipped while it arrived: never whole in memory or in the temporary folder.
    assert "Filen stor.pdf är större än 1,0 kB, som är gränsen." in page_text(response)
    assert not DecisionDocument.objects.exists()
    assert stored_files() == []


def test_checked_pdf__oversized__says_how_large(settings):
    from documents.uploads import checked_pdf

    settings.DOCUMENT_MAX_BYTES = 1024

    with pytest.raises(ValidationError) as error:
        checked_pdf(pdf_upload("stor.pdf", pdf_bytes(padding=4000)))

    assert error.value.messages == ["Filen stor.pdf är 4,3\xa0kB; den får vara högst 1,0\xa0kB."]


def test_checked_pdf__password_protected_and_pageless__refused():
    import io

    from pypdf import PdfWriter

    from documents.uploads import checked_pdf

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("hemligt")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    pageless = io.BytesIO()
    PdfWriter().write(pageless)

    with pytest.raises(ValidationError) as locked:
        checked_pdf(pdf_upload("last.pdf", encrypted.getvalue()))
    with pytest.raises(ValidationError) as empty:
        checked_pdf(pdf_upload("sidlos.pdf", pageless.getvalue()))

    assert locked.value.messages == [
        "Filen last.pdf är lösenordsskyddad; ladda upp den utan lösenord."
    ]
    assert empty.value.messages == [
        "Filen sidlos.pdf är inte en PDF-fil (innehållet avgör, inte filnamnet)."
    ]


def test_upload__crafted_clear_checkbox__asks_for_a_file(decision, registrator_user):
    response = client_for(registrator_user).post(
        reverse("documents:decision_documents", args=[decision.pk]),
        {"which": "full", "upload-clear": "on"},
    )

    assert response.status_code == 400
    assert "Välj en PDF-fil." in page_text(response)


def test_upload__no_file__asks_for_one(decision, registrator_user):
    response = client_for(registrator_user).post(
        reverse("documents:decision_documents", args=[decision.pk]), {"which": "full"}
    )

    assert response.status_code == 400
    assert "Välj en PDF-fil." in page_text(response)
    assert not DecisionDocument.objects.exists()


def test_release_copy__only_case_officers_clear_it(decision, registrator_user, officer):
    data = {"which": "release", "outcome": "utlamnad", "upload": pdf_upload()}
    url = reverse("documents:decision_documents", args=[decision.pk])

    assert client_for(registrator_user).post(url, data).status_code == 404
    assert not DecisionDocument.objects.exists()

    data["upload"] = pdf_upload()
    assert client_for(officer).post(url, data).status_code == 302
    document = DecisionDocument.objects.get()
    assert document.release_cleared
    assert (document.cleared_by, document.release_partial) == (officer, False)


def test_full_decision__downloaded_by_ivo_staff_only__logged(decision, registrator_user, worker):
    services.attach_full_decision(decision=decision, upload=pdf_upload(), user=registrator_user)
    url = reverse("documents:full_download", args=[decision.pk])

    assert client_for(worker).get(url).status_code == 403
    response = client_for(registrator_user).get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    event = AccessEvent.objects.get(action=AccessEvent.Action.DOCUMENT_DOWNLOAD)
    assert (event.object_id, event.user_id) == ("3.2.2-555/2025", registrator_user.pk)
    assert "kopia=fullstandigt" in event.detail


# --- Requests -----------------------------------------------------------------------------------


def test_request__from_the_facility_page__received(decision, worker):
    client = client_for(worker)
    facility_page = client.get(reverse("portal:facility", args=["K0880-LONN"])).content.decode()
    assert f'href="/beslut/{decision.pk}/begar/"' in facility_page

    response = client.post(
        reverse("documents:request", args=[decision.pk]), {"reason": "Inför placering."}
    )

    item = DecisionRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:request_detail", args=[item.public_id])
    assert (item.state, item.municipality_id, item.requested_by) == (State.RECEIVED, "0880", worker)
    assert (item.requester_email, item.reason) == ("anna@kalmar.example", "Inför placering.")
    listing = page_text(client.get(reverse("documents:my_requests")))
    assert "3.2.2-555/2025 Lönngården" in listing and "Inkommen" in listing
    facility_page = page_text(client.get(reverse("portal:facility", args=["K0880-LONN"])))
    assert f"Begärt {timezone.localdate():%Y-%m-%d}: inkommen" in facility_page


def test_request__second_while_open__refused_nothing_written(decision, worker):
    colleague = make_user(Role.MUNICIPAL_USER, municipality="0880")
    open_request(decision, worker)

    response = client_for(colleague).post(reverse("documents:request", args=[decision.pk]), {})

    assert response.status_code == 400
    assert (
        "Något behöver rättas Er kommun har redan en öppen begäran om beslut 3.2.2-555/2025. "
        "Ni får besked när den är prövad; se Begärda beslut."
    ) in page_text(response)
    assert DecisionRequest.objects.count() == 1


def test_request__database_holds_one_open_per_municipality(decision, worker):
    from django.db import IntegrityError, transaction

    open_request(decision, worker)
    with pytest.raises(IntegrityError), transaction.atomic():
        DecisionRequest.objects.create(
            decision=decision,
            municipality_id="0880",
            requester_email="x@example.com",
            state=State.RECEIVED,
        )


def test_request__other_municipality_and_after_decision__allowed(decision, worker, officer):
    other = make_user(Role.MUNICIPAL_USER, municipality="0180")
    first = open_request(decision, worker)
    open_request(decision, other)
    services.take(request_id=first.public_id, officer=officer)
    services.refuse(
        item=first, officer=officer, reason="Sekretess enligt 26 kap. 1 § OSL.", link=""
    )

    again = open_request(decision, worker)

    assert again.state == State.RECEIVED
    assert DecisionRequest.objects.count() == 3


def test_request__personnummer_in_reason__refused_nothing_written(decision, worker):
    response = client_for(worker).post(
        reverse("documents:request", args=[decision.pk]), {"reason": "Gäller 20150101-1234"}
    )

    assert response.status_code == 400
    assert "Skriv inte personnummer här: texten sparas och visas för flera." in page_text(response)
    assert not DecisionRequest.objects.exists()


def test_request__ivo_staff_cannot_request(decision, officer):
    response = client_for(officer).post(reverse("documents:request", args=[decision.pk]), {})

    assert response.status_code == 403
    assert not DecisionRequest.objects.exists()


# --- Handling -----------------------------------------------------------------------------------


def test_queue__oldest_first_with_days_open(decision, officer):
    older = FacilityFactory(name="Äldregården", facility_id="K1280-ALDRE")
    old_decision = DecisionFactory(facility=older, diarienummer="3.2.2-1/2020")
    for municipality, target in (("0180", decision), ("1280", old_decision)):
        open_request(target, make_user(Role.MUNICIPAL_USER, municipality=municipality))
    DecisionRequest.objects.filter(decision=old_decision).update(
        created_at=timezone.now() - datetime.timedelta(days=9)
    )

    text = page_text(client_for(officer).get(reverse("documents:queue")))

    assert text.index("3.2.2-1/2020 Äldregården (K1280-ALDRE) Malmö") < text.index(
        "3.2.2-555/2025 Lönngården (K0880-LONN)"
    )
    assert (
        "3.2.2-1/2020 Äldregården (K1280-ALDRE) Malmö "
        + (timezone.localtime(timezone.now() - datetime.timedelta(days=9)).strftime("%Y-%m-%d"))
        + " 9 Inkommen"
        in text
    )


def test_queue_and_handling_page__the_facility_with_its_id_links_to_its_page(
    decision, worker, officer
):
    item = open_request(decision, worker)
    client = client_for(officer)

    queue = client.get(reverse("documents:queue")).content.decode()
    handling = client.get(reverse("documents:handle", args=[item.public_id])).content.decode()

    link = '<a href="/verksamhet/K0880-LONN/">Lönngården (K0880-LONN)</a>'
    assert link in queue
    assert link in handling


def test_take__second_officer_gets_a_clear_message(decision, worker, officer):
    item = open_request(decision, worker)
    second = make_user(Role.IVO_CASE_OFFICER)
    client_for(officer).post(reverse("documents:take", args=[item.public_id]))

    response = client_for(second).post(
        reverse("documents:take", args=[item.public_id]), follow=True
    )

    assert f"Begäran har redan tagits av {officer.username}." in page_text(response)
    item.refresh_from_db()
    assert (item.state, item.handler) == (State.IN_REVIEW, officer)


def _in_own_connection(function):
    """Run ``function`` in a thread of its own, so on its own database connection (committed
    at once, outside the test's transaction); return what it returns."""
    result = {}

    def run():
        try:
            result["value"] = function()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result.get("value")


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's in-memory test database locks whole tables across connections; the "
    "PostgreSQL leg of CI runs this race",
)
def test_take__two_officers_at_once__exactly_one_succeeds():
    """Two officers, each on a database connection of their own, take the same request at the
    same moment. What they race on is committed first, so both connections see it, and removed
    after."""
    from django.contrib.auth import get_user_model

    def setup():
        facility = FacilityFactory(name="Kapplöpningen", facility_id="K0880-RACE")
        decision = DecisionFactory(facility=facility, diarienummer="3.2.2-9999/2025")
        officers = [
            get_user_model().objects.create_user(username=f"handlaggare-{n}") for n in (1, 2)
        ]
        item = DecisionRequest.objects.create(
            decision=decision,
            municipality_id="0880",
            requester_email="race@example.com",
            state=State.RECEIVED,
        )
        return item, officers

    before = _in_own_connection(_committed_counts)
    item, officers = _in_own_connection(setup)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def racer(user):
        def take():
            barrier.wait()
            try:
                services.take(request_id=item.public_id, officer=user)
                outcomes[user.username] = "tog"
            except ValidationError as error:
                outcomes[user.username] = error.messages[0]
            finally:
                connections.close_all()

        return threading.Thread(target=take)

    threads = [racer(user) for user in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    def read_and_remove():
        final = DecisionRequest.objects.select_related("handler").get(pk=item.pk)
        handler = final.handler.username
        _remove_committed(final, officers)
        return final.state, handler

    state, handler = _in_own_connection(read_and_remove)
    assert _in_own_connection(_committed_counts) == before  # nothing left for later tests
    loser = next(name for name in outcomes if name != handler)
    assert outcomes == {handler: "tog", loser: f"Begäran har redan tagits av {handler}."}
    assert state == State.IN_REVIEW


def _committed_counts() -> dict[str, int]:
    from django.contrib.auth import get_user_model

    from api.models import ChangeEvent
    from register.models import Decision, Facility, Provider

    counts = {"users": get_user_model().objects.count(), "changes": ChangeEvent.objects.count()}
    for model in (DecisionRequest, Decision, Facility, Provider):
        counts[model.__name__] = model.objects.count()
        counts[f"{model.__name__} history"] = model.history.count()
    return counts


def _remove_committed(twin, users) -> None:
    from register.models import Decision, Facility, Provider

    decision = Decision.objects.get(pk=twin.decision_id)
    facility = decision.facility
    provider = facility.provider
    DecisionRequest.objects.filter(pk=twin.pk).delete()  # writes a last history row: then
    DecisionRequest.history.filter(id=twin.pk).delete()
    for model, pk in ((Decision, decision.pk), (Facility, facility.pk), (Provider, provider.pk)):
        model.objects.filter(pk=pk).delete()
        model.history.filter(id=pk).delete()
    for user in users:
        user.delete()
    # The changes feed's events of those rows (their triggers wrote them): left behind, later
    # tests on PostgreSQL would read them in the feed.
    named = [decision.diarienummer, facility.facility_id, str(provider.public_id)]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM api_changeevent WHERE resource_id = ANY(%s)", [named])


def test_release__whole_path__mail_download_and_log(
    decision, worker, officer, smtp_server, django_capture_on_commit_callbacks
):
    item = open_request(decision, worker)
    officer_client = client_for(officer)
    officer_client.post(reverse("documents:take", args=[item.public_id]))
    copy = pdf_bytes(pages=2)

    with django_capture_on_commit_callbacks(execute=True):  # the mail goes at the commit
        response = officer_client.post(
            reverse("documents:release", args=[item.public_id]),
            {"outcome": "utlamnad", "upload": pdf_upload("maskerad.pdf", copy)},
        )

    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.decided_at is not None) == (State.RELEASED, True)
    # Cleared for this request only: not made the decision's copy for every municipality.
    assert not DecisionDocument.objects.exists()
    assert [path.read_bytes() for path in stored_files()] == [copy]
    # Told by e-mail, with the link and never the decision's content.
    assert [m["To"] for m in smtp_server.messages] == ["anna@kalmar.example"]
    assert smtp_server.messages[0]["Subject"] == "Besked om er begäran: beslut 3.2.2-555/2025"
    body = smtp_server.bodies()[0]
    assert "IVO lämnar ut beslutet. Ni kan hämta det i tjänsten." in body
    assert f"/beslut/begaranden/{item.public_id}/" in body
    # Downloaded by the municipality, logged.
    worker_client = client_for(worker)
    detail = page_text(
        worker_client.get(reverse("documents:request_detail", args=[item.public_id]))
    )
    assert "Status Utlämnad" in detail
    download = worker_client.get(reverse("documents:request_download", args=[item.public_id]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == 'attachment; filename="beslut-322-555-2025.pdf"'
    assert b"".join(download.streaming_content) == copy
    event = AccessEvent.objects.get(action=AccessEvent.Action.DOCUMENT_DOWNLOAD)
    assert (event.user_id, event.municipality_code, event.object_id) == (
        worker.pk,
        "0880",
        "3.2.2-555/2025",
    )
    # Another municipality: as if it did not exist.
    stranger = client_for(make_user(Role.MUNICIPAL_USER, municipality="0180"))
    assert (
        stranger.get(reverse("documents:request_download", args=[item.public_id])).status_code
        == 404
    )
    assert (
        stranger.get(reverse("documents:request_detail", args=[item.public_id])).status_code == 404
    )
    assert AccessEvent.objects.filter(action=AccessEvent.Action.DOCUMENT_DOWNLOAD).count() == 1
    # Every step is in the request's history.
    assert [h.state for h in item.history.order_by("history_date")] == [
        State.RECEIVED,
        State.IN_REVIEW,
        State.RELEASED,
    ]


def test_release__partly__needs_what_was_masked(
    decision, worker, officer, smtp_server, django_capture_on_commit_callbacks
):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)
    url = reverse("documents:release", args=[item.public_id])

    with django_capture_on_commit_callbacks(execute=True):
        refused = client_for(officer).post(url, {"outcome": "delvis", "upload": pdf_upload()})

    assert refused.status_code == 400
    assert "Skriv vad som har maskerats och med stöd av vilken bestämmelse." in page_text(refused)
    item.refresh_from_db()
    assert item.state == State.IN_REVIEW and stored_files() == [] and not smtp_server.messages

    client_for(officer).post(
        url,
        {"outcome": "delvis", "upload": pdf_upload(), "note": "Namn på barn, 26 kap. 1 § OSL."},
    )

    item.refresh_from_db()
    assert item.state == State.PARTLY_RELEASED
    detail = page_text(
        client_for(worker).get(reverse("documents:request_detail", args=[item.public_id]))
    )
    assert "Vad som är maskerat Namn på barn, 26 kap. 1 § OSL." in detail
    assert "Så överklagar ni" in detail


@pytest.mark.parametrize("action", ["release", "refuse"])
def test_decide__not_the_handler__refused(
    decision, worker, officer, smtp_server, action, django_capture_on_commit_callbacks
):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)
    other = make_user(Role.IVO_CASE_OFFICER)
    data = {"outcome": "utlamnad", "upload": pdf_upload(), "reason": "Sekretess."}

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(other).post(
            reverse(f"documents:{action}", args=[item.public_id]), data, follow=True
        )

    assert "Bara den handläggare som har tagit begäran kan avgöra den." in page_text(response)
    item.refresh_from_db()
    assert item.state == State.IN_REVIEW and stored_files() == [] and not smtp_server.messages


@pytest.mark.parametrize("action", ["release", "refuse", "take"])
def test_decide__already_decided__says_so(
    decision, worker, officer, smtp_server, action, django_capture_on_commit_callbacks
):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)
    with django_capture_on_commit_callbacks(execute=True):
        services.refuse(item=item, officer=officer, reason="Sekretess.", link="")
    data = {"outcome": "utlamnad", "upload": pdf_upload(), "reason": "Igen."}

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(officer).post(
            reverse(f"documents:{action}", args=[item.public_id]), data, follow=True
        )

    assert "Begäran är redan avgjord." in page_text(response)
    item.refresh_from_db()
    assert (item.state, item.outcome_text) == (State.REFUSED, "Sekretess.")
    assert stored_files() == [] and len(smtp_server.messages) == 1


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (pdf_upload("beslut.pdf", b"inte en pdf\n" * 40), "inte en PDF-fil"),
        (pdf_upload("tom.pdf", b""), "Filen tom.pdf är tom."),
    ],
    ids=["not-pdf", "empty"],
)
def test_release__bad_file__nothing_released_stored_or_sent(
    decision, worker, officer, smtp_server, upload, message, django_capture_on_commit_callbacks
):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(officer).post(
            reverse("documents:release", args=[item.public_id]),
            {"outcome": "utlamnad", "upload": upload},
        )

    assert response.status_code == 400
    assert message in page_text(response)
    item.refresh_from_db()
    assert item.state == State.IN_REVIEW and not item.released_file
    assert stored_files() == [] and not smtp_server.messages


def test_release__stored_copy_of_another_kind__officer_must_choose_it(decision, worker, officer):
    services.clear_release_copy(
        decision=decision, upload=pdf_upload(), user=officer, partial=True, note="Namn maskerade."
    )
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)

    response = client_for(officer).post(
        reverse("documents:release", args=[item.public_id]), {"outcome": "utlamnad"}
    )

    assert response.status_code == 400
    assert (
        "Den sekretessprövade kopian som finns är delvis maskerad; välj delvis utlämnande eller "
        "ladda upp en ny kopia." in page_text(response)
    )
    item.refresh_from_db()
    assert item.state == State.IN_REVIEW


def test_hand_back__by_the_officer_or_an_administrator_only(decision, worker, officer):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)
    colleague = make_user(Role.IVO_CASE_OFFICER)
    url = reverse("documents:hand_back", args=[item.public_id])

    refused = client_for(colleague).post(url, follow=True)
    assert "Bara handläggaren eller en IVO-administratör kan lämna tillbaka begäran." in page_text(
        refused
    )
    item.refresh_from_db()
    assert item.handler == officer

    client_for(make_user(Role.IVO_ADMIN)).post(url)
    item.refresh_from_db()
    assert (item.state, item.handler, item.taken_at) == (State.RECEIVED, None, None)
    assert services.take(request_id=item.public_id, officer=colleague).handler == colleague


def test_release__without_a_file_and_no_cleared_copy__asks_for_it(decision, worker, officer):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)

    response = client_for(officer).post(
        reverse("documents:release", args=[item.public_id]), {"outcome": "utlamnad"}
    )

    assert response.status_code == 400
    assert "Ladda upp den sekretessprövade kopian (PDF)." in page_text(response)
    item.refresh_from_db()
    assert item.state == State.IN_REVIEW


def test_release__reuses_the_copy_cleared_earlier(decision, worker, officer):
    services.clear_release_copy(decision=decision, upload=pdf_upload(), user=officer, partial=False)
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)

    client_for(officer).post(
        reverse("documents:release", args=[item.public_id]), {"outcome": "utlamnad"}
    )

    item.refresh_from_db()
    assert item.state == State.RELEASED
    assert item.released_file.name == DecisionDocument.objects.get().release_file.name
    assert len(stored_files()) == 1


def test_refuse__reason_required_then_told_with_appeal(
    decision, worker, officer, smtp_server, django_capture_on_commit_callbacks
):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)
    url = reverse("documents:refuse", args=[item.public_id])

    with django_capture_on_commit_callbacks(execute=True):
        empty = client_for(officer).post(url, {"reason": "  "})
    assert empty.status_code == 400
    assert "Skäl för avslag: Detta fält måste fyllas i." in page_text(empty)
    assert smtp_server.messages == []

    with django_capture_on_commit_callbacks(execute=True):
        client_for(officer).post(
            url, {"reason": "Uppgifterna omfattas av sekretess (26 kap. 1 § OSL)."}
        )

    item.refresh_from_db()
    assert item.state == State.REFUSED
    assert "IVO har avslagit begäran." in smtp_server.bodies()[0]
    assert "26 kap. 1 § OSL" not in smtp_server.bodies()[0]  # the reason is read in the service
    worker_client = client_for(worker)
    detail = page_text(
        worker_client.get(reverse("documents:request_detail", args=[item.public_id]))
    )
    assert "Skäl för avslaget Uppgifterna omfattas av sekretess (26 kap. 1 § OSL)." in detail
    assert "kammarrätten" in detail and "inom tre veckor" in detail
    assert (
        worker_client.get(reverse("documents:request_download", args=[item.public_id])).status_code
        == 404
    )


# --- Language of the mail and the messages -------------------------------------------------------


@pytest.mark.parametrize(
    ("requester_language", "officer_language", "subject", "outcome"),
    [
        (
            "en",
            "sv",
            "Reply to your request: decision 3.2.2-555/2025",
            "IVO releases the decision. You can download it in the service.",
        ),
        (
            "",
            "en",
            "Besked om er begäran: beslut 3.2.2-555/2025",
            "IVO lämnar ut beslutet. Ni kan hämta det i tjänsten.",
        ),
    ],
    ids=["requester-english-officer-swedish", "requester-unset-officer-english"],
)
def test_release__mail_in_the_requesters_language_not_the_officers(
    decision,
    worker,
    officer,
    smtp_server,
    django_capture_on_commit_callbacks,
    requester_language,
    officer_language,
    subject,
    outcome,
):
    access_services.account_set_language(user=worker, language=requester_language)
    item = open_request(decision, worker)
    officer_client = client_for(officer)
    officer_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = officer_language
    officer_client.post(reverse("documents:take", args=[item.public_id]))

    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(
            reverse("documents:release", args=[item.public_id]),
            {"outcome": "utlamnad", "upload": pdf_upload()},
        )

    assert response.status_code == 302
    assert smtp_server.messages[0]["Subject"] == subject
    assert outcome in smtp_server.bodies()[0]


def test_take__already_decided__said_in_the_officers_language(decision, worker, officer):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)
    services.refuse(item=item, officer=officer, reason="Sekretess.", link="")
    officer_client = client_for(officer)
    officer_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    response = officer_client.post(reverse("documents:take", args=[item.public_id]), follow=True)

    assert "The request has already been decided." in page_text(response)


# --- Release modes ------------------------------------------------------------------------------


def test_release_mode_on_request__cleared_copy_still_needs_a_request(decision, worker, officer):
    services.clear_release_copy(decision=decision, upload=pdf_upload(), user=officer, partial=False)
    client = client_for(worker)

    page = assert_shows(
        client.get(reverse("portal:facility", args=["K0880-LONN"])),
        f'href="/beslut/{decision.pk}/begar/"',
    )
    assert "Hämta beslutet (PDF)" not in page
    assert (
        client.get(reverse("documents:automatic_download", args=[decision.pk])).status_code == 404
    )


def test_release_mode_automatic__cleared_copy_downloads_at_once_logged(
    decision, worker, officer, settings
):
    settings.DECISION_RELEASE = "automatic"
    copy = pdf_bytes(pages=3)
    services.clear_release_copy(
        decision=decision, upload=pdf_upload(content=copy), user=officer, partial=False
    )
    stranger = client_for(make_user(Role.MUNICIPAL_USER, municipality="1280"))

    page = stranger.get(reverse("portal:facility", args=["K0880-LONN"])).content.decode()
    assert f'href="/beslut/{decision.pk}/hamta/">Hämta beslutet (PDF)' in page
    response = stranger.get(reverse("documents:automatic_download", args=[decision.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == copy
    assert (
        AccessEvent.objects.filter(
            action=AccessEvent.Action.DOCUMENT_DOWNLOAD, municipality_code="1280"
        ).count()
        == 1
    )
    # No request is made where none is needed.
    client_for(worker).post(reverse("documents:request", args=[decision.pk]), {})
    assert not DecisionRequest.objects.exists()


def test_release_mode_automatic__without_cleared_copy__request_flow(decision, worker, settings):
    settings.DECISION_RELEASE = "automatic"
    client = client_for(worker)

    page = assert_shows(
        client.get(reverse("portal:facility", args=["K0880-LONN"])),
        f'href="/beslut/{decision.pk}/begar/"',  # requested, as without automatic release
    )
    assert "Hämta beslutet (PDF)" not in page
    assert (
        client.get(reverse("documents:automatic_download", args=[decision.pk])).status_code == 404
    )

    client.post(reverse("documents:request", args=[decision.pk]), {})
    assert DecisionRequest.objects.get().state == State.RECEIVED


# --- Numbers ------------------------------------------------------------------------------------


def test_numbers__per_month_median_p90_and_share_refused(decision, officer):
    tz = timezone.get_current_timezone()
    handling_days = [1, 2, 3, 4, 10]  # median 3, 90th percentile (nearest rank) 10
    for n, days in enumerate(handling_days):
        municipality = ["0180", "0880", "1280", "1480", "0114"][n]
        item = open_request(decision, make_user(Role.MUNICIPAL_USER, municipality=municipality))
        created = datetime.datetime(2026, 3, 2, 9, tzinfo=tz)
        services.take(request_id=item.public_id, officer=officer)
        if n == 0:
            services.refuse(item=item, officer=officer, reason="Sekretess.", link="")
        else:
            services.release(
                item=item, officer=officer, upload=pdf_upload(), partial=False, link=""
            )
        DecisionRequest.objects.filter(pk=item.pk).update(
            created_at=created, decided_at=created + datetime.timedelta(days=days)
        )
    april = open_request(decision, make_user(Role.MUNICIPAL_USER, municipality="0180"))
    DecisionRequest.objects.filter(pk=april.pk).update(
        created_at=datetime.datetime(2026, 4, 7, 9, tzinfo=tz)
    )

    months, _total = selectors.request_numbers()

    assert [(m.month.isoformat(), m.received, m.decided) for m in months] == [
        ("2026-04-01", 1, 0),
        ("2026-03-01", 5, 5),
    ]
    march = months[1]
    assert (march.median_days, march.p90_days, march.refused_share) == (3, 10, 0.2)
    text = page_text(client_for(officer).get(reverse("documents:numbers")))
    assert "2026-03 5 5 3,0 10,0 20 %" in text
    assert "2026-04 1 0 – – –" in text
    assert "Totalt 6 5 3,0 10,0 20 %" in text


def test_numbers__in_english__decimal_point_and_percent_the_english_way(decision, worker, officer):
    item = open_request(decision, worker)
    services.take(request_id=item.public_id, officer=officer)
    services.refuse(item=item, officer=officer, reason="Sekretess.", link="")
    officer_client = client_for(officer)
    officer_client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"

    text = page_text(officer_client.get(reverse("documents:numbers")))

    assert "Total 1 1 0.0 0.0 100%" in text
