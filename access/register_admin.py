"""The back office for IVO's staff: Django admin, in Swedish.

Every save, revert and delete goes through ``register.services``, so an edit here obeys the same
rules and leaves the same history (who, when, before, after) as an import.

Personal data (a manager's, a sole trader's) is shown as ``access.disclosure`` decides, and every
page that shows any of it is logged there: record pages, lists, histories, search matches. It lives
in ``access``, not in the register's package: an interface on the register (docs/architecture.md)
that imports the disclosure policy, where the register imports no app above it.
"""

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin
from django.core.paginator import Paginator
from django.db import models
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from access import disclosure
from register import services, validation
from register.codes import marking_for
from register.models import (
    County,
    Decision,
    Facility,
    Finding,
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
    # Edited inline on its decision (FindingInline), never on a page of its own.
    Finding: lambda obj, **kw: services.finding_save(finding=obj, **kw),
}


def _masked(field: str, description) -> Callable:
    """A list column printing ``field`` as access.disclosure lets a list print it (a personnummer
    masked); the field it shows is named for the access log."""

    @admin.display(description=description, ordering=field)
    def column(record) -> str:
        return disclosure.back_office_list_value(record, field)

    column.shown_field = field  # type: ignore[attr-defined]
    return column


def _as_stored(search_term: str) -> str:
    """A personnummer or organisationsnummer typed with 12 digits or without the dash, as the
    register stores it (NNNNNN-NNNN), so a search for it finds the provider either way."""
    return " ".join(
        "{}-{}".format(*match.groups())
        if (match := validation.PERSONAL_NUMBER_PATTERN.fullmatch(term))
        else term
        for term in search_term.split()
    )


class _ShownPaginator(Paginator):
    """Calls ``shown`` with the records of every page it gives (the admin's autocomplete)."""

    def __init__(self, *args, shown: Callable[[list], None], **kwargs):
        super().__init__(*args, **kwargs)
        self.shown = shown

    def page(self, number):
        page = super().page(number)
        page.object_list = list(page.object_list)
        self.shown(page.object_list)
        return page


class _HistoryContextHelper(HistoricalRecordContextHelper):
    def __init__(self, *args, history: disclosure.BackOfficeHistory, **kwargs):
        super().__init__(*args, **kwargs)
        self.history = history

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        return self.history.value(change.field, value)


