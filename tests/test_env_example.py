"""``.env.example`` names every setting the environment can give (STYLE.md: a committed
.env.example), so a deployment learns of each one from the file and not from the code."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READ = re.compile(r"""\benv_[a-z]+\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def test_env_example__names_every_setting_read_from_the_environment():
    settings = (ROOT / "config" / "settings.py").read_text()
    example = (ROOT / ".env.example").read_text()
    read = set(READ.findall(settings))
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))

    assert len(read) > 50  # the pattern still finds what settings.py reads
    assert sorted(read - named) == []
