"""Personal data for the privacy scans (a support module, not a test module): a register seeded
with managers and a sole trader, and every form in which their details could leak."""

import io
import re

from django.core.management import call_command

from register import services
from register.models import Facility, Manager, Provider
from tests.factories import FacilityFactory


def seed_with_personal_data() -> None:
    """The demo register (60 facilities), and a sole trader's home with a manager."""
    call_command("seed_demo", "--facilities", "60", stdout=io.StringIO())
    # A sole trader's home with a manager, whatever the small demo set happens to hold.
    owner = services.provider_save(
        provider=Provider(
            organisation_number="700101-9905",
            name="Gunilla Privatperson",
            ownership="enskild",
            is_sole_trader=True,
        )
    )
    facility = FacilityFactory(facility_id="DEMO-9999", name="Familjehemmet Tallen", provider=owner)
    services.manager_set_current(
        facility=facility,
        values={
            "name": "Test Föreståndarsson",
            "personal_identity_number": "19811218-9876",
            "email": "test.forestandarsson@example.com",
            "phone": "070-174 06 77",
        },
    )


def every_form(number: str) -> list[str]:
    """A personnummer as it could be printed: 12 or 10 digits, with or without the dash."""
    digits = re.sub(r"\D", "", number)
    twelve = digits if len(digits) == 12 else "19" + digits
    ten = twelve[2:]
    return [twelve, f"{twelve[:8]}-{twelve[8:]}", ten, f"{ten[:6]}-{ten[6:]}"]


def secrets_of_the_register() -> set[str]:
    """Every manager's name, personnummer (in every form), e-mail and phone, and every sole
    trader's name and number (the owner's personnummer)."""
    secrets = set()
    for manager in Manager.objects.all():
        secrets |= {manager.name, manager.email, manager.phone}
        if manager.personal_identity_number:
            secrets |= set(every_form(manager.personal_identity_number))
    for provider in Provider.objects.filter(is_sole_trader=True):
        secrets |= {provider.name, *every_form(provider.organisation_number)}
    return {secret for secret in secrets if secret}


def manager_and_sole_trader_home() -> Facility:
    """A sole trader's home with a current manager."""
    return (
        Facility.objects.filter(provider__is_sole_trader=True, managers__end_date__isnull=True)
        .select_related("provider")
        .first()
    )
