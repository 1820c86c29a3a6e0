"""Which language a request is answered in.

Swedish is the service's language and stays the default. A page is in English only when the
visitor chose English with the language switch (a cookie, `access.views.language_choice`), or,
signed in without that cookie, chose it earlier on another device (``Account.language``). A
browser's Accept-Language does not turn a Swedish authority's pages English by itself.

The API is for machines: its problem texts follow ``Accept-Language`` and nothing else.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

API_PREFIX = "/api/"
# The API's documentation is a page for people: it follows the language switch as pages do.
API_PAGES = ("/api/v1/docs",)


def is_api(path: str) -> bool:
    return path.startswith(API_PREFIX) and path not in API_PAGES


def supported(code: str | None) -> str | None:
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def from_accept_language(header: str) -> str:
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        language = supported(code)
        if language:
            return language
    return settings.LANGUAGE_CODE


def language_of_request(request: HttpRequest) -> str:
    if is_api(request.path):
        return from_accept_language(request.headers.get("Accept-Language", ""))
    chosen = supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    if chosen:
        return chosen
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        account = getattr(user, "account", None)
        if account is not None and supported(account.language):
            return account.language
    return settings.LANGUAGE_CODE


class LanguageMiddleware:
    """In place of Django's LocaleMiddleware (which lets Accept-Language choose for pages too).
    After the authentication middleware: a signed-in user's stored choice counts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = language_of_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        if is_api(request.path):
            patch_vary_headers(response, ("Accept-Language",))
        else:
            patch_vary_headers(response, ("Cookie",))
        translation.deactivate()
        return response
