"""``/api/v1/docs``: the API's documentation as a page of the site, drawn on the server from the
published OpenAPI document (in place of Swagger UI: 63 axe violations, half English, and it
needed JavaScript).

The page's own words go through gettext; the operations' and fields' descriptions are shown as
the OpenAPI document has them (Swedish), marked ``lang="sv"``.
"""

import re
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja.openapi.docs import DocsBase

from api.problems import PROBLEM_TYPES

REF_PREFIX = "#/components/schemas/"
METHODS = ("get", "post", "put", "patch", "delete")
# The pattern every free-text parameter carries (api/endpoints.py NO_NUL_PATTERN): said in words.
NO_NUL = "^[^\\x00]*$"

LOCATIONS = {
    "path": gettext_lazy("i sökvägen"),
    "query": gettext_lazy("i frågesträngen"),
    "header": gettext_lazy("i huvudet"),
}
STATUSES = {
    "200": gettext_lazy("OK"),
    "201": gettext_lazy("Skapad"),
    "204": gettext_lazy("Borttagen, inget innehåll"),
    "304": gettext_lazy("Inte ändrad sedan den ETag som skickades"),
    "401": gettext_lazy("API-nyckel saknas eller gäller inte"),
    "403": gettext_lazy("Fel kommun"),
    "404": gettext_lazy("Finns inte"),
    "422": gettext_lazy("Ogiltig parameter"),
    "429": gettext_lazy("För många anrop"),
    "503": gettext_lazy("Frågan tog för lång tid"),
}


def schema_anchor(name: str) -> str:
    return f"schema-{name}"


def _ref_link(ref: str) -> SafeString:
    name = ref.removeprefix(REF_PREFIX)
    return format_html('<a href="#{}">{}</a>', schema_anchor(name), name)


def type_of(schema: dict) -> SafeString:
    """A schema's type in a few words, a referenced schema as a link to it."""
    if "$ref" in schema:
        return _ref_link(schema["$ref"])
    if "anyOf" in schema:
        options = [option for option in schema["anyOf"] if option.get("type") != "null"]
        shown = format_html_join(" | ", "{}", ((type_of(option),) for option in options))
        if len(options) < len(schema["anyOf"]):
            return format_html("{} | null", shown)
        return shown
    kind = schema.get("type", "")
    if kind == "array":
        return format_html("array [{}]", type_of(schema.get("items", {})))
    if "format" in schema:
        return format_html("{} ({})", kind, schema["format"])
    return format_html("{}", kind or "object")


def constraints_of(schema: dict) -> list[str]:
    """The limits on a value, as short phrases: allowed values, bounds, lengths, the pattern."""
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return constraints_of(option)
    if schema.get("type") == "array":
        return constraints_of(schema.get("items", {}))
    said = []
    if "enum" in schema:
        said.append(_("värden: %(values)s") % {"values": ", ".join(map(str, schema["enum"]))})
    if "minimum" in schema:
        said.append(_("minst %(value)s") % {"value": schema["minimum"]})
    if "maximum" in schema:
        said.append(_("högst %(value)s") % {"value": schema["maximum"]})
    if "minLength" in schema:
        said.append(_("minst %(value)s tecken") % {"value": schema["minLength"]})
    if "maxLength" in schema:
        said.append(_("högst %(value)s tecken") % {"value": schema["maxLength"]})
    if schema.get("pattern") == NO_NUL:
        said.append(_("inget nolltecken (NUL)"))
    elif "pattern" in schema:
        said.append(_("mönster %(pattern)s") % {"pattern": schema["pattern"]})
    return said


_CODE = re.compile(r"`([^`]+)`")
_STRONG = re.compile(r"\*\*([^*]+)\*\*")


