"""Soak test (issue 21, part 5): 16 signed-in municipal users and 16 API clients for 10 minutes
against gunicorn on PostgreSQL (with a read replica when one is given), while the background
worker is killed with SIGKILL every minute and the replica is restarted once.

    make soak                                           # PostgreSQL hvb_soak, 10 minutes
    .venv/bin/python bench/soak.py --minutes 1          # a quick try
    .venv/bin/python bench/soak.py --replica postgres://hvb:…@127.0.0.1:5433/hvb_soak
    .venv/bin/python bench/soak.py --help               # every parameter

What it does, all on loopback (it refuses any database or server not on 127.0.0.1):

1. The database (``--database``, default hvb_soak on 127.0.0.1:5432; ``.ci/postgres hvb_soak``
   makes it): ``migrate_all`` and ``seed_demo`` when it has no facilities (or ``--fresh``),
   ``collectstatic``. The demo's own register events are marked told and the queue emptied, as
   bench/alerts.py does, so the worker starts idle.
2. An SMTP server on loopback (aiosmtpd, in this process) that keeps every mail: the login links
   and the notices.
3. gunicorn (``-c deploy/gunicorn.conf.py`` when that file exists, else gthread workers given on
   the command line; ``--bind 127.0.0.1:<free port>`` either way) and one ``manage.py
   run_worker`` beside it, with ``DATABASE_REPLICA_URLS`` when a replica is given.
4. 16 municipal users (bench/access_log_load.py's ``signed_in_users``: allowlisted, spread over
   the kommuner with demo homes), each signed in through the one-time login as a person does it,
   over HTTP: the login form, the mail with the link (read from the SMTP server), the link's
   button. The sessions that helper writes directly are deleted first. 16 API clients, each with
   a bearer key from ``api.services`` (as bench/api_load.py issues its key).
5. The load, for ``--minutes``: 32 concurrent clients, each its own keep-alive connection.
   Users browse (portal searches drawn from many filters and free texts, facility pages, provider
   pages, the statistics, their watch list) and now and then add or remove a watch; the read of
   the watch list right after such a write must show it (a violation is counted otherwise).
   API clients page through /api/v1/facilities, search with bench/api_load.py's search mix, read
   facilities and poll the changes feed with its cursor. Every request has a timeout; on a
   connection error, a timeout or a 5xx it is retried once after ``--retry-pause``.
   Meanwhile: the worker is killed with SIGKILL every ``--kill-every`` seconds and a new one
   started; a serious decision is saved on a home all 16 users watch one second before each kill
   (and once at the start), so the worker has notices to fan out and mail when it dies; the
   replica cluster is restarted once (``pg_ctlcluster <version> <name> restart`` at
   ``--replica-restart-at`` of the run) when a replica is given; the RSS of every gunicorn worker
   and of the worker process is read from /proc every ``--sample-every`` seconds.
6. After the load: the worker left running until every notice of those decisions is mailed (at
   most ``--drain`` seconds), then every process started here is stopped — also on Ctrl-C or a
   failure.

Checks (the run exits 1 when one fails): every request answered, on the first try or its retry;
no 5xx outside the replica restart's seconds (from its start to ``--restart-grace`` seconds after
it ended); every answered page and API read that the access log records (searches, facility and
provider pages, API searches, facilities and the changes feed) has its entry: by the
``X-Request-ID`` response header and the entries' ``request_id`` column when the code has them,
else by counting the entries per user, action and object; no read-after-write violation; every
notice made and mailed despite the kills. Reported besides: latency p50/p95/p99 per kind of
request, the 5xx and their times against the restart, memory (gunicorn's workers summed, and the
worker process) in the first and the last minute, the worker restarts, the gunicorn worker pids
seen. Results: stdout and ``--output`` (bench/results/soak.json, not in git).
"""

import argparse
import asyncio
import collections
import contextlib
import datetime
import email
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

import api_load  # noqa: E402  (bench/: search_mix, environment, manage, free_port, ...)

# The project before bench/ (which api_load and the script's own directory put first): bench/
# has an alerts.py, and ``alerts`` must be the Django app.
sys.path[:] = [str(ROOT), *(p for p in sys.path if p not in (str(ROOT), str(BENCH))), str(BENCH)]


