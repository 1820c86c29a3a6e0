import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **environment: str) -> subprocess.CompletedProcess:
    ignored = ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {key: value for key, value in os.environ.items() if key not in ignored}
    env.update(environment)
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        env=env,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_settings__swedish_and_stockholm_time():
    assert settings.LANGUAGE_CODE == "sv"
    assert settings.TIME_ZONE == "Europe/Stockholm"


def test_settings__legal_line_off_by_default():
    assert settings.PERSONAL_DATA_DISCLOSURE is False
    assert settings.DECISION_RELEASE == "on_request"


def test_settings__production_values__check_deploy_is_silent():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="x" * 20 + "a-long-random-production-secret-key-9f8e7d6c5b",
        ALLOWED_HOSTS="hvb-registret.example.se",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_settings__development_key_in_production__flagged_by_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DEBUG="false")
    assert result.returncode != 0
    assert "security.W009" in result.stderr


@pytest.mark.parametrize(
    "variable,value,message",
    [
        ("DEBUG", "kanske", "DEBUG must be true or false"),
        ("DECISION_RELEASE", "always", "DECISION_RELEASE must be one of on_request, automatic"),
        ("PERSONAL_DATA_DISCLOSURE", "2", "PERSONAL_DATA_DISCLOSURE must be true or false"),
    ],
)
def test_settings__malformed_value__start_up_stops_naming_the_variable(variable, value, message):
    result = run_manage("check", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_settings__documents_in_an_s3_store_by_setting():
    """The bucket is private and files are not overwritten; nothing is contacted to set it up
    (the S3 service itself is the edge of the world and is not run here)."""
    result = run_manage(
        "shell",
        "-c",
        "from django.core.files.storage import storages; s = storages['documents']; "
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.default_acl, s.file_overwrite)",
        DOCUMENTS_STORAGE="s3",
        DOCUMENTS_S3_BUCKET="hvb-beslut",
        DOCUMENTS_S3_ENDPOINT_URL="https://s3.example.se",
    )

    assert (
        result.stdout.splitlines()[-1] == "S3Storage hvb-beslut https://s3.example.se private False"
    )


def test_settings__documents_storage__unknown_value_refused():
    result = run_manage("check", DOCUMENTS_STORAGE="ftp")

    assert result.returncode != 0
    assert "DOCUMENTS_STORAGE must be one of local, s3, not 'ftp'" in result.stderr


def test_a_worker_imports_openpyxl_pypdf_and_the_federated_login_only_when_it_needs_them():
    """A worker serving the API, the open data's CSV and JSON and the portal holds none of them:
    26 MB of its memory (the exports' peaks in bench/api_load.py went from 107 to 81-86 MB). The
    XLSX export, a PDF upload and the federated login import them when they first run."""
    code = (
        "import sys\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "import access.oidc_context, api.endpoints, api.opendata, documents.uploads\n"
        "heavy = ('openpyxl', 'pypdf', 'access.oidc', 'mozilla_django_oidc.auth',\n"
        "         'mozilla_django_oidc.views', 'jwt', 'requests')\n"
        "print('loaded:', sorted(name for name in heavy if name in sys.modules))\n"
    )
    result = run_manage("shell", "-c", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "loaded: []"


def test_settings__malformed_cache_url__start_up_stops_with_the_forms_it_takes():
    result = run_manage("check", CACHE_URL="memcached://cache.example.se:11211")

    assert result.returncode != 0
    assert result.stderr.splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: CACHE_URL must be locmem://, db://<table> "
        "or redis://host:port/<database>, not 'memcached://cache.example.se:11211'"
    )


@pytest.mark.parametrize(
    "value,shown",
    [
        ("db://", "db://"),
        ("db://cache-table", "db://cache-table"),
        ("db://cache/table", "db://cache/table"),
        ("locmem://name/more", "locmem://name/more"),
        ("redis://cache.example.se:port/0", "redis://cache.example.se:port/0"),
        ("redis://cache.example.se:6379/zero", "redis://cache.example.se:6379/zero"),
        ("redis:///0", "redis:///0"),
        # The password is not repeated where the message goes (logs, terminals).
        ("rediss://:hemligt@cache.example.se:6379/x", "rediss://:***@cache.example.se:6379/x"),
    ],
)
def test_env_cache__malformed__refused_naming_the_forms(monkeypatch, value, shown):
    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_cache

    monkeypatch.setenv("CACHE_URL", value)
    with pytest.raises(ImproperlyConfigured) as refused:
        env_cache("CACHE_URL", "db://django_cache")

    assert str(refused.value) == (
        f"CACHE_URL must be locmem://, db://<table> or redis://host:port/<database>, not {shown!r}"
    )


@pytest.mark.parametrize(
    "value,backend,location",
    [
        (None, "django.core.cache.backends.db.DatabaseCache", "django_cache"),
        ("", "django.core.cache.backends.db.DatabaseCache", "django_cache"),
        ("db://api_counts", "django.core.cache.backends.db.DatabaseCache", "api_counts"),
        ("locmem://", "django.core.cache.backends.locmem.LocMemCache", ""),
        (
            "redis://cache.example.se:6379/2",
            "django.core.cache.backends.redis.RedisCache",
            "redis://cache.example.se:6379/2",
        ),
        (
            "rediss://:hemligt@cache.example.se",
            "django.core.cache.backends.redis.RedisCache",
            "rediss://:hemligt@cache.example.se",
        ),
    ],
)
def test_env_cache__each_form__django_s_backend(monkeypatch, value, backend, location):
    import importlib.util

    from config.env import env_cache

    if value is None:
        monkeypatch.delenv("CACHE_URL", raising=False)
    else:
        monkeypatch.setenv("CACHE_URL", value)
    # As if the redis package were installed (it is an extra: .[redis]).
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: object() if name == "redis" else find_spec(name)
    )

    assert env_cache("CACHE_URL", "db://django_cache") == {"BACKEND": backend, "LOCATION": location}


def test_env_cache__redis_without_the_redis_package__refused_saying_what_to_install(monkeypatch):
    import importlib.util

    from django.core.exceptions import ImproperlyConfigured

    from config.env import env_cache

    monkeypatch.setenv("CACHE_URL", "redis://:hemligt@cache.example.se:6379/0")
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "redis" else find_spec(name)
    )
    with pytest.raises(ImproperlyConfigured) as refused:
        env_cache("CACHE_URL", "db://django_cache")

    assert str(refused.value) == (
        'CACHE_URL names a Redis server, which needs the redis package: pip install -e ".[redis]"'
    )


def test_postgresql__a_server_that_never_answers__connection_given_up_after_the_timeout():
    """A listening socket that never speaks: the TCP connection is made (the kernel accepts it
    into the backlog), PostgreSQL's start-up answer never comes. Without connect_timeout libpq
    would wait for ever."""
    import socket
    import time

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        started = time.monotonic()
        result = run_manage(
            "shell",
            "-c",
            "from django.db import connection; connection.ensure_connection()",
            DATABASE_URL=f"postgres://hvb:secret@127.0.0.1:{port}/hvb",
            DATABASE_CONNECT_TIMEOUT="2",
        )
        seconds = time.monotonic() - started

    assert result.returncode != 0
    assert "timeout" in result.stderr.lower()
    assert seconds < 15
