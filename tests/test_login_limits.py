"""The limits of the municipal login (docs/security.md): guessing six-digit codes, and keeping
an address's owner from signing in. Mail through a real SMTP server on loopback; the concurrent
guesses are real processes and threads on the test run's own database engine."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, TestCase
from django.utils import timezone

from access.models import LoginCodeAttempt, LoginToken
from tests.login_support import ADDRESS, link_and_code, same_page
from tests.process_support import database_of_their_own

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parent.parent
WRONG_CODE = "Koden stämmer inte eller har gått ut. Begär en ny kod med länken nedan."
IP_CAP = (
    "För många felaktiga koder har skrivits från din anslutning det senaste dygnet, så "
    "ingen kod prövas just nu. Logga in med länken i e-postmeddelandet i stället."
)
ADDRESS_CAP = (
    "För många felaktiga koder har skrivits för den här adressen det senaste dygnet, så "
    "ingen kod prövas just nu. Logga in med länken i e-postmeddelandet i stället."
)
TOTAL_CAP = (
    "Inloggning med kod är tillfälligt avstängd efter många felaktiga koder. Logga in med "
    "länken i e-postmeddelandet i stället."
)
MAIL_SENT = "Om {address} är frilistad har vi skickat en inloggningslänk och en kod dit."
NO_MAIL = "så vi har inte skickat något nytt e-postmeddelande till {address}."
VICTIM_IP = "192.0.2.10"  # the owner's municipality
STRANGER_IPS = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]


def browser(ip: str) -> Client:
    """A browser of its own (its own session) at one IP address."""
    return Client(REMOTE_ADDR=ip)


def ask_for_mail(client: Client, email: str = ADDRESS) -> str:
    """Ask for a login mail; the page shown after it, as text."""
    with TestCase.captureOnCommitCallbacks(execute=True):  # the mail goes at the commit
        response = client.post("/logga-in/", {"email": email})
    assert response["Location"] == "/logga-in/skickat/"
    return client.get("/logga-in/skickat/").content.decode()


def type_code(client: Client, code: str) -> str:
    """Type a code on the page; its answer as text ("" when signed in)."""
    response = client.post("/logga-in/skickat/", {"code": code})
    if response.status_code == 302:
        assert client.get("/").status_code == 200
        return ""
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # not signed in
    return response.content.decode()


def other_than(code: str, offset: int = 1) -> str:
    return f"{(int(code) + offset) % 10**6:06d}"


# (a) Guessing ------------------------------------------------------------------------------------


def test_login_code__typed_in_another_browser__refused(listed, smtp_server):
    """The code works only in the session that asked for it: a guesser needs the owner's
    session cookie to try the owner's code."""
    owner = browser(VICTIM_IP)
    ask_for_mail(owner)
    _link, code = link_and_code(smtp_server)
    stranger = browser(STRANGER_IPS[0])
    ask_for_mail(stranger)  # the stranger's own session, asking for the same address

    assert WRONG_CODE in type_code(stranger, code)
    assert type_code(owner, code) == ""


def test_login_code__a_strangers_requests_and_wrong_codes__do_not_spoil_the_owners_code(
    listed, smtp_server
):
    owner = browser(VICTIM_IP)
    ask_for_mail(owner)
    _link, code = link_and_code(smtp_server)
    for ip in STRANGER_IPS:  # four codes mailed to the owner, each guessed at by the stranger
        stranger = browser(ip)
        ask_for_mail(stranger)
        assert WRONG_CODE in type_code(stranger, other_than(code))

    assert type_code(owner, code) == ""


def test_login_code__per_ip_daily_cap__nothing_compared_not_even_the_right_code(
    listed, smtp_server, settings
):
    settings.LOGIN_CODE_FAILURES_PER_IP = 3
    for number in range(3):
        guesser = browser(STRANGER_IPS[0])
        ask_for_mail(guesser, f"person{number}@kalmar.example")
        assert WRONG_CODE in type_code(guesser, "123456")
    guesser = browser(STRANGER_IPS[0])
    ask_for_mail(guesser)
    _link, code = link_and_code(smtp_server)

    assert IP_CAP in type_code(guesser, code)
    token = LoginToken.objects.get()
    assert token.used_at is None and token.code_attempts == 0  # never compared

    # The same owner from another address is not hindered.
    owner = browser(VICTIM_IP)
    ask_for_mail(owner)
    assert type_code(owner, link_and_code(smtp_server)[1]) == ""