class RegisterAdmin(SimpleHistoryAdmin):
    """Saves and deletes through the services, with the signed-in user as the actor; shows and
    logs personal data through access.disclosure."""

    # Kept in the history as written, in Swedish whatever language the editor reads.
    change_reason = gettext_noop("Ändrad i registerförvaltningen")

    # Personal data: every page that shows a record, a list of them or their history ------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if original is not None:  # the form was shown (not a redirect after saving)
            disclosure.back_office_record_viewed(request, original)
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            records = list(changelist.result_list)
            disclosure.back_office_list_viewed(request, records, self._list_fields(request))
            disclosure.back_office_search_matched(
                request, self.search_shown(records), changelist.query
            )
        return response

    def _list_fields(self, request) -> set[str]:
        return {
            getattr(entry, "shown_field", None) if callable(entry) else entry
            for entry in self.get_list_display(request)
        } - {None}

    def search_shown(self, records: list) -> Iterable[tuple]:
        """Pairs of (provider, what was shown) for a search's results: a provider found by a
        sole trader's name or number is logged even where the page prints neither."""
        return ()

    def autocomplete_shown(self, records: list) -> Iterable[tuple]:
        """As ``search_shown``, for the records a form's autocomplete offers."""
        return self.search_shown(records)

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, _as_stored(search_term))

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            term = request.GET.get("term", "")

            def shown(records):
                disclosure.back_office_search_matched(
                    request, self.autocomplete_shown(records), term
                )

            return _ShownPaginator(queryset, per_page, orphans, allow_empty_first_page, shown=shown)
        return super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        records = list(historical_records)
        request._back_office_history = disclosure.BackOfficeHistory(
            record.instance for record in records
        )
        super().set_history_delta_changes(request, records, foreign_keys_are_objs)
        request._back_office_history.logged(request)

    def get_historical_record_context_helper(self, request, historical_record):
        history = getattr(request, "_back_office_history", None)
        if history is None:  # not from history_view: mask as its own list of changes would
            history = disclosure.BackOfficeHistory([historical_record.instance])
        return _HistoryContextHelper(self.model, historical_record, history=history)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        extra_context = {**(extra_context or {}), "back_office_version": version_id}
        return super().history_form_view(request, object_id, version_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        if "back_office_version" in context and context.get("original") is not None:
            disclosure.back_office_record_viewed(
                request, context["original"], version=context["back_office_version"]
            )
        return super().render_history_view(request, template, context, **kwargs)

    # Writes ---------------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if change and form is not None and not form.has_changed():
            return
        _SAVE[type(obj)](obj, actor=request.user, reason=str(self.change_reason))

    def save_formset(self, request, form, formset, change):
        """Inline rows (a decision's findings) saved and deleted through the services too."""
        reason = str(self.change_reason)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            services.register_object_delete(
                instance=obj,
                actor=request.user,
                reason=gettext_noop("Borttagen i registerförvaltningen"),
            )
        for obj in instances:
            _SAVE[type(obj)](obj, actor=request.user, reason=reason)
        formset.save_m2m()

    def delete_model(self, request, obj):
        services.register_object_delete(
            instance=obj,
            actor=request.user,
            reason=gettext_noop("Borttagen i registerförvaltningen"),
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
    list_display = [
        "name",
        _masked("organisation_number", _("organisationsnummer")),
        "ownership",
        "is_sole_trader",
    ]
    list_filter = ["ownership", "is_sole_trader"]
    search_fields = ["name", "organisation_number"]
    readonly_fields = ["created_at", "updated_at"]

    def autocomplete_shown(self, records):
        # The list logs its rows itself; a form's choice of provider prints no sole trader's
        # name (Provider.__str__), but a match by name or number still links the person.
        # The access log keeps what was shown in Swedish.
        return [(provider, gettext_noop("val av huvudman")) for provider in records]


class _FacilityRelatedAdmin(RegisterAdmin):
    autocomplete_fields = ["facility"]
    list_select_related = ["facility"]
    search_fields = ["diarienummer", "facility__name", "facility__facility_id"]
    readonly_fields = ["created_at", "updated_at"]


class ProtectedFilter(admin.SimpleListFilter):
    """Protected homes as the register defines them (register.models.protected_condition): the
    target group Skyddat boende or IVO's mark, not the mark alone."""

    title = _("skyddat boende")
    parameter_name = "skyddat"

    def lookups(self, request, model_admin):
        return [("ja", _("Ja")), ("nej", _("Nej"))]

    def queryset(self, request, queryset):
        if self.value() == "ja":
            return queryset.protected()
        if self.value() == "nej":
            return queryset.unprotected()
        return queryset


class FacilityAdminForm(forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        # The service refuses it too (services.facility_save); here the page says why.
        if self.instance.pk is not None and cleaned.get("status"):
            decision = services.status_set_by_decision(self.instance.pk, cleaned["status"])
            if decision is not None:
                self.add_error("status", services.status_set_by_decision_message(decision))
        return cleaned


@admin.register(Facility)
class FacilityAdmin(RegisterAdmin):
    form = FacilityAdminForm
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
        ProtectedFilter,
        ("municipality__county", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["facility_id", "name", "provider__name", "provider__organisation_number"]
    list_select_related = ["municipality", "provider"]
    autocomplete_fields = ["provider", "municipality"]

    def search_shown(self, records):
        prefetch_related_objects(records, "provider")
        return [(facility.provider, facility.facility_id) for facility in records]

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
    list_display = [
        "__str__",
        "name",
        _masked("personal_identity_number", _("personnummer")),
        "start_date",
        "end_date",
    ]
    search_fields = ["name", "facility__name", "facility__facility_id"]
    list_filter = [("end_date", admin.EmptyFieldListFilter)]


@admin.register(Inspection)
class InspectionAdmin(_FacilityRelatedAdmin):
    list_display = ["diarienummer", "facility", "start_date", "end_date", "announced"]
    list_filter = ["announced", "start_date"]
    date_hierarchy = "start_date"


class FindingInline(admin.StackedInline):
    """What IVO found in each area the decision reviewed, and what the provider must do: part of
    the decision, so whoever may add or change the decision may edit its findings (a role has no
    permissions of its own on findings, access/roles.py). Saved through the services by
    ``RegisterAdmin.save_formset``."""

    model = Finding
    extra = 0
    fields = [
        ("area", "assessment"),
        "observation",
        "requirement",
        ("due_date", "fine_amount"),
    ]

    def _may_edit_decision(self, request, obj) -> bool:
        action = "change" if obj is not None else "add"
        return request.user.has_perm(f"register.{action}_decision")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("register.view_decision")

    def has_add_permission(self, request, obj=None):
        return self._may_edit_decision(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._may_edit_decision(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_edit_decision(request, obj)


@admin.register(Decision)
class DecisionAdmin(_FacilityRelatedAdmin):
    list_display = ["diarienummer", "facility", "kind", "decision_date", "marking", "appeal_status"]
    list_filter = [
        "kind",
        "outcome",
        "appeal_status",
        "inspection_reason",
        "follow_up",
        "decision_date",
    ]
    date_hierarchy = "decision_date"
    autocomplete_fields = ["facility", "follows_up"]
    inlines = [FindingInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "diarienummer",
                    "facility",
                    "kind",
                    "decision_date",
                    "outcome",
                    "prohibition_until",
                ]
            },
        ),
        (
            _("Inspektion och granskning"),
            {"fields": ["inspection_reason", "children_talked_with", "review_areas", "summary"]},
        ),
        (
            _("Lagrum, överklagande och uppföljning"),
            {"fields": ["legal_reference", "appeal_status", "follows_up", "follow_up"]},
        ),
        (_("Registrerat"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("utfall"), ordering="outcome")
    def marking(self, decision: Decision) -> str:
        marking = marking_for(decision.outcome, decision.appeal_status)
        return f"{marking.symbol} {marking.label}"
