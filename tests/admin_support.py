"""Shared by the back-office tests (a support module, not a test module)."""

import datetime

# The decision form's inline of findings, empty: a browser always posts its management form.
NO_FINDINGS = {
    "findings-TOTAL_FORMS": "0",
    "findings-INITIAL_FORMS": "0",
    "findings-MIN_NUM_FORMS": "0",
    "findings-MAX_NUM_FORMS": "1000",
}


def form_data(response) -> dict:
    """The values an admin change form shows, as the browser would post them back."""
    data = {}
    for bound_field in response.context["adminform"].form:
        value = bound_field.value()
        if value is None:
            value = ""
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        elif isinstance(value, bool):
            if not value:
                continue
            value = "on"
        data[bound_field.html_name] = value
    return data