def prose(text: str) -> list[SafeString]:
    """The OpenAPI document's Markdown, the little of it used here: paragraphs, ``**strong**``
    and ```code```. Everything else is escaped."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        if not block.strip():
            continue
        html = escape(" ".join(block.split()))
        html = _CODE.sub(r"<code>\1</code>", html)
        html = _STRONG.sub(r"<strong>\1</strong>", html)
        paragraphs.append(mark_safe(html))
    return paragraphs


@dataclass
class Parameter:
    name: str
    location: str
    required: bool
    type: SafeString
    constraints: list[str]
    default: str | None
    description: list[SafeString]


@dataclass
class Response:
    status: str
    meaning: str
    media_types: list[str]
    type: SafeString | None


@dataclass
class Operation:
    anchor: str
    method: str
    path: str
    summary: str
    description: list[SafeString]
    needs_key: bool
    parameters: list[Parameter]
    body_type: SafeString | None
    body_media_type: str | None
    responses: list[Response]


@dataclass
class Group:
    name: str
    anchor: str
    operations: list[Operation] = field(default_factory=list)


@dataclass
class Property:
    name: str
    required: bool
    type: SafeString
    constraints: list[str]
    description: list[SafeString]


@dataclass
class Schema:
    name: str
    anchor: str
    description: list[SafeString]
    values: list[str]
    properties: list[Property]


def _default(schema: dict) -> str | None:
    if "default" not in schema or schema["default"] in ("", [], None):
        return None
    value = schema["default"]
    return str(value).lower() if isinstance(value, bool) else str(value)


def _parameter(parameter: dict) -> Parameter:
    schema = parameter.get("schema", {})
    return Parameter(
        name=parameter["name"],
        location=str(LOCATIONS.get(parameter.get("in", ""), parameter.get("in", ""))),
        required=parameter.get("required", False),
        type=type_of(schema),
        constraints=constraints_of(schema),
        default=_default(schema),
        description=prose(parameter.get("description") or schema.get("description", "")),
    )


def _response(status: str, response: dict) -> Response:
    content = response.get("content", {})
    schemas = [media["schema"] for media in content.values() if "schema" in media]
    return Response(
        status=status,
        meaning=str(STATUSES.get(status, response.get("description", ""))),
        media_types=list(content),
        type=type_of(schemas[0]) if schemas else None,
    )


def _operation(method: str, path: str, operation: dict) -> Operation:
    body = operation.get("requestBody", {}).get("content", {})
    body_media_type, body_schema = next(iter(body.items()), (None, None))
    return Operation(
        anchor=operation.get("operationId", f"{method}-{path}"),
        method=method.upper(),
        path=path,
        summary=operation.get("summary", ""),
        description=prose(operation.get("description", "")),
        needs_key={} not in operation.get("security", [{}]),
        parameters=[_parameter(parameter) for parameter in operation.get("parameters", [])],
        body_type=type_of(body_schema["schema"]) if body_schema else None,
        body_media_type=body_media_type,
        responses=[
            _response(str(status), response)
            for status, response in sorted(operation.get("responses", {}).items())
        ],
    )


def groups_of(document: dict) -> list[Group]:
    """The operations by their tag, in the order the document first names each tag."""
    groups: dict[str, Group] = {}
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["API"])[0]
                group = groups.setdefault(tag, Group(tag, f"grupp-{len(groups) + 1}"))
                group.operations.append(_operation(method, path, operation))
    return list(groups.values())


def schemas_of(document: dict) -> list[Schema]:
    found = []
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        found.append(
            Schema(
                name=name,
                anchor=schema_anchor(name),
                description=prose(schema.get("description", "")),
                values=[str(value) for value in schema.get("enum", [])],
                properties=[
                    Property(
                        name=property_name,
                        required=property_name in required,
                        type=type_of(property_schema),
                        constraints=constraints_of(property_schema),
                        description=prose(property_schema.get("description", "")),
                    )
                    for property_name, property_schema in schema.get("properties", {}).items()
                ],
            )
        )
    return found


class SiteDocs(DocsBase):
    """django-ninja's documentation page, drawn by our own template (``NinjaAPI(docs=...)``)."""

    template = "api/docs.html"

    def render_page(self, request: HttpRequest, api, **kwargs) -> HttpResponse:
        document = api.get_openapi_schema(path_params=kwargs)
        context = {
            "info": document.get("info", {}),
            "description": prose(document.get("info", {}).get("description", "")),
            "openapi_url": self.get_openapi_url(api, kwargs),
            "groups": groups_of(document),
            "schemas": schemas_of(document),
            "problem_types": list(PROBLEM_TYPES.values()),
        }
        return render(request, self.template, context)
