"""``restore <folder> [--yes]``: replace the register, the access log and the decision documents
with a backup's (operations/backup.py; docs/operations.md, "Backups and restore"). Every file's
SHA-256 is checked against the manifest before anything changes. Run with the site and the worker
stopped."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from operations.backup import BackupError, read_manifest, restore, what_restore_replaces


class Command(BaseCommand):
    help = (
        "Återställer registrets och åtkomstloggens databaser och beslutshandlingarna från en "
        "säkerhetskopia. Sajten och bakgrundsarbetaren ska vara stoppade."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="Mappen med säkerhetskopian.")
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Fråga inte: ersätt databaserna och beslutshandlingarna.",
        )

    def handle(self, *args, folder: Path, yes: bool = False, **options):
        self._verbosity = options["verbosity"]
        try:
            manifest = read_manifest(folder)
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        replaced = what_restore_replaces(manifest)
        self.stdout.write(
            f"Säkerhetskopian från {manifest['created_at']} är hel (alla kontrollsummor stämmer). "
            "Återställningen ersätter allt innehåll i:"
        )
        for line in replaced:
            self.stdout.write(f"  - {line}")
        self.stdout.write(
            "Ändringar och åtkomstloggens poster efter kopian försvinner; alla inloggningar upphör."
        )
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Inget ändrades. Bekräfta med --yes.")
            answer = input("Skriv 'ja' för att återställa: ")
            if answer.strip().lower() != "ja":
                raise CommandError("Inget ändrades.")
        try:
            documents = restore(folder, manifest, say=self._say)
        except (BackupError, OSError, DatabaseError) as error:
            raise CommandError(
                f"Återställningen misslyckades: {error} Åtgärda felet och kör den igen."
            ) from error
        self.stdout.write(
            f"Återställt från {manifest['created_at']}. Beslutshandlingar: "
            f"{documents['kept']} oförändrade, {documents['put_back']} återlagda, "
            f"{documents['removed']} borttagna. Kör migrate_all om koden är nyare än kopian, "
            "och verify_access_log."
        )

    def _say(self, line: str) -> None:
        if self._verbosity >= 1:
            self.stdout.write(line)
