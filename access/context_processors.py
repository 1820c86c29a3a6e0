"""The staff workplace's menu: one header for everyone signed in, the sections their role gives
(access/roles.py), on the staff pages and in the back office (the Django admin) alike.

A section is one task (Register, Koppling, Utlämnande, Logg, …) and links to its first page; a
section of several pages shows them as a second row on its own pages. The section a page belongs
to is the one whose page addresses are the longest start of the page's path, so a case in the
linking queue marks "Koppling" and an API client in the admin marks "API", not "Register".
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from access.roles import Permission, has_permission


@dataclass(frozen=True)
class _Page:
    url_name: str
    label: str
    permission: str | None = None  # None: every signed-in user


@dataclass(frozen=True)
class _Section:
    key: str
    label: str
    pages: tuple[_Page, ...]
    # Further starts of paths whose pages belong to the section (beyond its pages' own).
    paths: tuple[str, ...] = ()


_SECTIONS = (
    _Section(
        "search",
        _("Sök"),
        (_Page("portal:search", _("Sök verksamhet")),),
        paths=("portal:facility", "portal:provider"),
    ),
    _Section(
        "notices",
        _("Notiser"),
        (_Page("alerts:notices", _("Notiser"), Permission.WATCH),),
    ),
    _Section(
        "watches",
        _("Mina bevakningar"),
        (_Page("alerts:watches", _("Mina bevakningar"), Permission.WATCH),),
    ),
    _Section(
        "requests",
        _("Begärda beslut"),
        (_Page("documents:my_requests", _("Begärda beslut"), Permission.REQUEST_DECISIONS),),
    ),
    _Section(
        "allowlist",
        _("Frilistning"),
        (_Page("access:allowlist", _("Frilistning"), Permission.MANAGE_OWN_ALLOWLIST),),
    ),
    _Section(
        "log_extract",
        _("Loggutdrag"),
        (_Page("accesslog:municipal", _("Loggutdrag"), Permission.READ_OWN_ACCESS_LOG),),
    ),
    _Section(
        "municipal_watches",
        _("Kommunens bevakningar"),
        (_Page("alerts:municipal", _("Kommunens bevakningar"), Permission.MANAGE_OWN_ALLOWLIST),),
    ),
    _Section(
        "register",
        _("Register"),
        (_Page("admin:index", _("Registerförvaltning"), Permission.BACK_OFFICE),),
        # A decision's documents are the register's records, attached from the decision.
        paths=("/ivo/beslut/",),
    ),
    _Section(
        "linking",
        _("Koppling"),
        (_Page("linking:queue", _("Koppling av ärenden"), Permission.LINK_CASES),),
    ),
    _Section(
        "quality",
        _("Kvalitet"),
        (
            _Page("linking:quality", _("Kvalitetsrapport"), Permission.LINK_CASES),
            _Page("alerts:numbers", _("Bevakningar i siffror"), Permission.READ_ALERT_NUMBERS),
        ),
    ),
    _Section(
        "release",
        _("Utlämnande"),
        (
            _Page(
                "documents:queue", _("Begäranden om beslut"), Permission.HANDLE_DECISION_REQUESTS
            ),
            _Page(
                "documents:numbers",
                _("Siffror för utlämnandet"),
                Permission.HANDLE_DECISION_REQUESTS,
            ),
        ),
    ),
    _Section(
        "log",
        _("Logg"),
        (
            _Page("accesslog:search", _("Sök i åtkomstloggen"), Permission.REVIEW_ACCESS_LOG),
            _Page("accesslog:review", _("Logggranskning"), Permission.REVIEW_ACCESS_LOG),
        ),
    ),
    _Section(
        "municipalities",
        _("Kommuner"),
        (_Page("access:municipalities", _("Kommuner"), Permission.MANAGE_ALL_ALLOWLISTS),),
    ),
    _Section(
        "api",
        _("API"),
        (
            _Page("api:openapi-view", _("API-dokumentation"), Permission.MANAGE_API_CLIENTS),
            _Page(
                "admin:api_apiclient_changelist", _("API-klienter"), Permission.MANAGE_API_CLIENTS
            ),
        ),
        paths=("/admin/api/",),
    ),
    # The statistics are public; signed in, they are in the menu (the header's link is for
    # those without one), with the municipality's own comparison beside them.
    _Section(
        "statistics",
        _("Statistik"),
        (
            _Page("stats:index", _("Statistik för hela landet")),
            _Page("stats:municipal", _("Kommunens jämförelse"), Permission.WATCH),
        ),
    ),
)


def _url(name: str) -> str:
    return name if name.startswith("/") else reverse(name, kwargs=_SAMPLE_KWARGS.get(name, {}))


# A page with an argument in its address belongs to a section by the address's start.
_SAMPLE_KWARGS = {"portal:facility": {"facility_id": "x"}, "portal:provider": {"public_id": "x"}}


def _start(name: str) -> str:
    """The start of the addresses of ``name``'s pages: the address up to its argument."""
    url = _url(name)
    return url[: url.rindex("x/")] if name in _SAMPLE_KWARGS else url


def _allowed(user, page: _Page) -> bool:
    return page.permission is None or has_permission(user, page.permission)


def staff_menu(user, path: str) -> tuple[list[dict], dict | None]:
    """The menu's sections for ``user`` on the page at ``path`` (each with its pages, and which is
    current), and the current section if it has more pages than one (its second row)."""
    sections = []
    for section in _SECTIONS:
        pages = [
            {"label": page.label, "url": _url(page.url_name), "current": None}
            for page in section.pages
            if _allowed(user, page)
        ]
        if pages:
            starts = [page["url"] for page in pages] + [_start(name) for name in section.paths]
            sections.append(
                {
                    "key": section.key,
                    "label": section.label,
                    "url": pages[0]["url"],
                    "pages": pages,
                    "starts": starts,
                    "current": None,
                }
            )
    # The section whose address is the longest start of the path ("/" only for the page itself).
    best, best_length = None, -1
    for section in sections:
        for start in section["starts"]:
            matches = path == start or (start != "/" and path.startswith(start))
            if matches and len(start) > best_length:
                best, best_length = section, len(start)
    if best is None:
        return sections, None
    best["current"] = "page" if path == best["url"] else "true"
    for page in best["pages"]:
        if path == page["url"]:
            page["current"] = "page"
        elif (
            path.startswith(page["url"])
            and page["url"] != "/"
            and not any(
                path.startswith(other["url"]) and len(other["url"]) > len(page["url"])
                for other in best["pages"]
            )
        ):
            page["current"] = "true"
    return sections, (best if len(best["pages"]) > 1 else None)


def access_links(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    sections, current = staff_menu(user, request.path)
    return {"staff_menu": sections, "staff_section": current}
