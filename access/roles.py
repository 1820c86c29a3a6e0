"""Roles and what each may do (DESIGN.md, "Who uses it"): checked in one place.

Every view declares the permission it needs with ``access.decorators.requires``; the role
matrix test walks every URL and fails for a view that declares none. The back office (Django
admin) checks Django's model permissions instead (view, add, change, delete per model): each
role's are in ``ROLE_MODEL_PERMISSIONS`` below, and ``access.backends.RoleBackend`` gives them
from the account's role at every check, so nothing needs copying when a role is given or changed.
"""

from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MUNICIPAL_USER = "kommun_anvandare", _("Kommunal användare")
    MUNICIPAL_ADMIN = "kommun_admin", _("Kommunal administratör")
    IVO_REGISTRATOR = "ivo_registrator", _("IVO-registrator")
    IVO_CASE_OFFICER = "ivo_handlaggare", _("IVO-handläggare")
    IVO_ADMIN = "ivo_admin", _("IVO-administratör")
    # A municipality's own case-management system reading through the API (api/): never a
    # person, never signed in with a session; its account belongs to an api.ApiClient.
    MUNICIPAL_SYSTEM = "kommun_system", _("Kommunalt system (API-klient)")


MUNICIPAL_ROLES = frozenset({Role.MUNICIPAL_USER, Role.MUNICIPAL_ADMIN})
IVO_ROLES = frozenset({Role.IVO_REGISTRATOR, Role.IVO_CASE_OFFICER, Role.IVO_ADMIN})
# A municipality's system sees what the municipality's users see (access/disclosure.py).
MACHINE_ROLES = frozenset({Role.MUNICIPAL_SYSTEM})


class Permission(models.TextChoices):
    USE_PORTAL = "use_portal", _("Söka och läsa i registret")
    MANAGE_OWN_ALLOWLIST = "manage_own_allowlist", _("Hantera den egna kommunens frilistning")
    MANAGE_ALL_ALLOWLISTS = (
        "manage_all_allowlists",
        _("Lägga till kommuner och deras första administratör"),
    )
    READ_OWN_ACCESS_LOG = "read_own_access_log", _("Läsa loggutdrag för den egna kommunen")
    REVIEW_ACCESS_LOG = "review_access_log", _("Söka i och granska åtkomstloggen")
    BACK_OFFICE = "back_office", _("Arbeta i registrets back office")
    REQUEST_DECISIONS = "request_decisions", _("Begära ut beslut för den egna socialnämnden")
    HANDLE_DECISION_REQUESTS = (
        "handle_decision_requests",
        _("Pröva och besvara begäranden om beslut"),
    )
    ATTACH_DECISION_DOCUMENTS = "attach_decision_documents", _("Bifoga beslutshandlingar")
    LINK_CASES = (
        "link_cases",
        _("Koppla ärenden till verksamheter och läsa registrets kvalitetsrapport"),
    )
    USE_API = "use_api", _("Läsa registret genom API:t")
    MANAGE_API_CLIENTS = "manage_api_clients", _("Registrera API-klienter och ge ut nycklar")
    # Watches (alerts/): a socialnämnd's users follow the homes where its children are placed.
    WATCH = "watch", _("Bevaka verksamheter, huvudmän och områden")
    READ_ALERT_NUMBERS = "read_alert_numbers", _("Läsa siffror om bevakningarnas utskick")


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.MUNICIPAL_USER: frozenset(
        {Permission.USE_PORTAL, Permission.REQUEST_DECISIONS, Permission.WATCH}
    ),
    Role.MUNICIPAL_ADMIN: frozenset(
        {
            Permission.USE_PORTAL,
            Permission.REQUEST_DECISIONS,
            Permission.WATCH,
            Permission.MANAGE_OWN_ALLOWLIST,
            Permission.READ_OWN_ACCESS_LOG,
        }
    ),
    Role.IVO_REGISTRATOR: frozenset(
        {
            Permission.USE_PORTAL,
            Permission.BACK_OFFICE,
            Permission.ATTACH_DECISION_DOCUMENTS,
            Permission.LINK_CASES,
        }
    ),
    Role.IVO_CASE_OFFICER: frozenset(
        {
            Permission.USE_PORTAL,
            Permission.BACK_OFFICE,
            Permission.ATTACH_DECISION_DOCUMENTS,
            Permission.HANDLE_DECISION_REQUESTS,
        }
    ),
    Role.IVO_ADMIN: frozenset(
        {
            Permission.USE_PORTAL,
            Permission.BACK_OFFICE,
            Permission.ATTACH_DECISION_DOCUMENTS,
            Permission.HANDLE_DECISION_REQUESTS,
            Permission.MANAGE_ALL_ALLOWLISTS,
            Permission.REVIEW_ACCESS_LOG,
            Permission.LINK_CASES,
            Permission.MANAGE_API_CLIENTS,
            Permission.READ_ALERT_NUMBERS,
        }
    ),
    Role.MUNICIPAL_SYSTEM: frozenset({Permission.USE_API}),
}


