"""URLs of the API (``/api/v1``, django-ninja) and the open data (``/oppna-data/``,
``/datasets/dcat``).

Every view declares who may use it (access/decorators.py): the API's public operations and its
documentation are open (the token check and the open-data setting are the API's own, in
api/auth.py); the operations that need a token declare ``use_api``.
"""

from django.urls import URLPattern, path, re_path

from access.decorators import PUBLIC, public
from access.roles import Permission
from api import opendata
from api.endpoints import PUBLIC_OPERATIONS, api
from api.problems import not_found, problem_response


@public
def api_not_found(request, rest: str = ""):
    """Any other path under /api/v1: a problem, not the site's HTML page."""
    return problem_response(request, not_found())


def _declared(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLPattern) and not hasattr(pattern.callback, "required_permission"):
            operation_id = f"api_endpoints_{pattern.name}"
            documentation = pattern.name in ("api-root", "openapi-json", "openapi-view")
            pattern.callback.required_permission = (
                PUBLIC if documentation or operation_id in PUBLIC_OPERATIONS else Permission.USE_API
            )
    return patterns


_patterns, _app, _namespace = api.urls

urlpatterns = [
    path("api/v1/", (_declared(_patterns), _app, _namespace)),
    re_path(r"^api/v1/(?P<rest>.*)$", api_not_found, name="api_not_found"),
    path("oppna-data/", opendata.index, name="open_data"),
    path(
        "oppna-data/<str:dataset>.<str:file_format>",
        opendata.download,
        name="open_data_download",
    ),
    path("datasets/dcat", opendata.dcat_catalogue, name="dcat"),
]
