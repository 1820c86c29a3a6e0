"""Middleware meant for pages, passed over by the API (settings.MIDDLEWARE names these).

An API call is authenticated by its key on every call (api/auth.py): it never reads or writes the
session, takes no form (GET only), shows no message, has no login to lock out and no back office.
Sessions, CSRF, authentication from the session, messages, django-otp, the session's end
(access.middleware) and the back office's guard do nothing for it but cost time, so for a path
under ``/api/`` each of them hands the request straight on, its hooks too. Each is a subclass of
the middleware it stands for, so Django's own checks (the admin's need for sessions,
authentication and messages) still see it. The middleware every answer needs (security headers,
the content security policy, the 405 as a problem, the language, clickjacking) runs for the API
as well, and so do two that cost nothing there: the history's request and django-axes (whose
check looks for its own name in MIDDLEWARE).
"""

from django.utils.module_loading import import_string

API_PREFIX = "/api/"


def _for_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _call(self, request):
    if _for_api(request):
        return self.get_response(request)
    return super(type(self), self).__call__(request)


def _process_view(self, request, view, args, kwargs):
    if _for_api(request):
        return None
    return super(type(self), self).process_view(request, view, args, kwargs)


def _process_exception(self, request, exception):
    if _for_api(request):
        return None
    return super(type(self), self).process_exception(request, exception)


def _process_template_response(self, request, response):
    if _for_api(request):
        return response
    return super(type(self), self).process_template_response(request, response)


_HOOKS = {
    "process_view": _process_view,
    "process_exception": _process_exception,
    "process_template_response": _process_template_response,
}


def pages_only(middleware: str) -> type:
    """A subclass of ``middleware`` (a dotted path) that runs it for every request outside
    ``/api/`` and hands API requests straight on."""
    base = import_string(middleware)
    namespace = {"__call__": _call, "__doc__": f"{middleware}, for pages only."}
    namespace.update({name: hook for name, hook in _HOOKS.items() if hasattr(base, name)})
    return type(base.__name__, (base,), namespace)


SessionMiddleware = pages_only("django.contrib.sessions.middleware.SessionMiddleware")
CsrfViewMiddleware = pages_only("django.middleware.csrf.CsrfViewMiddleware")
AuthenticationMiddleware = pages_only("django.contrib.auth.middleware.AuthenticationMiddleware")
OTPMiddleware = pages_only("django_otp.middleware.OTPMiddleware")
MessageMiddleware = pages_only("django.contrib.messages.middleware.MessageMiddleware")
AccessMiddleware = pages_only("access.middleware.AccessMiddleware")
BackOfficeMiddleware = pages_only("access.staff_views.BackOfficeMiddleware")
