from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from linking.generate import generate_cases, write_csv
from register.demo import DemoDataRefused


class Command(BaseCommand):
    help = (
        "Skapar märkta testärenden ur demodatan (för import_cases) och en facitfil: "
        "ändrar först registret som tiden hade gjort (namnbyten, flyttar, nya ägare). "
        "Bara på demodata."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Ärendefilen att skriva (CSV)")
        parser.add_argument(
            "--facit", type=Path, required=True, help="Facit: diarienummer;verksamhetsid;scenario"
        )
        parser.add_argument("--antal", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, file: Path, facit: Path, antal: int, seed: int, **options):
        try:
            cases = generate_cases(count=antal, seed=seed)
        except DemoDataRefused as refusal:
            raise CommandError(str(refusal)) from None
        write_csv(cases, file, facit)
        self.stdout.write(f"{len(cases)} ärenden i {file}, facit i {facit}.")
