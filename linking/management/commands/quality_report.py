import io
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand

from linking.quality import Kind, quality_report, write_csv


class Command(BaseCommand):
    help = "Skriver registrets kvalitetsrapport som CSV (UTF-8 med BOM, semikolon)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            type=Path,
            help="Filen att skriva; utan den skrivs rapporten till standard ut.",
        )

    def handle(self, *args, output: Path | None, **options):
        findings = quality_report()
        if output is None:
            text = io.StringIO()
            write_csv(findings, text)
            self.stdout.write(text.getvalue(), ending="")
        else:
            with output.open("w", encoding="utf-8", newline="") as file:
                write_csv(findings, file)
        counts = Counter(finding.kind for finding in findings)
        for kind in Kind.ORDER:
            self.stderr.write(f"{Kind.LABELS[kind]}: {counts[kind]}")
