"""The menu links a signed-in user's role gives (access/roles.py)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from access.roles import Permission, has_permission

_LINKS = [
    (Permission.REQUEST_DECISIONS, "documents:my_requests", _("Begärda beslut")),
    (Permission.HANDLE_DECISION_REQUESTS, "documents:queue", _("Utlämnande")),
    (Permission.MANAGE_OWN_ALLOWLIST, "access:allowlist", _("Frilistning")),
    (Permission.MANAGE_ALL_ALLOWLISTS, "access:municipalities", _("Kommuner")),
    (Permission.READ_OWN_ACCESS_LOG, "accesslog:municipal", _("Loggutdrag")),
    (Permission.MANAGE_OWN_ALLOWLIST, "alerts:municipal", _("Kommunens bevakningar")),
    (Permission.REVIEW_ACCESS_LOG, "accesslog:search", _("Åtkomstlogg")),
    (Permission.REVIEW_ACCESS_LOG, "accesslog:review", _("Logggranskning")),
    (Permission.LINK_CASES, "linking:queue", _("Koppling av ärenden")),
    (Permission.LINK_CASES, "linking:quality", _("Kvalitetsrapport")),
    (Permission.READ_ALERT_NUMBERS, "alerts:numbers", _("Bevakningar i siffror")),
    (Permission.BACK_OFFICE, "admin:index", _("Back office")),
]


def access_links(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "access_links": [
            {"url": reverse(name), "label": label}
            for permission, name, label in _LINKS
            if has_permission(user, permission)
        ]
    }