def test_login_code__per_address_daily_cap__refused_from_any_ip_with_the_reason_link_still_works(
    listed, smtp_server
):
    for number in range(settings.LOGIN_CODE_FAILURES_PER_ADDRESS):
        stranger = browser(STRANGER_IPS[number % len(STRANGER_IPS)])
        ask_for_mail(stranger)
        assert WRONG_CODE in type_code(stranger, "000000")
    stranger = browser(STRANGER_IPS[0])
    ask_for_mail(stranger)
    assert ADDRESS_CAP in type_code(stranger, "000000")

    owner = browser(VICTIM_IP)
    assert MAIL_SENT.format(address=ADDRESS) in ask_for_mail(owner)
    link, code = link_and_code(smtp_server)
    assert ADDRESS_CAP in type_code(owner, code)  # the truth, and nothing compared
    assert owner.post(link).status_code == 302  # the link in the same mail signs the owner in
    assert owner.get("/").status_code == 200


def test_login_code__per_address_daily_cap__lifts_after_a_day(listed, smtp_server, settings):
    settings.LOGIN_CODE_FAILURES_PER_ADDRESS = 2
    for ip in STRANGER_IPS[:2]:
        stranger = browser(ip)
        ask_for_mail(stranger)
        type_code(stranger, "000000")
    LoginCodeAttempt.objects.update(at=timezone.now() - datetime.timedelta(hours=24, seconds=1))

    owner = browser(VICTIM_IP)
    ask_for_mail(owner)

    assert type_code(owner, link_and_code(smtp_server)[1]) == ""


def test_login_code__per_address_cap__the_same_answer_for_a_listed_and_an_unlisted_address(
    listed, smtp_server, settings
):
    settings.LOGIN_CODE_FAILURES_PER_ADDRESS = 2
    pages = {}
    for email in (ADDRESS, "okand@kalmar.example"):
        for ip in STRANGER_IPS[:2]:
            stranger = browser(ip)
            ask_for_mail(stranger, email)
            assert WRONG_CODE in type_code(stranger, "000000")
        stranger = browser(STRANGER_IPS[2])
        ask_for_mail(stranger, email)
        pages[email] = same_page(type_code(stranger, "000000"), email)

    assert ADDRESS_CAP in pages[ADDRESS]
    assert pages[ADDRESS] == pages["okand@kalmar.example"]


def test_login_code__total_daily_cap__codes_off_for_everyone_links_still_work(
    listed, smtp_server, settings
):
    settings.LOGIN_CODE_FAILURES_TOTAL = 3
    for number in range(3):
        stranger = browser(STRANGER_IPS[number])
        ask_for_mail(stranger, f"person{number}@kalmar.example")
        assert WRONG_CODE in type_code(stranger, "000000")

    owner = browser(VICTIM_IP)
    ask_for_mail(owner)
    link, code = link_and_code(smtp_server)

    assert TOTAL_CAP in type_code(owner, code)
    assert owner.post(link).status_code == 302


# (b) Keeping the owner out -----------------------------------------------------------------------


def test_login_mail__a_strangers_many_requests_from_elsewhere__the_owner_still_gets_a_working_code(
    listed, smtp_server
):
    for ip in STRANGER_IPS:
        for _request in range(settings.LOGIN_RATE_PER_ADDRESS + 3):
            ask_for_mail(browser(ip))
    mails_before = len(smtp_server.messages)
    assert mails_before == len(STRANGER_IPS) * settings.LOGIN_RATE_PER_ADDRESS

    owner = browser(VICTIM_IP)
    page = ask_for_mail(owner)

    assert MAIL_SENT.format(address=ADDRESS) in page
    assert len(smtp_server.messages) == mails_before + 1
    assert type_code(owner, link_and_code(smtp_server)[1]) == ""


