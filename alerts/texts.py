"""What a notice says: one function for the notice list, the mail and the API.

Built only from the event (codes and dates), the register's public facts and, for a signed-in
viewer, the disclosure policy (access.disclosure), which decides and logs any personal data: a
sole trader's name, the new manager's name. A mail is read outside the service, so it carries no
personal data and, for a protected home, neither its name nor its place.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from access.disclosure import manager_facts, may_see_personal_data, provider_facts
from register.codes import (
    DEFICIENT_ASSESSMENTS,
    AppealStatus,
    EventKind,
    FacilityStatus,
    Marking,
    ReviewArea,
    marking_for,
)
from register.models import Finding, RegisterEvent


@dataclass
class NoticeText:
    kind: str
    title: str
    facility_name: str  # "" when not to be shown (a protected home, in a mail)
    facility_id: str
    place: str
    when: datetime.date
    serious: bool
    url: str
    lines: list[str] = field(default_factory=list)
    marking: Marking | None = None
    deficient_areas: list[str] = field(default_factory=list)


def absolute(path: str) -> str:
    return (settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000") + path


def describe(event: RegisterEvent, *, request=None, for_mail: bool = False) -> NoticeText:
    """What ``event`` says to the viewer of ``request`` (None: a mail, no personal data).
    ``event`` with ``facility``, ``facility__municipality`` and ``provider`` selected."""
    facility = event.facility
    hidden = for_mail and event.protected
    details = event.details or {}
    text = NoticeText(
        kind=event.kind,
        title=str(EventKind(event.kind).label),
        facility_name="" if hidden else facility.name,
        facility_id=facility.facility_id,
        place="" if hidden else facility.municipality.name,
        when=event.occurred_on,
        serious=event.serious,
        url=reverse("portal:facility", args=[facility.facility_id]),
    )
    if event.kind == EventKind.DECISION:
        marking = marking_for(details["outcome"], details.get("appeal_status", ""))
        text.marking = marking
        text.title = _("Nytt beslut: %(marking)s") % {"marking": marking.label}
        text.lines.append(
            _("Beslut %(dnr)s den %(date)s.")
            % {"dnr": details.get("diarienummer", ""), "date": short_date(event.occurred_on)}
        )
        if event.decision_id:
            text.deficient_areas = [
                str(ReviewArea(area).label)
                for area in Finding.objects.filter(
                    decision_id=event.decision_id, assessment__in=DEFICIENT_ASSESSMENTS
                )
                .order_by("area")
                .values_list("area", flat=True)
            ]
        if text.deficient_areas:
            text.lines.append(
                _("Brister inom: %(areas)s.") % {"areas": ", ".join(text.deficient_areas)}
            )
    elif event.kind == EventKind.APPEAL_DECIDED:
        marking = marking_for(details["outcome"], details.get("appeal_status", ""))
        text.marking = marking
        overturned = details.get("appeal_status") == AppealStatus.UPPHAVT
        # Told at once and to the area's watchers, as the serious decision was, but a court
        # that overturns it is not a danger: not marked serious.
        text.serious = text.serious and not overturned
        text.title = (
            _("Domstolen upphävde beslutet") if overturned else _("Domstolen fastställde beslutet")
        )
        text.lines.append(
            _("Beslut %(dnr)s: %(outcome)s.")
            % {"dnr": details.get("diarienummer", ""), "outcome": marking.label}
        )
    elif event.kind == EventKind.STATUS_CHANGED:
        text.title = _("Ändrad status: %(status)s") % {
            "status": FacilityStatus(details["status"]).label
        }
        text.lines.append(
            _("Status var ”%(before)s” och är nu ”%(after)s” sedan %(date)s.")
            % {
                "before": FacilityStatus(details["status_before"]).label,
                "after": FacilityStatus(details["status"]).label,
                "date": short_date(event.occurred_on),
            }
        )
    elif event.kind == EventKind.PROVIDER_CHANGED:
        if event.provider is not None:
            # A mail has no request: provider_facts withholds a sole trader's name and number.
            facts = provider_facts(event.provider, request=None if for_mail else request)
            who = facts.name + (
                f" ({facts.organisation_number})" if facts.organisation_number else ""
            )
            text.lines.append(_("Verksamheten drivs nu av %(who)s.") % {"who": who})
    elif event.kind == EventKind.MANAGER_CHANGED:
        text.lines.append(_("Verksamheten har fått en ny föreståndare."))
        if not for_mail and request is not None and may_see_personal_data(request.user):
            facts = manager_facts(facility, request=request)  # logged in the access log
            if facts is not None and not facts.withheld:
                text.lines.append(_("Föreståndare: %(name)s.") % {"name": facts.name})
    elif event.kind == EventKind.REQUIREMENT_OVERDUE:
        area = str(ReviewArea(details["area"]).label)
        text.title = _("Krav inte åtgärdat i tid: %(area)s") % {"area": area}
        text.lines.append(
            _("Kravet i beslut %(dnr)s skulle vara åtgärdat senast %(date)s.")
            % {"dnr": details.get("diarienummer", ""), "date": short_date(details.get("due_date"))}
        )
    elif event.kind == EventKind.INSPECTION_OVERDUE:
        last = details.get("last_inspection")
        text.lines.append(
            _("Ingen inspektion sedan %(date)s (3 kap. 19 § SoF: minst en gång om året).")
            % {"date": short_date(last)}
            if last
            else _("Ingen inspektion registrerad (3 kap. 19 § SoF: minst en gång om året).")
        )
    elif event.kind == EventKind.FACILITY_CREATED:
        text.lines.append(_("En ny verksamhet har registrerats."))
    return text


def short_date(day: datetime.date | str | None) -> str:
    """A date in the reader's language's form ("2026-12-07", "7 Dec 2026"); the event's details
    hold their dates as ISO text."""
    if not day:
        return ""
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    return date_format(day, "SHORT_DATE_FORMAT")


def mail_subject(text: NoticeText) -> str:
    prefix = _("Allvarligt: ") if text.serious else ""
    name = text.facility_name or _("en verksamhet du bevakar")
    return f"{prefix}{text.title} – {name}"


def mail_body(texts: list[NoticeText]) -> str:
    """One mail for one or more notices (the daily summary)."""
    parts = [_("Hej!"), ""]
    if len(texts) > 1:
        parts += [_("Det här har hänt i verksamheter du bevakar:"), ""]
    for text in texts:
        name = text.facility_name or _("En verksamhet du bevakar (skyddat boende)")
        place = f", {text.place}" if text.place else ""
        heading = (_("ALLVARLIGT – ") if text.serious else "") + text.title
        parts += [heading, f"{name}{place} ({short_date(text.when)})", *text.lines]
        parts += [_("Läs mer: %(url)s") % {"url": absolute(text.url)}, ""]
    parts += [
        _("Du får det här e-postmeddelandet för att du bevakar verksamheten i HVB-registret."),
        _("Dina bevakningar och hur du får e-post: %(url)s")
        % {"url": absolute(reverse("alerts:watches"))},
        "",
        _("Inspektionen för vård och omsorg"),
    ]
    return "\n".join(parts)
