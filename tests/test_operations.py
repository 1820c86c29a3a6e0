"""/healthz, /readyz, /metrics and the request id, in this process (docs/operations.md).

The mail server is a real SMTP server on loopback (aiosmtpd), started and stopped; the storage is
made unusable for real (its folder under a regular file, which no user, root included, can
create). The database stopped under a server process: tests/test_operations_database_down.py.
"""

import io
import json
import logging
import socket
import time

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from access import log
from access.models import AccessEvent
from tests.alerts_support import free_port

pytestmark = pytest.mark.django_db

SECRET_PASSWORD = "smtp-hemlighet-4711"
SECRET_HOST = "smtp.hemlig-vard.example"


class _Accepting:
    """Accepts mail; ``overloaded`` answers NOOP as a server that is shutting down does."""

    overloaded = False

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls these so
        return "250 OK"

    async def handle_NOOP(self, server, session, envelope, arg):
        return (
            "421 Service not available, closing transmission channel"
            if self.overloaded
            else ("250 OK")
        )


@pytest.fixture
def mail_server(settings):
    """aiosmtpd on loopback, the SMTP backend pointed at it; ``stop()`` stops it for real."""
    controller = Controller(_Accepting(), hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    running = [True]

    def stop() -> None:
        controller.stop()
        running[0] = False

    controller.stop_now = stop
    yield controller
    if running[0]:
        controller.stop()


def readyz(client) -> tuple[int, dict, str]:
    response = client.get(reverse("operations:readyz"))
    return response.status_code, json.loads(response.content), response.content.decode()


def scrape(client, **extra) -> dict[str, float]:
    """/metrics read as {'name{label="value",...}': value}, labels in sorted order."""
    response = client.get(reverse("operations:metrics"), **extra)
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


# --- /healthz ------------------------------------------------------------------------------------


def test_healthz__answers_without_touching_any_database(client):
    captured = [CaptureQueriesContext(connections[alias]) for alias in connections]
    for capture in captured:
        capture.__enter__()
    try:
        response = client.get(reverse("operations:healthz"))
    finally:
        for capture in captured:
            capture.__exit__(None, None, None)

    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert [query for capture in captured for query in capture.captured_queries] == []
    assert "no-cache" in response["Cache-Control"]


# --- /readyz -------------------------------------------------------------------------------------


def test_readyz__every_component_up__200_each_named_ok(client, mail_server):
    status, answer, _text = readyz(client)

    assert status == 200
    expected = {"database": "ok", "storage": "ok", "mail": "ok", "queue": "ok"}
    if "accesslog" in settings.DATABASES:
        expected["accesslog"] = "ok"
    assert answer == {"status": "ok", "components": expected}


def test_readyz__mail_server_stopped__503_names_mail_and_no_secret(client, mail_server, settings):
    mail_server.stop_now()
    settings.EMAIL_HOST_USER = "registret"
    settings.EMAIL_HOST_PASSWORD = SECRET_PASSWORD

    status, answer, text = readyz(client)

    assert status == 503
    assert answer["status"] == "fail"
    assert answer["components"]["mail"] == "fail"
    assert {name for name, state in answer["components"].items() if state == "fail"} == {"mail"}
    assert SECRET_PASSWORD not in text
    assert str(settings.EMAIL_PORT) not in text


def test_readyz__mail_server_connects_but_refuses_noop__503_names_mail(client, mail_server):
    mail_server.handler.overloaded = True

    status, answer, _text = readyz(client)

    assert status == 503
    assert answer["components"]["mail"] == "fail"


def test_readyz__mail_server_silent__503_names_mail_within_email_timeout(client, settings):
    # A server that takes the connection and never greets (hung, or a firewall's tarpit).
    with socket.create_server(("127.0.0.1", 0)) as silent:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = silent.getsockname()[1]
        settings.EMAIL_TIMEOUT = 1
        started = time.monotonic()

        status, answer, _text = readyz(client)

        assert status == 503
        assert answer["components"]["mail"] == "fail"
        assert time.monotonic() - started < 4


def test_metrics_allowed_networks__not_a_network__stops_the_start(settings):
    from operations.checks import metrics_allowed_networks

    settings.OPERATIONS_ALLOWED_NETWORKS = ["127.0.0.1/32", "10.0.0.1/8", "intranet"]

    assert [error.id for error in metrics_allowed_networks(None)] == ["operations.E001"] * 2


def test_readyz__mail_server_host_unknown__503_names_mail_not_the_host(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = SECRET_HOST
    settings.EMAIL_TIMEOUT = 2

    status, answer, text = readyz(client)

    assert status == 503
    assert answer["components"]["mail"] == "fail"
    assert SECRET_HOST not in text
    assert "hemlig" not in text


def test_readyz__console_mail__mail_not_checked(client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    status, answer, _text = readyz(client)

    assert status == 200
    assert "mail" not in answer["components"]


def test_readyz__documents_storage_unusable__503_names_storage(client, settings, tmp_path):
    blocker = tmp_path / "a-regular-file"
    blocker.write_text("not a folder")
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "documents")},
        },
    }

    status, answer, text = readyz(client)

    assert status == 503
    assert {name for name, state in answer["components"].items() if state == "fail"} == {"storage"}
    assert str(tmp_path) not in text


