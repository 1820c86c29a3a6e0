"""/healthz, /readyz and /metrics: for the load balancer and the operators' Prometheus, not for
people. No session, no CSRF (GET only, nothing changes), never an access-log entry (nothing of
the register is read), never cached."""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
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


@public
@require_safe
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """200 {"status": "ok", "components": {"database": "ok", ...}} when every component answers,
    503 with "fail" for each that does not (a load balancer sends no traffic to it). Only fixed
    words: an exception's text may hold a host, a path or a connection string. From
    OPERATIONS_ALLOWED_NETWORKS only (the load balancer's among them); anyone else gets the
    site's own 404: each call connects to the mail server and writes a file to the storage,
    which an outsider could repeat until the mail account is throttled, and the components'
    names tell how the service is built."""
    if not metrics.from_operators_network(request):
        raise Http404
    failed = health.failing(health.components())
    healthy = not any(failed.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "fail",
            "components": {name: "fail" if down else "ok" for name, down in failed.items()},
        },
        status=200 if healthy else 503,
    )


@public
@require_safe
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape, from OPERATIONS_ALLOWED_NETWORKS only; anyone else gets the site's own
    404, as for a page that does not exist."""
    if not metrics.from_operators_network(request):
        raise Http404
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
