"""``totp_device``: give an IVO staff member a new TOTP key for their authenticator app.

The key is shown once, here; it is not shown again anywhere. Replacing the key ends the old one at
once, and with it every back-office session the old one verified (django-otp checks the device on
every request).
"""

from base64 import b32encode

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.roles import IVO_ROLES, role_of

DEVICE_NAME = "Autentiseringsapp"


class Command(BaseCommand):
    help = (
        "Skapar (eller med --replace ersätter) en kodgenerator för en person i IVO:s personal "
        "och skriver ut nyckeln och otpauth-länken en enda gång."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="Användarnamnet.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Ersätt en befintlig kodgenerator (den gamla slutar gälla direkt).",
        )

    def handle(self, *args, username: str, replace: bool, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Användaren {username} finns inte.")
        if not user.is_active or not user.is_staff or role_of(user) not in IVO_ROLES:
            raise CommandError(
                f"{username} är inte aktiv IVO-personal (ett konto med en IVO-roll och "
                "personalbehörighet krävs)."
            )
        with transaction.atomic():
            existing = TOTPDevice.objects.filter(user=user)
            if existing.exists() and not replace:
                raise CommandError(
                    f"{username} har redan en kodgenerator. Ange --replace för att ersätta den."
                )
            existing.delete()
            device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
        secret = b32encode(device.bin_key).decode()
        self.stdout.write(
            self.style.SUCCESS(f"Ny kodgenerator för {username}. Nyckeln visas bara nu.")
        )
        self.stdout.write(f"  Nyckel att skriva in i appen: {secret}")
        self.stdout.write(f"  Länk för QR-kod: {device.config_url}")
        self.stdout.write(
            "Lämna nyckeln till personen på ett säkert sätt; den ger, med lösenordet, tillgång "
            "till registerförvaltningen."
        )