def test_login_mail__limited__the_page_says_no_mail_was_sent_listed_or_not(listed, smtp_server):
    pages = {}
    for email in (ADDRESS, "okand@kalmar.example"):
        client = browser(VICTIM_IP)
        for _request in range(settings.LOGIN_RATE_PER_ADDRESS):
            assert MAIL_SENT.format(address=email) in ask_for_mail(client, email)
        mails_before = len(smtp_server.messages)

        page = ask_for_mail(client, email)

        assert len(smtp_server.messages) == mails_before  # none sent
        assert "Inget nytt e-postmeddelande skickades" in page
        assert NO_MAIL.format(address=email) in page
        assert "har vi skickat" not in page
        pages[email] = same_page(page, email)

    assert pages[ADDRESS] == pages["okand@kalmar.example"]


def test_login_mail__limited__a_code_already_mailed_to_this_browser_still_works(
    listed, smtp_server
):
    owner = browser(VICTIM_IP)
    for _request in range(settings.LOGIN_RATE_PER_ADDRESS):
        ask_for_mail(owner)
    _link, code = link_and_code(smtp_server)
    assert "Inget nytt e-postmeddelande skickades" in ask_for_mail(owner)

    assert type_code(owner, code) == ""


# Concurrent guesses, on a real database ----------------------------------------------------------

SCRIPT = r"""
import json, re, sys, threading
import django
django.setup()
from django.conf import settings
from django.test.utils import override_settings
# Production serves hashed static files from collectstatic's manifest; tests have none.
override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
from django.core import mail
from django.db import connections
from django.test import Client
from django.utils import timezone
import datetime
from access.models import AllowlistEntry, LoginCodeAttempt, LoginToken

command, address = sys.argv[1], sys.argv[2]
if command == "ask":  # an allowlisted address asks for a mail: its session and code
    now = timezone.now()
    AllowlistEntry.objects.get_or_create(
        email=address, revoked_at=None,
        defaults=dict(municipality_id="0880", confirmed_at=now,
                      expires_at=now + datetime.timedelta(days=365)),
    )
    client = Client(REMOTE_ADDR="192.0.2.10")
    assert client.post("/logga-in/", {"email": address}).status_code == 302
    code = re.search(r"koden (\d{6})", mail.outbox[-1].body).group(1)
    print(json.dumps({"session": client.cookies[settings.SESSION_COOKIE_NAME].value,
                      "code": code}))
elif command == "guess":  # threads typing codes in that session at the same moment
    session, code, threads = sys.argv[3], sys.argv[4], int(sys.argv[5])
    warmed_up = threading.Barrier(threads + 1)
    go = threading.Event()
    answers = []
    def guess():
        client = Client(REMOTE_ADDR="192.0.2.10")
        client.cookies[settings.SESSION_COOKIE_NAME] = session
        # Warmed up first (URLs, templates, this thread's connection): the codes arrive together.
        assert client.get("/logga-in/skickat/").status_code == 200
        warmed_up.wait()
        go.wait()
        try:
            answers.append(client.post("/logga-in/skickat/", {"code": code}).status_code)
        except Exception as error:  # shown in the test's assertion
            answers.append(repr(error))
        finally:
            connections.close_all()
    workers = [threading.Thread(target=guess) for _ in range(threads)]
    for worker in workers:
        worker.start()
    warmed_up.wait()
    print("ready", flush=True)
    sys.stdin.readline()  # every process waits for the same go
    go.set()
    for worker in workers:
        worker.join()
    print(json.dumps(answers))
elif command == "type":  # one code typed in that session
    session, code = sys.argv[3], sys.argv[4]
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    response = client.post("/logga-in/skickat/", {"code": code})
    print(json.dumps({"status": response.status_code,
                      "capped": "För många felaktiga koder" in response.content.decode(),
                      "signed_in": client.get("/").status_code == 200}))
elif command == "state":
    token = LoginToken.objects.filter(email=address).get()
    print(json.dumps({"attempts": token.code_attempts, "used": token.used_at is not None}))
"""