def _model_permissions(
    app_label: str, model_names: Iterable[str], actions: Iterable[str]
) -> frozenset[str]:
    return frozenset(
        f"{app_label}.{action}_{model_name}" for model_name in model_names for action in actions
    )


# What the back office lets each role do with each model ("app_label.action_model").
# Reference data (län, kommuner) is read-only for everyone (access/register_admin.py). The API's
# clients and keys are checked against MANAGE_API_CLIENTS (api/admin.py), the decision documents and
# requests, case linking, the allowlists and the access log have pages of their own with the
# permissions above. No role has any permission on the access log's entries (AccessEvent): it is
# append-only.
_READ_REFERENCE_DATA = _model_permissions("register", ("county", "municipality"), ["view"])
_REGISTER_RECORDS = (
    "provider",
    "facility",
    "permit",
    "registration",
    "manager",
    "inspection",
    "decision",
)
# The registrator keeps the register correct: imports and corrections of every record. Deleting
# (rare; kept in the history all the same) is the IVO administrator's.
_KEEP_THE_REGISTER = _READ_REFERENCE_DATA | _model_permissions(
    "register", _REGISTER_RECORDS, ("view", "add", "change")
)
# A finding is part of its decision: whoever edits decisions edits their findings, removing an
# area too (as import_findings does), each removal kept in the history.
_EDIT_FINDINGS = _model_permissions("register", ["finding"], ("view", "add", "change", "delete"))
_KEEP_THE_REGISTER |= _EDIT_FINDINGS
# The case officer records inspections and decisions, on facilities and providers they can read.
# Managers are not theirs to keep (the portal shows them the current one, logged).
_RECORD_INSPECTIONS_AND_DECISIONS = (
    _READ_REFERENCE_DATA
    | _model_permissions("register", ("provider", "facility", "permit", "registration"), ["view"])
    | _model_permissions("register", ("inspection", "decision"), ("view", "add", "change"))
    | _EDIT_FINDINGS
)
# The IVO administrator: staff accounts (their role, deactivating a leaver: access/admin.py;
# accounts are made by create_ivo_user, passwords and authenticators set by changepassword and
# totp_device, never in the browser), login lockouts read and lifted. Not the authenticators in
# the admin: django-otp's pages would show another person's TOTP key.
_ADMINISTER_STAFF = (
    _model_permissions("auth", ["user"], ("view", "change"))
    | _model_permissions("axes", ["accessattempt"], ("view", "delete"))
    | _model_permissions("axes", ("accesslog", "accessfailurelog"), ["view"])
)

ROLE_MODEL_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.MUNICIPAL_USER: frozenset(),
    Role.MUNICIPAL_ADMIN: frozenset(),
    Role.IVO_REGISTRATOR: _KEEP_THE_REGISTER,
    Role.IVO_CASE_OFFICER: _RECORD_INSPECTIONS_AND_DECISIONS,
    Role.IVO_ADMIN: (
        _KEEP_THE_REGISTER
        | _RECORD_INSPECTIONS_AND_DECISIONS
        | _model_permissions("register", _REGISTER_RECORDS, ["delete"])
        | _ADMINISTER_STAFF
    ),
    Role.MUNICIPAL_SYSTEM: frozenset(),
}


def role_of(user) -> str | None:
    """The user's role, or None for anonymous users and accounts without one.

    An IVO role counts only in a session verified with the second factor (django-otp's
    middleware puts ``is_verified`` on the request's user), whatever page is asked for.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    # A deactivated account has no role, whatever session it still holds (the federated login's
    # backend does not check is_active when it loads a session's user).
    if not getattr(user, "is_active", True):
        return None
    account = getattr(user, "account", None)
    if account is None:
        return None
    is_verified = getattr(user, "is_verified", None)
    if account.role in IVO_ROLES and is_verified is not None and not is_verified():
        return None
    return account.role


def has_permission(user, permission: str) -> bool:
    role = role_of(user)
    return role is not None and permission in ROLE_PERMISSIONS.get(role, frozenset())


def model_permissions(user) -> frozenset[str]:
    """The back-office model permissions of the user's role (none without a role, or for an IVO
    role in a session not verified with the second factor)."""
    return ROLE_MODEL_PERMISSIONS.get(role_of(user), frozenset())