def test_readyz__documents_storage_usable__probe_file_removed(client, settings):
    location = settings.STORAGES["documents"]["OPTIONS"]["location"]

    status, _answer, _text = readyz(client)

    assert status == 200
    from pathlib import Path

    assert [path for path in Path(location).rglob("*") if path.is_file()] == []


def test_readyz__needs_no_session_or_csrf_and_writes_no_access_log(client):
    before = AccessEvent.objects.count()

    response = client.get(reverse("operations:readyz"))

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert "csrftoken" not in response.cookies
    assert AccessEvent.objects.count() == before


@pytest.mark.parametrize(
    "remote,forwarded",
    [("192.0.2.10", None), ("127.0.0.1", "10.9.8.7")],
    ids=["outside-network", "through-the-proxy"],
)
def test_readyz__not_from_the_operators_networks__404_as_any_unknown_page(
    client, remote, forwarded
):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}

    response = client.get(reverse("operations:readyz"), REMOTE_ADDR=remote, **extra)

    assert response.status_code == 404
    assert b"components" not in response.content


# --- /metrics ------------------------------------------------------------------------------------


def test_metrics__from_a_network_not_allowed__404_as_any_unknown_page(client):
    response = client.get(reverse("operations:metrics"), REMOTE_ADDR="192.0.2.10")
    unknown = client.get("/finns-inte-alls/", REMOTE_ADDR="192.0.2.10")

    assert response.status_code == 404
    assert b"hvb_" not in response.content
    assert [t.name for t in response.templates] == [t.name for t in unknown.templates]


def test_metrics__through_a_proxy_from_loopback__404(client, settings):
    settings.TRUSTED_PROXY_HEADER = True

    response = client.get(
        reverse("operations:metrics"), REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.8.7"
    )

    assert response.status_code == 404


