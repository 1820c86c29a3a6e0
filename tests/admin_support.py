"""Shared by the back-office tests (a support module, not a test module)."""

# The decision form's inline of findings, empty: a browser always posts its management form.
NO_FINDINGS = {
    "findings-TOTAL_FORMS": "0",
    "findings-INITIAL_FORMS": "0",
    "findings-MIN_NUM_FORMS": "0",
    "findings-MAX_NUM_FORMS": "1000",
}
