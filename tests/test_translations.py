"""Every text a user can meet has an English translation.

The texts are found as ``make messages`` (Django's makemessages) finds them: the translation calls
in the apps' Python and the translation tags in their templates (read through Django's own
``templatize``), with Babel's extractor instead of GNU xgettext, so the test needs no program
beyond the project's dependencies. Each app's texts must be in its own catalogue
(``<app>/locale/en/LC_MESSAGES/django.po``) with a translation that is not fuzzy and keeps the
original's placeholders.
"""

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract
from babel.messages.pofile import read_po
from django.utils import translation
from django.utils.translation.template import templatize

BASE_DIR = Path(__file__).resolve().parent.parent
APPS = ["register", "access", "portal", "documents", "api", "linking", "alerts", "stats"]

# The keywords makemessages gives xgettext for Python: xgettext's own and Django's.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[sd]|\{(\w*)\}")


def _messages(source: bytes):
    for _line, message, _comments, context in extract(
        "python", io.BytesIO(source), keywords=KEYWORDS, strip_comment_tags=True
    ):
        yield (context, message)


def texts_of(app: str) -> dict[tuple[str | None, str], Path]:
    root = BASE_DIR / app
    found: dict[tuple[str | None, str], Path] = {}
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for context, message in _messages(path.read_bytes()):
            found.setdefault((context, message), path)
    for path in sorted(root.rglob("templates/**/*.html")) + sorted(
        root.rglob("templates/**/*.txt")
    ):
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        # templatize keeps the template's indentation, which Python's tokenizer can refuse; each
        # text is one gettext(...) call on its line, so nothing is lost without it.
        code = "\n".join(line.lstrip() for line in code.splitlines())
        for context, message in _messages(code.encode("utf-8")):
            found.setdefault((context, message), path)
    return found


def catalogue_of(app: str):
    with (BASE_DIR / app / "locale/en/LC_MESSAGES/django.po").open("rb") as po_file:
        return read_po(po_file)


def _placeholders(text: str) -> set[str]:
    return {
        "".join(match.groups(default="")) or match.group(0) for match in PLACEHOLDER.finditer(text)
    }


@pytest.mark.parametrize("app", APPS)
def test_every_text__has_an_english_translation(app):
    catalogue = catalogue_of(app)
    missing = []
    for (context, message), path in texts_of(app).items():
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalogue.get(msgid, context=context)
        strings = entry.string if entry is not None else None
        translated = (
            entry is not None
            and not entry.fuzzy
            and all(strings if isinstance(strings, tuple) else [strings])
        )
        if not translated:
            missing.append(f"{path.relative_to(BASE_DIR)}: {msgid[:70]!r}")
    assert not missing, f"{len(missing)} texts without English:\n" + "\n".join(missing[:40])


@pytest.mark.parametrize("app", APPS)
def test_every_translation__keeps_the_placeholders(app):
    wrong = []
    for entry in catalogue_of(app):
        if not entry.id or not entry.string:
            continue
        originals = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = _placeholders(originals[-1])
        for text in translations:
            if text and _placeholders(text) - expected | (expected - _placeholders(text)) - {"d"}:
                wrong.append(f"{originals[0][:60]!r} → {text[:60]!r}")
    assert not wrong, "\n".join(wrong[:40])


def test_one_swedish_text__has_one_english_translation_across_the_apps():
    # Django merges the apps' catalogues: where two apps translate one text differently, the app
    # listed first wins on every page, so the other's English would never show.
    seen: dict[tuple[str | None, str], tuple[str, object]] = {}
    clashes = []
    for app in APPS:
        for entry in catalogue_of(app):
            if not entry.id or not entry.string or entry.fuzzy:
                continue
            key = (entry.context, entry.id if isinstance(entry.id, str) else entry.id[0])
            if key in seen and seen[key][1] != entry.string:
                clashes.append(
                    f"{key[1][:50]!r}: {seen[key][0]} {seen[key][1]!r} / {app} {entry.string!r}"
                )
            seen.setdefault(key, (app, entry.string))
    assert not clashes, "\n".join(clashes[:40])


def test_a_code_list_label__is_english_when_english_is_chosen():
    from register.codes import FacilityType

    with translation.override("en"):
        assert str(FacilityType.HVB.label) != "HVB för barn och unga"
    with translation.override("sv"):
        assert str(FacilityType.HVB.label) == "HVB för barn och unga"
