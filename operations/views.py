"""/healthz, /readyz and /metrics: for the load balancer and the operators' Prometheus, not for
people. No session, no CSRF (GET only, nothing changes), never an access-log entry (nothing of
the register is read), never cached."""

import asyncio
import concurrent.futures
import contextlib

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.views import HealthCheckView
from prometheus_client import CONTENT_TYPE_LATEST

from access.decorators import public
from operations import health, metrics


@public
@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: nothing else is touched, no database, so a restart is called for
    only when the process itself is stuck."""
    return JsonResponse({"status": "ok"})


class ReadinessView(HealthCheckView):
    """django-health-check's view, its checks from operations.health, answering in one fixed
    form: 200 {"status": "ok", "components": {"database": "ok", ...}} when every component
    answers, 503 with "fail" for each that does not (a load balancer sends no traffic to it).
    From OPERATIONS_ALLOWED_NETWORKS only (the load balancer's among them); anyone else gets the
    site's own 404.
    Only fixed words: an exception's text may hold a host, a path or a connection string."""

    def get_checks(self):
        self.named = health.components()
        yield from (check for _name, check in self.named)

    @contextlib.contextmanager
    def get_executor(self):
        # Threads of its own: the checks run side by side, so the answer takes as long as the
        # slowest check, not their sum. Not waited for at the end: a check past its timeout
        # (a database host that drops packets) is already reported as failed, and its thread
        # ends when its own call gives up.
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=5)
        try:
            yield executor
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    async def get(self, request, *args, **kwargs):
        # The load balancer's and the operators' only, as /metrics: each call opens a connection
        # to the mail server and writes a file to the storage, which an outsider could repeat
        # until the mail account is throttled, and the components' names tell how the service
        # is built.
        if not metrics.from_operators_network(request):
            raise Http404
        with self.get_executor() as executor:
            results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        components = {
            name: "fail" if result.error else "ok"
            for (name, _check), result in zip(self.named, results, strict=True)
        }
        healthy = all(state == "ok" for state in components.values())
        return JsonResponse(
            {"status": "ok" if healthy else "fail", "components": components},
            status=200 if healthy else 503,
        )


readyz = public(ReadinessView.as_view())


@public
@require_safe
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape, from OPERATIONS_ALLOWED_NETWORKS only; anyone else gets the site's own
    404, as for a page that does not exist."""
    if not metrics.from_operators_network(request):
        raise Http404
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
