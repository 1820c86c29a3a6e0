"""Prometheus metrics (prometheus_client), scraped at ``/metrics`` from the operators' networks
(operations/views.py; docs/operations.md, "Metrics").

Labels hold Django's view name (``portal:facility``), never the path: a path holds ids, and a
label's values must stay few. With several gunicorn workers each process counts on its own;
when PROMETHEUS_MULTIPROC_DIR is set (before the first import of prometheus_client) they write
their counts to files there and any worker's scrape adds them up (prometheus_client's
multiprocess mode). The queue's figures are read from the database at scrape time.
"""

import ipaddress
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.http import HttpRequest
from django.utils import timezone
from prometheus_client import REGISTRY as PROCESS_REGISTRY
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric

logger = logging.getLogger(__name__)

MULTIPROCESS_DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNRESOLVED = "<unresolved>"  # a path no URL pattern matched (a 404 before any view)

REQUESTS = Counter(
    "hvb_http_requests",
    "Requests answered, by Django view name, method and status code.",
    ["view", "method", "status"],
)
REQUEST_DURATION = Histogram(
    "hvb_http_request_duration_seconds",
    "Time from the request reaching Django to its response, by Django view name and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
QUERIES_PER_REQUEST = Histogram(
    "hvb_db_queries_per_request",
    "Database queries one request made (every database), by Django view name.",
    ["view"],
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233),
)
QUERIES = Counter(
    "hvb_db_queries",
    "Database queries made while serving requests, by Django view name and database alias.",
    ["view", "database"],
)
LOGIN_FAILURES = Counter(
    "hvb_login_failures",
    "Failed logins the access log recorded (every way of logging in, lockouts included).",
)
ACCESS_LOG_WRITE_FAILURES = Counter(
    "hvb_access_log_write_failures",
    "Access-log entries that could not be written (the request failed with them).",
)


def count_login_failure(**kwargs) -> None:
    LOGIN_FAILURES.inc()


def count_access_log_write_failure(**kwargs) -> None:
    ACCESS_LOG_WRITE_FAILURES.inc()


def method_label(method: str | None) -> str:
    """The method, or "other": a client may send any word as its method."""
    return method if method in METHODS else "other"


def view_label(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else UNRESOLVED


# --- The worker's queue, read at scrape time ----------------------------------------------------


class TaskQueueCollector:
    """The ready tasks per queue (due now, not running) and how long the oldest has waited: since
    it was queued, or since its run_after for a task put off (a retry)."""

    def describe(self) -> list[Metric]:
        return []  # nothing read when it is registered, only when scraped

    def collect(self) -> Iterator[Metric]:
        from django_tasks_db.models import DBTaskResult, get_date_max

        queues = {name: (0, 0.0) for name in _configured_queues()}
        try:
            never_put_off = Q(run_after=get_date_max())
            rows = (
                DBTaskResult.objects.ready()
                .values("queue_name")
                .annotate(
                    ready=Count("id"),
                    oldest_queued=Min("enqueued_at", filter=never_put_off),
                    oldest_due=Min("run_after", filter=~never_put_off),
                )
                .order_by()
            )
            now = timezone.now()
            for row in rows:
                waiting_since = min(
                    (at for at in (row["oldest_queued"], row["oldest_due"]) if at is not None),
                    default=now,
                )
                queues[row["queue_name"]] = (row["ready"], (now - waiting_since).total_seconds())
        except DatabaseError:
            # The other metrics are still worth having; /readyz names the database.
            logger.warning("Task queue metrics could not be read", exc_info=True)
            return
        length = GaugeMetricFamily(
            "hvb_task_queue_ready",
            "Tasks ready to run (due, not yet taken by a worker), by queue.",
            labels=["queue"],
        )
        age = GaugeMetricFamily(
            "hvb_task_queue_oldest_ready_age_seconds",
            "How long the oldest ready task has waited to be run, by queue (0: none waiting).",
            labels=["queue"],
        )
        for name, (ready, waited) in sorted(queues.items()):
            length.add_metric([name], ready)
            age.add_metric([name], max(waited, 0.0))
        yield length
        yield age


def _configured_queues() -> Iterable[str]:
    for backend in settings.TASKS.values():
        yield from backend.get("QUEUES", [])


_QUEUE_REGISTRY = CollectorRegistry(auto_describe=False)
_QUEUE_REGISTRY.register(TaskQueueCollector())


def multiprocess_directory() -> str | None:
    return os.environ.get(MULTIPROCESS_DIRECTORY_VARIABLE) or None


def exposition() -> bytes:
    """Every metric in Prometheus' text format: this process's (or, in multiprocess mode, all
    workers' added up) and the queue's."""
    if multiprocess_directory():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = PROCESS_REGISTRY
    return generate_latest(registry) + generate_latest(_QUEUE_REGISTRY)


# --- Who may scrape ------------------------------------------------------------------------------


def allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """settings.OPERATIONS_ALLOWED_NETWORKS parsed; a malformed one stops the request (and
    operations/checks.py stops the start-up)."""
    try:
        return [ipaddress.ip_network(network) for network in settings.OPERATIONS_ALLOWED_NETWORKS]
    except ValueError as error:
        raise ImproperlyConfigured(f"OPERATIONS_ALLOWED_NETWORKS: {error}") from error


def from_operators_network(request: HttpRequest) -> bool:
    """Whether /metrics and /readyz answer this request. Only REMOTE_ADDR decides. A request
    carrying X-Forwarded-For (or Forwarded) came through a proxy, and behind one every outside
    request arrives from the proxy's own address, which may well be in an allowed network:
    refused, whatever BEHIND_TLS_PROXY says."""
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket's form of an IPv4 address
    return any(address in network for network in allowed_networks())


# --- gunicorn (deploy/gunicorn.conf.py has the hooks) -----------------------------------------


def prepare_multiprocess_directory() -> None:
    """Empties PROMETHEUS_MULTIPROC_DIR, for gunicorn's ``on_starting`` hook (or ExecStartPre):
    files of a previous run would be added to this run's counts, and a reused process id would
    continue a dead worker's."""
    directory = multiprocess_directory()
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
