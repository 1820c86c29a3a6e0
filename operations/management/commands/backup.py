"""``backup <folder>``: back up the register, the access log and the decision documents into a new
folder, with a manifest of every file's SHA-256 (operations/backup.py; docs/operations.md, "Backups
and restore"). Safe while the site runs."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from operations.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "Säkerhetskopierar registrets och åtkomstloggens databaser och beslutshandlingarna till "
        "en ny, tom mapp."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="En ny eller tom mapp för kopian.")

    def handle(self, *args, folder: Path, **options):
        self._verbosity = options["verbosity"]
        try:
            manifest = backup(folder, say=self._say)
        except (BackupError, OSError, DatabaseError) as error:
            raise CommandError(
                f"Säkerhetskopieringen misslyckades: {error} Mappen {folder} är ingen "
                "säkerhetskopia (manifest.json saknas)."
            ) from error
        files = manifest["documents"]["files"]
        self.stdout.write(
            f"Säkerhetskopian i {folder} är klar. Databaser: {len(manifest['databases'])}; "
            f"beslutshandlingar: {len(files)} ({sum(entry['size'] for entry in files)} byte)."
        )

    def _say(self, line: str) -> None:
        if self._verbosity >= 1:
            self.stdout.write(line)
