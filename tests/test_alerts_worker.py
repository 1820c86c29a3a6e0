"""Exactly once with a real worker process (issue 18, "Delivery, reliably"): ``manage.py
run_worker`` tells several hundred watchers of one home of a prohibition, by mail to a real SMTP
server on loopback; it is killed with SIGKILL in the middle of a batch of mails and started
again, and every watcher gets the mail once: none lost, none twice.

Where it is killed is arranged, not hoped for: the server accepts the first mails, then keeps
the next one's DATA unanswered, and the worker is killed while it waits for that answer. The
server never said 250, so by SMTP that mail was never taken (the server refuses it once the
worker is gone), and the restarted worker must send it. (A kill in the instant after the
server's 250 and before the worker's UPDATE would repeat that one mail: alerts/delivery.py says
so; no queue can know what an SMTP server took without its answer.)

The worker runs against a migrated database of its own on the test run's engine (a SQLite file,
or a PostgreSQL database dropped afterwards), so the test runs in both legs of CI.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from tests.alerts_support import SmtpServer, wait_for
from tests.process_support import database_of_their_own

BASE_DIR = Path(__file__).resolve().parent.parent
WATCHERS = 300
ACCEPTED_BEFORE_THE_KILL = 120  # of 300: in the third batch of 50 mails

SETUP = """
import sys
import django
django.setup()
from access.roles import Role
from alerts import services
from tests.factories import DecisionFactory, FacilityFactory, make_user

home = FacilityFactory(facility_id="K-1", name="Kalmargården")
for number in range(int(sys.argv[1])):
    user = make_user(Role.MUNICIPAL_USER, email=f"bevakare{number}@kalmar.example")
    services.watch_add(user=user, owner_municipality="0880", target=home)
DecisionFactory(facility=home, diarienummer="3.2.2-700/2025", outcome="forbud")
"""

STATE = """
import json
from collections import Counter
import django
django.setup()
from django.db.models import Max
from alerts.models import EventFanOut, Notice
from register.models import RegisterEvent

notices = Notice.objects.all()
print(json.dumps({
    "events": list(RegisterEvent.objects.values_list("kind", flat=True)),
    "fanned_out": EventFanOut.objects.count(),
    "notices": notices.count(),
    "pairs": len(set(notices.values_list("user_id", "event_id"))),
    "mail": dict(Counter(notices.values_list("mail", flat=True))),
    "most_attempts": notices.aggregate(most=Max("mail_attempts"))["most"],
}))
"""


@pytest.fixture
def worker_environment(tmp_path, django_db_setup, django_db_blocker):
    """A migrated database of the worker's own, and the environment that points at it."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "PYTHONPATH": str(BASE_DIR),
        "NOTICE_LEASE_SECONDS": "3",
        "NOTICE_SWEEP_SECONDS": "1",
        "NOTICE_RETRY_SECONDS": "1",
    }
    with django_db_blocker.unblock():
        database = dict(connection.settings_dict)
        vendor = connection.vendor
    with database_of_their_own(
        database, vendor, folder=tmp_path, name="alerts_worker", environment=environment
    ) as environment:
        yield environment


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


def python(environment, script: str, *arguments: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", script, *arguments],
        env=environment,
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def state(environment) -> dict:
    return json.loads(python(environment, STATE).strip().splitlines()[-1])


def start_worker(environment, log: Path) -> subprocess.Popen:
    with open(log, "ab") as output:
        return subprocess.Popen(
            [
                *(sys.executable, str(BASE_DIR / "manage.py"), "run_worker"),
                *("--interval", "0.1", "--no-startup-delay"),
            ],
            env=environment,
            cwd=BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)


def test_worker_killed_mid_batch_and_restarted__every_watcher_mailed_exactly_once(
    worker_environment, smtp, tmp_path
):
    environment = {
        **worker_environment,
        **{name: str(value) for name, value in smtp.settings().items()},
    }
    python(environment, SETUP, str(WATCHERS))
    mailbox = smtp.mailbox
    mailbox.hold_after(ACCEPTED_BEFORE_THE_KILL)
    log = tmp_path / "worker.log"

    first = start_worker(environment, log)
    try:
        wait_for(
            lambda: mailbox.holding.is_set() or first.poll() is not None,
            "the worker to reach the held mail",
        )
        assert first.poll() is None, log.read_text()
        os.kill(first.pid, signal.SIGKILL)  # in the middle of its third batch of 50 mails
        assert first.wait(timeout=30) == -signal.SIGKILL
    finally:
        stop(first)
    mailbox.release()  # the held mail is refused: the server never took it
    killed = state(environment)
    assert len(mailbox.messages) == ACCEPTED_BEFORE_THE_KILL
    assert killed["mail"]["sent"] == ACCEPTED_BEFORE_THE_KILL
    assert killed["mail"]["pending"] == WATCHERS - ACCEPTED_BEFORE_THE_KILL

    second = start_worker(environment, log)
    try:
        wait_for(
            lambda: len(mailbox.messages) >= WATCHERS or second.poll() is not None,
            "every mail",
            seconds=120,
        )
        assert second.poll() is None, log.read_text()
        # Longer than a lease and several sweeps: nothing more comes.
        time.sleep(3 * int(environment["NOTICE_LEASE_SECONDS"]))
        final = state(environment)
    finally:
        stop(second)

    addresses = Counter(str(message["To"]) for message in mailbox.messages)
    assert len(addresses) == WATCHERS
    assert [address for address, count in addresses.items() if count != 1] == []
    assert len({message["Message-ID"] for message in mailbox.messages}) == WATCHERS
    assert final["events"].count("decision") == 1
    assert (final["notices"], final["pairs"]) == (WATCHERS, WATCHERS)
    assert final["mail"] == {"sent": WATCHERS}
    assert final["most_attempts"] == 0  # the killed worker's held mail counted no refusal
