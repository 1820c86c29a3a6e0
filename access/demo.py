"""The demo logins (``seed_demo``, development only: their passwords and TOTP keys are public):
IVO's staff with their roles, and Kalmar's municipal users on the allowlist. Beside the accounts
they make; the demo register itself is register/demo.py's."""

import datetime
import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from access.models import Account, AllowlistEntry
from access.roles import Role


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    description: str


DEMO_LOGINS = (
    DemoLogin("ivo.admin", "demo-ivo-admin-2026", "IVO-administratör"),
    DemoLogin("ivo.registrator", "demo-registrator-2026", "IVO-registrator"),
)
# The group earlier demo databases gave the registrator; removed by ensure_demo_users.
REGISTRATOR_GROUP = "IVO registrator"


def ensure_demo_users() -> list[DemoLogin]:
    """The demo logins: an IVO administrator and an IVO registrator (no delete permission).

    Each has its role's permissions and nothing else (access/roles.py gives the back office's
    from the role; no superuser, no groups). Each signs in with password and a TOTP code
    (access/staff_views.py). The TOTP key is fixed and public, like the password: the SHA-1
    digest of ``hvb-registret-demo-totp:<username>``, which ``seed_demo`` prints in base32 for
    an authenticator app.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user_model = get_user_model()
    # Demo databases made before the roles carried the back office's permissions.
    Group.objects.filter(name=REGISTRATOR_GROUP).delete()
    administrator, registrator = DEMO_LOGINS
    for login, role in ((administrator, Role.IVO_ADMIN), (registrator, Role.IVO_REGISTRATOR)):
        user, _created = user_model.objects.get_or_create(username=login.username)
        user.is_staff = True
        user.is_superuser = False
        user.is_active = True
        user.set_password(login.password)
        user.save()
        user.groups.clear()
        user.user_permissions.clear()
        Account.objects.update_or_create(user=user, defaults={"role": role, "municipality": None})
        key = hashlib.sha1(f"hvb-registret-demo-totp:{login.username}".encode()).hexdigest()
        TOTPDevice.objects.filter(user=user).delete()
        TOTPDevice.objects.create(user=user, name="Demo", key=key, confirmed=True)
    ensure_demo_allowlist()
    return list(DEMO_LOGINS)


# Municipal demo users: they log in by one-time link, which development prints in the terminal.
DEMO_MUNICIPAL_LOGINS = (
    ("socialsekreterare@kalmar.example", "kommun_anvandare"),
    ("administrator@kalmar.example", "kommun_admin"),
)


def ensure_demo_allowlist() -> None:
    """Allowlist the municipal demo addresses (Kalmar), valid for a year from today."""
    now = timezone.now()
    for email, role in DEMO_MUNICIPAL_LOGINS:
        AllowlistEntry.objects.filter(email=email, revoked_at__isnull=True).update(revoked_at=now)
        AllowlistEntry.objects.create(
            email=email,
            municipality_id="0880",
            role=role,
            confirmed_at=now,
            expires_at=now + datetime.timedelta(days=365),
        )
