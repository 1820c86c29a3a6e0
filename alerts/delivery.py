"""Telling the watchers: from a register event to notices, and from notices to mail.

The work queue is Django's tasks framework (the ``django-tasks`` backport of Django 6.0's, with
``django-tasks-db``'s database backend: no broker, the same database on SQLite and PostgreSQL).
Our own tables are the truth, the queue only says what to do next:

1. A register write records its events (register.events) and, through ``events_recorded`` in the
   same transaction, the task that fans them out: both commit, or neither.
2. ``fan_out`` makes one notice per (user, event) — the unique constraint makes a second run a
   no-op — and the event's ``EventFanOut`` row, in one transaction, then queues the mails due now.
3. ``send_mails`` claims its notices (a lease: a token and a time, one UPDATE), sends each and
   marks it sent at once. An SMTP refusal counts an attempt and queues the notice again after a
   backoff; after ``NOTICE_MAIL_ATTEMPTS`` it is failed.
4. ``sweep`` (every ``NOTICE_SWEEP_SECONDS``, run by ``manage.py run_worker``) picks up what a
   killed worker left: events without a fan-out, notices whose lease ran out unsent, the daily
   summaries that are due, and the events only the calendar makes (register.events.record_overdue).

So nothing is lost, and nothing is sent twice unless a worker dies in the instant between the
mail server's acceptance and the UPDATE that follows it (then that one mail is sent again).
"""

import contextlib
import datetime
import logging
import smtplib
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from access.services import language_of, users_told_of_watches
from alerts import texts
from alerts.models import AlertSettings, EventFanOut, MailChoice, Notice, Watch
from register.codes import EventKind
from register.models import RegisterEvent

logger = logging.getLogger(__name__)

FAN_OUT_CHUNK = 500  # events a fan-out task takes
MAIL_CHUNK = 50  # mails a send task sends over one SMTP connection


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def events_recorded(events: list[RegisterEvent]) -> None:
    """register.events' hook, inside the write's transaction: queue the fan-out there too."""
    from alerts import tasks

    for chunk in _chunks([event.pk for event in events], FAN_OUT_CHUNK):
        tasks.fan_out.enqueue(chunk)


# Who is told ----------------------------------------------------------------------------------


def _reaches_area(event: RegisterEvent) -> bool:
    """An area's watchers are told of new homes there and of serious events there."""
    return event.kind == EventKind.FACILITY_CREATED or event.serious


def _reach(event: RegisterEvent) -> list[tuple[str, Any]]:
    """What an event reaches, as (watch kind, target id) pairs. A protected home's events reach
    only the watchers of that very home: never a provider's or an area's (DESIGN.md: where it
    is must not spread)."""
    reach: list[tuple[str, Any]] = [(Watch.Kind.FACILITY, event.facility_id)]
    if not event.protected:
        if event.provider_id is not None:
            reach.append((Watch.Kind.PROVIDER, event.provider_id))
        if event.kind == EventKind.PROVIDER_CHANGED and (event.details or {}).get(
            "provider_before"
        ):
            # A provider's watchers follow its homes: also the one that has left it.
            reach.append((Watch.Kind.PROVIDER, event.details["provider_before"]))
        if _reaches_area(event):
            reach.append((Watch.Kind.MUNICIPALITY, event.municipality_id))
            reach.append((Watch.Kind.COUNTY, event.county_id))
    return reach


def _reaching(pairs: Iterable[tuple[str, Any]]) -> Q:
    targets: dict[str, set] = defaultdict(set)
    for kind, target in pairs:
        targets[kind].add(target)
    reach = Q(pk__in=[])
    for kind, ids in targets.items():
        reach |= Q(**{f"{kind}_id__in": sorted(ids)})
    return reach


def watches_for(event: RegisterEvent):
    """The watches an event reaches. A watch made after the event is told from the next event
    on."""
    return Watch.objects.filter(_reaching(_reach(event)), created_at__lte=event.created_at)


