"""Several processes writing to one SQLite file at once must all succeed.

Each writer reads, then writes in the same transaction: with SQLite's default DEFERRED
transactions two such writers deadlock on the lock upgrade and one fails at once with "database
is locked", whatever the busy timeout. The settings' IMMEDIATE mode takes the write lock at BEGIN,
so writers queue instead. The test uses its own SQLite file, so it runs in both CI legs.
"""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
WRITERS = 4
WRITES_EACH = 25

WRITER = """
import sys
import django
django.setup()
from django.db import transaction
from stdnum import luhn
from register import services
from register.models import Provider

writer = int(sys.argv[1])
Provider.objects.exists()  # connected, and the first query's imports done
print("ready", flush=True)
sys.stdin.readline()  # every writer starts at the same go
for number in range({writes}):
    with transaction.atomic():
        Provider.objects.count()  # a read first: the lock upgrade DEFERRED mode deadlocks on
        prefix = f"559{{writer}}{{number:05d}}"
        organisation_number = f"{{prefix[:6]}}-{{prefix[6:]}}{{luhn.calc_check_digit(prefix)}}"
        services.provider_save(
            provider=Provider(
                organisation_number=organisation_number,
                name=f"Skrivare {{writer}} nr {{number}}",
                ownership="enskild",
            )
        )
"""


def test_sqlite__concurrent_writers_in_separate_processes__none_sees_database_is_locked(tmp_path):
    database = tmp_path / "concurrent.sqlite3"
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "false"}
    environment.pop("TEST_DATABASE_NAME", None)
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v", "0"], env=environment, cwd=BASE_DIR, check=True)

    script = WRITER.format(writes=WRITES_EACH)
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(writer)],
            env=environment,
            cwd=BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for writer in range(WRITERS)
    ]
    # Started together: loading Django takes each process longer than writing all its rows, so
    # writers started one after another might never overlap, and the test would prove nothing.
    for process in writers:
        assert process.stdout.readline() == "ready\n", process.stderr.read()
    for process in writers:
        process.stdin.write("go\n")
        process.stdin.flush()
    failures = [process.communicate(timeout=120)[1] for process in writers]

    assert [process.returncode for process in writers] == [0] * WRITERS, failures
    count = subprocess.run(
        [
            *manage,
            "shell",
            "--no-imports",
            "-c",
            "from register.models import Provider;"
            "print(Provider.objects.count(), Provider.history.count())",
        ],
        env=environment,
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert count == [str(WRITERS * WRITES_EACH)] * 2
