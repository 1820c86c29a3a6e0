"""The users' side of watches: the buttons, "Mina bevakningar", the notices, the municipal
administrator's hand-over page and IVO's numbers.

Views are thin: access first (``@requires``, then the object looked up through what the viewer
may see), one form, one service or selector, render. Every change is a POST with CSRF that
answers with a redirect back to where the user was, so the pages work without JavaScript.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from access.decorators import requires
from access.disclosure import may_see_protected_homes, provider_facts, record_protected_views
from access.roles import Permission
from alerts import selectors, services, texts
from alerts.forms import (
    CountyWatchForm,
    HandOverForm,
    MailChoiceForm,
    MunicipalityWatchForm,
    RemoveAllForm,
    area_forms,
)
from alerts.models import AlertSettings, MailChoice, Watch
from register import selectors as register_selectors
from register.models import County, Facility, Municipality

NOTICES_PAGE_SIZE = 25


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """To where the button was pressed: a path on this site, else ``default``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(default)


def _own_municipality(request: HttpRequest) -> Municipality:
    return request.user.account.municipality


# The buttons ----------------------------------------------------------------------------------


@requires(Permission.WATCH)
@require_POST
def watch_facility(request: HttpRequest, facility_id: str) -> HttpResponse:
    # A protected home only for whoever may see one: its page has already logged the view.
    facilities = Facility.objects.all()
    if not may_see_protected_homes(request.user):
        facilities = facilities.unprotected()
    facility = get_object_or_404(facilities, facility_id=facility_id)
    services.watch_add(
        user=request.user, owner_municipality=_own_municipality(request), target=facility
    )
    messages.success(request, _("Du bevakar nu %(name)s.") % {"name": facility.name})
    return _back(request, reverse("portal:facility", args=[facility.facility_id]))


@requires(Permission.WATCH)
@require_POST
def watch_provider(request: HttpRequest, public_id: str) -> HttpResponse:
    providers = register_selectors.providers_for(
        include_protected=may_see_protected_homes(request.user)
    )
    try:
        provider = get_object_or_404(providers, public_id=public_id)
    except ValidationError:  # not a UUID
        raise Http404 from None
    services.watch_add(
        user=request.user, owner_municipality=_own_municipality(request), target=provider
    )
    # The disclosure policy names the provider (a sole trader's name is personal data).
    name = provider_facts(provider, request=request).name
    messages.success(
        request,
        _("Du bevakar nu alla verksamheter hos %(name)s, också de som tillkommer.")
        % {"name": name},
    )
    return _back(request, reverse("portal:provider", args=[provider.public_id]))


@requires(Permission.WATCH)
@require_POST
def unwatch(request: HttpRequest, public_id: str) -> HttpResponse:
    # Only the user's own: another user's watch is not found (404), never told apart.
    watch = get_object_or_404(Watch, public_id=public_id, user=request.user)
    services.watch_remove(watch=watch)
    messages.success(request, _("Bevakningen är borttagen."))
    return _back(request, reverse("alerts:watches"))


# Mina bevakningar -----------------------------------------------------------------------------


def _watches_page(request, *, municipality_form=None, county_form=None, mail_form=None, status=200):
    include_protected = may_see_protected_homes(request.user)
    watches = selectors.watches_of(request.user, include_protected=include_protected)
    record_protected_views(request, [facility for _watch, facility in watches.facilities])
    providers = [
        (watch, provider_facts(watch.provider, request=request)) for watch in watches.providers
    ]
    default_municipality_form, default_county_form = area_forms()
    current = (
        AlertSettings.objects.filter(user=request.user).values_list("mail", flat=True).first()
        or MailChoice.AT_ONCE
    )
    return render(
        request,
        "alerts/watches.html",
        {
            "watches": watches,
            "providers": providers,
            "municipality_form": municipality_form or default_municipality_form,
            "county_form": county_form or default_county_form,
            "mail_form": mail_form or MailChoiceForm(initial={"mail": current}),
        },
        status=status,
    )


@requires(Permission.WATCH)
def watches(request: HttpRequest) -> HttpResponse:
    return _watches_page(request)


@requires(Permission.WATCH)
@require_POST
def watch_area(request: HttpRequest) -> HttpResponse:
    which = "lan" if "lan" in request.POST else "kommun"
    municipality_form, county_form = area_forms(request.POST, which=which)
    form: MunicipalityWatchForm | CountyWatchForm = (
        county_form if which == "lan" else municipality_form
    )
    if not form.is_valid():
        return _watches_page(
            request, municipality_form=municipality_form, county_form=county_form, status=400
        )
    if which == "lan":
        target = County.objects.get(code=form.cleaned_data["lan"])
    else:
        target = Municipality.objects.get(code=form.cleaned_data["kommun"])
    services.watch_add(
        user=request.user, owner_municipality=_own_municipality(request), target=target
    )
    messages.success(request, _("Du bevakar nu %(name)s.") % {"name": target.name})
    return redirect("alerts:watches")


