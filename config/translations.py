"""The translations: one catalogue per app (``<app>/locale/<language>/LC_MESSAGES/django.po``).

The ``.po`` files are committed; the ``.mo`` files Django reads are compiled from them at install
(``make`` compiles each one whose ``.po`` is newer, with Babel, so no GNU gettext is needed to run
the service) and by the test suite before it starts. A fuzzy entry is not compiled: it is a
translation of an older text and would show a wrong one.

Run as ``python -m config.translations`` to compile them all.
"""

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

BASE_DIR = Path(__file__).resolve().parent.parent


def catalogue_files() -> list[Path]:
    return sorted(BASE_DIR.glob("*/locale/*/LC_MESSAGES/django.po"))


def compile_catalogue(po_path: Path) -> Path:
    mo_path = po_path.with_suffix(".mo")
    with po_path.open("rb") as po_file:
        catalogue = read_po(po_file, abort_invalid=True)
    # Written beside it and moved into place: a process reading the catalogue meanwhile (CI runs
    # two test legs side by side) reads the old file or the new one, never half of one.
    partial = mo_path.with_name(f"{mo_path.name}.{os.getpid()}.partial")
    with partial.open("wb") as mo_file:
        write_mo(mo_file, catalogue, use_fuzzy=False)
    os.replace(partial, mo_path)
    return mo_path


def compile_all() -> list[Path]:
    return [compile_catalogue(path) for path in catalogue_files()]


if __name__ == "__main__":
    for path in compile_all():
        print(path.relative_to(BASE_DIR))
