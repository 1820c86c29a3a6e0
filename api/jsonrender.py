"""JSON for the API: pydantic-core's serialiser (dates and times in RFC 3339, UUIDs as text),
several times faster than ``json.dumps`` with Django's encoder on a page of 1,000 facilities."""

from typing import Any

from django.http import HttpResponse
from ninja.renderers import BaseRenderer
from pydantic_core import to_json


def dumps(data: Any) -> bytes:
    return to_json(data)


def json_response(data: Any, *, status: int = 200) -> HttpResponse:
    return HttpResponse(dumps(data), status=status, content_type="application/json; charset=utf-8")


class Renderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request, data, *, response_status):
        return dumps(data)
