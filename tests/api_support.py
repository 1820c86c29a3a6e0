"""Helpers for the API tests: clients with keys, a municipal system that follows the changes
feed into a mirror of its own, and writers on connections of their own (the ``writers`` fixture in
tests/conftest.py)."""

import json
import queue
import threading
from urllib.parse import urlencode

from django.db import connection, transaction

from access.roles import Role
from api import services
from register.models import Municipality
from tests.factories import make_user


def api_client_with_token(municipality: str = "0880", *, name: str = "Ärendesystemet"):
    """A registered API client of ``municipality`` and its key, issued by an IVO administrator."""
    administrator = make_user(Role.IVO_ADMIN)
    client = services.api_client_create(
        name=name, municipality=Municipality.objects.get(code=municipality), actor=administrator
    )
    _issued, token = services.api_token_issue(client=client, actor=administrator)
    return client, token


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def get_json(http, url: str, **headers):
    response = http.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code, body(response)[:500])
    return json.loads(body(response))


def all_pages(http, path: str, params: dict | None = None, **headers) -> list[dict]:
    items, offset = [], 0
    while True:
        query = urlencode({**(params or {}), "limit": 1000, "offset": offset}, doseq=True)
        page = get_json(http, f"{path}?{query}", **headers)
        items += page["items"]
        offset += 1000
        if offset >= page["total"]:
            return items


ALL_STATUSES = {"status": ["aktiv", "nedlagd", "aterkallad", "forbud", "tillfalligt_forbud"]}


class Mirror:
    """What a municipal system keeps: each resource as the API last gave it, kept current by the
    changes feed alone."""

    def __init__(self, http, **headers):
        self.http, self.headers = http, headers
        self.cursor = ""
        self.resources: dict[tuple[str, str], dict] = {}
        self.seen: list[str] = []
        self.changes: list[dict] = []

    def poll(self) -> list[dict]:
        """Follows the feed to its end; returns the changes it read."""
        read = []
        while True:
            page = get_json(
                self.http, f"/api/v1/changes?since={self.cursor}&limit=50", **self.headers
            )
            for change in page["items"]:
                self.seen.append(change["cursor"])
                self._apply(change)
            read += page["items"]
            self.changes += page["items"]
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                return read

    def poll_until(self, condition, *, seconds: float = 120) -> None:
        """Polls until ``condition(resources)`` holds, and fails if it does not within
        ``seconds``. On SQLite it holds at the first poll. On PostgreSQL the feed lists only what
        every writing transaction of the cluster that started earlier has finished with; another
        process's open transaction (another test suite on the same server) holds it back for as
        long as that transaction lasts, so the wait is for the condition, not for a time."""
        import time

        deadline = time.monotonic() + seconds
        self.poll()
        while not condition(self.resources):
            assert time.monotonic() < deadline, f"the feed did not get there in {seconds} s"
            time.sleep(0.2)
            self.poll()

    def _apply(self, change: dict) -> None:
        key = (change["resource"], change["resource_id"])
        response = self.http.get(change["url"], **self.headers)
        if change["resource"] in ("decision", "inspection"):
            items = json.loads(body(response))["items"]
            if items:
                self.resources[key] = items[0]
            else:
                self.resources.pop(key, None)
        elif response.status_code == 404:
            self.resources.pop(key, None)
        else:
            assert response.status_code == 200, (change, response.status_code)
            self.resources[key] = json.loads(body(response))


def server_state(http, **headers) -> dict[tuple[str, str], dict]:
    """Everything the API holds, read afresh."""
    state = {}
    for facility in all_pages(http, "/api/v1/facilities", ALL_STATUSES, **headers):
        detail = get_json(http, f"/api/v1/facilities/{facility['facility_id']}", **headers)
        state[("facility", facility["facility_id"])] = detail
    for provider in all_pages(http, "/api/v1/providers", **headers):
        detail = get_json(http, f"/api/v1/providers/{provider['provider_id']}", **headers)
        state[("provider", provider["provider_id"])] = detail
    for decision in all_pages(http, "/api/v1/decisions", **headers):
        state[("decision", decision["diarienummer"])] = decision
    for inspection in all_pages(http, "/api/v1/inspections", **headers):
        state[("inspection", inspection["diarienummer"])] = inspection
    return state


class Writer(threading.Thread):
    """A connection of its own, in autocommit: what it writes is committed at once, or when the
    transaction it opened with ``begin`` ends with ``commit``."""

    def __init__(self):
        super().__init__(daemon=True)
        self.jobs: queue.Queue = queue.Queue()
        self.atomic = None
        self.start()

    def run(self):
        while (job := self.jobs.get()) is not None:
            function, done, result = job
            try:
                result.append(function())
            except BaseException as error:  # handed to the test's thread
                result.append(error)
            done.set()
        connection.close()

    def call(self, function):
        done, result = threading.Event(), []
        self.jobs.put((function, done, result))
        assert done.wait(30), "the writer did not answer"
        if isinstance(result[0], BaseException):
            raise result[0]
        return result[0]

    def begin(self):
        def enter():
            self.atomic = transaction.atomic()
            self.atomic.__enter__()

        self.call(enter)

    def commit(self):
        self.call(lambda: self.atomic.__exit__(None, None, None))

    def stop(self):
        self.jobs.put(None)
        self.join(10)


def remove_committed(first_event_id: int) -> None:
    """Deletes what the writers committed, history, feeds, events, watches and queued tasks
    included (raw SQL: the register's services would write more history)."""
    with connection.cursor() as cursor:
        # What the register's events made first: they refer to its facilities and decisions.
        for table in ("alerts_notice", "alerts_eventfanout", "alerts_watch"):
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute("DELETE FROM register_registerevent")
        cursor.execute("DELETE FROM django_tasks_database_dbtaskresult")
        tables = ("finding", "decision", "inspection", "manager", "permit", "registration")
        for table in (*tables, "facility"):
            cursor.execute(f"DELETE FROM register_historical{table}")
            cursor.execute(f"DELETE FROM register_{table}")
        cursor.execute("DELETE FROM register_historicalprovider")
        cursor.execute("DELETE FROM register_provider")
        cursor.execute("DELETE FROM api_changeevent WHERE id >= %s", [first_event_id])


def on_writer(writer):
    """Runs a write on the writer's connection (PostgreSQL) or in the test (SQLite)."""
    return writer.call if writer is not None else (lambda function: function())
