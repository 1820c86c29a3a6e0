"""One vocabulary (docs/glossary.md): the service's Swedish says "e-post", never "mejl", and a
choice that does not narrow a search is "Alla", never "Spelar ingen roll"."""

from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
APPS = ("access", "alerts", "api", "config", "documents", "linking", "portal", "register")
RETIRED = ("mejl", "spelar ingen roll")


def _sources():
    for app in APPS:
        for path in sorted((BASE_DIR / app).rglob("*")):
            if path.suffix in (".py", ".html", ".txt") and "locale" not in path.parts:
                yield path


@pytest.mark.parametrize("word", RETIRED)
def test_no_page_mail_or_message_uses_a_retired_word(word):
    found = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path in _sources()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if word in line.lower()
    ]

    assert found == [], f'"{word}" is not in the glossary; use its term instead: {found}'
