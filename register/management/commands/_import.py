"""What the import commands share: arguments, the error listing and the exit status."""

from collections.abc import Callable
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from register import services
from register.imports import ImportFailed, ImportReport


class ImportCommand(BaseCommand):
    importer: Callable[..., ImportReport]

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV (UTF-8, ; eller ,) eller XLSX")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Kontrollera filen och visa vad som skulle ändras, utan att spara något.",
        )
        parser.add_argument(
            "--user",
            help="Användarnamnet som ska stå i historiken (den som ansvarar för importen).",
        )

    def handle(self, *args, file: Path, dry_run: bool, user: str | None, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"Användaren {user} finns inte.")
        try:
            report = type(self).importer(file, actor=actor, dry_run=dry_run)
        except ImportFailed as failure:
            for error in failure.errors:
                self.stderr.write(str(error))
            raise CommandError(
                f"Importen avbröts: {len(failure.errors)} fel. Inget sparades."
            ) from None
        for notice in report.notices:
            self.stdout.write(self.style.WARNING(notice))
        for line in report.summary_lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(self.style.SUCCESS(f"{file.name}: kontrollerad, inget sparades."))
        else:
            if report.write_seconds is not None:
                # How long others' writes (logins, sessions) may have waited for this one.
                self.stdout.write(f"skrivtransaktion: {report.write_seconds:.2f} s")
            services.update_query_statistics()
            self.stdout.write(self.style.SUCCESS(f"{file.name}: importerad."))
