"""A login during an import is answered normally (issue 15, point 7).

An import used to hold SQLite's only write lock for its whole run (about 50 rows a second), so a
login, which writes its token and its session, waited out the busy timeout and failed with
"database is locked". Here one process imports a few thousand decisions into a file database
while another logs in by one-time link and loads the search page again and again, as a social
worker would; every login must succeed. The import is held, by the test, after it has read and
checked every row and before it writes (where the old import already held the lock) until three
logins have finished there: that the logins ran during the import is arranged, not hoped for.
Its own SQLite files, so it runs in both CI legs.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DECISIONS = 3000  # the old import held the lock for about a minute with these
USERS = 60
LOGINS_WHILE_HELD = 3

SETUP = """
import csv, sys
import django
django.setup()
from django.utils import timezone
from register import demo
from register.imports import DECISION_COLUMNS
from register.models import Facility
from access.roles import Role
from tests.factories import make_user

demo.seed_demo(facility_count=demo.MIN_FACILITY_COUNT)
rows = demo.decision_import_rows(
    facilities=list(Facility.objects.select_related("provider")),
    count=int(sys.argv[2]),
    today=timezone.localdate(),
)
with open(sys.argv[1], "w", newline="", encoding="utf-8") as file:
    writer = csv.DictWriter(file, fieldnames=list(DECISION_COLUMNS), delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
for number in range(int(sys.argv[3])):
    make_user(Role.MUNICIPAL_USER, email=f"handlaggare{number}@kalmar.example")
"""

# Logs in by one-time link (token and session written), then loads the search page; again and
# again, a new address each time, until told to stop. Writes each login's outcome as it ends.
LOGINS = """
import json, pathlib, re, sys, time
import django
django.setup()
from django.conf import settings
from django.core import mail
from django.test import Client
from django.test.utils import override_settings

stop, out, users = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
with override_settings(
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ALLOWED_HOSTS=["testserver"],
    SECURE_SSL_REDIRECT=False,
    STORAGES={
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
):
    number = 0
    while not stop.exists():
        address = f"handlaggare{number % users}@kalmar.example"
        number += 1
        client = Client()
        started = time.time()
        try:
            response = client.post("/logga-in/", {"email": address})
            assert response.status_code == 302, response.status_code
            link = re.search(r"/logga-in/lank/[^\\s/]+/", mail.outbox[-1].body).group(0)
            response = client.post(link)
            assert response.status_code == 302, response.status_code
            response = client.get("/")
            assert response.status_code == 200, response.status_code  # signed in: the portal
            result = {"ok": True, "started": started, "seconds": time.time() - started}
        except Exception as error:
            result = {"ok": False, "started": started, "error": repr(error)}
        with out.open("a") as file:  # one line a login, read by the test as they come
            file.write(json.dumps(result) + "\\n")
"""

# The import as the command runs it, held after its plan (every row read and checked, nothing
# written) until the test creates the file `resume`; it creates `planned` when it gets there.
IMPORT = """
import pathlib, sys, time
import django
django.setup()
from django.core.management import call_command
from register import imports

path, planned, resume = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
plan = imports._plan_decisions

def plan_then_hold(*args, **kwargs):
    result = plan(*args, **kwargs)
    planned.touch()
    deadline = time.monotonic() + 300
    while not resume.exists():
        if time.monotonic() > deadline:
            sys.exit("the test did not let the import go on")
        time.sleep(0.05)
    return result

imports._plan_decisions = plan_then_hold
call_command("import_decisions", path)
"""


def test_login_during_a_large_import__answered_normally(tmp_path):
    environment = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'register.sqlite3'}",
        "ACCESS_LOG_DATABASE_URL": f"sqlite:///{tmp_path / 'accesslog.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "PYTHONPATH": str(BASE_DIR),
    }
    environment.pop("TEST_DATABASE_NAME", None)
    environment.pop("TEST_ACCESS_LOG_DATABASE_NAME", None)
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate_all", "-v", "0"], env=environment, cwd=BASE_DIR, check=True)
    decisions_file = tmp_path / "beslut.csv"
    subprocess.run(
        [sys.executable, "-c", SETUP, str(decisions_file), str(DECISIONS), str(USERS)],
        env=environment,
        cwd=BASE_DIR,
        check=True,
    )

    stop, results_file = tmp_path / "stop", tmp_path / "logins.jsonl"
    planned, resume = tmp_path / "planned", tmp_path / "resume"

    def logins_so_far() -> list[dict]:
        """Each login ended so far (a line still being written is left for the next read)."""
        lines = results_file.read_text().split("\n") if results_file.exists() else [""]
        return [json.loads(line) for line in lines[:-1]]

    def ran_while_held() -> list[dict]:
        return [result for result in logins_so_far() if result["started"] >= held_at]

    logins = subprocess.Popen(
        [sys.executable, "-c", LOGINS, str(stop), str(results_file), str(USERS)],
        env=environment,
        cwd=BASE_DIR,
    )
    importer = subprocess.Popen(
        [sys.executable, "-c", IMPORT, str(decisions_file), str(planned), str(resume)],
        env=environment,
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: planned.exists() or importer.poll() is not None, "the import's plan")
        assert importer.poll() is None, importer.communicate()
        # Held between reading and writing: a login that starts now runs during the import.
        held_at = time.time()
        wait_for(
            lambda: (
                len(ran_while_held()) >= LOGINS_WHILE_HELD
                or any(not result["ok"] for result in ran_while_held())
                or logins.poll() is not None
            ),
            f"{LOGINS_WHILE_HELD} logins while the import is held",
        )
        assert logins.poll() is None, "the logins stopped"
        while_held = ran_while_held()
        resume.touch()
        output, errors = importer.communicate(timeout=600)
    finally:
        resume.touch()
        stop.touch()
        logins.wait(timeout=120)
        if importer.poll() is None:
            importer.kill()

    assert [result for result in while_held if not result["ok"]] == []
    assert len(while_held) >= LOGINS_WHILE_HELD
    assert importer.returncode == 0, errors
    assert f"beslut: {DECISIONS} nya" in output
    # And every login before, during and after the import's writes.
    failures = [result for result in logins_so_far() if not result["ok"]]
    assert failures == []


def wait_for(condition, what: str, *, seconds: float = 300) -> None:
    """Polls ``condition`` until it holds; fails after ``seconds`` (a generous bound on a slow,
    shared machine, not a timing the test relies on)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)
