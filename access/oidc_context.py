"""Whether the login page offers the federated login (access/oidc.py)."""


def _offered() -> bool:
    from access import oidc  # at the first page that shows the link (access/oidc_urls.py)

    return oidc.offered()


def oidc_login(request):
    # A callable: the template calls it, so only a page that shows the link runs the query.
    return {"oidc_login_offered": _offered}