def _bench_alerts():
    """bench/alerts.py (its /proc reader), loaded by path: ``import alerts`` is the Django app."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_alerts", BENCH / "alerts.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


proc_memory = _bench_alerts().memory

PYTHON = sys.executable
BIN = Path(PYTHON).parent
DATABASE = "postgres://hvb:hvb-ci-password@127.0.0.1:5432/hvb_soak"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
REQUEST_ID_HEADER = "X-Request-ID"
# A killed worker's mail is sent again only when its lease ends (NOTICE_LEASE_SECONDS, 600 s in
# production): in a 10-minute run the last kills' mails would still be leased at the end. Shorter
# here, and a sweep every 10 s, so the run can check that nothing is lost within its minutes.
NOTICE_LEASE_SECONDS = 30
NOTICE_SWEEP_SECONDS = 10

# Request kinds: the user's and the API client's, and whether the access log records each.
LOGGED = {
    "search": ("search", None),
    "facility": ("facility_view", "object"),
    "provider": ("provider_view", "object"),
    "api page": ("search", None),
    "api search": ("search", None),
    "api facility": ("facility_view", "object"),
    "api changes": ("api_read", None),
}
NOT_LOGGED = ("statistics", "watch list", "watch add", "watch remove")


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="length of the load (10)")
    parser.add_argument(
        "--database",
        default=os.environ.get("SOAK_DATABASE_URL", DATABASE),
        help="the primary (SOAK_DATABASE_URL; default hvb_soak on 127.0.0.1:5432)",
    )
    parser.add_argument(
        "--replica",
        default=os.environ.get("DATABASE_REPLICA_URLS", ""),
        help="DATABASE_REPLICA_URLS for the servers (comma-separated; default: that variable)",
    )
    parser.add_argument(
        "--replica-cluster",
        default="15/replica",
        help="the replica's cluster as <version>/<name> for pg_ctlcluster (15/replica)",
    )
    parser.add_argument(
        "--replica-restart-at",
        type=float,
        default=0.5,
        help="when to restart the replica, as a fraction of the run (0.5); below 0: never",
    )
    parser.add_argument(
        "--restart-grace",
        type=float,
        default=10,
        help="seconds after the restart's end within which a 5xx is allowed (10)",
    )
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--api-clients", type=int, default=16)
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="gunicorn workers (default: the config's; without one, 2 per core)",
    )
    parser.add_argument("--threads", type=int, default=4, help="gthread threads (no config)")
    parser.add_argument("--kill-every", type=float, default=60, help="seconds between kills")
    parser.add_argument("--timeout", type=float, default=30, help="per-request timeout, s")
    parser.add_argument("--retry-pause", type=float, default=1.0, help="before a retry, s")
    parser.add_argument("--sample-every", type=float, default=10, help="RSS sampling, s")
    parser.add_argument("--drain", type=float, default=120, help="notices' wait at the end, s")
    parser.add_argument(
        "--memory-growth",
        type=float,
        default=0.10,
        help="allowed growth of the last minute's RSS over the first's (0.10)",
    )
    parser.add_argument("--facilities", type=int, default=None, help="seed_demo --facilities")
    parser.add_argument("--fresh", action="store_true", help="drop and rebuild the database")
    parser.add_argument("--seed", type=int, default=21, help="the clients' random seed")
    parser.add_argument("--output", type=Path, default=BENCH / "results" / "soak.json")
    return parser.parse_args(argv)


def on_loopback(url: str) -> bool:
    return (urlsplit(url).hostname or "") in LOOPBACK


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":…@")).geturl()


# --- Processes: every one started here is stopped here -----------------------------------------


class Processes:
    """The processes this run started, each in a session of its own (its group is stopped)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, command: list[str], env: dict, log: Path) -> subprocess.Popen:
        process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 30
        for process in self.started:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                # ProcessLookupError: the group ended between the wait and the kill.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def children(pid: int) -> list[int]:
    """A process's children (gunicorn's master: its workers)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def rss_kb(pid: int) -> int | None:
    try:
        return proc_memory(pid)["VmRSS"]
    except (FileNotFoundError, ProcessLookupError, AttributeError):
        return None  # gone between the listing and the read


# --- The SMTP server: keeps every mail ------------------------------------------------------


class MailSink:
    """aiosmtpd on a free loopback port, in a thread of this process: the login mails (their
    links) and the notices' mails (their Message-IDs)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.lock = threading.Lock()
        self.mails: list[tuple[float, list[str], str, str]] = []  # at, to, Message-ID, text
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it so
                message = email.message_from_bytes(envelope.content)
                text = ""
                for part in message.walk():
                    if part.get_content_type() == "text/plain":
                        payload = part.get_payload(decode=True) or b""
                        text += payload.decode(part.get_content_charset() or "utf-8", "replace")
                with sink.lock:
                    sink.mails.append(
                        (time.time(), envelope.rcpt_tos, message.get("Message-ID", ""), text)
                    )
                return "250 Message accepted for delivery"

        self.port = api_load.free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def to(self, address: str) -> list[str]:
        with self.lock:
            return [text for _at, to, _id, text in self.mails if address in to]

    def message_ids(self) -> list[str]:
        with self.lock:
            return [message_id for _at, _to, message_id, _text in self.mails]

    def stop(self) -> None:
        self.controller.stop()


# --- The database and what the run needs in it ----------------------------------------------


def prepare_database(args: argparse.Namespace) -> dict:
    """Migrated and seeded (seed_demo when it has no facilities, or --fresh); static files."""
    started = time.perf_counter()
    facilities, _decisions = api_load.counts(args.database)
    seeded = False
    if args.fresh or not facilities:
        api_load.recreate_postgresql_database(args.database)
        api_load.manage(args.database, "migrate_all", "-v", "0")
        seed = ["seed_demo"] + (["--facilities", str(args.facilities)] if args.facilities else [])
        api_load.manage(args.database, *seed)
        seeded = True
    else:
        api_load.manage(args.database, "migrate_all", "-v", "0")
    # As `make bench`: a page naming a file the manifest lacks would answer 500.
    api_load.manage(args.database, "collectstatic", "--noinput", "-v", "0")
    return {"seeded_now": seeded, "seconds": round(time.perf_counter() - started, 1)}


