"""Which län border each other (data/lan_grannar.csv, described in data/README.md): for a search of
"a län and its neighbours". A shared land border, or Gotland's ferry links to Stockholms and
Kalmar län, its only neighbours for a placement; lakes such as Vättern and Mälaren make none."""

import csv
import functools
from pathlib import Path

NEIGHBOURS_CSV = Path(__file__).resolve().parent / "data" / "lan_grannar.csv"


@functools.cache
def neighbours() -> dict[str, tuple[str, ...]]:
    """Each länskod's neighbours, sorted."""
    found: dict[str, set[str]] = {}
    with NEIGHBOURS_CSV.open(encoding="utf-8") as file:
        for row in csv.DictReader(file):
            a, b = row["lanskod_a"], row["lanskod_b"]
            found.setdefault(a, set()).add(b)
            found.setdefault(b, set()).add(a)
    return {code: tuple(sorted(codes)) for code, codes in found.items()}


def with_neighbours(code: str) -> tuple[str, ...]:
    """The län and every län that borders it."""
    return (code, *neighbours().get(code, ()))
