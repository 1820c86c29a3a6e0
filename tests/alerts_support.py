"""Shared by the alerts tests (a support module, not a test module): a real SMTP server on
loopback that keeps what it accepted and can refuse or hold a message, the in-process worker that
runs the queued tasks, and the privacy scan every notice and mail goes through."""

import asyncio
import re
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from unittest import mock

from aiosmtpd.controller import Controller

# A personnummer or samordningsnummer (day + 60): a date of birth, then four digits. An
# organisationsnummer has 20 or more in its month's place and does not match.
PERSONNUMMER = re.compile(
    r"(?<!\d)(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]|6[1-9]|[78]\d|9[01])"
    r"[-+]?\d{4}(?!\d)"
)


class Mailbox:
    """An aiosmtpd handler: what the server accepted, in order. ``refuse(address, reply, times)``
    refuses that recipient (RCPT) ``times`` times; ``hold_after(n)`` keeps the (n+1)th message's
    DATA unanswered until ``release()``, which then refuses it: the server never said 250, so
    by SMTP it never took the message."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.refusals: dict[str, list[str]] = {}
        self.refused: list[tuple[str, str, float]] = []  # (address, reply, when)
        self._hold_after: int | None = None
        self.holding = threading.Event()
        self._released = threading.Event()
        self._lock = threading.Lock()

    # aiosmtpd calls these -----------------------------------------------------------------

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            replies = self.refusals.get(address)
            if replies:
                reply = replies.pop(0)
                self.refused.append((address, reply, time.time()))
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self._hold_after is not None and len(self.messages) >= self._hold_after:
            self.holding.set()
            while not self._released.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Meddelandet togs inte emot"
        message = message_from_bytes(envelope.content, policy=policy.default)
        # A long encoded subject is folded onto a line of its own; the reader sees no space.
        subject = str(message["Subject"]).strip()
        del message["Subject"]
        message["Subject"] = subject
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    # The test's side ------------------------------------------------------------------------

    def refuse(self, address: str, reply: str = "451 4.7.1 Försök igen senare", times: int = 1):
        self.refusals[address] = [reply] * times

    def hold_after(self, count: int) -> None:
        self._hold_after = count

    def release(self) -> None:
        self._released.set()
        self._hold_after = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def addresses(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)

    @staticmethod
    def text(message: EmailMessage) -> str:
        """What a reader sees: the subject and the body."""
        content = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
        return f"{message['Subject']}\n{content}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """aiosmtpd on loopback, in a thread of this process."""

    def __init__(self):
        self.mailbox = Mailbox()
        self.port = free_port()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.mailbox.release()
        self.controller.stop()

    def settings(self) -> dict[str, object]:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_USE_TLS": False,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
        }


def run_queued() -> None:
    """Run every task of the alerts queue that is due, in this process, as ``run_worker``
    would (django-tasks-db's worker in batch mode); a task that failed fails the test."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    from alerts.tasks import QUEUE

    worker = Worker(
        queue_names=[QUEUE],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    # The worker closes "old" connections between tasks, and one inside the test's transaction
    # counts as old: on PostgreSQL that would end the test's transaction. The test's connection
    # is the worker's here, and stays open.
    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    ):
        worker.run()
    failed = list(DBTaskResult.objects.failed().values_list("task_path", "traceback"))
    assert failed == []


def wait_for(condition, what: str, *, seconds: float = 120, every: float = 0.05) -> None:
    """Poll ``condition`` until it holds; a generous bound on a slow, shared machine."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(every)


def notice_texts() -> list[str]:
    """Every notice as the service shows it to a signed-in reader without the right to personal
    data, and as its mail tells it."""
    from alerts import texts
    from alerts.models import Notice

    shown = []
    for notice in Notice.objects.select_related(
        "event__facility__municipality", "event__provider"
    ).order_by("pk"):
        for for_mail in (False, True):
            text = texts.describe(notice.event, for_mail=for_mail)
            shown.append(
                "\n".join(
                    [
                        text.title,
                        text.facility_name,
                        text.place,
                        *text.lines,
                        *text.deficient_areas,
                        texts.mail_subject(text),
                        texts.mail_body([text]),
                    ]
                )
            )
    return shown


def assert_nothing_personal(mailbox: Mailbox, forbidden: list[str]) -> None:
    """No notice and no mail holds a personnummer or any of ``forbidden`` (names of managers
    and sole traders, what a case record holds)."""
    everything = notice_texts() + [Mailbox.text(m) for m in mailbox.messages]
    assert [PERSONNUMMER.findall(text) for text in everything if PERSONNUMMER.search(text)] == []
    leaks = [(word, text) for text in everything for word in forbidden if word in text]
    assert leaks == []
