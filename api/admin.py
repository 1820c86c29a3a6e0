"""API clients in the back office, for IVO administrators: register a municipality's system,
issue a key (shown once, on the page that issues it), revoke keys and clients."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access.roles import Permission, has_permission
from api import services
from api.models import ApiClient, ApiToken


def _may_manage(request) -> bool:
    return has_permission(request.user, Permission.MANAGE_API_CLIENTS)


class _IvoAdministratorsOnly:
    def has_module_permission(self, request):
        return _may_manage(request)

    def has_view_permission(self, request, obj=None):
        return _may_manage(request)

    def has_change_permission(self, request, obj=None):
        return _may_manage(request)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the access log refers to the client


class ApiTokenInline(_IvoAdministratorsOnly, admin.TabularInline):
    model = ApiToken
    extra = 0
    can_delete = False
    fields = ("prefix", "scope", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(_IvoAdministratorsOnly, admin.ModelAdmin):
    list_display = ("name", "municipality", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "municipality__name")
    fields = ("name", "municipality", "public_id", "created_at", "revoked_at")
    readonly_fields = ("public_id", "created_at", "revoked_at")
    inlines = [ApiTokenInline]
    actions = ["revoke_clients"]
    change_form_template = "api/admin_client_change_form.html"

    def has_add_permission(self, request):
        return _may_manage(request)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "municipality") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            ApiClient.objects.filter(pk=obj.pk).update(name=obj.name)
            return
        created = services.api_client_create(
            name=obj.name, municipality=obj.municipality, actor=request.user, request=request
        )
        obj.pk, obj.public_id = created.pk, created.public_id

    @admin.action(description=gettext_lazy("Återkalla markerade klienter och deras nycklar"))
    def revoke_clients(self, request, queryset):
        for client in queryset:
            services.api_client_revoke(client=client, actor=request.user, request=request)
        messages.success(request, _("Klienterna är återkallade."))

    def get_urls(self):
        return [
            path(
                "<int:client_pk>/ny-nyckel/",
                self.admin_site.admin_view(self.issue_token_view),
                name="api_apiclient_issue_token",
            ),
            *super().get_urls(),
        ]

    def issue_token_view(self, request, client_pk: int):
        if not _may_manage(request):
            raise PermissionDenied
        client = get_object_or_404(ApiClient, pk=client_pk, revoked_at__isnull=True)
        context = {
            **self.admin_site.each_context(request),
            "client": client,
            "opts": self.model._meta,
            "title": _("Ny API-nyckel för %(client)s") % {"client": client},
            "back_url": reverse("admin:api_apiclient_change", args=[client.pk]),
        }
        if request.method == "POST":
            issued, token = services.api_token_issue(
                client=client, actor=request.user, request=request
            )
            response = render(
                request,
                "api/admin_token_issued.html",
                {**context, "issued": issued, "token": token},
            )
            # The key is on this page only: no cache may keep it.
            response["Cache-Control"] = "no-store"
            return response
        return render(request, "api/admin_token_confirm.html", context)


@admin.register(ApiToken)
class ApiTokenAdmin(_IvoAdministratorsOnly, admin.ModelAdmin):
    list_display = ("prefix", "client", "scope", "created_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("client", "prefix", "scope", "created_at", "expires_at", "revoked_at")
    fields = readonly_fields
    actions = ["revoke_tokens"]

    def has_add_permission(self, request):
        return False  # issued from the client's page, where the key is shown once

    @admin.action(description=gettext_lazy("Återkalla markerade nycklar"))
    def revoke_tokens(self, request, queryset):
        for token in queryset.select_related("client"):
            services.api_token_revoke(token=token, actor=request.user, request=request)
        messages.success(request, _("Nycklarna är återkallade."))
