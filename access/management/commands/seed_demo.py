"""``seed_demo``: the fictional demo register (register/demo.py) and the demo logins
(access/demo.py)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from access import demo as demo_logins
from register import demo


def _seconds(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


class Command(BaseCommand):
    help = (
        "Fyller databasen med fiktiva demodata (verksamheter, huvudmän, beslut med iakttagelser "
        "och krav) och skapar demoinloggningarna. Vägrar om databasen innehåller riktiga "
        "registeruppgifter."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--facilities",
            type=int,
            default=demo.DEFAULT_FACILITY_COUNT,
            help=f"Antal verksamheter (minst {demo.MIN_FACILITY_COUNT}; "
            f"standard {demo.DEFAULT_FACILITY_COUNT}).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.SEED,
            help=f"Slumpfrö; samma frö och dag ger samma data (standard {demo.SEED}).",
        )
        parser.add_argument(
            "--logins",
            action="store_true",
            help="Skapa demoinloggningarna även utan DEBUG (lösenorden är offentliga).",
        )

    def handle(self, *args, facilities: int, seed: int, logins: bool, **options):
        if facilities < demo.MIN_FACILITY_COUNT:
            raise CommandError(f"--facilities måste vara minst {demo.MIN_FACILITY_COUNT}.")
        started = time.perf_counter()
        try:
            # The demo passwords are in the README: never set them outside development unasked.
            with_logins = settings.DEBUG or logins
            with transaction.atomic():
                data = demo.seed_demo(facility_count=facilities, seed=seed)
                if with_logins:
                    demo_logins.ensure_demo_users()
        except demo.DemoDataRefused as refusal:
            raise CommandError(str(refusal)) from None
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demodata klara på {_seconds(elapsed)} s: "
                f"{len(data.facilities)} verksamheter, {len(data.providers)} huvudmän, "
                f"{len(data.permits)} tillstånd, {len(data.registrations)} anmälningar, "
                f"{len(data.managers)} föreståndare, {len(data.inspections)} inspektioner, "
                f"{len(data.decisions)} beslut, {len(data.findings)} iakttagelser."
            )
        )
        if not with_logins:
            self.stdout.write(
                "Inga demoinloggningar skapades (DEBUG är av); ange --logins för att skapa dem."
            )
            return
        self.stdout.write("Demoinloggningar (back office på /admin/):")
        for login in demo_logins.DEMO_LOGINS:
            self.stdout.write(f"  {login.username} / {login.password} – {login.description}")
            from base64 import b32encode

            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = TOTPDevice.objects.filter(user__username=login.username, confirmed=True).last()
            if device is not None:
                secret = b32encode(device.bin_key).decode()
                self.stdout.write(
                    f"    kod: TOTP-nyckel {secret} i en autentiseringsapp, eller "
                    f"`DEBUG=true .venv/bin/python manage.py demo_totp_code {login.username}`; "
                    "logga in på /personal/logga-in/"
                )
        self.stdout.write(
            "Kommunala demoanvändare (Kalmar), inloggning med engångslänk på /logga-in/:"
        )
        for email, role in demo_logins.DEMO_MUNICIPAL_LOGINS:
            self.stdout.write(f"  {email} ({role}) – länken skrivs ut här i terminalen")
