"""The deployment as committed (docs/operations.md): the deploy check passes, gunicorn reads its
configuration from the environment and logs without secrets, and the Containerfile and the
systemd units run the scripts that .ci/container-check runs."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gunicorn.app.base import Application

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
CONFIG = DEPLOY / "gunicorn.conf.py"


def _check_environment() -> dict[str, str]:
    """deploy/check.env, the production settings the deploy check uses, as a dict."""
    environment = {}
    for line in (DEPLOY / "check.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            environment[name] = value
    return environment


def test_deploy_check__production_settings__passes():
    """The same script as `make deploy-check`: check --deploy with every warning an error, and
    makemigrations --check."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "TEST_")) and name != "SECRET_KEY"
    }
    result = subprocess.run(
        [str(DEPLOY / "check.sh"), sys.executable],
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "No changes detected" in result.stdout


class _ConfigOnly(Application):
    """gunicorn's own reading of deploy/gunicorn.conf.py, without starting anything."""

    def load_config(self) -> None:
        self.load_config_from_file(str(CONFIG))

    def load(self):  # pragma: no cover - never started
        raise AssertionError("not started")


def test_gunicorn_config__read_by_gunicorn__takes_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "127.0.0.1:8123")
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "4")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "45")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "1234")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS_JITTER", "56")

    cfg = _ConfigOnly().cfg

    assert cfg.bind == ["127.0.0.1:8123"]
    assert (cfg.workers, cfg.threads, cfg.timeout) == (3, 4, 45)
    assert (cfg.max_requests, cfg.max_requests_jitter) == (1234, 56)
    assert cfg.forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert cfg.accesslog == "-"
    assert cfg.logger_class.__name__ == "JsonAccessLogger"
    assert cfg.child_exit.__name__ == "child_exit"


def test_gunicorn_config__workers_unset__two_per_core_and_one(monkeypatch):
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)

    assert _ConfigOnly().cfg.workers == 2 * (os.cpu_count() or 1) + 1


def test_gunicorn_config__malformed_number__stops_naming_the_variable(monkeypatch):
    monkeypatch.setenv("GUNICORN_TIMEOUT", "thirty")

    with pytest.raises(SystemExit, match="GUNICORN_TIMEOUT"):
        _ConfigOnly()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_log(tmp_path_factory) -> Iterator[Path]:
    """One real gunicorn (deploy/start.sh's command) with production settings, asked for a login
    link and an OpenID Connect callback over plain HTTP (redirected, and logged), then stopped."""
    folder = tmp_path_factory.mktemp("gunicorn")
    port = _free_port()
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith("TEST_")},
        **_check_environment(),
        "SECRET_KEY": "a-test-key-" + "x" * 50,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
    }
    log = folder / "gunicorn.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(CONFIG), "config.wsgi"],
            env=environment,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text()) from None
                time.sleep(0.2)
        import http.client

        for path in (
            "/logga-in/lank/the-secret-of-the-link/",
            "/oidc/callback/?code=the-secret-code&state=the-state",
        ):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(
                "GET",
                path,
                headers={
                    "Host": "hvb-registret.example.se",
                    "X-Request-ID": "req-from-the-proxy",
                    "Referer": "https://hvb-registret.example.se/logga-in/lank/the-secret-of-the-link/",
                    "User-Agent": 'a "quoted" agent',
                },
            )
            assert connection.getresponse().status == 301
            connection.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
    yield log


def test_gunicorn_access_log__login_link_and_oidc_code__redacted(gunicorn_log):
    text = gunicorn_log.read_text()

    assert "the-secret-of-the-link" not in text
    assert "the-secret-code" not in text
    assert "the-state" not in text
    assert "/logga-in/lank/***/" in text


def test_gunicorn_access_log__one_json_object_per_request_with_its_request_id(gunicorn_log):
    entries = [
        json.loads(line)
        for line in gunicorn_log.read_text().splitlines()
        if line.startswith("{") and '"request_id"' in line
    ]

    assert [entry["status"] for entry in entries] == [301, 301]
    assert {entry["request_id"] for entry in entries} == {"req-from-the-proxy"}
    assert entries[0]["user_agent"] == 'a "quoted" agent'


def test_gunicorn__sigterm__master_shuts_down_gracefully(gunicorn_log):
    assert "Shutting down: Master" in gunicorn_log.read_text()


@pytest.mark.django_db
def test_plain_http__health_paths__not_redirected_to_https(client, settings):
    """A load balancer, the container's HEALTHCHECK and Prometheus ask over plain HTTP; any
    other page is sent to https://."""
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301
    for path in ("/healthz", "/readyz", "/metrics"):
        assert client.get(path).status_code != 301, path


def _instructions(text: str, keyword: str) -> list[str]:
    return re.findall(rf"^{keyword}\s+(.+)$", text, flags=re.MULTILINE)


def test_containerfile__runs_the_scripts_ci_checks():
    containerfile = (ROOT / "Containerfile").read_text()
    container_check = (ROOT / ".ci" / "container-check").read_text()

    (base,) = _instructions(containerfile, "FROM")
    assert base in ("python:3.11-slim-bookworm", "debian:bookworm-slim")
    assert any("deploy/install.sh" in run for run in _instructions(containerfile, "RUN"))
    assert "deploy/start.sh" in _instructions(containerfile, "ENTRYPOINT")[0]
    assert "deploy/healthcheck.py" in containerfile and '"/readyz"' in containerfile
    (user,) = _instructions(containerfile, "USER")
    assert user not in ("root", "0")
    for script in ("deploy/install.sh", "deploy/start.sh", "deploy/healthcheck.py"):
        assert (ROOT / script).is_file(), script
        assert script in container_check, script
    for script in ("install.sh", "start.sh", "check.sh"):
        assert os.access(DEPLOY / script, os.X_OK), script


def test_systemd_units__start_through_start_sh_and_every_timer_has_its_service():
    units = DEPLOY / "systemd"
    services = {path.stem: path.read_text() for path in units.glob("*.service")}
    timers = {path.stem for path in units.glob("*.timer")}

    assert {"hvb-registret-web", "hvb-registret-worker@"} <= set(services)
    assert "hvb-registret-prune-access-log" in timers
    assert timers <= set(services)
    for name, text in services.items():
        assert "/opt/hvb-registret/app/deploy/start.sh" in text, name
        assert "EnvironmentFile=/etc/hvb-registret/env" in text, name
        assert "ProtectSystem=strict" in text and "NoNewPrivileges=yes" in text, name
        assert re.search(r"^User=(?!root$)\S+$", text, flags=re.MULTILINE), name
    for name in ("hvb-registret-web", "hvb-registret-worker@"):
        assert "Restart=on-failure" in services[name], name
