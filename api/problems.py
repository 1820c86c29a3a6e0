"""Every error of the API as RFC 9457 ``application/problem+json``: a machine-readable ``code``,
the HTTP status, and a Swedish ``title`` and ``detail`` (DIGG's REST API profile).

The catalogue below is the documentation: ``/api/v1/problem-types`` lists it and every problem's
``type`` points into it.
"""

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from api.jsonrender import dumps

MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    code: str
    status: int
    title: str


_CATALOGUE = [
    ProblemType("ogiltig-parameter", 422, gettext_lazy("Ogiltig parameter")),
    ProblemType("token-saknas", 401, gettext_lazy("API-nyckel saknas")),
    ProblemType("ogiltig-token", 401, gettext_lazy("Felaktigt formaterad API-nyckel")),
    ProblemType("okand-token", 401, gettext_lazy("Okänd API-nyckel")),
    ProblemType("token-har-gatt-ut", 401, gettext_lazy("API-nyckeln har gått ut")),
    ProblemType("token-aterkallad", 401, gettext_lazy("API-nyckeln är återkallad")),
    ProblemType("fel-kommun", 403, gettext_lazy("Fel kommun")),
    ProblemType("finns-inte", 404, gettext_lazy("Resursen finns inte")),
    ProblemType("metod-ej-tillaten", 405, gettext_lazy("Metoden är inte tillåten")),
    ProblemType("for-manga-anrop", 429, gettext_lazy("För många anrop")),
    ProblemType("tidsgrans", 503, gettext_lazy("Frågan tog för lång tid")),
    ProblemType("serverfel", 500, gettext_lazy("Internt fel")),
]
PROBLEM_TYPES: dict[str, ProblemType] = {problem.code: problem for problem in _CATALOGUE}


class ApiProblem(Exception):
    """Raised anywhere in a handler or its checks; rendered by ``problem_response``."""

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.problem = PROBLEM_TYPES[code]
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        super().__init__(code, detail)


def problem_type_uri(request: HttpRequest, code: str) -> str:
    return request.build_absolute_uri(f"/api/v1/problem-types#{code}")


def problem_response(request: HttpRequest, problem: ApiProblem) -> HttpResponse:
    body = {
        "type": problem_type_uri(request, problem.problem.code),
        "title": str(problem.problem.title),
        "status": problem.problem.status,
        "detail": problem.detail,
        "instance": request.path,
        "code": problem.problem.code,
    }
    if problem.errors:
        body["errors"] = problem.errors
    response = HttpResponse(
        dumps(body), status=problem.problem.status, content_type=f"{MEDIA_TYPE}; charset=utf-8"
    )
    for name, value in problem.headers.items():
        response[name] = value
    if problem.problem.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="hvb-registret"'
    return response


def method_not_allowed(method: str, allowed: str = "") -> ApiProblem:
    """A method the resource does not take; ``allowed``: its ``Allow`` header, when known."""
    detail = _("Resursen tar inte emot %(method)s.") % {"method": method}
    if allowed:
        detail += " " + _("Den tar emot %(allowed)s.") % {"allowed": allowed}
    return ApiProblem("metod-ej-tillaten", detail)


def not_found(detail: str | None = None) -> ApiProblem:
    return ApiProblem("finns-inte", detail or _("Det finns ingen sådan resurs i registret."))


# Pydantic's error types, in Swedish. Anything not here gets the general message.
_VALIDATION_MESSAGES = {
    "missing": gettext_lazy("Värdet saknas."),
    "int_parsing": gettext_lazy("Ange ett heltal."),
    "int_type": gettext_lazy("Ange ett heltal."),
    "int_from_float": gettext_lazy("Ange ett heltal."),
    "bool_parsing": gettext_lazy("Ange true eller false."),
    "date_from_datetime_parsing": gettext_lazy("Ange ett datum som 2025-01-31."),
    "date_parsing": gettext_lazy("Ange ett datum som 2025-01-31."),
    "date_from_datetime_inexact": gettext_lazy("Ange ett datum som 2025-01-31."),
    "string_too_long": gettext_lazy("Värdet får vara högst %(max_length)s tecken."),
    "string_too_short": gettext_lazy("Värdet måste vara minst %(min_length)s tecken."),
    "string_pattern_mismatch": gettext_lazy("Värdet har fel form."),
    "less_than_equal": gettext_lazy("Värdet får vara högst %(le)s."),
    "greater_than_equal": gettext_lazy("Värdet måste vara minst %(ge)s."),
    "less_than": gettext_lazy("Värdet måste vara lägre än %(lt)s."),
    "greater_than": gettext_lazy("Värdet måste vara högre än %(gt)s."),
    "enum": gettext_lazy("Okänt värde. Tillåtna värden: %(expected)s."),
    "literal_error": gettext_lazy("Okänt värde. Tillåtna värden: %(expected)s."),
}


def validation_problem(errors: list[dict]) -> ApiProblem:
    """Ninja's (pydantic's) validation errors, each with the parameter it concerns, in Swedish."""
    translated = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        if loc[:1] == ("body",):  # ("body", the handler's argument, field, ...): the field's name
            loc = loc[2:] or ("body",)
        location = [str(part) for part in loc if part not in ("query", "path")]
        context = {key: value for key, value in (error.get("ctx") or {}).items()}
        message = _VALIDATION_MESSAGES.get(error.get("type", ""))
        try:
            text = str(message) % context if message else _("Ogiltigt värde.")
        except (KeyError, TypeError, ValueError):
            text = _("Ogiltigt värde.")
        translated.append({"parameter": ".".join(location), "detail": text})
    summary = "; ".join(f"{item['parameter']}: {item['detail']}" for item in translated)
    return ApiProblem("ogiltig-parameter", summary, errors=translated)
