"""The header's "Notiser (3)" and what the user watches, for municipal users only.

Both are lazy: the count is one COUNT on the partial index ``notice_unread_idx`` when the
header is drawn, the watches one query when a page shows a watch button. Anonymous users and
roles that cannot watch get nothing and cost nothing.
"""

from django.utils.functional import SimpleLazyObject

from access.roles import Permission, has_permission
from alerts import selectors


def alerts(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not has_permission(user, Permission.WATCH):
        return {}
    return {
        "may_watch": True,
        "unread_notices": SimpleLazyObject(lambda: selectors.unread_count(user)),
        "watching": SimpleLazyObject(lambda: selectors.watched_targets(user)),
    }
