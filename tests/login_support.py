"""Shared by the login tests (a support module, not a test module): the allowlisted address
of the ``listed`` fixture (tests/conftest.py) and what its mail holds."""

import re

ADDRESS = "anna.andersson@kalmar.example"


def link_and_code(mailbox) -> tuple[str, str]:
    body = mailbox.bodies()[-1]
    link = re.search(r"https?://[^\s]+/logga-in/lank/[^\s/]+/", body).group(0)
    code = re.search(r"koden (\d{6})", body).group(1)
    return link.split("testserver", 1)[1], code


def same_page(html: str, address: str) -> str:
    """The page with the address typed and the per-session form token left out."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(address, "ADRESSEN")