@requires(Permission.WATCH)
@require_POST
def mail_choice(request: HttpRequest) -> HttpResponse:
    form = MailChoiceForm(request.POST)
    if not form.is_valid():
        return _watches_page(request, mail_form=form, status=400)
    services.alert_settings_set(user=request.user, mail=form.cleaned_data["mail"])
    messages.success(request, _("Ditt val för e-post är sparat."))
    return redirect("alerts:watches")


# Notiser --------------------------------------------------------------------------------------


@requires(Permission.WATCH)
def notices(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notices_of(request.user), NOTICES_PAGE_SIZE).get_page(
        request.GET.get("sida")
    )
    shown = [(notice, texts.describe(notice.event, request=request)) for notice in page]
    # Showing a protected home's notice is a view of it: one log entry per home on the page.
    protected = {
        notice.event.facility.facility_id: True
        for notice in page
        if notice.event.protected or notice.event.facility.is_protected
    }
    record_protected_views(request, list(protected.items()))
    return render(request, "alerts/notices.html", {"page": page, "shown": shown})


@requires(Permission.WATCH)
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    marked = services.notices_mark_read(user=request.user)
    if marked:
        messages.success(request, _("Alla notiser är markerade som lästa."))
    return redirect("alerts:notices")


# The municipal administrator ------------------------------------------------------------------


def _municipal_page(request, *, forms_with_errors=None, status=200):
    municipality = _own_municipality(request)
    counts = selectors.watch_counts_by_facility(municipality)
    record_protected_views(request, [facility for facility, _count in counts])
    departed, staying = selectors.departed_and_staying(municipality)
    forms_with_errors = forms_with_errors or {}
    rows = [
        (
            person,
            forms_with_errors.get(person.user_id)
            or HandOverForm(
                initial={"fran": person.user_id},
                departed=departed,
                staying=staying,
                auto_id=f"id_%s_{person.user_id}",
            ),
        )
        for person in departed
    ]
    return render(
        request,
        "alerts/municipal.html",
        {
            "municipality": municipality,
            "counts": counts,
            "rows": rows,
            "staying": staying,
            "errors": [f for f in forms_with_errors.values() if f.errors],
        },
        status=status,
    )


@requires(Permission.MANAGE_OWN_ALLOWLIST)
def municipal_watches(request: HttpRequest) -> HttpResponse:
    return _municipal_page(request)


@requires(Permission.MANAGE_OWN_ALLOWLIST)
@require_POST
def hand_over(request: HttpRequest) -> HttpResponse:
    municipality = _own_municipality(request)
    departed, staying = selectors.departed_and_staying(municipality)
    raw_from = request.POST.get("fran", "")
    form = HandOverForm(
        request.POST,
        departed=departed,
        staying=staying,
        auto_id=f"id_%s_{raw_from}" if raw_from.isdigit() else "id_%s",
    )
    if not form.is_valid():
        key = int(raw_from) if raw_from.isdigit() else None
        return _municipal_page(request, forms_with_errors={key: form}, status=400)
    from_user = form.cleaned_data["fran"]
    to_user = form.cleaned_data["till"]
    users = get_user_model().objects.in_bulk([from_user, to_user])
    moved = services.watches_hand_over(
        request=request,
        from_user=users[from_user],
        to_user=users[to_user],
        municipality=municipality,
    )
    messages.success(
        request,
        ngettext(
            "%(count)s bevakning är överlåten till %(email)s.",
            "%(count)s bevakningar är överlåtna till %(email)s.",
            moved,
        )
        % {"count": moved, "email": users[to_user].email},
    )
    return redirect("alerts:municipal")


@requires(Permission.MANAGE_OWN_ALLOWLIST)
@require_POST
def remove_all(request: HttpRequest) -> HttpResponse:
    municipality = _own_municipality(request)
    departed, _staying = selectors.departed_and_staying(municipality)
    form = RemoveAllForm(request.POST, departed=departed)
    if not form.is_valid():
        return _municipal_page(request, forms_with_errors={None: form}, status=400)
    user = get_user_model().objects.get(pk=form.cleaned_data["fran"])
    removed = services.watches_remove_all(request=request, user=user, municipality=municipality)
    messages.success(
        request,
        ngettext(
            "%(count)s bevakning för %(email)s är borttagen.",
            "%(count)s bevakningar för %(email)s är borttagna.",
            removed,
        )
        % {"count": removed, "email": user.email},
    )
    return redirect("alerts:municipal")


# IVO's numbers --------------------------------------------------------------------------------


@requires(Permission.READ_ALERT_NUMBERS)
def numbers(request: HttpRequest) -> HttpResponse:
    return render(request, "alerts/numbers.html", {"numbers": selectors.numbers()})
