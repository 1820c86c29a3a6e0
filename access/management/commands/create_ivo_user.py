"""``create_ivo_user``: give a member of IVO's staff an account with a role.

The first IVO administrator of a new deployment is made this way; later ones too, as staff
accounts are not created through the web. Then set the password (``changepassword``) and the
second factor (``totp_device``).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from access.models import Account
from access.roles import IVO_ROLES, Role
from register import validation


class Command(BaseCommand):
    help = "Skapar ett konto för IVO:s personal med en roll (registrator, handläggare, admin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("email")
        parser.add_argument(
            "--role",
            required=True,
            choices=sorted(str(role) for role in IVO_ROLES),
            help="ivo_admin, ivo_registrator eller ivo_handlaggare.",
        )

    def handle(self, *args, username: str, email: str, role: str, **options):
        try:
            email = validation.email(email)
        except ValidationError as error:
            raise CommandError(f"E-postadressen {error.messages[0]}.") from None
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            raise CommandError(f"Användaren {username} finns redan.")
        with transaction.atomic():
            user = user_model.objects.create_user(
                username=username, email=email, password=None, is_staff=True
            )
            Account.objects.create(user=user, role=role)
        self.stdout.write(self.style.SUCCESS(f"{username} är skapad som {Role(role).label}."))
        self.stdout.write(
            f"Sätt lösenordet med `manage.py changepassword {username}` och kodgeneratorn med "
            f"`manage.py totp_device {username}`; först då kan personen logga in."
        )