_SPECIFIC = {
    Watch.Kind.FACILITY: 0,
    Watch.Kind.PROVIDER: 1,
    Watch.Kind.MUNICIPALITY: 2,
    Watch.Kind.COUNTY: 3,
}


def next_digest_at(now: datetime.datetime) -> datetime.datetime:
    """The next daily summary: NOTICE_DIGEST_HOUR o'clock, local time."""
    local = timezone.localtime(now)
    at = local.replace(hour=settings.NOTICE_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    if at <= local:
        at += datetime.timedelta(days=1)
    return at


def fan_out(event_ids: list[int]) -> int:
    """Make the notices of these events, once; queue the mails due now. Returns how many
    notices were made."""
    made = 0
    due_now: list[int] = []
    with transaction.atomic():
        events = list(
            RegisterEvent.objects.filter(pk__in=event_ids, fan_out__isnull=True).order_by("pk")
        )
        if not events:
            return 0
        now = timezone.now()
        digest_at = next_digest_at(now)
        # Every watch any of the events reaches, in one query; then each event's in memory.
        reach = {event.pk: _reach(event) for event in events}
        by_target: dict[tuple[str, Any], list[Watch]] = defaultdict(list)
        for watch in Watch.objects.filter(
            _reaching(pair for pairs in reach.values() for pair in pairs)
        ).only(
            "pk",
            "user_id",
            "kind",
            "created_at",
            "facility_id",
            "provider_id",
            "municipality_id",
            "county_id",
        ):
            by_target[(watch.kind, getattr(watch, f"{watch.kind}_id"))].append(watch)
        allowed = users_told_of_watches(
            {watch.user_id for watches in by_target.values() for watch in watches}
        )
        choices = dict(
            AlertSettings.objects.filter(user_id__in=allowed).values_list("user_id", "mail")
        )
        notices = []
        fanned_out = []
        for event in events:
            chosen: dict[int, Watch] = {}
            for pair in reach[event.pk]:
                for watch in by_target.get(pair, ()):
                    if watch.created_at > event.created_at or watch.user_id not in allowed:
                        continue
                    known = chosen.get(watch.user_id)
                    if known is None or _SPECIFIC[watch.kind] < _SPECIFIC[known.kind]:
                        chosen[watch.user_id] = watch
            for user_id in sorted(chosen):
                choice = choices.get(user_id, MailChoice.AT_ONCE)
                notice = Notice(
                    user_id=user_id, watch=chosen[user_id], event=event, serious=event.serious
                )
                if event.serious or choice == MailChoice.AT_ONCE:
                    notice.mail_due_at = now
                elif choice == MailChoice.DAILY:
                    notice.digest = True
                    notice.mail_due_at = digest_at
                else:
                    notice.mail = Notice.Mail.NOT_SENT
                notices.append(notice)
            fanned_out.append(EventFanOut(event=event, notices=len(chosen)))
            made += len(chosen)
        Notice.objects.bulk_create(notices, batch_size=1000, ignore_conflicts=True)
        EventFanOut.objects.bulk_create(fanned_out, ignore_conflicts=True)
        due_now = list(
            Notice.objects.filter(
                event_id__in=[e.pk for e in events],
                mail=Notice.Mail.PENDING,
                digest=False,
                mail_lease_until__isnull=True,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        _queue_mails(due_now)
    return made


def _queue_mails(notice_ids: list[int], *, run_after: datetime.datetime | None = None) -> None:
    from alerts import tasks

    task = tasks.send_mails if run_after is None else tasks.send_mails.using(run_after=run_after)
    for chunk in _chunks(notice_ids, MAIL_CHUNK):
        task.enqueue(chunk)


# Sending --------------------------------------------------------------------------------------


def _claim(
    notice_ids: list[int], *, digest: bool, due_by: datetime.datetime | None = None
) -> list[Notice]:
    """Take the notices due by ``due_by`` (now) that no other worker holds (one UPDATE): ours
    until the lease ends."""
    now = timezone.now()
    due_by = max(now, due_by) if due_by else now
    token = uuid.uuid4()
    Notice.objects.filter(
        pk__in=notice_ids, mail=Notice.Mail.PENDING, digest=digest, mail_due_at__lte=due_by
    ).filter(Q(mail_lease_until__isnull=True) | Q(mail_lease_until__lte=now)).update(
        mail_claim=token,
        mail_lease_until=now + datetime.timedelta(seconds=settings.NOTICE_LEASE_SECONDS),
    )
    return list(
        Notice.objects.filter(mail_claim=token)
        .select_related(
            "user__account",
            "event__facility__municipality",
            "event__provider",
        )
        .order_by("pk")
    )


def _refused(notices: list[Notice], error: Exception) -> None:
    """Count an attempt; try again after a backoff, or give up after the last."""
    now = timezone.now()
    for notice in notices:
        attempts = notice.mail_attempts + 1
        message = f"{type(error).__name__}: {error}"[:300]
        if attempts >= settings.NOTICE_MAIL_ATTEMPTS:
            Notice.objects.filter(pk=notice.pk).update(
                mail=Notice.Mail.FAILED, mail_attempts=attempts, mail_error=message
            )
            logger.error(
                "notice %s: mail failed after %s attempts: %s", notice.pk, attempts, message
            )
            continue
        delay = settings.NOTICE_RETRY_SECONDS * 2 ** (attempts - 1)
        retry_at = now + datetime.timedelta(seconds=delay)
        Notice.objects.filter(pk=notice.pk).update(
            mail_attempts=attempts, mail_error=message, mail_lease_until=retry_at
        )
        logger.warning("notice %s: mail refused (%s), again in %s s", notice.pk, message, delay)
        if not notice.digest:
            _queue_mails([notice.pk], run_after=retry_at)


def _stop_for_those_without_access(notices: list[Notice]) -> list[Notice]:
    """Access ends, so do the mails: a user whose allowlist entry was revoked or ran out since
    the notice was made gets no mail."""
    allowed = users_told_of_watches([n.user_id for n in notices])
    stopped = [n.pk for n in notices if n.user_id not in allowed]
    if stopped:
        Notice.objects.filter(pk__in=stopped).update(mail=Notice.Mail.STOPPED)
    return [n for n in notices if n.user_id in allowed]


# What the server answers to one mail (a recipient, the sender or the content refused, after
# which smtplib resets the session): the connection still carries the batch's other mails.
_REFUSED_THIS_MAIL = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPDataError,
)


def send_mails(notice_ids: list[int]) -> int:
    """Send each of these notices' mail at once (not the daily summary's). Returns how many
    were sent."""
    notices = _stop_for_those_without_access(_claim(notice_ids, digest=False))
    if not notices:
        return 0
    sent = 0
    # A mail's text is the event's, whoever reads it, in the reader's language: written once
    # for each language the batch's readers chose.
    described: dict[tuple[int, str], tuple[str, str]] = {}
    try:
        connection = mail.get_connection()
        connection.open()
    except (smtplib.SMTPException, OSError) as error:
        _refused(notices, error)
        return 0
    try:
        for index, notice in enumerate(notices):
            language = language_of(notice.user)
            written = described.get((notice.event_id, language))
            if written is None:
                with translation.override(language):
                    text = texts.describe(notice.event, for_mail=True)
                    written = (texts.mail_subject(text), texts.mail_body([text]))
                described[(notice.event_id, language)] = written
            subject, body = written
            message = mail.EmailMessage(
                subject=subject,
                body=body,
                to=[notice.user.email],
                connection=connection,
                headers={"Message-ID": f"<notice-{notice.pk}@hvb-registret>"},
            )
            try:
                message.send()
            except _REFUSED_THIS_MAIL as error:
                # The server refused this mail and reset the session: the others still go.
                _refused([notice], error)
                continue
            except (smtplib.SMTPException, OSError) as error:
                _refused(notices[index:], error)
                break
            Notice.objects.filter(pk=notice.pk).update(
                mail=Notice.Mail.SENT, mailed_at=timezone.now(), mail_claim=None
            )
            sent += 1
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.close()
    return sent


def send_digest(user_id: int, due_by: datetime.datetime | None = None) -> int:
    """The daily summary of one user's notices that are due (by ``due_by``, the time of the
    sweep that found them due; now when later): one mail."""
    due_by = max(timezone.now(), due_by) if due_by else timezone.now()
    due = list(
        Notice.objects.filter(
            user_id=user_id, mail=Notice.Mail.PENDING, digest=True, mail_due_at__lte=due_by
        ).values_list("pk", flat=True)
    )
    notices = _stop_for_those_without_access(_claim(due, digest=True, due_by=due_by))
    if not notices:
        return 0
    user = notices[0].user
    # No request here: the summary is written in the language the reader chose (Swedish if none).
    with translation.override(language_of(user)):
        described = [texts.describe(n.event, for_mail=True) for n in notices]
        serious = any(t.serious for t in described)
        subject = (_("Allvarligt: ") if serious else "") + ngettext(
            "Bevakningar i HVB-registret: %(count)s händelse",
            "Bevakningar i HVB-registret: %(count)s händelser",
            len(described),
        ) % {"count": len(described)}
        body = texts.mail_body(described)
    message = mail.EmailMessage(
        subject=subject,
        body=body,
        to=[user.email],
        headers={"Message-ID": f"<digest-{notices[0].pk}-{len(notices)}@hvb-registret>"},
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        _refused(notices, error)
        return 0
    Notice.objects.filter(pk__in=[n.pk for n in notices]).update(
        mail=Notice.Mail.SENT, mailed_at=timezone.now(), mail_claim=None
    )
    return len(notices)


# The sweep: what a killed worker left, what the calendar brings -------------------------------


def sweep(now: datetime.datetime | None = None) -> dict[str, int]:
    """Queue what is due and not under way. Safe to run at any time and from several workers:
    every task it queues is idempotent."""
    from alerts import tasks
    from register.events import record_overdue

    now = now or timezone.now()
    # Work not started a lease's time after it was due is taken as lost (its task's worker was
    # killed before it claimed anything). Sooner, a backlog's tasks still waiting in the queue
    # would be queued again at every sweep.
    grace = now - datetime.timedelta(seconds=settings.NOTICE_LEASE_SECONDS)
    counts = {"events": 0, "mails": 0, "digests": 0, "overdue": 0}
    today = timezone.localdate(now)
    if cache.add(f"alerts:overdue-scan:{today.isoformat()}", 1, timeout=2 * 86400):
        counts["overdue"] = len(record_overdue(today))
        # Finished tasks' rows, older than two weeks (django-tasks-db keeps them otherwise).
        call_command("prune_db_task_results", queue_name=tasks.QUEUE, verbosity=0)
    # Events whose fan-out did not happen (its worker was killed, or the task failed).
    waiting = list(
        RegisterEvent.objects.filter(fan_out__isnull=True, created_at__lt=grace)
        .order_by("pk")
        .values_list("pk", flat=True)[:10_000]
    )
    for chunk in _chunks(waiting, FAN_OUT_CHUNK):
        tasks.fan_out.enqueue(chunk)
    counts["events"] = len(waiting)
    free = Q(mail_lease_until__isnull=True, mail_due_at__lt=grace) | Q(mail_lease_until__lte=now)
    mails = list(
        Notice.objects.filter(mail=Notice.Mail.PENDING, digest=False)
        .filter(free)
        .order_by("pk")
        .values_list("pk", flat=True)[:10_000]
    )
    _queue_mails(mails)
    counts["mails"] = len(mails)
    users = list(
        Notice.objects.filter(mail=Notice.Mail.PENDING, digest=True, mail_due_at__lte=now)
        .filter(Q(mail_lease_until__isnull=True) | Q(mail_lease_until__lte=now))
        .values_list("user_id", flat=True)
        .distinct()
    )
    for user_id in users:
        # The sweep's time goes with the task: what it found due is sent as due.
        tasks.send_digest.enqueue(user_id, now.isoformat())
    counts["digests"] = len(users)
    return counts
