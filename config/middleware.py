"""Middleware meant for pages, passed over by the API (settings.MIDDLEWARE names these).

An API call is authenticated by its key on every call (api/auth.py): it never reads or writes the
session, takes no form (GET only), shows no message, has no login to lock out and no back office.
Sessions, CSRF, authentication from the session, messages, django-otp, the session's end
(access.middleware), the back office's guard, the history's request and django-axes do nothing
for it but cost time, so for a path under ``/api/`` each of them hands the request straight on.
The middleware every answer needs (security headers, the content security policy, the 405 as a
problem, the language, clickjacking) runs for the API as well.
"""

from django.utils.module_loading import import_string

API_PREFIX = "/api/"


def _for_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


class PagesOnly:
    """The middleware ``middleware`` (a dotted path) for every request outside ``/api/``, its
    hooks included (a CSRF check is a ``process_view``)."""

    middleware = ""

    def __init__(self, get_response):
        self.get_response = get_response
        self.pages = import_string(self.middleware)(get_response)
        view = getattr(self.pages, "process_view", None)
        if view is not None:
            self.process_view = lambda request, *args: (
                None if _for_api(request) else view(request, *args)
            )
        exception = getattr(self.pages, "process_exception", None)
        if exception is not None:
            self.process_exception = lambda request, error: (
                None if _for_api(request) else exception(request, error)
            )
        template = getattr(self.pages, "process_template_response", None)
        if template is not None:
            self.process_template_response = lambda request, response: (
                response if _for_api(request) else template(request, response)
            )

    def __call__(self, request):
        if _for_api(request):
            return self.get_response(request)
        return self.pages(request)


def _pages_only(middleware: str) -> type[PagesOnly]:
    return type(middleware.rsplit(".", 1)[1], (PagesOnly,), {"middleware": middleware})


SessionMiddleware = _pages_only("django.contrib.sessions.middleware.SessionMiddleware")
CsrfViewMiddleware = _pages_only("django.middleware.csrf.CsrfViewMiddleware")
AuthenticationMiddleware = _pages_only("django.contrib.auth.middleware.AuthenticationMiddleware")
OTPMiddleware = _pages_only("django_otp.middleware.OTPMiddleware")
MessageMiddleware = _pages_only("django.contrib.messages.middleware.MessageMiddleware")
AccessMiddleware = _pages_only("access.middleware.AccessMiddleware")
BackOfficeMiddleware = _pages_only("access.staff_views.BackOfficeMiddleware")
HistoryRequestMiddleware = _pages_only("simple_history.middleware.HistoryRequestMiddleware")
AxesMiddleware = _pages_only("axes.middleware.AxesMiddleware")
