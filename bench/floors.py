"""The floors of bench/api_load.py: the API's search SQL run with no API around it.

- ``django_application``: a minimal Django JSON view (the whole middleware stack, no ORM, no
  schema, no log), the framework's floor;
- ``sqlite_application``: a hand-written WSGI view running the same SQL through sqlite3;
- ``postgresql_application``: the same through psycopg, for the PostgreSQL leg (``BENCH_DB`` is
  then the database's URL).
"""

import json
import os
import sqlite3
import threading
from urllib.parse import parse_qs

SEARCH_SQL = os.environ.get("BENCH_SEARCH_SQL", "")
SEARCH_PARAMS = json.loads(os.environ.get("BENCH_SEARCH_PARAMS", "[]"))
# The search also counts its matches (the page's total), as the API must.
COUNT_SQL = os.environ.get("BENCH_COUNT_SQL", "")
ONE_SQL = os.environ.get("BENCH_ONE_SQL", "")
ONE_PARAMS = json.loads(os.environ.get("BENCH_ONE_PARAMS", "[]"))


def _params(path: str, query: dict) -> tuple[str, list]:
    if path == "/one":
        facility = query.get("facility_id", [""])[0]
        return ONE_SQL, [facility if value == "FACILITY" else value for value in ONE_PARAMS]
    return SEARCH_SQL, SEARCH_PARAMS


def _rows(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_local = threading.local()


def sqlite_application(environ, start_response):
    connection = getattr(_local, "connection", None)
    if connection is None:
        # A plain connection: the search's SQL calls no function of the application's (names
        # are matched and sorted on name_key, which the application writes).
        connection = _local.connection = sqlite3.connect(os.environ["BENCH_DB"])
    path = environ["PATH_INFO"]
    sql, params = _params(path, parse_qs(environ.get("QUERY_STRING", "")))
    cursor = connection.execute(sql.replace("%s", "?"), params)
    data = _rows(cursor)
    if path == "/search":
        data = {"total": connection.execute(COUNT_SQL).fetchone()[0], "items": data}
    body = json.dumps(data, default=str).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def postgresql_application(environ, start_response):
    connection = getattr(_local, "postgresql", None)
    if connection is None:
        import psycopg

        # Parameters bound in the client, as Django's PostgreSQL backend does by default.
        connection = _local.postgresql = psycopg.connect(
            os.environ["BENCH_DB"], autocommit=True, cursor_factory=psycopg.ClientCursor
        )
    path = environ["PATH_INFO"]
    sql, params = _params(path, parse_qs(environ.get("QUERY_STRING", "")))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        data = _rows(cursor)
        if path == "/search":
            cursor.execute(COUNT_SQL)
            data = {"total": cursor.fetchone()[0], "items": data}
    body = json.dumps(data, default=str).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.conf import settings

    django.setup()
    from django.db import connection
    from django.http import JsonResponse
    from django.urls import path

    from access.decorators import public

    @public
    def floor(request):
        sql, params = _params(request.path, {k: request.GET.getlist(k) for k in request.GET})
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            data = _rows(cursor)
            if request.path == "/search":
                cursor.execute(COUNT_SQL)
                data = {"total": cursor.fetchone()[0], "items": data}
            return JsonResponse(data, safe=False, json_dumps_params={"default": str})

    import sys
    import types

    urls = types.ModuleType("bench_floor_urls")
    from config.urls import urlpatterns as site_urlpatterns

    # The site's own URLs too: its middleware reverses some of them on every request.
    urls.urlpatterns = [path("search", floor), path("one", floor), *site_urlpatterns]
    sys.modules["bench_floor_urls"] = urls
    settings.ROOT_URLCONF = "bench_floor_urls"
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


django_application = _django() if os.environ.get("BENCH_SEARCH_SQL") else None
