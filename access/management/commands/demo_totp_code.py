"""``demo_totp_code``: the current code of a demo login's public TOTP key (development only).

So that a newcomer can sign in to the demo back office without an authenticator app. Refuses
outside DEBUG and for any key but the public demo keys set by ``seed_demo``.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.demo import DEMO_LOGINS


class Command(BaseCommand):
    help = "Visar den aktuella engångskoden för en demoinloggning (bara i utveckling)."

    def add_arguments(self, parser):
        parser.add_argument("username", choices=[login.username for login in DEMO_LOGINS])

    def handle(self, *args, username: str, **options):
        if not settings.DEBUG:
            raise CommandError("Bara i utveckling (DEBUG=true).")
        device = TOTPDevice.objects.filter(user__username=username, name="Demo").first()
        if device is None:
            raise CommandError(f"{username} har ingen demonyckel; kör seed_demo först.")
        self.stdout.write(f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}")
