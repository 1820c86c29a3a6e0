"""Template helpers of the portal: the marking of a decision outcome, and code labels."""

from django import template

from register.codes import AppealStatus, marking_for

register = template.Library()


@register.inclusion_tag("portal/_marking.html")
def marking(outcome: str | None, appeal_status: str | None = None, date=None):
    """Colour, symbol and text together: colour is never the only signal (WCAG 1.4.1)."""
    if not outcome:
        return {"marking": None}
    return {
        "marking": marking_for(outcome, appeal_status or AppealStatus.EJ_OVERKLAGAT),
        "date": date,
    }


@register.filter
def code_label(value: str, choices) -> str:
    """The Swedish label of a code, e.g. ``{{ code|code_label:review_areas }}``."""
    return str(dict(choices).get(value, value))
