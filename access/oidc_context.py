"""Whether the login page offers the federated login (access/oidc.py)."""

from access import oidc


def oidc_login(request):
    # A callable: the template calls it, so only a page that shows the link runs the query.
    return {"oidc_login_offered": oidc.offered}
