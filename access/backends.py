"""Django's model permissions from the role (access/roles.py), for the back office."""

from django.contrib.auth.backends import BaseBackend

from access.roles import model_permissions


class RoleBackend(BaseBackend):
    """Gives a user the model permissions of their account's role, read at every check.

    Rather than Groups kept in step with the roles: the role module stays the one place that
    says what a role may do, a role given or changed anywhere (create_ivo_user, the admin, the
    demo logins, a migration, SQL) counts at the next request with nothing to synchronise, and an
    IVO role's permissions hold only in a session verified with the second factor, as its other
    permissions do. Authenticates no one.
    """

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if obj is not None or not getattr(user_obj, "is_active", False):
            return set()
        return set(model_permissions(user_obj))

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label) -> bool:
        return any(perm.startswith(f"{app_label}.") for perm in self.get_all_permissions(user_obj))
