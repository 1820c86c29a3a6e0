"""Watches (issue 18): one serious decision told to 5,000 watchers, and the worker's memory with
100,000 undelivered notices — on SQLite and on PostgreSQL, through the real worker
(``manage.py run_worker`` in processes of its own) and a real SMTP server on loopback.

    .venv/bin/python bench/alerts.py                        # both legs, about 6–8 minutes
    BENCH_ALERTS_LEGS=sqlite .venv/bin/python bench/alerts.py
    BENCH_ALERTS_WATCHERS=500 BENCH_ALERTS_BACKLOG=10000 ...  # a quick run

Each leg builds a database of its own (``bench/alerts.sqlite3``, or the PostgreSQL database
``hvb_bench_alerts`` on loopback: ``.ci/postgres hvb_bench_alerts`` starts the server), with
``migrate_all`` and ``seed_demo``; marks the demo's own events as told (nobody watched them) and
runs the day's overdue scan once, so the workers start with an empty queue; then creates, in bulk,
5,000 municipal users spread over every kommun, each with a live allowlist entry and a watch on one
ordinary home.

1. **One serious decision** ("forbud", through ``register.services.decision_save`` in a
   transaction, as the back office saves one) with 1 and then 2 worker processes already running
   and idle: the time from the commit to the last of the 5,000 notices made, to the last of the
   5,000 mails accepted by the SMTP server, and to the last notice marked sent. The SMTP server is
   aiosmtpd in a process of its own that only counts (messages, distinct Message-IDs: a mail sent
   twice shows). Baseline in the same run, on the same server: the same 5,000 mails sent by
   Django's mail API in a plain loop over one connection (the floor; first and last in the leg),
   and over a new connection every 50 mails (what one send task does).
2. **Memory**: the RSS (``VmHWM``, ``VmRSS`` of /proc/<pid>/status) of one worker, idle (started
   on an empty queue, after its first sweep), and of a fresh worker started on 100,000 undelivered
   notices (20 serious events × the 5,000 watchers, made in bulk with their send tasks queued as
   the fan-out queues them, due 10 minutes ago) while it sends for a fixed 60 s.

The workers run as production does: the default poll interval (1 s) and sweep interval
(``NOTICE_SWEEP_SECONDS``, 30 s). Load average and the machine are printed with the figures.
"""

import json
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
LEGS = os.environ.get("BENCH_ALERTS_LEGS", "sqlite,postgresql").split(",")
WATCHERS = int(os.environ.get("BENCH_ALERTS_WATCHERS", "5000"))
BACKLOG = int(os.environ.get("BENCH_ALERTS_BACKLOG", "100000"))
BACKLOG_SECONDS = float(os.environ.get("BENCH_ALERTS_BACKLOG_SECONDS", "60"))
# decision: part 1 with its floors; memory: part 2; floor50: the floor over a new connection
# every 50 mails too (what one send task does; 0.9× the one-connection floor on 2026-12-07).
STEPS = os.environ.get("BENCH_ALERTS_STEPS", "decision,memory").split(",")
WORKER_COUNTS = [int(n) for n in os.environ.get("BENCH_ALERTS_WORKERS", "1,2").split(",")]
DEADLINE = 600  # seconds a delivery may take before the run is called failed
SQLITE_DB = BENCH / "alerts.sqlite3"
SQLITE_LOG_DB = BENCH / "alerts-accesslog.sqlite3"
POSTGRESQL = (
    urlsplit(
        os.environ.get(
            "BENCH_POSTGRES_URL", "postgres://hvb:hvb-ci-password@127.0.0.1:5432/hvb_bench"
        )
    )
    ._replace(path="/hvb_bench_alerts")
    .geturl()
)


def load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


# The SMTP sink: its own process, counts and nothing else ------------------------------------


def sink_main() -> None:
    """``bench/alerts.py sink``: aiosmtpd on a free loopback port (printed first). Each line on
    stdin is answered on stdout: ``reset`` starts a new count, ``stat`` gives
    ``<messages> <distinct Message-IDs> <first accepted> <last accepted>`` (time.time())."""
    import socket

    from aiosmtpd.controller import Controller

    message_id = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)

    class Counter:
        def __init__(self) -> None:
            self.reset()

        def reset(self) -> None:
            self.count, self.ids, self.first, self.last = 0, set(), 0.0, 0.0

        async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it so
            now = time.time()
            found = message_id.search(envelope.content)
            self.ids.add(found.group(1) if found else now)
            self.count += 1
            self.first = self.first or now
            self.last = now
            return "250 Message accepted for delivery"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    for line in sys.stdin:
        if line.strip() == "reset":
            counter.reset()
            print("ok", flush=True)
        elif line.strip() == "stat":
            print(counter.count, len(counter.ids), counter.first, counter.last, flush=True)
    controller.stop()


