"""The access log under load: p95 of the search and facility pages with 32 concurrent users,
with the log on and off, served by gunicorn on 127.0.0.1 in the same run.

    make bench            # builds bench/bench.sqlite3 with seed_demo, then runs this
    DATABASE_URL=... ACCESS_LOG_DATABASE_URL=... .venv/bin/python bench/access_log_load.py

The requirement (issue): the log adds at most 10 % to the p95 of the search and facility pages
under 32 concurrent users, on SQLite too, and no entry is lost if the process dies.

Two gunicorn servers run the same code on the same databases, one with ACCESS_LOG_ENABLED=false
(the baseline) and one with it on; traffic goes to one at a time, in eight rounds ordered off,
on, on, off, on, off, off, on (a drift over the run cancels out), each after a warm-up. 32
virtual users, each its own signed-in municipal user with its own keep-alive connection
(httpx), loop without think time: a search (one of a few filter combinations), then a facility
page (a random demo home).
After each round the log is counted: one entry per page answered 200 with the log on, none with
it off. Last, a crash check: the log-on server's workers are killed (SIGKILL) under load, and
every search answered 200 must have its entry (each carries a marker the entry's detail keeps).

Environment: BENCH_ROUND_SECONDS (15), BENCH_WARMUP_SECONDS (3), BENCH_USERS (32),
BENCH_WORKERS (4), BENCH_THREADS (4), BENCH_CRASH_SECONDS (8; 0 skips the crash check).
"""

import asyncio
import datetime
import logging
import os
import platform
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The databases `make bench` builds, when run on its own.
os.environ.setdefault(
    "DATABASE_URL", f"sqlite:///{Path(__file__).resolve().parent / 'bench.sqlite3'}"
)
os.environ.setdefault(
    "ACCESS_LOG_DATABASE_URL", f"sqlite:///{Path(__file__).resolve().parent / 'accesslog.sqlite3'}"
)

import django

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import OperationalError, connection, connections  # noqa: E402

