"""The API's rate limit counts in Django's cache (CACHE_URL; the database cache by default), one
count per client whichever process serves it and however many callers there are.

The tests with gunicorn run it on a database of their own (SQLite files in the test's folder,
migrated with migrate_all), so they run in both legs of CI.
"""

import http.client
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
LIMIT = 10
CALLS = 30

ISSUE_TOKEN = """
import django; django.setup()
from api import services
from register.models import Municipality
client = services.api_client_create(
    name="Ärendesystemet", actor=None, municipality=Municipality.objects.get(code="0880")
)
print(services.api_token_issue(client=client, actor=None)[1])
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str, token: str | None = None, timeout: float = 10) -> int:
    """One call on a connection of its own (gunicorn's sync workers close it after each)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection.request("GET", path, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


class Server:
    """gunicorn, two sync workers, on loopback; ``workers_seen`` reads its access log."""

    def __init__(self, directory: Path, environment: dict):
        self.port = _free_port()
        self.log = directory / "access.log"
        self.errors = directory / "gunicorn.log"
        with open(self.errors, "wb") as errors:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "gunicorn", "config.wsgi"),
                    *("-w", "2", "-b", f"127.0.0.1:{self.port}"),
                    *("--access-logfile", str(self.log), "--access-logformat", "%(p)s %(U)s"),
                ],
                env=environment,
                cwd=BASE_DIR,
                stdout=errors,
                stderr=subprocess.STDOUT,
            )

    def workers_seen(self, path: str) -> set[str]:
        """The process ids of the workers that answered calls of ``path``."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return {
            match[1]
            for line in lines
            if (match := re.fullmatch(r"<(\d+)> (\S+)", line)) and match[2] == path
        }

    def wait_for_both_workers(self) -> None:
        """Until each worker has answered (a worker still starting answers nothing), calling
        without a key: those calls are counted for the address, not for the client."""
        deadline = time.monotonic() + 60
        while len(self.workers_seen("/api/v1/problem-types")) < 2:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"gunicorn svarade inte från två arbetare:\n{self.errors.read_text()}")
            try:
                _get(self.port, "/api/v1/problem-types", timeout=2)
            except OSError:
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()  # the arbiter stops its workers
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _environment(directory: Path) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CACHE_URL", "TEST_DATABASE_NAME", "TEST_ACCESS_LOG_DATABASE_NAME")
    }
    environment.update(
        DATABASE_URL=f"sqlite:///{directory / 'register.sqlite3'}",
        ACCESS_LOG_DATABASE_URL=f"sqlite:///{directory / 'accesslog.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        ALLOWED_HOSTS="127.0.0.1",
        API_RATE_LIMIT_PER_MINUTE=str(LIMIT),
        PYTHONPATH=str(BASE_DIR),
    )
    return environment


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """The register and the access log in SQLite files, migrated once for the module."""
    directory = tmp_path_factory.mktemp("migrated")
    subprocess.run(
        [sys.executable, "manage.py", "migrate_all", "-v", "0"],
        env=_environment(directory),
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
    )
    return directory


@pytest.fixture
def start_server(migrated, tmp_path):
    """``start_server(**environment)``: a copy of the migrated files with one API client, and
    gunicorn serving them; gives the server and the client's key."""
    for name in ("register.sqlite3", "accesslog.sqlite3"):
        shutil.copyfile(migrated / name, tmp_path / name)
    environment = _environment(tmp_path)
    token = subprocess.run(
        [sys.executable, "-c", ISSUE_TOKEN],
        env=environment,
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    servers = []

    def start(**extra: str) -> tuple[Server, str]:
        server = Server(tmp_path, {**environment, **extra})
        servers.append(server)
        server.wait_for_both_workers()
        return server, token

    yield start
    for server in servers:
        server.stop()


def test_rate_limit__two_workers__the_limit_holds_for_the_client_across_both(start_server):
    server, token = start_server()  # CACHE_URL unset: the default, the database cache
    # One worker is held by a call whose request is not yet finished (a sync worker reads it to
    # its end), so the next calls all go to the other worker: both serve the client, whatever
    # the scheduler would have done.
    held = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    held.sendall(
        f"GET /api/v1/api-info HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nConnection: close\r\n".encode()
    )
    try:
        before = [_get(server.port, "/api/v1/api-info", token) for _ in range(LIMIT - 1)]
        held.sendall(b"\r\n")
        held_status = int(held.makefile("rb").readline().split()[1])
    finally:
        held.close()
    after = [_get(server.port, "/api/v1/api-info", token) for _ in range(CALLS - LIMIT)]

    assert before == [200] * (LIMIT - 1)
    assert held_status == 200  # the tenth call, counted by the other worker's nine
    assert after == [429] * (CALLS - LIMIT)
    assert len(server.workers_seen("/api/v1/api-info")) == 2


def test_rate_limit__on_sqlite__answered_while_the_register_is_locked_for_writing(
    start_server, tmp_path
):
    """Every API call writes its count. On SQLite the cache's table is in the access log's file
    (config/routers.py), so a long write to the register (an import) does not hold calls up."""
    server, token = start_server()
    register = sqlite3.connect(tmp_path / "register.sqlite3", isolation_level=None)
    try:
        register.execute("BEGIN IMMEDIATE")  # the register's write lock, as an import holds it
        started = time.monotonic()
        status = _get(server.port, "/api/v1/api-info", token, timeout=30)
        waited = time.monotonic() - started
    finally:
        register.execute("ROLLBACK")
        register.close()

    assert status == 200
    assert waited < 5  # the busy timeout is 20 s


@pytest.mark.django_db(databases="__all__")
def test_rate_limit__more_callers_than_django_s_default_cache_size__each_count_kept(
    client, settings
):
    """Django's caches keep 300 entries unless told otherwise, then drop a third of them: a
    caller whose count was dropped would start afresh. The cache as the project configures it
    (the tests' own is in memory: tests/conftest.py)."""
    from django.core.cache import cache

    from config import settings as project

    settings.CACHES = project.CACHES
    cache.clear()
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    callers = [f"10.0.{number // 250}.{number % 250 + 1}" for number in range(400)]
    for address in callers:
        assert client.get("/api/v1/problem-types", REMOTE_ADDR=address).status_code == 200

    again = [client.get("/api/v1/problem-types", REMOTE_ADDR=a).status_code for a in callers]

    assert again == [429] * len(callers)
