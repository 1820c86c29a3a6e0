"""The worker's tasks (Django's tasks framework; alerts.delivery says why and how). Each is
idempotent: run twice, or after a worker was killed in the middle, it does its work once."""

import datetime

from django_tasks import task

from alerts import delivery

QUEUE = "alerts"


@task(queue_name=QUEUE, priority=10)
def fan_out(event_ids: list[int]) -> int:
    return delivery.fan_out(event_ids)


@task(queue_name=QUEUE, priority=5)
def send_mails(notice_ids: list[int]) -> int:
    return delivery.send_mails(notice_ids)


@task(queue_name=QUEUE)
def send_digest(user_id: int, due_by: str | None = None) -> int:
    """``due_by``: the ISO time of the sweep that found the summary due."""
    return delivery.send_digest(
        user_id, datetime.datetime.fromisoformat(due_by) if due_by else None
    )
