"""Mail goes once the transaction that caused it has committed (``transaction.on_commit`` in the
service), through a real SMTP server on loopback: a rolled-back transaction, the service's own
or its caller's, sends nothing, and callers need no discipline of their own.

The test's own transaction never commits; ``django_capture_on_commit_callbacks(execute=True)``
runs the callbacks still pending when it ends, as the commit would: those of a rolled-back
block Django has already dropped.
"""

import logging

import pytest
from django.db import transaction
from django.test import RequestFactory

from access import services as access_services
from access.models import LoginToken
from access.roles import Role
from documents import services as documents_services
from documents.models import DecisionRequest
from tests.documents_helpers import pdf_upload
from tests.factories import DecisionFactory, FacilityFactory, make_user
from tests.login_support import ADDRESS

pytestmark = pytest.mark.django_db

State = DecisionRequest.State


class CallerFailed(Exception):
    """A later step of the caller's transaction failed: everything in it rolls back."""


# Login mail (access.services.login_link_request) -----------------------------------------------


def ask_for_login(email: str = ADDRESS):
    request = RequestFactory().post("/logga-in/", REMOTE_ADDR="192.0.2.10")
    return access_services.login_link_request(
        request=request, email=email, session_secret="webbläsarens-hemlighet"
    )


def test_login_mail__in_a_transaction__sent_after_its_commit_not_before(
    listed, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            assert ask_for_login().sent
            assert smtp_server.messages == []  # the token is not committed yet
        assert smtp_server.messages == []  # committed only when the test's transaction would

    assert [message["To"] for message in smtp_server.messages] == [ADDRESS]
    assert "Klicka på länken för att logga in" in smtp_server.bodies()[0]


def test_login_mail__the_callers_transaction_rolls_back__no_mail_no_token(
    listed, smtp_server, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CallerFailed),
        transaction.atomic(),
    ):
        assert ask_for_login().sent
        raise CallerFailed

    assert smtp_server.messages == []
    assert not LoginToken.objects.exists()  # no mail with a link that would not work


# The requester told of a decided request (documents.services.release and refuse) ---------------


@pytest.fixture
def taken_request():
    """A request from Kalmar's social worker, taken by an IVO case officer."""
    worker = make_user(Role.MUNICIPAL_USER, municipality="0880", email="anna@kalmar.example")
    officer = make_user(Role.IVO_CASE_OFFICER)
    decision = DecisionFactory(
        facility=FacilityFactory(name="Lönngården"), diarienummer="3.2.2-555/2025"
    )
    item = documents_services.request_decision(decision=decision, user=worker)
    return documents_services.take(request_id=item.public_id, officer=officer), officer


def release(item, officer):
    return documents_services.release(
        item=item, officer=officer, upload=pdf_upload(), partial=False, link="https://x/b/1/"
    )


def refuse(item, officer):
    return documents_services.refuse(
        item=item, officer=officer, reason="Sekretess (26 kap. 1 § OSL).", link="https://x/b/1/"
    )


@pytest.mark.parametrize(
    ("decide", "told"),
    [(release, "IVO lämnar ut beslutet."), (refuse, "IVO har avslagit begäran.")],
    ids=["release", "refuse"],
)
def test_request_decided__in_a_transaction__requester_told_after_its_commit_not_before(
    taken_request, smtp_server, django_capture_on_commit_callbacks, decide, told
):
    item, officer = taken_request

    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            decide(item, officer)
            assert smtp_server.messages == []
        assert smtp_server.messages == []

    assert [message["To"] for message in smtp_server.messages] == ["anna@kalmar.example"]
    assert smtp_server.messages[0]["Subject"] == "Besked om er begäran: beslut 3.2.2-555/2025"
    assert told in smtp_server.bodies()[0]


@pytest.mark.parametrize("decide", [release, refuse], ids=["release", "refuse"])
def test_request_decided__the_callers_transaction_rolls_back__nothing_sent_nothing_decided(
    taken_request, smtp_server, django_capture_on_commit_callbacks, decide
):
    item, officer = taken_request

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(CallerFailed),
        transaction.atomic(),
    ):
        decide(item, officer)
        raise CallerFailed

    assert smtp_server.messages == []
    item.refresh_from_db()
    assert (item.state, item.decided_at) == (State.IN_REVIEW, None)


def test_request_decided__smtp_server_refuses__decision_stands_and_the_failure_is_logged(
    taken_request, smtp_server, django_capture_on_commit_callbacks, caplog
):
    """The page must not fail because of the mail: the decision is committed and the service
    shows it to the requester."""
    item, officer = taken_request
    smtp_server.refusal = "554 5.7.1 Meddelandet avvisas"

    with (
        caplog.at_level(logging.ERROR, logger="documents.services"),
        django_capture_on_commit_callbacks(execute=True),  # raises nothing
    ):
        release(item, officer)

    item.refresh_from_db()
    assert item.state == State.RELEASED
    assert smtp_server.messages == []
    logged = [r.getMessage() for r in caplog.records if r.name == "documents.services"]
    assert logged == [f"Mail about request {item.public_id} could not be sent"]
