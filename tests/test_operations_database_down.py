"""/readyz when the register's database stops, under a real server process (gunicorn) on a
database of its own (tests/process_support.py), in both legs of CI.

PostgreSQL: the server reaches the database through a small TCP forwarder on loopback, which
the test closes (its listening socket and every connection through it): to the application that
is the database server gone. The real server, which other tests share, is left running. SQLite:
the register's file replaced by a folder, which SQLite cannot open.
"""

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.process_support import database_of_their_own

BASE_DIR = Path(__file__).resolve().parent.parent


class Forwarder:
    """Loopback TCP forwarder to ``target``; ``close()`` cuts it off for good."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        self.listener.close()
        for end in self.sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


def _get(port: int, path: str) -> tuple[int, str]:
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request("GET", path)
        response = client.getresponse()
        return response.status, response.read().decode()
    finally:
        client.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory, django_db_setup, django_db_blocker):
    """gunicorn (one worker) on a migrated database of its own; gives the port, the database's
    connection settings, the folder, and ``stop_database()``."""
    folder = tmp_path_factory.mktemp("readyz")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CACHE_URL", "EMAIL_BACKEND", "LOG_FORMAT")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(BASE_DIR),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        # No mail server here: the console backend, which /readyz does not check.
        EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        DOCUMENTS_ROOT=str(folder / "documents"),
        # Two workers adding up their metrics (prometheus_client's multiprocess mode).
        PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"),
    )
    (folder / "metrics").mkdir()
    (folder / "metrics" / "counter_1.db").write_bytes(b"left over from an earlier run")
    with django_db_blocker.unblock():
        database = dict(connection.settings_dict)
        vendor = connection.vendor
    with database_of_their_own(
        database, vendor, folder=folder, name="readyz", environment=environment
    ) as environment:
        forwarder = None
        if vendor == "postgresql":
            host, port = database["HOST"], int(database["PORT"] or 5432)
            forwarder = Forwarder((host, port))
            environment["DATABASE_URL"] = environment["DATABASE_URL"].replace(
                f"@{host}:{port}/", f"@127.0.0.1:{forwarder.port}/"
            )

        def stop_database() -> None:
            if forwarder is not None:
                forwarder.close()
            else:
                register = folder / "register.sqlite3"
                register.rename(folder / "register-away.sqlite3")
                register.mkdir()

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        log = open(folder / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi"),
                # The deployment's own configuration: its hooks empty the metrics folder at
                # start and take a dead worker's gauges out.
                *("-c", str(BASE_DIR / "deploy" / "gunicorn.conf.py")),
                *("-w", "2", "-b", f"127.0.0.1:{port}"),
                *("--access-logfile", str(folder / "access.log")),
            ],
            env=environment,
            cwd=BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    _get(port, "/healthz")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail((folder / "gunicorn.log").read_text())
                    time.sleep(0.1)
            yield {
                "port": port,
                "database": database,
                "folder": folder,
                "stop_database": stop_database,
            }
        finally:
            server.terminate()
            server.wait(timeout=20)
            log.close()
            if forwarder is not None:
                forwarder.close()


def test_readyz__server_process_with_its_database__200_over_plain_http(served):
    # DEBUG off, so SECURE_SSL_REDIRECT is on: /readyz answers over plain HTTP all the same.
    status, text = _get(served["port"], "/readyz")

    assert status == 200, text
    assert json.loads(text)["status"] == "ok"


def _healthz_requests_counted(port: int) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    status, text = _get(port, "/metrics")
    assert status == 200, text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "hvb_http_requests_total"
        and sample.labels["view"] == "operations:healthz"
    )


def _workers_that_answered(folder: Path, path: str) -> set[str]:
    """The process ids in gunicorn's access log (deploy/gunicorn.conf.py: a JSON object a line)
    of the calls of ``path``."""
    log = folder / "access.log"
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return {entry["pid"] for entry in entries if entry["path"] == path}


def test_metrics__two_gunicorn_workers__one_scrape_counts_both(served):
    folder, port = served["folder"], served["port"]
    # The file left from "an earlier run" was removed by the on_starting hook.
    assert not (folder / "metrics" / "counter_1.db").exists()
    before = _healthz_requests_counted(port)

    made = 0
    while len(_workers_that_answered(folder, "/healthz")) < 2 or made < 20:
        assert _get(port, "/healthz")[0] == 200
        made += 1
        assert made < 500, "one worker answered every request"

    assert _healthz_requests_counted(port) == before + made


def test_readyz__database_stopped__503_names_database_and_no_secret(served):
    served["stop_database"]()

    status, text = _get(served["port"], "/readyz")

    assert status == 503, text
    answer = json.loads(text)
    assert answer["status"] == "fail"
    assert answer["components"]["database"] == "fail"
    assert answer["components"]["storage"] == "ok"
    database = served["database"]
    for secret in (database["PASSWORD"], database["USER"], database["HOST"]):
        if secret:
            assert secret not in text
    assert str(served["folder"]) not in text
    assert "sqlite" not in text.lower()
    assert "5432" not in text
    # The process itself is well: no restart is called for.
    assert _get(served["port"], "/healthz")[0] == 200