class Sink:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, __file__, "sink"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.port = int(self.process.stdout.readline())

    def _ask(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def reset(self) -> None:
        self._ask("reset")

    def stat(self) -> tuple[int, int, float, float]:
        count, distinct, first, last = self._ask("stat").split()
        return int(count), int(distinct), float(first), float(last)

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


# A leg: one database, in a process of its own (Django set up for that database) -------------


def fresh_database(database: str) -> None:
    if database.startswith("sqlite:"):
        for path in BENCH.glob("alerts*.sqlite3*"):
            path.unlink()
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(database)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as db:
        name = sql.Identifier(parts.path.lstrip("/"))
        db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        db.execute(sql.SQL("CREATE DATABASE {}").format(name))


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {
        key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1))
        for key in ("VmRSS", "VmHWM")
    }


class Workers:
    """``manage.py run_worker`` processes, as production runs them; started and idle."""

    def __init__(self, count: int, logs: Path) -> None:
        self.processes = []
        self.logs = []
        for n in range(count):
            log = logs / f"worker-{len(list(logs.glob('worker-*')))}-{n}.log"
            self.logs.append(log)
            self.processes.append(
                subprocess.Popen(
                    [PYTHON, str(ROOT / "manage.py"), "run_worker"],
                    stdout=log.open("w"),
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                )
            )
        deadline = time.time() + 60
        while not all("Starting worker" in log.read_text() for log in self.logs):
            self.check()
            if time.time() > deadline:
                raise SystemExit("the workers did not start:\n" + self.tail())
            time.sleep(0.2)
        time.sleep(3)  # the start-up delay (up to 1 s) and the first sweep

    def check(self) -> None:
        if any(p.poll() is not None for p in self.processes):
            raise SystemExit("a worker stopped:\n" + self.tail())

    def tail(self) -> str:
        return "\n".join(log.read_text()[-3000:] for log in self.logs)

    def memory(self) -> list[dict[str, int]]:
        return [memory(p.pid) for p in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)  # db_worker ends after its current task
        for process in self.processes:
            process.wait(timeout=120)
        failed = [log for log in self.logs if "Traceback" in log.read_text()]
        if failed:
            raise SystemExit("a worker logged an error:\n" + self.tail())


