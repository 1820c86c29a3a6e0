"""Staff accounts in the back office, for IVO administrators (access/roles.py).

An IVO administrator may deactivate a leaver and change an IVO colleague's role (the role's
permissions follow at once: access.backends.RoleBackend). Rights beyond the role — superuser,
staff status, groups, single permissions — and passwords are a superuser's alone: accounts are
made by ``create_ivo_user``, passwords and authenticators set by ``changepassword`` and
``totp_device``. A municipal user's account follows the allowlist and is not changed here.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied

# The register's back office (its records, saved through register.services) lives beside the
# disclosure policy it shows personal data through: the register imports no app above it.
from access import register_admin  # noqa: F401 (registers the register's models)
from access.models import Account
from access.roles import IVO_ROLES, Role

User = get_user_model()


class AccountInline(admin.StackedInline):
    model = Account
    fields = ("role", "municipality")
    can_delete = False
    max_num = 1

    # The account is the user's: whoever may view or change the user, may the account.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("auth.view_user")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("auth.change_user")

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return ()
        account = getattr(obj, "account", None) if obj is not None else None
        if account is None or account.role not in IVO_ROLES or obj == request.user:
            return self.fields  # a municipal account, or one's own role
        return ("municipality",)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            kwargs["choices"] = [(role.value, role.label) for role in Role if role in IVO_ROLES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)


admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    inlines = [AccountInline]
    _RIGHTS = ("is_superuser", "is_staff", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return readonly
        return (*readonly, *self._RIGHTS, "last_login", "date_joined")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)
