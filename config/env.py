"""Small strict readers for settings from environment variables.

A value that is present but malformed stops the start-up with a message naming the variable,
rather than falling back silently to a default.
"""

import importlib.util
import os
import re
from urllib.parse import SplitResult, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on", "ja"}
_FALSE = {"0", "false", "no", "off", "nej", ""}


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from error


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


_CACHE_URL_FORM = "locmem://, db://<table> or redis://host:port/<database>"
_PASSWORD = re.compile(r"(//[^/@]*:)[^/@]*@")
_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def env_cache(name: str, default: str) -> dict:
    """Django's ``CACHES["default"]`` from a URL:

    - ``db://<table>``: Django's database cache, in the table ``migrate_all`` (or
      ``createcachetable``) creates; every process that uses the database shares it;
    - ``redis://host:port/<database>`` (or ``rediss://`` for TLS): Django's Redis cache, shared
      by every process that reaches the server; it needs the ``redis`` package
      (``pip install -e ".[redis]"``);
    - ``locmem://``: memory of its own in each process, shared with no other.
    """
    raw = os.environ.get(name)
    value = default if raw is None or raw.strip() == "" else raw.strip()
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme == "locmem" and not parts.path.strip("/") and not parts.query:
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": parts.netloc,
        }
    if scheme == "db" and _TABLE.match(parts.netloc) and not parts.path and not parts.query:
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": parts.netloc,
        }
    if scheme in ("redis", "rediss") and parts.hostname and _redis_port_and_database(parts):
        if importlib.util.find_spec("redis") is None:
            raise ImproperlyConfigured(
                f"{name} names a Redis server, which needs the redis package: "
                'pip install -e ".[redis]"'
            )
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": value}
    # A password in the URL is not repeated in the message (it reaches logs and terminals).
    shown = _PASSWORD.sub(r"\1***@", value)
    raise ImproperlyConfigured(f"{name} must be {_CACHE_URL_FORM}, not {shown!r}")


def _redis_port_and_database(parts: SplitResult) -> bool:
    """A port that is a number (or none: 6379), and one database number (or none: 0)."""
    try:
        parts.port  # noqa: B018 - urlsplit checks the port when it is read
    except ValueError:
        return False
    database = parts.path.strip("/")
    return database == "" or database.isdigit()