def leg_main(leg: str) -> None:
    """``bench/alerts.py leg <sqlite|postgresql>``: prints ``RESULT <json>`` last."""
    database = f"sqlite:///{SQLITE_DB}" if leg == "sqlite" else POSTGRESQL
    fresh_database(database)
    sink = Sink()
    os.environ.update(
        {
            "DATABASE_URL": database,
            "ACCESS_LOG_DATABASE_URL": f"sqlite:///{SQLITE_LOG_DB}" if leg == "sqlite" else "",
            "DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PYTHONPATH": str(ROOT),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
            "EMAIL_USE_TLS": "false",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    result: dict = {"leg": leg, "load_before": load()}
    started = time.perf_counter()
    call_command("migrate_all", verbosity=0)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    home, users = build()
    result["build_seconds"] = time.perf_counter() - started
    print(f"{leg}: built in {result['build_seconds']:.0f} s, load {load()}", flush=True)
    try:
        with tempfile.TemporaryDirectory() as directory:
            logs = Path(directory)
            if "decision" in STEPS:
                result["floor_first"] = floor(sink, users, per_connection=None)
                result["runs"] = []
                for count in WORKER_COUNTS:
                    result["runs"].append(one_decision(sink, home, count, logs, run=count))
                if "floor50" in STEPS:
                    result["floor_per_50"] = floor(sink, users, per_connection=50)
                result["floor_last"] = floor(sink, users, per_connection=None)
            if "memory" in STEPS:
                result["memory"] = backlog_memory(sink, home, users, logs)
    finally:
        sink.stop()
    result["load_after"] = load()
    print("RESULT " + json.dumps(result), flush=True)


def build():
    """The demo's own events told (nobody watched them), the day's overdue scan done, an empty
    queue; then 5,000 municipal users watching one ordinary home. Returns the home and the
    users' addresses."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from access.models import Account, AllowlistEntry
    from access.roles import Role
    from alerts import delivery
    from alerts.models import EventFanOut, Watch
    from register.codes import FacilityStatus
    from register.models import Facility, Municipality, RegisterEvent

    delivery.sweep()  # the day's overdue scan, once (the workers' sweeps then skip it)
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

    home = (
        Facility.objects.unprotected()
        .filter(status=FacilityStatus.AKTIV, facility_type="hvb")
        .order_by("pk")
        .first()
    )
    kommuner = list(Municipality.objects.order_by("pk").values_list("pk", flat=True))
    now = timezone.now()
    password = make_password(None)
    addresses = [
        (
            f"bevakare{n:05d}@kommun{kommuner[n % len(kommuner)]}.example",
            kommuner[n % len(kommuner)],
        )
        for n in range(WATCHERS)
    ]
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=a, email=a, password=password) for a, _ in addresses],
        batch_size=1000,
    )
    Account.objects.bulk_create(
        [
            Account(user=user, role=Role.MUNICIPAL_USER, municipality_id=code)
            for user, (_, code) in zip(users, addresses, strict=True)
        ],
        batch_size=1000,
    )
    AllowlistEntry.objects.bulk_create(
        [
            AllowlistEntry(
                email=a,
                municipality_id=code,
                role=Role.MUNICIPAL_USER,
                confirmed_at=now,
                expires_at=now + datetime.timedelta(days=365),
            )
            for a, code in addresses
        ],
        batch_size=1000,
    )
    Watch.objects.bulk_create(
        [
            Watch(
                user=user,
                owner_municipality_id=code,
                kind=Watch.Kind.FACILITY,
                facility=home,
            )
            for user, (_, code) in zip(users, addresses, strict=True)
        ],
        batch_size=1000,
    )
    return home, [a for a, _ in addresses]


def floor(sink: Sink, addresses: list[str], *, per_connection: int | None) -> dict:
    """The same 5,000 mails (a notice's subject and body) through Django's mail API in a plain
    loop: one connection for all, or a new one every ``per_connection`` mails."""
    from django.core import mail

    subject = "Allvarligt: Nytt beslut: Förbud – Solgården HVB"
    body = "x" * 900  # a notice's mail is about 900 characters
    sink.reset()
    load_before = load()
    started = time.time()
    connection = None
    for n, address in enumerate(addresses):
        if connection is None or (per_connection and n % per_connection == 0):
            if connection is not None:
                connection.close()
            connection = mail.get_connection()
            connection.open()
        mail.EmailMessage(
            subject=subject,
            body=body,
            to=[address],
            connection=connection,
            headers={"Message-ID": f"<floor-{started}-{n}@hvb-registret>"},
        ).send()
    connection.close()
    seconds = time.time() - started
    count, distinct, _, last = sink.stat()
    assert count == distinct == len(addresses), (count, distinct)
    return {"seconds": last - started, "loop_seconds": seconds, "load": f"{load_before} → {load()}"}


def one_decision(sink: Sink, home, workers: int, logs: Path, *, run: int) -> dict:
    """A serious decision committed with ``workers`` idle workers running; polled every 50 ms
    until every notice is made, every mail accepted and every notice marked sent."""
    from django.db import transaction
    from django.utils import timezone

    from alerts.models import EventFanOut, Notice
    from register import services
    from register.codes import DecisionKind, Outcome
    from register.models import Decision, RegisterEvent

    pool = Workers(workers, logs)
    sink.reset()
    load_before = load()
    today = timezone.localdate()
    with transaction.atomic():
        decision = services.decision_save(
            decision=Decision(
                facility=home,
                diarienummer=f"8.5-9{run:04d}/{today.year}",
                kind=DecisionKind.TILLSYN,
                decision_date=today,
                outcome=Outcome.FORBUD,
            ),
            reason="bench/alerts.py",
        )
    committed = time.time()
    events = list(RegisterEvent.objects.filter(decision=decision))
    assert len(events) == 1 and events[0].serious, events
    event = events[0]
    notices_at = mails_at = marked_at = None
    peak = [0] * workers
    while marked_at is None:
        now = time.time()
        if now - committed > DEADLINE:
            raise SystemExit(f"not delivered in {DEADLINE} s:\n{pool.tail()}")
        pool.check()
        peak = [max(p, m["VmRSS"]) for p, m in zip(peak, pool.memory(), strict=True)]
        if notices_at is None and Notice.objects.filter(event=event).count() >= WATCHERS:
            notices_at = now
        if notices_at is not None and mails_at is None:
            count, distinct, _, last = sink.stat()
            if count >= WATCHERS:
                mails_at = last
        if mails_at is not None and (
            Notice.objects.filter(event=event, mail=Notice.Mail.SENT).count() >= WATCHERS
        ):
            marked_at = now
        time.sleep(0.05)
    time.sleep(1)  # anything sent twice would arrive now
    count, distinct, first, _ = sink.stat()
    hwm = [m["VmHWM"] for m in pool.memory()]
    pool.stop()
    fanned = EventFanOut.objects.get(event=event)
    assert fanned.notices == WATCHERS, fanned.notices
    result = {
        "workers": workers,
        "notices_s": notices_at - committed,
        "fan_out_done_s": fanned.done_at.timestamp() - committed,
        "first_mail_s": first - committed,
        "mails_s": mails_at - committed,
        "marked_s": marked_at - committed,
        "mails": count,
        "distinct": distinct,
        "worker_hwm_kb": hwm,
        "load": f"{load_before} → {load()}",
    }
    print(f"  {workers} worker(s): {json.dumps(result)}", flush=True)
    return result


def backlog_memory(sink: Sink, home, addresses: list[str], logs: Path) -> dict:
    """The idle worker's RSS, then a fresh worker's while it sends from 100,000 undelivered
    notices for BACKLOG_SECONDS."""
    import datetime

    from django.db import transaction
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from alerts import delivery
    from alerts.models import EventFanOut, Notice, Watch
    from register.codes import EventKind
    from register.models import Decision, RegisterEvent

    idle = Workers(1, logs)
    time.sleep(10)
    idle_memory = idle.memory()[0]
    idle.stop()

    started = time.perf_counter()
    decision = Decision.objects.filter(facility=home).latest("decision_date", "pk")
    watches = list(
        Watch.objects.filter(facility=home).order_by("user_id").values_list("pk", "user_id")
    )
    events_needed = -(-BACKLOG // len(watches))
    due = timezone.now() - datetime.timedelta(minutes=10)
    with transaction.atomic():
        events = RegisterEvent.objects.bulk_create(
            [
                RegisterEvent(
                    kind=EventKind.DECISION,
                    facility=home,
                    provider_id=home.provider_id,
                    municipality_id=home.municipality_id,
                    county_id=home.municipality.county_id,
                    decision=decision,
                    serious=True,
                    occurred_on=decision.decision_date,
                    details={
                        "outcome": decision.outcome,
                        "appeal_status": decision.appeal_status,
                        "diarienummer": decision.diarienummer,
                    },
                )
                for _ in range(events_needed)
            ]
        )
        EventFanOut.objects.bulk_create(
            [EventFanOut(event=event, notices=len(watches)) for event in events]
        )
        notices = [
            Notice(
                user_id=user_id,
                watch_id=watch_id,
                event=event,
                serious=True,
                mail_due_at=due,
            )
            for event in events
            for watch_id, user_id in watches
        ][:BACKLOG]
        Notice.objects.bulk_create(notices, batch_size=2000)
        ids = list(
            Notice.objects.filter(event__in=events).order_by("pk").values_list("pk", flat=True)
        )
        delivery._queue_mails(ids)  # the send tasks, as the fan-out queues them
    made_seconds = time.perf_counter() - started
    tasks_before = DBTaskResult.objects.ready().count()
    enqueued_before = DBTaskResult.objects.count()
    pending_before = Notice.objects.filter(mail=Notice.Mail.PENDING).count()

    sink.reset()
    load_before = load()
    worker = Workers(1, logs)
    begun = time.time()
    samples = []
    while time.time() - begun < BACKLOG_SECONDS:
        worker.check()
        samples.append((time.time() - begun, worker.memory()[0]["VmRSS"]))
        time.sleep(0.5)
    busy_memory = worker.memory()[0]
    tasks_during = DBTaskResult.objects.ready().count()
    worker.stop()
    sent, distinct, _, _ = sink.stat()
    result = {
        "idle_kb": idle_memory,
        "backlog": len(ids),
        "events": len(events),
        "made_seconds": made_seconds,
        "tasks_before": tasks_before,
        "tasks_after": tasks_during,
        "tasks_queued_meanwhile": DBTaskResult.objects.count() - enqueued_before,
        "pending_before": pending_before,
        "pending_after": Notice.objects.filter(mail=Notice.Mail.PENDING).count(),
        "seconds": BACKLOG_SECONDS,
        "sent": sent,
        "distinct": distinct,
        "busy_kb": busy_memory,
        "rss_at": {f"{at:.0f}": kb for at, kb in samples[:: max(1, len(samples) // 6)]},
        "load": f"{load_before} → {load()}",
    }
    print(f"  memory: {json.dumps(result)}", flush=True)
    return result


# The run: each leg in its own process; the tables ----------------------------------------------


def main() -> None:
    print(
        f"alerts: {WATCHERS:,} watchers, a backlog of {BACKLOG:,} — {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, SQLite {sqlite3.sqlite_version}; "
        f"load {load()}",
        flush=True,
    )
    results = []
    started = time.perf_counter()
    for leg in LEGS:
        process = subprocess.Popen(
            [PYTHON, __file__, "leg", leg], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for line in process.stdout:
            if line.startswith("RESULT "):
                results.append(json.loads(line.removeprefix("RESULT ")))
            else:
                print(line, end="", flush=True)
        if process.wait():
            sys.exit(f"{leg}: failed")
    print(f"\n{time.perf_counter() - started:.0f} s in all; load now {load()}")
    report(results)


NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def report(results: list[dict]) -> None:
    if any("runs" in r for r in results):
        report_decisions(results)
    if any("memory" in r for r in results):
        report_memory(results)


def report_decisions(results: list[dict]) -> None:
    name = NAME
    print(
        f"\nOne serious decision, {WATCHERS:,} watchers: seconds from the commit "
        "(× the floor: Django's mail API, one connection, the mean of first and last)"
    )
    print(
        "| database | delivered by | all notices made s | first mail s | last mail accepted s "
        "| last marked sent s | notices/s | mails/s (from the commit; while sending) "
        "| × floor | mails (distinct) | load |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in (r for r in results if "runs" in r):
        floor_s = (r["floor_first"]["seconds"] + r["floor_last"]["seconds"]) / 2
        for label, key in (
            ("floor: plain loop, one connection (first / last)", None),
            ("plain loop, a new connection every 50 mails", "floor_per_50"),
        ):
            if key is None:
                first, last = r["floor_first"], r["floor_last"]
                seconds = f"{first['seconds']:.1f} / {last['seconds']:.1f}"
                rate = f"{WATCHERS / first['seconds']:.0f} / {WATCHERS / last['seconds']:.0f}"
                ratio = "1.00"
                loads = f"{first['load']}; {last['load']}"
            elif key in r:
                seconds = f"{r[key]['seconds']:.1f}"
                rate = f"{WATCHERS / r[key]['seconds']:.0f}"
                ratio = f"{r[key]['seconds'] / floor_s:.2f}"
                loads = r[key]["load"]
            else:
                continue
            print(
                f"| {name[r['leg']]} | {label} | – | – | {seconds} | – | – | {rate} | {ratio} | "
                f"{WATCHERS} | {loads} |"
            )
        for run in r["runs"]:
            print(
                f"| {name[r['leg']]} | run_worker × {run['workers']} | {run['notices_s']:.2f} | "
                f"{run['first_mail_s']:.2f} | {run['mails_s']:.1f} | {run['marked_s']:.1f} | "
                f"{WATCHERS / run['notices_s']:.0f} | {WATCHERS / run['mails_s']:.0f}; "
                f"{WATCHERS / (run['mails_s'] - run['first_mail_s']):.0f} | "
                f"{run['mails_s'] / floor_s:.2f} | {run['mails']} ({run['distinct']}) | "
                f"{run['load']} |"
            )


def report_memory(results: list[dict]) -> None:
    name = NAME
    print(
        f"\nThe worker's memory (MB): idle, and a fresh worker sending from {BACKLOG:,} "
        f"undelivered notices for {BACKLOG_SECONDS:.0f} s"
    )
    print(
        "| database | idle RSS | idle peak (VmHWM) | busy RSS at the end | busy peak (VmHWM) | "
        "× idle peak | mails sent in the time | ready tasks before → after "
        "(queued meanwhile) | load |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for r in (r for r in results if "memory" in r):
        m = r["memory"]
        print(
            f"| {name[r['leg']]} | {m['idle_kb']['VmRSS'] / 1024:.0f} | "
            f"{m['idle_kb']['VmHWM'] / 1024:.0f} | {m['busy_kb']['VmRSS'] / 1024:.0f} | "
            f"{m['busy_kb']['VmHWM'] / 1024:.0f} | "
            f"{m['busy_kb']['VmHWM'] / m['idle_kb']['VmHWM']:.2f} | "
            f"{m['sent']:,} ({m['sent'] / m['seconds']:.0f}/s) | "
            f"{m['tasks_before']} → {m['tasks_after']} ({m['tasks_queued_meanwhile']}) | "
            f"{m['load']} |"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["sink"]:
        sink_main()
    elif sys.argv[1:2] == ["leg"]:
        leg_main(sys.argv[2])
    else:
        main()