PROCESSES = 4
THREADS = 4  # 16 concurrent guesses


@pytest.fixture(scope="module")
def concurrent_database(tmp_path_factory, django_db_setup):
    """Where the guessing processes write: a migrated database of their own on the test run's
    engine (the in-memory SQLite test database is out of their reach, and what they commit on
    PostgreSQL must not stay behind for other tests)."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    with database_of_their_own(
        connection.settings_dict,
        connection.vendor,
        folder=tmp_path_factory.mktemp("login_race"),
        name="login_race",
        environment=environment,
    ) as environment:
        yield environment


def run(environment, *arguments) -> str:
    return (
        subprocess.run(
            [sys.executable, "-c", SCRIPT, *arguments],
            env=environment,
            cwd=BASE_DIR,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )


def guess_at_once(environment, address: str, session: str, code: str) -> list[int]:
    """PROCESSES x THREADS wrong codes typed in one session at the same moment."""
    guessers = [
        subprocess.Popen(
            [sys.executable, "-c", SCRIPT, "guess", address, session, code, str(THREADS)],
            env=environment,
            cwd=BASE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _process in range(PROCESSES)
    ]
    for guesser in guessers:
        assert guesser.stdout.readline().strip() == "ready", guesser.stderr.read()
    for guesser in guessers:
        guesser.stdin.write("go\n")
        guesser.stdin.flush()
    answers = []
    for guesser in guessers:
        output, errors = guesser.communicate(timeout=180)
        assert guesser.returncode == 0, errors
        answers += json.loads(output.strip().splitlines()[-1])
    return answers


def guessing_environment(environment, **limits) -> dict:
    return {**environment, **{name: str(value) for name, value in limits.items()}}


def test_login_code__16_concurrent_wrong_codes__5_compared_then_the_right_code_refused(
    concurrent_database,
):
    environment = guessing_environment(
        concurrent_database,
        LOGIN_CODE_ATTEMPTS=5,
        LOGIN_CODE_FAILURES_PER_ADDRESS=1000,
        LOGIN_CODE_FAILURES_PER_IP=1000,
        LOGIN_CODE_FAILURES_TOTAL=1000,
    )
    address = "per.kod@kalmar.example"
    asked = json.loads(run(environment, "ask", address))

    answers = guess_at_once(environment, address, asked["session"], other_than(asked["code"]))

    assert answers == [400] * PROCESSES * THREADS
    right = json.loads(run(environment, "type", address, asked["session"], asked["code"]))
    assert right == {"status": 400, "capped": False, "signed_in": False}
    assert json.loads(run(environment, "state", address)) == {"attempts": 5, "used": False}


def test_login_code__16_concurrent_wrong_codes_over_the_address_cap__at_most_the_cap_compared(
    concurrent_database,
):
    environment = guessing_environment(
        concurrent_database,
        LOGIN_CODE_ATTEMPTS=1000,
        LOGIN_CODE_FAILURES_PER_ADDRESS=10,
        LOGIN_CODE_FAILURES_PER_IP=1000,
        LOGIN_CODE_FAILURES_TOTAL=1000,
    )
    address = "per.adress@kalmar.example"
    asked = json.loads(run(environment, "ask", address))

    answers = guess_at_once(environment, address, asked["session"], other_than(asked["code"]))

    assert answers == [400] * PROCESSES * THREADS
    compared = json.loads(run(environment, "state", address))["attempts"]
    assert 1 <= compared <= 10
    # Guesses that met others' rows may have been turned away below the cap (the count fails
    # closed); one at a time, exactly the rest of the cap is compared, then nothing.
    wrong = other_than(asked["code"])
    for _guess in range(10 - compared):
        answer = json.loads(run(environment, "type", address, asked["session"], wrong))
        assert answer == {"status": 400, "capped": False, "signed_in": False}
    right = json.loads(run(environment, "type", address, asked["session"], asked["code"]))
    assert right == {"status": 400, "capped": True, "signed_in": False}
    assert json.loads(run(environment, "state", address)) == {"attempts": 10, "used": False}
