"""gunicorn's configuration for the site and the API (docs/operations.md, "The processes").

Every value comes from the environment (GUNICORN_*, in /etc/hvb-registret/env or the container's
environment), so one file serves systemd, the container and bench/soak.py:

    gunicorn -c deploy/gunicorn.conf.py config.wsgi      # what deploy/start.sh web runs

The processes share nothing but the databases and the cache: sessions, login limits, the API's
rate limit (CACHE_URL, never locmem:// with more than one process), the worker's queue and the
access log are all in them. What a process keeps in memory is derived from the database and keyed
so it cannot go stale (the statistics' facts by the register's data version, charts by what they
draw), so a request may go to any worker of any server.
"""

import json
import os
import shutil
import tempfile

from gunicorn.glogging import Logger
from prometheus_client import multiprocess


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


# Loopback by default: only the reverse proxy on the same host reaches the application, which
# trusts its X-Forwarded-Proto (BEHIND_TLS_PROXY). Another address (the container's 0.0.0.0:8000)
# must be reachable by the proxy alone.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# gunicorn's own rule of thumb, two per core and one: a request mostly waits on the database.
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1)
# 1: the sync worker, one request at a time per process; more: gthread, each thread with its own
# database connection (DATABASE_CONN_MAX_AGE keeps them open).
threads = _int("GUNICORN_THREADS", 1)
# A request that takes longer is killed and its worker replaced; API queries stop themselves
# after API_QUERY_TIMEOUT_MS long before that. A decision PDF upload (DOCUMENT_MAX_BYTES) reaches
# gunicorn whole from the proxy, which buffers it, so the upload's own time does not count.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On stop or reload, the time a worker gets to finish the requests it holds before it is killed.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Each worker is replaced after about this many requests (spread by the jitter so they do not
# restart together), so a slow leak in a library cannot grow for weeks. 0: never.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Whose X-Forwarded-Proto gunicorn believes (the request's scheme): the proxy's address only.
# Django itself trusts the header only when BEHIND_TLS_PROXY is set (config/settings.py).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# One JSON object per request on stdout (the journal, the container's log), the application's own
# logs on stderr; the request id (X-Request-ID, from the proxy or made by the application) ties
# them and the access log's entry together. GUNICORN_ACCESS_LOG=off: none.
accesslog = None if os.environ.get("GUNICORN_ACCESS_LOG", "-") == "off" else "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The process title shows in ps and top: which service a gunicorn is.
proc_name = "hvb-registret"
# Workers' heartbeat files in memory rather than on a disk that may stall (gunicorn's advice for
# containers); /dev/shm is missing on some hosts.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None


def redact(text: str | None) -> str:
    """A login link's secret and an OpenID Connect callback's code out of the line
    (config/request_id.py, which the application's own log lines go through too). Imported
    when a line is written: the workers have the project on their path."""
    from config.request_id import redact as redact_secrets

    return redact_secrets(text)


class JsonAccessLogger(Logger):
    """gunicorn's logger with each request as one JSON line (escaped, so a quote in a user agent
    cannot forge a field) and the secrets above replaced by ***."""

    def access(self, resp, req, environ, request_time) -> None:
        if not self.cfg.accesslog:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        entry = {
            "time": self.now(),
            "remote_addr": atoms["h"],
            "forwarded_for": atoms.get("{x-forwarded-for}i", ""),
            "method": atoms["m"],
            "path": redact(atoms["U"]),
            "query": redact(atoms["q"]),
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": atoms["M"],
            "request_id": atoms.get("{x-request-id}o") or atoms.get("{x-request-id}i", ""),
            "referer": redact(atoms["f"]),
            "user_agent": atoms["a"],
            "pid": os.getpid(),
        }
        try:
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:
            self.exception("access log entry not written")


logger_class = JsonAccessLogger

# --- Prometheus in multiprocess mode ---
# Each worker is a process of its own: the metrics endpoint must add up every worker's numbers,
# which prometheus_client does through files in PROMETHEUS_MULTIPROC_DIR (operations/metrics.py).
# The directory must exist before the workers import the client and be emptied when gunicorn
# starts (stale files would add a dead run's counts). Set it (systemd's RuntimeDirectory does:
# /run/hvb-registret/metrics, emptied on every stop) or leave it unset, and a private
# directory is made here for this gunicorn alone and removed when it stops.
_made_multiproc_dir: str | None = None


def on_starting(server) -> None:
    global _made_multiproc_dir
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if not directory:
        _made_multiproc_dir = tempfile.mkdtemp(prefix="hvb-registret-prometheus-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = _made_multiproc_dir
        return
    # Emptied here rather than by operations.metrics.prepare_multiprocess_directory: importing
    # that module in the master would make its counters' files before the folder exists.
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def on_exit(server) -> None:
    if _made_multiproc_dir:
        shutil.rmtree(_made_multiproc_dir, ignore_errors=True)


def child_exit(server, worker) -> None:
    """A worker ended (replaced after max_requests, killed on timeout): its live gauges are
    removed from the multiprocess files, or they would be counted for ever (its counters and
    histograms stay counted). prometheus_client alone, imported above: this runs in the master's
    signal handler, where importing the project (Django) could be interrupted by the next
    worker's exit and leave a half-imported module that stops the master's shutdown."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
