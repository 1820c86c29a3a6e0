"""The back office for IVO's staff: Django admin, in Swedish.

Every save, revert and delete goes through ``register.services``, so an edit here obeys the same
rules and leaves the same history (who, when, before, after) as an import.
"""

from collections.abc import Callable

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from register import services
from register.codes import marking_for
from register.models import (
    County,
    Decision,
    Facility,
    Inspection,
    Manager,
    Municipality,
    Permit,
    Provider,
    Registration,
)

admin.site.site_header = _("HVB-registret – IVO:s registerförvaltning")
admin.site.site_title = _("HVB-registret")
admin.site.index_title = _("Registerförvaltning")

_SAVE: dict[type[models.Model], Callable[..., models.Model]] = {
    Provider: lambda obj, **kw: services.provider_save(provider=obj, **kw),
    Facility: lambda obj, **kw: services.facility_save(facility=obj, **kw),
    Permit: lambda obj, **kw: services.permit_save(permit=obj, **kw),
    Registration: lambda obj, **kw: services.registration_save(registration=obj, **kw),
    Manager: lambda obj, **kw: services.manager_save(manager=obj, **kw),
    Inspection: lambda obj, **kw: services.inspection_save(inspection=obj, **kw),
    Decision: lambda obj, **kw: services.decision_save(decision=obj, **kw),
}


class RegisterAdmin(SimpleHistoryAdmin):
    """Saves and deletes through the services, with the signed-in user as the actor."""

    change_reason = _("Ändrad i registerförvaltningen")

    def save_model(self, request, obj, form, change):
        if change and form is not None and not form.has_changed():
            return
        _SAVE[type(obj)](obj, actor=request.user, reason=str(self.change_reason))

    def delete_model(self, request, obj):
        services.register_object_delete(
            instance=obj, actor=request.user, reason=str(_("Borttagen i registerförvaltningen"))
        )

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class ReferenceDataAdmin(admin.ModelAdmin):
    """Län and kommuner come from SCB's codes by migration; the admin only shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(County)
class CountyAdmin(ReferenceDataAdmin):
    list_display = ["code", "name", "letter"]
    search_fields = ["code", "name"]


@admin.register(Municipality)
class MunicipalityAdmin(ReferenceDataAdmin):
    list_display = ["code", "name", "county"]
    list_filter = ["county"]
    search_fields = ["code", "name"]
    list_select_related = ["county"]


@admin.register(Provider)
class ProviderAdmin(RegisterAdmin):
    list_display = ["name", "organisation_number", "ownership", "is_sole_trader"]
    list_filter = ["ownership", "is_sole_trader"]
    search_fields = ["name", "organisation_number"]
    readonly_fields = ["created_at", "updated_at"]


class _FacilityRelatedAdmin(RegisterAdmin):
    autocomplete_fields = ["facility"]
    list_select_related = ["facility"]
    search_fields = ["diarienummer", "facility__name", "facility__facility_id"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Facility)
class FacilityAdmin(RegisterAdmin):
    list_display = [
        "facility_id",
        "name",
        "facility_type",
        "municipality",
        "provider",
        "places",
        "status",
    ]
    list_filter = [
        "facility_type",
        "status",
        "provider__ownership",
        "gender",
        "protected_by_ivo",
        ("municipality__county", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["facility_id", "name", "provider__name", "provider__organisation_number"]
    list_select_related = ["municipality", "provider"]
    autocomplete_fields = ["provider", "municipality"]
    readonly_fields = ["status_date", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["facility_id", "name", "facility_type", "provider"]}),
        (_("Plats"), {"fields": ["municipality", "street_address", "postal_code", "postal_town"]}),
        (
            _("Målgrupp och platser"),
            {
                "fields": [
                    "target_groups",
                    "age_from",
                    "age_to",
                    "gender",
                    "places",
                    "protected_by_ivo",
                ]
            },
        ),
        (_("Status"), {"fields": ["status", "status_date", "start_date", "end_date"]}),
        (_("Texter"), {"fields": ["orientation", "summary"]}),
        (_("Registrerat"), {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(Permit)
class PermitAdmin(_FacilityRelatedAdmin):
    list_display = ["diarienummer", "facility", "granted_on", "status"]
    list_filter = ["status"]


@admin.register(Registration)
class RegistrationAdmin(_FacilityRelatedAdmin):
    list_display = ["diarienummer", "facility", "registered_on"]


@admin.register(Manager)
class ManagerAdmin(_FacilityRelatedAdmin):
    list_display = ["__str__", "name", "start_date", "end_date"]
    search_fields = ["name", "facility__name", "facility__facility_id"]
    list_filter = [("end_date", admin.EmptyFieldListFilter)]


@admin.register(Inspection)
class InspectionAdmin(_FacilityRelatedAdmin):
    list_display = ["diarienummer", "facility", "start_date", "end_date", "announced"]
    list_filter = ["announced", "start_date"]
    date_hierarchy = "start_date"


@admin.register(Decision)
class DecisionAdmin(_FacilityRelatedAdmin):
    list_display = ["diarienummer", "facility", "kind", "decision_date", "marking", "appeal_status"]
    list_filter = ["kind", "outcome", "appeal_status", "follow_up", "decision_date"]
    date_hierarchy = "decision_date"

    @admin.display(description=_("utfall"), ordering="outcome")
    def marking(self, decision: Decision) -> str:
        marking = marking_for(decision.outcome, decision.appeal_status)
        return f"{marking.symbol} {marking.label}"