from access.models import AccessEvent  # noqa: E402
from register.models import Facility  # noqa: E402

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "15"))
WARMUP_SECONDS = float(os.environ.get("BENCH_WARMUP_SECONDS", "3"))
USERS = int(os.environ.get("BENCH_USERS", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
CRASH_SECONDS = float(os.environ.get("BENCH_CRASH_SECONDS", "8"))
# ABBA BAAB: a linear or quadratic drift over the run (another load on the machine) cancels out.
ORDER = ("off", "on", "on", "off", "on", "off", "off", "on")
PYTHON = sys.executable
BIN = Path(PYTHON).parent

# What a social worker looks for: a type, the child's age, a län, a sorting.
SEARCHES = (
    "/",
    "/?typ=hvb&alder=15&lan=01",
    "/?lan=12&sortera=latest_decision",
    "/?typ=hvb&typ=stodboende&kon=flickor&alder=16",
    "/?typ=hvb&alder=14&lan=14&sortera=latest_decision",
    "/?q=g%C3%A5rden&lan=01",
)
SERVER_ENV = {
    "DEBUG": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_SSL_REDIRECT": "false",
    "SECURE_HSTS_SECONDS": "0",
    "ALLOWED_HOSTS": "127.0.0.1",
    "LOG_LEVEL": "WARNING",
}
MARKER = re.compile(r"bench=(u\d+s\d+)")


# --- The database, the users and their sessions ----------------------------------------------


def manage(*args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def ensure_demo_database() -> None:
    """The database `make bench` builds; built here the same way when it is missing."""
    try:
        seeded = Facility.objects.exists()
    except OperationalError:  # no tables yet
        seeded = False
    if not seeded:
        connections.close_all()
        manage("migrate_all", "-v", "0")
        manage("seed_demo")
    # As `make bench` does: a page naming a file the manifest lacks would answer 500.
    manage("collectstatic", "--noinput", "-v", "0")


def signed_in_users(count: int) -> list[tuple[int, str]]:
    """``count`` allowlisted municipal users across the kommuner with demo homes, each signed in
    through a session written directly (what a login leaves): [(user id, session key)]."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from access.middleware import LOGIN_AT, SEEN_AT
    from access.models import Account, AllowlistEntry

    municipalities = list(
        Facility.objects.order_by("municipality").values_list("municipality", flat=True).distinct()
    )
    now = timezone.now()
    users = []
    for number in range(count):
        email = f"bench.load.{number:02d}@example.com"
        municipality_id = municipalities[number % len(municipalities)]
        user, created = get_user_model().objects.get_or_create(username=email, email=email)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        Account.objects.update_or_create(
            user=user, defaults={"role": "kommun_anvandare", "municipality_id": municipality_id}
        )
        live = AllowlistEntry.objects.active(now=now).filter(email=email)
        if not live.filter(municipality_id=municipality_id, role="kommun_anvandare").exists():
            live.update(revoked_at=now)
            AllowlistEntry.objects.create(
                email=email,
                municipality_id=municipality_id,
                confirmed_at=now,
                expires_at=now + datetime.timedelta(days=365),
            )
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[LOGIN_AT] = session[SEEN_AT] = int(time.time())
        session.create()
        users.append((user.pk, session.session_key))
    return users


def log_position() -> int:
    last = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def log_entries_after(position: int) -> list[tuple[str, str]]:
    return list(AccessEvent.objects.filter(id__gt=position).values_list("action", "detail"))


# --- gunicorn -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, log_enabled: bool):
        self.log_enabled = log_enabled
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **SERVER_ENV, "ACCESS_LOG_ENABLED": str(log_enabled).lower()}
        self.stderr = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop)
            "w", prefix=f"bench-gunicorn-log-{'on' if log_enabled else 'off'}-", delete=False
        )
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                "--worker-class=gthread",
                f"--workers={WORKERS}",
                f"--threads={THREADS}",
                "--keep-alive=75",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn stopped at start-up: see {self.stderr.name}")
            try:
                httpx.get(self.base_url + "/inget/", trust_env=False, timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        sys.exit(f"gunicorn did not answer within {timeout:.0f} s: see {self.stderr.name}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()


# --- The load -----------------------------------------------------------------------------------


async def load(
    server: Server,
    sessions: list[tuple[int, str]],
    facility_ids: list[str],
    seconds: float,
    *,
    seed: int,
    marked: bool = False,
    during=None,
) -> list[tuple[str, float, object, str]]:
    """Every user loops, without think time, until ``seconds`` have passed (a request begun
    finishes): [(kind, latency ms, status or error name, marker)]."""
    samples: list[tuple[str, float, object, str]] = []
    clients = [
        httpx.AsyncClient(
            base_url=server.base_url,
            cookies={"sessionid": key},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=60,
            trust_env=False,  # straight to 127.0.0.1, never through a proxy from the environment
        )
        for _user, key in sessions
    ]

    async def user(number: int, client: httpx.AsyncClient, deadline: float) -> None:
        rng = random.Random(seed * 1000 + number)
        sequence = rng.randrange(2)  # half the users start with a facility page
        while time.perf_counter() < deadline:
            marker = ""
            if marked:  # the crash check: searches only, each with a marker the log keeps
                marker = f"u{number}s{sequence}"
                kind, url = "search", f"{rng.choice(SEARCHES)}"
                url += ("&" if "?" in url else "?") + f"bench={marker}"
            elif sequence % 2 == 0:
                kind, url = "search", rng.choice(SEARCHES)
            else:
                kind, url = "facility", f"/verksamhet/{rng.choice(facility_ids)}/"
            sequence += 1
            started = time.perf_counter()
            try:
                response = await client.get(url)
                status: object = response.status_code
            except httpx.HTTPError as error:
                status = type(error).__name__
            samples.append((kind, (time.perf_counter() - started) * 1000, status, marker))

    try:
        deadline = time.perf_counter() + seconds
        tasks = [user(n, client, deadline) for n, client in enumerate(clients)]
        if during is not None:
            tasks.append(during())
        await asyncio.gather(*tasks)
    finally:
        for client in clients:
            await client.aclose()
    return samples


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[int(fraction * (len(ordered) - 1))]


def summary(samples, kind: str | None, seconds: float) -> dict:
    latencies = [ms for k, ms, _s, _m in samples if kind is None or k == kind]
    return {
        "requests": len(latencies),
        "rate": len(latencies) / seconds,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
    }


def run_round(server, sessions, facility_ids, number: int) -> dict:
    position = log_position()
    warmup = asyncio.run(load(server, sessions, facility_ids, WARMUP_SECONDS, seed=100 + number))
    samples = asyncio.run(load(server, sessions, facility_ids, ROUND_SECONDS, seed=number))
    answered = sum(1 for *_rest, status, _m in warmup + samples if status == 200)
    written = len(log_entries_after(position))
    return {
        "mode": "on" if server.log_enabled else "off",
        "samples": samples,
        "errors": sum(1 for *_rest, status, _m in warmup + samples if status != 200),
        "answered": answered,
        "expected": answered if server.log_enabled else 0,
        "written": written,
    }


def crash_check(server: Server, sessions, facility_ids) -> dict:
    """Workers killed with SIGKILL under load: every search answered 200 has its entry."""
    position = log_position()
    killed = []

    async def killer():
        for _ in range(2):
            await asyncio.sleep(CRASH_SECONDS / 3)
            pid = random.Random(len(killed)).choice(server.worker_pids())
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    samples = asyncio.run(
        load(server, sessions, facility_ids, CRASH_SECONDS, seed=999, marked=True, during=killer)
    )
    logged = {
        match.group(1)
        for _action, detail in log_entries_after(position)
        if (match := MARKER.search(detail))
    }
    answered = {marker for _k, _ms, status, marker in samples if status == 200}
    return {
        "killed": len(killed),
        "answered": len(answered),
        "cut": sum(1 for _k, _ms, status, _m in samples if status != 200),
        "lost": len(answered - logged),
        "logged_unanswered": len(logged - answered),
    }


# --- Report -------------------------------------------------------------------------------------


def main() -> None:
    started = time.monotonic()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    ensure_demo_database()
    facility_ids = list(Facility.objects.values_list("facility_id", flat=True))
    sessions = signed_in_users(USERS)
    connections.close_all()  # this process holds no connection while the servers run

    servers = {"off": Server(log_enabled=False), "on": Server(log_enabled=True)}
    try:
        for server in servers.values():
            server.wait_ready()
        rounds = [
            run_round(servers[mode], sessions, facility_ids, number)
            for number, mode in enumerate(ORDER, start=1)
        ]
        crash = crash_check(servers["on"], sessions, facility_ids) if CRASH_SECONDS else None
    finally:
        for server in servers.values():
            server.stop()

    pooled = {
        mode: [sample for r in rounds if r["mode"] == mode for sample in r["samples"]]
        for mode in ("off", "on")
    }
    seconds = {mode: ROUND_SECONDS * ORDER.count(mode) for mode in ("off", "on")}
    print(
        f"# Access log under load — {connection.vendor} (log: {settings.ACCESS_LOG_DATABASE}, "
        f"own file), {Facility.objects.count()} facilities, {USERS} concurrent users, "
        f"gunicorn gthread {WORKERS} workers × {THREADS} threads on 127.0.0.1, rounds "
        f"{', '.join(ORDER)} of {ROUND_SECONDS:.0f} s after {WARMUP_SECONDS:.0f} s warm-up"
    )
    print(
        f"# machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}; the load driver (httpx, asyncio) "
        f"runs on the same cores"
    )
    print()
    print("| page | log | requests | req/s | p50 ms | p95 ms | p99 ms | p95 on/off |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    ratios = {}
    for kind, label in (("search", "search"), ("facility", "facility"), (None, "both")):
        off = summary(pooled["off"], kind, seconds["off"])
        on = summary(pooled["on"], kind, seconds["on"])
        ratios[label] = on["p95"] / off["p95"]
        for mode, figures in (("off", off), ("on", on)):
            ratio = f"{ratios[label]:.2f}" if mode == "on" else "1.00"
            print(
                f"| {label} | {mode} | {figures['requests']} | {figures['rate']:.1f} | "
                f"{figures['p50']:.1f} | {figures['p95']:.1f} | {figures['p99']:.1f} | {ratio} |"
            )
    print()
    pairs = [sorted(rounds[i : i + 2], key=lambda r: r["mode"]) for i in range(0, len(rounds), 2)]
    per_pair = ", ".join(
        f"{summary(on['samples'], None, 1)['p95'] / summary(off['samples'], None, 1)['p95']:.2f}"
        for off, on in pairs
    )
    print(f"- p95 on/off per pair of rounds (both pages): {per_pair}")
    errors = sum(r["errors"] for r in rounds)
    print(f"- responses other than 200 (warm-ups included): {errors}")
    for r in rounds:
        r["ok"] = r["written"] == r["expected"]
    print(
        "- log entries written / pages answered 200 with the log on (warm-ups included): "
        + ", ".join(f"{r['written']}/{r['expected']}" for r in rounds if r["mode"] == "on")
        + "; with the log off: "
        + ", ".join(str(r["written"]) for r in rounds if r["mode"] == "off")
    )
    if crash:
        print(
            f"- crash check: {crash['killed']} workers killed (SIGKILL) under load; "
            f"{crash['answered']} searches answered 200, {crash['lost']} of them without an "
            f"entry; {crash['cut']} requests cut by the kills, {crash['logged_unanswered']} "
            f"logged but never answered"
        )
    verdict = all(r["ok"] for r in rounds) and not errors and not (crash and crash["lost"])
    print(
        f"- requirement p95 on/off ≤ 1.10: search {ratios['search']:.2f}, facility "
        f"{ratios['facility']:.2f}; nothing lost: {'yes' if verdict else 'NO'}; "
        f"whole run {time.monotonic() - started:.0f} s"
    )
    if not verdict:
        sys.exit(1)


if __name__ == "__main__":
    main()