def test_metrics__allowed_network_setting__its_addresses_scrape(client, settings):
    settings.OPERATIONS_ALLOWED_NETWORKS = ["10.20.0.0/16"]

    assert client.get(reverse("operations:metrics"), REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get(reverse("operations:metrics"), REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get(reverse("operations:metrics"), REMOTE_ADDR="10.21.3.4").status_code == 404


def test_metrics__from_loopback__every_metric_named(client):
    client.get(reverse("api:api_info"))
    names = {key.split("{")[0] for key in scrape(client)}

    assert {
        "hvb_http_requests_total",
        "hvb_http_request_duration_seconds_count",
        "hvb_http_request_duration_seconds_bucket",
        "hvb_db_queries_per_request_count",
        "hvb_db_queries_total",
        "hvb_task_queue_ready",
        "hvb_task_queue_oldest_ready_age_seconds",
        "hvb_login_failures_total",
        "hvb_access_log_write_failures_total",
    } <= names


def test_metrics__a_view_s_request__in_its_latency_and_queries_by_view_name_not_path(client):
    from tests.factories import FacilityFactory

    FacilityFactory(facility_id="K0880-042")
    key = 'hvb_http_request_duration_seconds_count{method="GET",view="api:facility"}'
    before = scrape(client)

    response = client.get(reverse("api:facility", kwargs={"facility_id": "K0880-042"}))
    after = scrape(client)

    assert response.status_code == 200
    assert after[key] == before.get(key, 0) + 1
    queries = 'hvb_db_queries_per_request_count{view="api:facility"}'
    assert after[queries] == before.get(queries, 0) + 1
    assert after['hvb_db_queries_per_request_sum{view="api:facility"}'] > before.get(
        'hvb_db_queries_per_request_sum{view="api:facility"}', 0
    )
    assert not [name for name in after if "K0880-042" in name]  # no ids in the labels


def test_metrics__failed_login__counted(client):
    before = scrape(client).get("hvb_login_failures_total{}", 0)

    client.post(reverse("access:login_link", kwargs={"link": "ingen-giltig-lank"}))

    assert scrape(client)["hvb_login_failures_total{}"] == before + 1


def test_metrics__access_log_write_refused__counted_and_the_error_still_raised(client):
    before = scrape(client).get("hvb_access_log_write_failures_total{}", 0)

    # An entry without its action: the database refuses it (NOT NULL), on SQLite and PostgreSQL.
    with (
        pytest.raises(Exception, match=r"(?i)null"),
        transaction.atomic(using=settings.ACCESS_LOG_DATABASE),
    ):
        log.record(None, None)

    assert scrape(client)["hvb_access_log_write_failures_total{}"] == before + 1


def test_metrics__a_queued_task__counted_in_the_queue_length(client):
    from alerts.tasks import QUEUE, send_digest

    key = f'hvb_task_queue_ready{{queue="{QUEUE}"}}'
    before = scrape(client)[key]

    send_digest.enqueue(user_id=1)
    after = scrape(client)

    assert after[key] == before + 1
    assert after[f'hvb_task_queue_oldest_ready_age_seconds{{queue="{QUEUE}"}}'] >= 0


# --- The request id ------------------------------------------------------------------------------


def test_request_id__valid_incoming__echoed_and_on_the_access_log_entry(client):
    response = client.post(
        reverse("access:login_link", kwargs={"link": "ingen-giltig-lank"}),
        HTTP_X_REQUEST_ID="proxy.0a1b2c3d-77",
    )

    assert response["X-Request-ID"] == "proxy.0a1b2c3d-77"
    entry = AccessEvent.objects.filter(action="login_failed").order_by("-id").first()
    assert entry.request_id == "proxy.0a1b2c3d-77"


@pytest.mark.parametrize(
    "incoming",
    ["short", "with space inside", "x" * 65, "ok-id-1234\r\nX-Evil: 1", "åäö-åäö-åäö"],
)
def test_request_id__malformed_incoming__replaced_by_a_new_one(client, incoming):
    response = client.get(reverse("operations:healthz"), HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32
    int(response["X-Request-ID"], 16)


def test_request_id__none_incoming__each_request_its_own(client):
    first = client.get(reverse("operations:healthz"))["X-Request-ID"]
    second = client.get(reverse("operations:healthz"))["X-Request-ID"]

    assert first != second


def test_request_id__api_request__has_one(client):
    response = client.get(reverse("api:api_info"), HTTP_X_REQUEST_ID="api-call-000001")

    assert response["X-Request-ID"] == "api-call-000001"


def test_request_id__json_log_line_of_the_request__carries_it(client):
    assert settings.LOG_FORMAT == "json"  # the default without DEBUG
    console = next(
        handler for handler in logging.getLogger().handlers if handler.get_name() == "console"
    )
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        client.get("/finns-inte-alls/", HTTP_X_REQUEST_ID="follow-me-42424242")
    finally:
        console.setStream(previous)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [line for line in lines if line.get("request_id") == "follow-me-42424242"]
    assert ours, lines
    assert ours[0]["level"] == "WARNING"
    assert ours[0]["logger"] == "django.request"
    assert "time" in ours[0]


def test_log_lines__a_login_link_s_secret__never_written():
    """Django's CSRF and request loggers name the path and carry the request; a login link's
    secret still works when its page refuses a form, so it must not reach the log."""
    secret = "hemlighet-som-fortfarande-galler-4711"
    console = next(
        handler for handler in logging.getLogger().handlers if handler.get_name() == "console"
    )
    stream = io.StringIO()
    previous = console.setStream(stream)
    try:
        response = Client(enforce_csrf_checks=True).post(
            f"/logga-in/lank/{secret}/?code=oidc-kod-123", HTTP_X_REQUEST_ID="csrf-refused-0001"
        )
    finally:
        console.setStream(previous)

    assert response.status_code == 403
    written = stream.getvalue()
    ours = [json.loads(line) for line in written.splitlines()]
    assert any(line.get("request_id") == "csrf-refused-0001" for line in ours), written
    assert secret not in written
    assert "oidc-kod-123" not in written
    assert "/logga-in/lank/***/" in written
