"""The request id (first of all middleware) and the request metrics (right after it)."""

import time
from collections.abc import Callable
from contextlib import ExitStack

from django.db import connections
from django.http import HttpRequest, HttpResponse

from config.request_id import from_header, reset_request_id, set_request_id
from operations import metrics

HEADER = "X-Request-ID"


class RequestIdMiddleware:
    """Takes the request's id from X-Request-ID (the proxy's, when it has the strict form of
    config/request_id.py) or makes one; every log line and access-log entry written while the
    request is served carries it, and the response returns it in X-Request-ID."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = from_header(request.headers.get(HEADER))
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response[HEADER] = request_id
        return response


class MetricsMiddleware:
    """Each request counted and timed by its view's name, and the database queries it made
    counted on every database connection (connection.execute_wrapper, so the database engines
    stay Django's own). A streamed response's queries made while it is sent are not counted."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        queries: dict[str, int] = {}
        started = time.perf_counter()
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(_Counting(alias, queries)))
            response = self.get_response(request)
        duration = time.perf_counter() - started
        view = metrics.view_label(request)
        method = metrics.method_label(request.method)
        metrics.REQUESTS.labels(view, method, str(response.status_code)).inc()
        metrics.REQUEST_DURATION.labels(view, method).observe(duration)
        metrics.QUERIES_PER_REQUEST.labels(view).observe(sum(queries.values()))
        for alias, count in queries.items():
            metrics.QUERIES.labels(view, alias).inc(count)
        return response


class _Counting:
    """An execute wrapper: counts each statement (one for executemany), then runs it."""

    def __init__(self, alias: str, queries: dict[str, int]):
        self.alias = alias
        self.queries = queries

    def __call__(self, execute, sql, params, many, context):
        self.queries[self.alias] = self.queries.get(self.alias, 0) + 1
        return execute(sql, params, many, context)
