"""What ``/readyz`` checks: each component the service needs to do its work, through
django-health-check's checks where it has one and ours where it has none.

The answer names each component with a fixed word ("ok" or "fail"), never an exception's text:
that can hold a host, a path or a connection string. The failure itself, with its exception, is
logged for the operators (django-health-check logs it as a warning).
"""

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import DatabaseError, router
from django.utils.module_loading import import_string
from health_check.base import HealthCheck
from health_check.checks import Database, Storage
from health_check.exceptions import HealthCheckException, ServiceUnavailable

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class MailServer(HealthCheck):
    """The SMTP server the login links and notices go through: connect (STARTTLS when
    EMAIL_USE_TLS, log in when EMAIL_HOST_USER is set, as a real send does), then NOOP.
    django-health-check's own Mail check only opens the connection, sending nothing when there
    is no TLS or login, and does not take EMAIL_TIMEOUT."""

    def __post_init__(self) -> None:
        self.timeout = datetime.timedelta(seconds=settings.EMAIL_TIMEOUT or 10)

    def run(self) -> None:
        backend = get_connection(fail_silently=False, timeout=self.timeout.total_seconds())
        try:
            backend.open()
            code, _message = backend.connection.noop()
        except (smtplib.SMTPException, OSError) as error:
            raise ServiceUnavailable("SMTP server unreachable") from error
        finally:
            # The server gone while we close: already reported above.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                backend.close()
        if code != 250:
            raise ServiceUnavailable("SMTP server refused NOOP")


@dataclasses.dataclass
class TaskQueue(HealthCheck):
    """The worker's queue: django-tasks-db's table, in the database the worker takes its tasks
    from, answers a read. Read on the request's own thread and database connection
    (``ON_REQUEST_THREAD``), as every other read of the request is: a connection opened in a
    thread of the check's own would stay open after it, and on SQLite would wait on the
    request's own open transaction."""

    ON_REQUEST_THREAD = True

    def run(self) -> None:
        self._read()

    def _read(self) -> None:
        from django_tasks_db.models import DBTaskResult

        using = router.db_for_write(DBTaskResult)
        try:
            list(DBTaskResult.objects.using(using).values_list("id", flat=True)[:1])
        except DatabaseError as error:
            raise ServiceUnavailable("task queue unreachable") from error


def mail_is_smtp() -> bool:
    """Whether mail goes through an SMTP server: only then is there a server to check (the
    console backend in development, memory in the tests)."""
    backend = import_string(settings.EMAIL_BACKEND)
    return isinstance(backend, type) and issubclass(backend, SmtpBackend)


def components() -> list[tuple[str, HealthCheck]]:
    """(the component's name in the answer, its check), from the settings of this moment."""
    checks: list[tuple[str, HealthCheck]] = [("database", Database(alias="default"))]
    if "accesslog" in settings.DATABASES:
        # On SQLite the access log is a file of its own (config/settings.py).
        checks.append(("accesslog", Database(alias="accesslog")))
    checks.append(("storage", Storage(alias="documents")))
    if mail_is_smtp():
        checks.append(("mail", MailServer()))
    checks.append(("queue", TaskQueue()))
    return checks


def failing(named: list[tuple[str, HealthCheck]]) -> dict[str, bool]:
    """{component: whether it failed}. The checks run side by side, each in a thread of its own
    with an event loop of its own (django-health-check's checks are coroutines), so the answer
    takes as long as the slowest, and one past its timeout counts as failed without being waited
    for; the queue's on the request's own thread meanwhile. A plain function for a plain view:
    the view needs no event loop of the request's, which a thread that already runs one (a
    browser driver's, in the tests) could not give it."""
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=len(named))
    try:
        elsewhere = {
            name: (check, executor.submit(asyncio.run, check.get_result()))
            for name, check in named
            if not getattr(check, "ON_REQUEST_THREAD", False)
        }
        failed = {}
        for name, check in named:
            if getattr(check, "ON_REQUEST_THREAD", False):
                failed[name] = _fails_here(check)
        for name, (check, future) in elsewhere.items():
            try:
                # get_result gives a check its timeout and a second more, and reports it failed.
                failed[name] = future.result(timeout=check.timeout.total_seconds() + 2).error
            except concurrent.futures.TimeoutError:
                logger.warning("Health check %r did not answer in time", check)
                failed[name] = True
        return {name: bool(failed[name]) for name, _check in named}
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


def _fails_here(check: HealthCheck) -> bool:
    try:
        check.run()
    except HealthCheckException:
        logger.warning("Health check %r failed", check, exc_info=True)
        return True
    except Exception:
        logger.exception("Unexpected exception in health check %r", check)
        return True
    return False
