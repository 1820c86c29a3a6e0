"""The floors of bench/api_load.py: each search's own SQL run with no API around it.

``BENCH_EQUIVALENT`` names the JSON file bench/api_load.py's preparation step wrote: for every
search of the mix, the SQL the API's selector ran for it, with its parameters (the statement that
read the page, and the count where the API counted), the single search, and one facility's SQL.
``BENCH_DB``: the SQLite file, or the PostgreSQL database's URL.

- ``/search?i=N``: search N's page, then its count; where the API did not count (a first page
  that is not full holds every match) the number of rows, as the API does. ``i=single``: the
  single search of the "one search repeated" line;
- ``/one?facility_id=X``: one facility with its marking.

Served by:

- ``django_application``: a minimal Django JSON view (the whole middleware stack, no ORM, no
  schema, no log), the framework's floor;
- ``sqlite_application``: a hand-written WSGI view running the same SQL through sqlite3;
- ``postgresql_application``: the same through psycopg, for the PostgreSQL leg.
"""

import functools
import json
import os
import re
import sqlite3
import threading
from urllib.parse import parse_qs


def _load() -> tuple[dict, dict]:
    path = os.environ.get("BENCH_EQUIVALENT")
    if not path:
        return {}, {}
    with open(path, encoding="utf-8") as stored:
        equivalent = json.load(stored)
    searches = {str(n): search for n, search in enumerate(equivalent["searches"])}
    searches["single"] = equivalent["single"]
    return searches, equivalent


SEARCHES, EQUIVALENT = _load()


def _answer(path: str, query: dict, run) -> object:
    """The response's data. ``run(sql, params)``: the statement's column names and rows."""
    if path == "/one":
        facility = query.get("facility_id", [""])[0]
        params = [facility if value == "FACILITY" else value for value in EQUIVALENT["one_params"]]
        names, rows = run(EQUIVALENT["one_sql"], params)
        return [dict(zip(names, row, strict=True)) for row in rows]
    search = SEARCHES[query.get("i", [""])[0]]
    names, rows = run(search["rows_sql"], search["rows_params"])
    total = len(rows)
    if search["count_sql"] is not None:
        total = run(search["count_sql"], search["count_params"])[1][0][0]
    return {"total": total, "items": [dict(zip(names, row, strict=True)) for row in rows]}


def _result(cursor) -> tuple[list[str], list[tuple]]:
    return [column[0] for column in cursor.description], cursor.fetchall()


_local = threading.local()
# Django's placeholders as sqlite3's, as Django's SQLite backend converts them.
_PLACEHOLDER = re.compile(r"(?<!%)%s")


@functools.cache
def _qmark(sql: str) -> str:
    return _PLACEHOLDER.sub("?", sql).replace("%%", "%")


def sqlite_application(environ, start_response):
    connection = getattr(_local, "connection", None)
    if connection is None:
        # A plain connection: the search's SQL calls no function of the application's (names
        # are matched and sorted on name_key, which the application writes).
        connection = _local.connection = sqlite3.connect(os.environ["BENCH_DB"])

    def run(sql, params):
        return _result(connection.execute(_qmark(sql), params))

    data = _answer(environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", "")), run)
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

    def run(sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return _result(cursor)

    data = _answer(environ["PATH_INFO"], parse_qs(environ.get("QUERY_STRING", "")), run)
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

    def run(sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return _result(cursor)

    @public
    def floor(request):
        data = _answer(request.path, {k: request.GET.getlist(k) for k in request.GET}, run)
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


django_application = _django() if os.environ.get("BENCH_EQUIVALENT") else None
