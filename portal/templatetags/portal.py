"""Template helpers of the portal: the marking of a decision outcome, an area's assessment, a
requirement's state, and code labels. Colour, symbol and text always together (WCAG 1.4.1)."""

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString

from register.codes import (
    AppealStatus,
    Assessment,
    FacilityStatus,
    InspectionReason,
    RequirementState,
    TargetGroup,
    marking_for,
)

register = template.Library()

# How an assessment and a requirement's state are shown: (severity class, symbol). Only the
# look: what the state is comes from register.supervision.
ASSESSMENT_STYLE = {
    Assessment.INGEN_BRIST: ("ok", "✓"),
    Assessment.BRIST: ("attention", "!"),
    Assessment.ALLVARLIG_BRIST: ("serious", "✕"),
}
REQUIREMENT_STATE_STYLE = {
    RequirementState.OPEN: ("attention", "○"),
    RequirementState.OVERDUE: ("serious", "!"),
    RequirementState.MET: ("ok", "✓"),
    RequirementState.NOT_MET: ("serious", "✕"),
}


@register.inclusion_tag("portal/_marking.html")
def marking(outcome: str | None, appeal_status: str | None = None, date=None):
    """Colour, symbol and text together: colour is never the only signal (WCAG 1.4.1)."""
    if not outcome:
        return {"marking": None}
    return {
        "marking": marking_for(outcome, appeal_status or AppealStatus.EJ_OVERKLAGAT),
        "date": date,
    }


def _badge(kind: str, severity: str, symbol: str, label) -> SafeString:
    return format_html(
        '<span class="badge badge--{} {}"><span class="badge__symbol" aria-hidden="true">{}'
        "</span> {}</span>",
        severity,
        kind,
        symbol,
        label,
    )


@register.simple_tag
def assessment(code: str) -> SafeString:
    """An area's assessment: ✓ Inga brister, ! Brist, ✕ Allvarlig brist."""
    severity, symbol = ASSESSMENT_STYLE[code]
    return _badge("assessment", severity, symbol, Assessment(code).label)


@register.simple_tag
def requirement_state(code: str) -> SafeString:
    """A requirement's derived state, e.g. ! Försenat."""
    severity, symbol = REQUIREMENT_STATE_STYLE[code]
    return _badge("requirement-state", severity, symbol, RequirementState(code).label)


@register.filter
def status_label(code: str) -> str:
    return str(FacilityStatus(code).label) if code in FacilityStatus.values else code


@register.filter
def inspection_reason_label(code: str) -> str:
    return str(InspectionReason(code).label) if code in InspectionReason.values else code


@register.filter
def code_label(value: str, choices) -> str:
    """The Swedish label of a code, e.g. ``{{ code|code_label:review_areas }}``."""
    return str(dict(choices).get(value, value))


@register.filter
def target_group_labels(codes) -> str:
    return ", ".join(
        str(TargetGroup(code).label) if code in TargetGroup.values else code for code in codes
    )


@register.filter
def kronor(amount: int) -> str:
    """An amount in whole kronor grouped in thousands as the page's language writes them:
    50 000 in Swedish (a no-break space), 50,000 in English."""
    return formats.number_format(amount, force_grouping=True)