def setup_django(args: argparse.Namespace) -> None:
    """Django in this process, on the primary only: the checks read what was written, never
    a replica that may lag."""
    os.environ.update(
        {
            "DATABASE_URL": args.database,
            "ACCESS_LOG_DATABASE_URL": "",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("DATABASE_REPLICA_URLS", None)
    import django

    django.setup()


QUIET_QUEUE_NOTE = "the demo's events marked told, the day's scan done, the queue emptied"


def quiet_queue() -> None:
    """As bench/alerts.py's build: nobody watched the demo's events; the worker starts idle."""
    from django_tasks_db.models import DBTaskResult

    from alerts import delivery
    from alerts.models import EventFanOut
    from register.models import RegisterEvent

    delivery.sweep()
    told = set(EventFanOut.objects.values_list("event_id", flat=True))
    EventFanOut.objects.bulk_create(
        [
            EventFanOut(event_id=pk, notices=0)
            for pk in RegisterEvent.objects.values_list("pk", flat=True)
            if pk not in told
        ],
        batch_size=2000,
    )
    DBTaskResult.objects.all().delete()


def build_people(args: argparse.Namespace) -> dict:
    """The users (allowlisted, not yet signed in), the API clients with their keys, the home
    every user watches, and what the clients will ask for."""
    import access_log_load
    import pages
    from django.contrib.sessions.models import Session

    from access.models import AccessEvent, LoginRequest
    from alerts import services as alert_services
    from api import services as api_services
    from register import selectors
    from register.codes import FacilityStatus
    from register.models import Facility, Municipality
    from stats import figures

    made = access_log_load.signed_in_users(args.users)
    # Signed in here through the one-time login over HTTP, not by these written sessions.
    Session.objects.filter(session_key__in=[key for _user, key in made]).delete()
    # An earlier run's login requests count against LOGIN_RATE_PER_ADDRESS (5 in 15 minutes).
    LoginRequest.objects.all().delete()
    from django.contrib.auth import get_user_model

    users = list(get_user_model().objects.filter(pk__in=[pk for pk, _key in made]).order_by("pk"))
    homes = Facility.objects.unprotected()
    canary = homes.filter(status=FacilityStatus.AKTIV, facility_type="hvb").order_by("pk").first()
    for user in users:
        alert_services.watch_add(
            user=user, owner_municipality=user.account.municipality, target=canary
        )
    clients = []
    for number in range(args.api_clients):
        municipality = users[number % len(users)].account.municipality
        client = api_services.api_client_create(
            name=f"Soak {number:02d}", municipality=municipality, actor=None
        )
        key = api_services.api_token_issue(client=client, actor=None)[1]
        clients.append({"user_id": client.account_user_id, "key": key})
    facility_ids = sorted(
        homes.exclude(pk=canary.pk).values_list("facility_id", flat=True).order_by()
    )
    provider_ids = [
        str(public_id)
        for public_id in selectors.providers_for(include_protected=False).values_list(
            "public_id", flat=True
        )
    ]
    statistics = ["/statistik/", "/statistik/kommun/"] + [
        f"/statistik/{topic.slug}/" for topic in figures.TOPICS
    ]
    counties = api_load._codes("lan.csv", "lanskod")
    municipalities = list(Municipality.objects.values_list("code", flat=True))
    searches = pages.searches() + pages.supervision_searches()
    position = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return {
        "users": [{"user_id": u.pk, "email": u.email} for u in users],
        "clients": clients,
        "canary": {"pk": canary.pk, "facility_id": canary.facility_id},
        "facility_ids": facility_ids,
        "provider_ids": provider_ids,
        "statistics": statistics,
        "portal_searches": searches,
        "counties": counties,
        "municipalities": municipalities,
        "api_searches": api_load.search_mix(),
        "log_position": position,
    }


def save_serious_decision(canary_pk: int, number: int, run: str) -> int:
    """A serious decision on the home every user watches, saved as the back office saves one:
    the worker must make and mail a notice to each of them."""
    from django.db import close_old_connections, transaction
    from django.utils import timezone

    from register import services
    from register.codes import DecisionKind, Outcome
    from register.models import Decision, Facility

    close_old_connections()
    today = timezone.localdate()
    with transaction.atomic():
        decision = services.decision_save(
            decision=Decision(
                facility=Facility.objects.get(pk=canary_pk),
                diarienummer=f"8.5-{run}{number:02d}/{today.year}",
                kind=DecisionKind.TILLSYN,
                decision_date=today,
                outcome=Outcome.FORELAGGANDE_VITE,
            ),
            reason="bench/soak.py",
        )
    return decision.pk


# --- The servers ----------------------------------------------------------------------------


def server_environment(args: argparse.Namespace, mail_port: int) -> dict:
    env = api_load.environment(
        args.database,
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(mail_port),
        EMAIL_USE_TLS="false",
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        NOTICE_LEASE_SECONDS=str(NOTICE_LEASE_SECONDS),
        NOTICE_SWEEP_SECONDS=str(NOTICE_SWEEP_SECONDS),
    )
    # deploy/gunicorn.conf.py replaces each worker after GUNICORN_MAX_REQUESTS requests: in a
    # soak that would hide a leak behind fresh workers. Never, unless the caller sets it.
    env.setdefault("GUNICORN_MAX_REQUESTS", "0")
    env.pop("DATABASE_REPLICA_URLS", None)
    if args.replica:
        env["DATABASE_REPLICA_URLS"] = args.replica
    return env


def gunicorn_command(args: argparse.Namespace, port: int) -> list[str]:
    """The deployment's config when it exists; the command line's bind wins over it either
    way, so the site listens on loopback only."""
    command = [str(BIN / "gunicorn"), "config.wsgi:application"]
    if GUNICORN_CONF.exists():
        command += ["-c", str(GUNICORN_CONF)]
    else:
        command += [
            "--worker-class=gthread",
            f"--threads={args.threads}",
            "--keep-alive=75",
            "--timeout=30",
            "--log-level=warning",
            f"--workers={args.workers or 2 * (os.cpu_count() or 1)}",
        ]
    if GUNICORN_CONF.exists() and args.workers:
        command.append(f"--workers={args.workers}")
    return [*command, f"--bind=127.0.0.1:{port}"]


def wait_until_answering(base: str, process: subprocess.Popen, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped at start-up:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/logga-in/", trust_env=False, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer in 90 s:\n{log.read_text()[-3000:]}")


def replica_cluster(args: argparse.Namespace) -> tuple[str, str] | None:
    """The cluster to restart, checked: it exists, it is the replica's (same port), and it is
    not the primary's."""
    if not args.replica or args.replica_restart_at < 0:
        return None
    version, _, name = args.replica_cluster.partition("/")
    listing = subprocess.run(
        ["pg_lsclusters", "-h"], capture_output=True, text=True, check=True
    ).stdout
    port = next(
        (
            int(line.split()[2])
            for line in listing.splitlines()
            if line.split()[:2] == [version, name]
        ),
        None,
    )
    replica_ports = {urlsplit(url).port or 5432 for url in args.replica.split(",")}
    primary_port = urlsplit(args.database).port or 5432
    if port is None:
        raise SystemExit(f"no cluster {args.replica_cluster} (pg_lsclusters); see --help")
    if port == primary_port or port not in replica_ports:
        raise SystemExit(
            f"cluster {args.replica_cluster} listens on {port}: not a replica port given "
            f"({sorted(replica_ports)}), or the primary's ({primary_port}); not restarting it"
        )
    return version, name


# --- The load -------------------------------------------------------------------------------


class Record:
    """Everything the clients saw, with times in seconds from the start of the load."""

    def __init__(self) -> None:
        self.requests: list[dict] = []  # one per request (its retry included)
        self.failed_attempts: list[dict] = []  # every 5xx or transport error, retried or not
        self.violations: list[dict] = []  # reads after a write that did not show it
        self.unexpected: list[dict] = []  # answers neither 2xx/3xx nor 5xx (404, 403, …)


class Load:
    def __init__(self, args, base: str, people: dict, record: Record, started: float) -> None:
        self.args = args
        self.base = base
        self.people = people
        self.record = record
        self.started = started
        self.deadline = started + args.minutes * 60

    def now(self) -> float:
        return time.monotonic() - self.started

    def client(self, headers: dict | None = None):
        import httpx

        return httpx.AsyncClient(
            base_url=self.base,
            headers=headers or {},
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=self.args.timeout,
            trust_env=False,  # straight to 127.0.0.1, never through a proxy from the environment
            follow_redirects=False,
        )

    async def call(
        self, who: dict, client, kind: str, method: str, url: str, *, data=None, log_object=""
    ):
        """One request, retried once on a transport error or a 5xx. The answer when it is the
        one expected (200 to a GET, a redirect after a POST), else None.

        Each attempt sends an X-Request-ID of its own (the app keeps one of the strict form,
        config/request_id.py once merged); the id the answer names is the one its access-log
        entry must carry."""
        import httpx

        begun = self.now()
        response = None
        failures = 0
        sent_id = ""
        for attempt in (1, 2):
            attempt_begun = self.now()
            sent_id = f"soak-{uuid.uuid4().hex}"
            try:
                headers = {REQUEST_ID_HEADER: sent_id}
                if method == "POST":
                    form = {**(data or {}), "csrfmiddlewaretoken": client.cookies.get("csrftoken")}
                    response = await client.post(url, data=form, headers=headers)
                else:
                    response = await client.get(url, headers=headers)
            except httpx.TransportError as error:
                response = None
                failure = type(error).__name__
            else:
                if response.status_code < 500:
                    break
                failure = response.status_code
            self.record.failed_attempts.append(
                {
                    "kind": kind,
                    "who": who["name"],
                    "attempt": attempt,
                    "failure": failure,
                    "begun": round(attempt_begun, 3),
                    "ended": round(self.now(), 3),
                }
            )
            response = None
            failures += 1
            if attempt == 1:
                await asyncio.sleep(self.args.retry_pause)
        status = response.status_code if response is not None else None
        answered = status == (302 if method == "POST" else 200)
        if status is not None and not answered:
            self.record.unexpected.append(
                {"kind": kind, "who": who["name"], "status": status, "url": url, "at": begun}
            )
        logged = LOGGED.get(kind)
        self.record.requests.append(
            {
                "kind": kind,
                "who": who["name"],
                "user_id": who["user_id"],
                "begun": round(begun, 3),
                "ms": round((self.now() - begun) * 1000, 2),
                "status": status,
                "answered": answered,
                "retried": failures > 0,
                "request_id": response.headers.get(REQUEST_ID_HEADER)
                if response is not None
                else None,
                "sent_request_id": sent_id,
                "log": [logged[0], log_object if logged[1] else ""]
                if (logged and answered)
                else None,
            }
        )
        return response if answered else None

    # A municipal user -------------------------------------------------------------------

    async def sign_in(self, user: dict, mails) -> object:
        """The one-time login, as a person does it: the form, the link in the mail, the
        button on the link's page (POST, CSRF)."""
        client = self.client()
        who = {"name": user["email"], "user_id": user["user_id"]}
        await client.get("/logga-in/")
        answer = await client.post(
            "/logga-in/",
            data={"email": user["email"], "csrfmiddlewaretoken": client.cookies.get("csrftoken")},
        )
        assert answer.status_code == 302, ("login form", answer.status_code)
        link = None
        for _ in range(100):
            found = [m.group(1) for text in mails.to(user["email"]) for m in LINK.finditer(text)]
            if found:
                link = found[-1]
                break
            await asyncio.sleep(0.1)
        assert link, f"no login mail for {user['email']}"
        await client.get(f"/logga-in/lank/{link}/")
        answer = await client.post(
            f"/logga-in/lank/{link}/", data={"csrfmiddlewaretoken": client.cookies["csrftoken"]}
        )
        assert answer.status_code == 302, ("login link", answer.status_code)
        answer = await client.get("/")
        assert answer.status_code == 200, ("signed in", answer.status_code)
        return client, who

    async def warm_up(self, signed_in: list, api: list) -> None:
        """Not counted: each statistics page once (its tallies are counted at a process's first
        request, seconds on a busy machine), each client's first page, so the first minute's
        memory is a warm server's."""
        client, _who = signed_in[0]
        for url in self.people["statistics"]:
            await client.get(url)
        await asyncio.gather(
            *(client.get("/") for client, _who in signed_in),
            *(client.get("/api/v1/facilities?limit=10") for client, _c in api),
        )

    def portal_search(self, rng: random.Random) -> str:
        """A search as a case worker makes one: bench/pages.py's list, or a draw over the
        form's filters and free texts (thousands of different queries)."""
        if rng.random() < 0.3:
            return rng.choice(self.people["portal_searches"])
        query: list[tuple[str, object]] = []
        if rng.random() < 0.15:
            query.append(("q", rng.choice(api_load.TEXTS)))
        if rng.random() < 0.7:
            query.append(("typ", rng.choice(("hvb", "hvb", "stodboende"))))
        if rng.random() < 0.6:
            query.append(("alder", rng.randint(4, 20)))
        if rng.random() < 0.2:
            query.append(("kon", rng.choice(("flickor", "pojkar"))))
        place = rng.random()
        if place < 0.1:
            query.append(("kommun", rng.choice(self.people["municipalities"])))
        elif place < 0.8:
            for county in rng.sample(self.people["counties"], rng.choice((1, 1, 2))):
                query.append(("lan", county))
            if rng.random() < 0.3:
                query.append(("grannlan", "on"))
        if rng.random() < 0.1:
            query.append(("utan_allvarligt", rng.choice((1, 2, 3, 5))))
        if rng.random() < 0.1:
            query.append(("utan_krav", "on"))
        if rng.random() < 0.2:
            query.append(("platser", rng.choice((2, 4, 6))))
        query.append(("sortera", rng.choice(("name", "latest_decision", "municipality"))))
        if rng.random() < 0.2:
            query.append(("sida", rng.randint(2, 4)))
        return "/?" + urlencode([(name, str(value)) for name, value in query])

    async def user(self, number: int, client, who: dict) -> None:
        rng = random.Random(self.args.seed * 1000 + number)
        watched: dict[str, str] = {}  # facility id: the watch's public id, added in this run
        people = self.people
        while time.monotonic() < self.deadline:
            draw = rng.random()
            if draw < 0.30:
                await self.call(who, client, "search", "GET", self.portal_search(rng))
            elif draw < 0.55:
                fid = rng.choice(people["facility_ids"])
                await self.call(
                    who, client, "facility", "GET", f"/verksamhet/{fid}/", log_object=fid
                )
            elif draw < 0.67:
                pid = rng.choice(people["provider_ids"])
                await self.call(who, client, "provider", "GET", f"/huvudman/{pid}/", log_object=pid)
            elif draw < 0.75:
                await self.call(who, client, "statistics", "GET", rng.choice(people["statistics"]))
            elif draw < 0.87:
                await self.call(who, client, "watch list", "GET", "/bevakningar/")
            elif watched and (rng.random() < 0.5 or len(watched) >= 5):
                await self.unwatch(client, who, rng.choice(sorted(watched)), watched)
            else:
                await self.watch(client, who, rng.choice(people["facility_ids"]), watched)

    async def watched_now(self, client, who: dict) -> dict[str, str] | None:
        answer = await self.call(who, client, "watch list", "GET", "/bevakningar/")
        if answer is None:
            return None
        return dict(WATCH_ITEM.findall(answer.text))

    async def watch(self, client, who: dict, fid: str, watched: dict) -> None:
        if fid in watched:
            return
        if await self.call(who, client, "watch add", "POST", f"/bevakningar/verksamhet/{fid}/"):
            listed = await self.watched_now(client, who)
            if listed is not None and fid not in listed:
                self.record.violations.append(
                    {"who": who["name"], "write": "watch add", "facility": fid, "at": self.now()}
                )
            elif listed is not None:
                watched[fid] = listed[fid]

    async def unwatch(self, client, who: dict, fid: str, watched: dict) -> None:
        public_id = watched.pop(fid)
        url = f"/bevakningar/{public_id}/sluta/"
        if await self.call(who, client, "watch remove", "POST", url):
            listed = await self.watched_now(client, who)
            if listed is not None and fid in listed:
                self.record.violations.append(
                    {"who": who["name"], "write": "watch remove", "facility": fid, "at": self.now()}
                )

    # An API client ----------------------------------------------------------------------

    async def api_client(self, number: int, client, who: dict) -> None:
        rng = random.Random(self.args.seed * 1000 + 500 + number)
        people = self.people
        offset, total, cursor = 0, None, ""
        searches = people["api_searches"]
        while time.monotonic() < self.deadline:
            draw = rng.random()
            if draw < 0.30:
                answer = await self.call(
                    who, client, "api page", "GET", f"/api/v1/facilities?limit=50&offset={offset}"
                )
                if answer is not None:
                    total = answer.json()["total"]
                    offset = offset + 50 if offset + 50 < total else 0
            elif draw < 0.50:
                query = rng.choice(searches)
                await self.call(who, client, "api search", "GET", f"/api/v1/facilities?{query}")
            elif draw < 0.80:
                fid = rng.choice(people["facility_ids"])
                await self.call(
                    who, client, "api facility", "GET", f"/api/v1/facilities/{fid}", log_object=fid
                )
            else:
                answer = await self.call(
                    who, client, "api changes", "GET", f"/api/v1/changes?since={cursor}&limit=100"
                )
                if answer is not None:
                    cursor = answer.json()["next_cursor"]


LINK = re.compile(r"https?://[^\s/]+/logga-in/lank/([A-Za-z0-9_\-]+)/")
WATCH_ITEM = re.compile(
    r'href="/verksamhet/([^"/]+)/">.*?action="/bevakningar/([0-9a-f\-]{36})/sluta/"', re.S
)


# --- The run --------------------------------------------------------------------------------


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.processes = Processes()
        self.logs = Path(tempfile.mkdtemp(prefix="hvb-soak-"))
        self.worker: subprocess.Popen | None = None
        self.worker_env: dict = {}
        self.worker_starts = 0
        self.kills: list[dict] = []
        self.decisions: list[dict] = []
        self.samples: list[dict] = []
        self.restart: dict | None = None
        self.restarting = False
        self.gunicorn: subprocess.Popen | None = None
        self.worker_rss_at_end: int | None = None

    def start_worker(self) -> None:
        self.worker = self.processes.start(
            [PYTHON, str(ROOT / "manage.py"), "run_worker", "-v", "1"],
            self.worker_env,
            self.logs / "worker.log",
        )
        self.worker_starts += 1

    async def killer(self, load: Load, cluster) -> None:
        """Every --kill-every seconds: a serious decision one second before, then SIGKILL to
        the worker and a new one."""
        run = f"{int(time.time()) % 10_000:04d}"
        self.decisions.append(
            {
                "at": load.now(),
                "pk": await asyncio.to_thread(
                    save_serious_decision, load.people["canary"]["pk"], 0, run
                ),
            }
        )
        every = self.args.kill_every
        moment = every
        while moment < self.args.minutes * 60:
            await asyncio.sleep(max(0.0, moment - 1 - load.now()))
            pk = await asyncio.to_thread(
                save_serious_decision, load.people["canary"]["pk"], len(self.decisions), run
            )
            self.decisions.append({"at": load.now(), "pk": pk})
            await asyncio.sleep(max(0.0, moment - load.now()))
            old = self.worker
            memory = rss_kb(old.pid)
            os.kill(old.pid, signal.SIGKILL)
            await asyncio.to_thread(old.wait)
            self.start_worker()
            self.kills.append({"at": round(load.now(), 2), "pid": old.pid, "rss_kb": memory})
            moment += every

    async def replica_restart(self, load: Load, cluster) -> None:
        if cluster is None:
            return
        await asyncio.sleep(max(0.0, self.args.replica_restart_at * self.args.minutes * 60))
        version, name = cluster
        self.restarting = True
        begun = load.now()
        done = await asyncio.to_thread(
            subprocess.run,
            ["pg_ctlcluster", version, name, "restart"],
            capture_output=True,
            text=True,
        )
        self.restarting = done.returncode != 0
        self.restart = {
            "cluster": f"{version}/{name}",
            "begun": round(begun, 2),
            "ended": round(load.now(), 2),
            "returncode": done.returncode,
            "stderr": done.stderr.strip()[-500:],
        }

    def sample(self, load: Load) -> None:
        workers = {pid: rss_kb(pid) for pid in children(self.gunicorn.pid)}
        self.samples.append(
            {
                "at": round(load.now(), 1),
                "gunicorn": {str(pid): kb for pid, kb in workers.items() if kb},
                "worker": {str(self.worker.pid): rss_kb(self.worker.pid)},
            }
        )

    async def sampler(self, load: Load) -> None:
        """Every --sample-every seconds, and once more at the end of the load."""
        while load.deadline - time.monotonic() > self.args.sample_every / 2:
            self.sample(load)
            await asyncio.sleep(min(self.args.sample_every, load.deadline - time.monotonic()))
        await asyncio.sleep(max(0.0, load.deadline - time.monotonic()))
        self.sample(load)

    async def load(self, base: str, people: dict, mails: MailSink, record: Record, cluster):
        load = Load(self.args, base, people, record, time.monotonic())
        signed_in = await asyncio.gather(*(load.sign_in(user, mails) for user in people["users"]))
        api = [(load.client({"Authorization": f"Bearer {c['key']}"}), c) for c in people["clients"]]
        await load.warm_up(signed_in, api)
        load.started = time.monotonic()
        load.deadline = load.started + self.args.minutes * 60
        try:
            await asyncio.gather(
                *(load.user(n, client, who) for n, (client, who) in enumerate(signed_in)),
                *(
                    load.api_client(n, client, {"name": f"api-{n:02d}", "user_id": c["user_id"]})
                    for n, (client, c) in enumerate(api)
                ),
                self.killer(load, cluster),
                self.replica_restart(load, cluster),
                self.sampler(load),
            )
            self.worker_rss_at_end = rss_kb(self.worker.pid)
        finally:
            for client, _ in [*signed_in, *api]:
                await client.aclose()
        return load.now()

    def drain(self, decision_pks: list[int]) -> dict:
        """The worker left running until every notice of the decisions is mailed."""
        from django.db import close_old_connections

        from alerts.models import Notice

        started = time.monotonic()
        while True:
            close_old_connections()
            notices = Notice.objects.filter(event__decision_id__in=decision_pks)
            made, sent = notices.count(), notices.filter(mail=Notice.Mail.SENT).count()
            expected = len(decision_pks) * self.args.users
            if (made >= expected and sent >= made) or (
                time.monotonic() - started > self.args.drain
            ):
                return {
                    "decisions": len(decision_pks),
                    "expected": expected,
                    "made": made,
                    "sent": sent,
                    "notice_pks": list(notices.values_list("pk", flat=True)),
                    "drain_seconds": round(time.monotonic() - started, 1),
                }
            if self.worker.poll() is not None:
                self.start_worker()  # it died on its own: the log says why
            time.sleep(1)

    def stop(self, cluster) -> None:
        self.processes.stop_all()
        if self.restarting and cluster is not None:
            # Interrupted during the restart: never leave the replica stopped.
            subprocess.run(["pg_ctlcluster", *cluster, "start"], check=False)


# --- Figures and checks ---------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float | None:
    ordered = sorted(values)
    return ordered[int(fraction * (len(ordered) - 1))] if ordered else None


def access_log_check(record: Record, position: int) -> dict:
    """Every answered request the log records has its entry: by request id when the entries
    have one and the responses carried it, else by counting entries per (user, action, object)."""
    from django.conf import settings

    from access.models import AccessEvent

    entries = AccessEvent.objects.using(settings.ACCESS_LOG_DATABASE).filter(id__gt=position)
    logged = [r for r in record.requests if r["log"]]
    columns = {field.column for field in AccessEvent._meta.concrete_fields}
    result: dict = {"expected": len(logged), "entries_since_start": entries.count()}
    if "request_id" in columns:
        written = set(entries.filter(request_id__isnull=False).values_list("request_id", flat=True))
        # The id the answer named; the one sent when the answer named none.
        missing = [r for r in logged if (r["request_id"] or r["sent_request_id"]) not in written]
        result.update(
            method="request id",
            answers_without_request_id_header=sum(1 for r in logged if not r["request_id"]),
            missing=len(missing),
            missing_examples=missing[:5],
        )
    else:
        found = collections.Counter(entries.values_list("user_id", "action", "object_id"))
        wanted = collections.Counter((r["user_id"], *r["log"]) for r in logged)
        short = {key: n - found[key] for key, n in wanted.items() if found[key] < n}
        result.update(
            method="counts per user, action and object",
            missing=sum(short.values()),
            missing_examples=[[*list(key), n] for key, n in list(short.items())[:5]],
        )
    return result


def memory_figures(run: Run, seconds: float, growth: float) -> dict:
    """RSS in MB. gunicorn's workers, summed: the mean of the first and of the last minute's
    samples (half the run each when it is shorter than two minutes). The worker process is a
    new one after every kill, so its samples mix fresh and grown processes: its figure is each
    incarnation's RSS just before its SIGKILL (and the last one's at the end of the load),
    first against last."""
    samples = run.samples
    window = min(60.0, seconds / 2)

    def megabytes(kb: float | None) -> float | None:
        return round(kb / 1024, 1) if kb else None

    def row(first_kb, last_kb, max_kb) -> dict:
        ratio = round(last_kb / first_kb, 3) if first_kb and last_kb else None
        return {
            "first_mb": megabytes(first_kb),
            "last_mb": megabytes(last_kb),
            "ratio": ratio,
            "max_mb": megabytes(max_kb),
            "flat": ratio is not None and ratio <= 1 + growth,
        }

    totals = [(s["at"], sum(s["gunicorn"].values())) for s in samples if s["gunicorn"]]
    first = [kb for at, kb in totals if at <= window]
    last = [kb for at, kb in totals if at >= seconds - window]
    sizes = [kill["rss_kb"] for kill in run.kills if kill["rss_kb"]]
    if run.worker_rss_at_end:
        sizes.append(run.worker_rss_at_end)
    return {
        "window_seconds": window,
        "gunicorn": row(
            sum(first) / len(first) if first else None,
            sum(last) / len(last) if last else None,
            max((kb for _at, kb in totals), default=None),
        ),
        "worker": {
            **row(sizes[0] if sizes else None, sizes[-1] if sizes else None, max(sizes or [0])),
            "at_each_kill_mb": [megabytes(kb) for kb in sizes],
        },
        "gunicorn_worker_pids": sorted({pid for s in samples for pid in s["gunicorn"]}),
    }


def figures_of(args, run: Run, record: Record, seconds: float, notices: dict) -> dict:
    requests = record.requests
    kinds = sorted({r["kind"] for r in requests})
    latency = {}
    for kind in kinds:
        values = [r["ms"] for r in requests if r["kind"] == kind and r["answered"]]
        latency[kind] = {
            "requests": sum(1 for r in requests if r["kind"] == kind),
            "p50_ms": percentile(values, 0.50),
            "p95_ms": percentile(values, 0.95),
            "p99_ms": percentile(values, 0.99),
        }
    restart = run.restart
    allowed = []
    outside = []
    for failure in record.failed_attempts:
        if not isinstance(failure["failure"], int):
            continue
        within = restart is not None and (
            failure["ended"] >= restart["begun"] - 1
            and failure["begun"] <= restart["ended"] + args.restart_grace
        )
        (allowed if within else outside).append(failure)
    for failure in record.failed_attempts:
        if restart is not None:
            failure["from_restart_s"] = round(failure["begun"] - restart["begun"], 2)
    unanswered = [r for r in requests if r["status"] is None or r["status"] >= 500]
    mails = collections.Counter(run_mail_ids(notices))
    return {
        "seconds": round(seconds, 1),
        "requests": len(requests),
        "requests_per_second": round(len(requests) / seconds, 1) if seconds else None,
        "answered": sum(1 for r in requests if r["answered"]),
        "answered_on_retry": sum(1 for r in requests if r["answered"] and r["retried"]),
        "unanswered": len(unanswered),
        # For the reading of a failure: how many of them began in the restart's seconds.
        "unanswered_within_restart": sum(
            1
            for r in unanswered
            if restart is not None
            and restart["begun"] - 1 <= r["begun"] <= restart["ended"] + args.restart_grace
        ),
        "unanswered_examples": unanswered[:5],
        "unexpected_status": len(record.unexpected),
        "unexpected_examples": record.unexpected[:5],
        "failed_attempts": len(record.failed_attempts),
        "transport_errors": sum(
            1 for f in record.failed_attempts if not isinstance(f["failure"], int)
        ),
        "5xx": len(allowed) + len(outside),
        "5xx_within_restart": len(allowed),
        "5xx_outside_restart": len(outside),
        "5xx_outside_examples": outside[:10],
        "failed_attempt_times": record.failed_attempts[:50],
        "replica_restart": restart,
        "read_after_write": {
            "writes": sum(1 for r in requests if r["kind"] in ("watch add", "watch remove")),
            "violations": len(record.violations),
            "examples": record.violations[:5],
        },
        "latency": latency,
        "worker": {
            "kills": len(run.kills),
            "starts": run.worker_starts,
            "killed": run.kills,
        },
        "notices": {
            **{k: v for k, v in notices.items() if k != "notice_pks"},
            "mails": sum(mails.values()),
            "mails_sent_twice": sum(1 for n in mails.values() if n > 1),
        },
        "memory": memory_figures(run, seconds, args.memory_growth),
        "memory_samples": run.samples,
    }


_MAILS: list[str] = []


def run_mail_ids(notices: dict) -> list[str]:
    wanted = {f"<notice-{pk}@hvb-registret>" for pk in notices.get("notice_pks", [])}
    return [message_id for message_id in _MAILS if message_id in wanted]


def verdict(figures: dict, access: dict) -> dict[str, bool]:
    notices = figures["notices"]
    return {
        "every request answered (or on its retry)": figures["unanswered"] == 0,
        "no 5xx outside the replica restart": figures["5xx_outside_restart"] == 0,
        "no unexpected status (403, 404, …)": figures["unexpected_status"] == 0,
        "every logged read has its access-log entry": access["missing"] == 0,
        "reads after writes see them": figures["read_after_write"]["violations"] == 0,
        "every notice made and mailed despite the kills": notices["made"]
        == notices["expected"]
        == notices["sent"]
        and notices["mails"] >= notices["sent"],
        "memory flat (gunicorn workers)": figures["memory"]["gunicorn"]["flat"],
        # Two sizes at least (a kill and the end) to compare; none in a run without a kill.
        "memory flat (worker process, at each kill)": figures["memory"]["worker"]["flat"]
        or len(figures["memory"]["worker"]["at_each_kill_mb"]) < 2,
    }


def print_summary(result: dict) -> None:
    f = result["figures"]
    print(
        f"\nSoak: {f['seconds']:.0f} s, {f['requests']} requests ({f['requests_per_second']}/s), "
        f"{f['answered']} answered ({f['answered_on_retry']} on the retry), "
        f"{f['unanswered']} unanswered, {f['unexpected_status']} unexpected status"
    )
    restart = f["replica_restart"]
    where = (
        f"replica restarted {restart['begun']:.1f}–{restart['ended']:.1f} s"
        if restart
        else "no replica restart"
    )
    print(
        f"5xx: {f['5xx']} ({f['5xx_within_restart']} within the restart's seconds, "
        f"{f['5xx_outside_restart']} outside); transport errors: {f['transport_errors']}; {where}"
    )
    print("| kind | requests | p50 ms | p95 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for kind, row in f["latency"].items():
        cells = " | ".join("–" if row[k] is None else f"{row[k]:.0f}" for k in LATENCY_KEYS)
        print(f"| {kind} | {row['requests']} | {cells} |")
    access = result["access_log"]
    print(
        f"access log ({access['method']}): {access['expected']} logged reads answered, "
        f"{access['missing']} without an entry"
    )
    raw = f["read_after_write"]
    print(f"read after write: {raw['writes']} writes, {raw['violations']} violations")
    w, n = f["worker"], f["notices"]
    print(
        f"worker: {w['kills']} SIGKILLs, {w['starts']} starts; notices: {n['decisions']} "
        f"decisions, {n['made']}/{n['expected']} made, {n['sent']} marked sent, {n['mails']} "
        f"mails ({n['mails_sent_twice']} sent twice), drained in {n['drain_seconds']} s"
    )
    m = f["memory"]
    row = m["gunicorn"]
    print(
        f"memory, gunicorn's workers summed: first {m['window_seconds']:.0f} s {row['first_mb']} "
        f"MB, last {m['window_seconds']:.0f} s {row['last_mb']} MB (×{row['ratio']}), max "
        f"{row['max_mb']} MB"
    )
    row = m["worker"]
    print(
        f"memory, worker process before each kill and at the end: {row['at_each_kill_mb']} MB "
        f"(last/first ×{row['ratio']})"
    )
    print(f"gunicorn worker pids seen: {len(m['gunicorn_worker_pids'])}")
    for check, passed in result["verdict"].items():
        print(f"{'ok  ' if passed else 'FAIL'} {check}")


LATENCY_KEYS = ("p50_ms", "p95_ms", "p99_ms")


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import logging

    args = parse_arguments(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    replicas = [url for url in args.replica.split(",") if url]
    for url in [args.database, *replicas]:
        if not on_loopback(url):
            raise SystemExit(f"not on loopback: {without_password(url)}")
    cluster = replica_cluster(args)
    began = time.monotonic()
    print(
        f"soak: {args.minutes:g} min, {args.users} users + {args.api_clients} API clients, "
        f"database {without_password(args.database)}, replica "
        f"{', '.join(without_password(u) for u in replicas) or 'none'}, gunicorn "
        f"{'-c deploy/gunicorn.conf.py' if GUNICORN_CONF.exists() else 'command-line flags'}; "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    database = prepare_database(args)
    setup_django(args)
    quiet_queue()
    people = build_people(args)
    from django.db import connections

    connections.close_all()
    print(f"database ready ({database}), {QUIET_QUEUE_NOTE}; people made", flush=True)

    run = Run(args)
    mails = MailSink()
    # Ctrl-C raises KeyboardInterrupt; SIGTERM the same, so the finally below always runs.
    signal.signal(signal.SIGTERM, _interrupted)
    record = Record()
    try:
        env = server_environment(args, mails.port)
        run.worker_env = env
        port = api_load.free_port()
        base = f"http://127.0.0.1:{port}"
        gunicorn_log = run.logs / "gunicorn.log"
        run.gunicorn = run.processes.start(gunicorn_command(args, port), env, gunicorn_log)
        wait_until_answering(base, run.gunicorn, gunicorn_log)
        run.start_worker()
        seconds = asyncio.run(run.load(base, people, mails, record, cluster))
        notices = run.drain([d["pk"] for d in run.decisions])
        time.sleep(1)  # a mail sent twice would arrive now
        _MAILS.extend(mails.message_ids())
    finally:
        run.stop(cluster)
        mails.stop()
    figures = figures_of(args, run, record, seconds, notices)
    access = access_log_check(record, people["log_position"])
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "arguments": {
            **{k: str(v) for k, v in vars(args).items() if k not in ("database", "replica")},
            "database": without_password(args.database),
            "replica": ",".join(without_password(u) for u in replicas),
        },
        "gunicorn": " ".join(gunicorn_command(args, 0)[1:]),
        "database_setup": database,
        "login": "one-time login link over HTTP (form, mail, link's button)",
        "load_average_end": os.getloadavg(),
        "wall_seconds": round(time.monotonic() - began, 1),
        "logs": str(run.logs),
        "figures": figures,
        "access_log": access,
    }
    result["verdict"] = verdict(figures, access)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, default=str))
    print_summary(result)
    if all(result["verdict"].values()):
        shutil.rmtree(run.logs, ignore_errors=True)
        print(f"written: {args.output}")
        return 0
    print(f"written: {args.output}; the server's and the worker's logs kept in {run.logs}")
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        # main's finally has stopped every process it started (and the replica is up).
        sys.exit("soak: interrupted; every process it started is stopped")
