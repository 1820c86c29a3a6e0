"""Assertions several test modules share (a support module, not a test module; tests/conftest.py
has pytest rewrite its asserts, so a failure shows the values)."""

import html
import json
import re
from collections.abc import Iterable

from register.models import Facility, Provider, name_key_of


def response_text(response) -> str:
    """A response's body as text. JSON is read and written back without escapes, so that a name
    with å, ä or ö is found in it whether or not the server wrote it as ``\\u00e5``."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    text = raw.decode("utf-8").lstrip("\ufeff")
    if response.get("Content-Type", "").split(";")[0].strip().endswith(("/json", "+json")):
        return json.dumps(json.loads(text), ensure_ascii=False)
    return text


def assert_shows(response, *expected: str) -> str:
    """The text of a response that answered 200 with each of ``expected`` in it.

    A scan for what must NOT be shown starts here: a redirect to the login page, a 403 or a 404,
    an error page or an empty one holds no personal data either, and would pass the scan on its
    own. So every scan first names what the page is there to show (the facility's name, the
    count of hits, a row it lists) and sees it."""
    if not expected:
        raise TypeError("assert_shows: name at least one thing the response must show")
    location = response.get("Location", "")
    assert response.status_code == 200, (response.status_code, location)
    text = response_text(response)
    missing = [item for item in expected if item not in text]
    assert missing == [], f"not shown: {missing}"
    return text


def assert_none_shown(text: str, secrets: Iterable[str], where: str = "") -> None:
    """None of ``secrets`` in ``text``, as typed or HTML-escaped (``O'Brien`` is printed as
    ``O&#x27;Brien``)."""
    found = sorted(secret for secret in secrets if secret in text or html.escape(secret) in text)
    assert found == [], f"{where} shows {found[:3]}"


def assert_name_keys_written() -> None:
    """Every facility and provider holds the name_key of its name."""
    for model in (Facility, Provider):
        rows = list(model.objects.values_list("name", "name_key"))
        assert rows, model
        assert [key for _, key in rows] == [name_key_of(name) for name, _ in rows], model


FORM_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


def without_form_tokens(content: bytes) -> bytes:
    """A page without its form tokens: Django masks the token anew in every answer (the header's
    language switch is a form on every page), so two answers otherwise the same differ there."""
    return FORM_TOKEN.sub(b'name="csrfmiddlewaretoken"', content)
