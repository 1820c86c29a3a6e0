"""The id of the request being served, so one request can be followed from the reverse proxy's
log through the application's log lines to its access-log entry (docs/operations.md, "Logs and
request ids").

operations.middleware.RequestIdMiddleware sets it first thing in every request; the logging
filter below puts it on every log record, and access.log writes it on every entry. It lives here,
in the project's own layer, because the access log's app names no app above it.
"""

import contextvars
import logging
import re
import uuid

# What a client or the proxy may send as X-Request-ID: short, and nothing that could break a
# log line or a header (nginx's $request_id, a UUID with or without dashes, a ULID all match).
INCOMING = re.compile(r"[A-Za-z0-9._-]{8,64}")

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def from_header(value: str | None) -> str:
    """The incoming id when it has the strict form, else a new one (uuid4, 32 hex digits)."""
    if value and INCOMING.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request this code runs for; None outside a request (a command, the
    worker)."""
    return _current.get()


def set_request_id(value: str | None) -> contextvars.Token:
    return _current.set(value)


def reset_request_id(token: contextvars.Token) -> None:
    _current.reset(token)


# Secrets that travel in a URL: a login link's one-time secret in its path (access/urls.py,
# /logga-in/lank/<secret>/: a mail client opens it as it is) and an OpenID Connect callback's
# authorisation code and state in its query. Neither may reach a log that many people read while
# the link still works. deploy/gunicorn.conf.py's access log uses the same function.
_SECRET_PATH = re.compile(r"(/logga-in/lank/)[^/?#\s\"']+")
_SECRET_QUERY = re.compile(r"\b(code|state|token)=[^&#\s\"']*")


def redact(text: str | None) -> str:
    """``text`` with the secrets a URL may carry replaced by ``***``."""
    if not text:
        return ""
    return _SECRET_QUERY.sub(r"\1=***", _SECRET_PATH.sub(r"\1***", text))


class RequestIdFilter(logging.Filter):
    """Puts ``request_id`` on every record (``-`` outside a request), for the formatters of
    settings.LOGGING, and takes a URL's secrets out of the record (``redact``). Django logs a
    4xx or 5xx answer (logger ``django.request``) after the middleware has returned, the id no
    longer current: it is then read from the request the record carries."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            request_id = _current.get() or getattr(
                getattr(record, "request", None), "request_id", None
            )
            record.request_id = request_id or "-"
        # Django's request and CSRF loggers name the path in the message and put the request on
        # the record, which the JSON formatter writes out whole ("<WSGIRequest: POST '/...'>").
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, str):
            path = getattr(request, "get_full_path", None)
            method = getattr(request, "method", "")
            record.request = redact(f"{method} {path()}" if path else str(request))
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
