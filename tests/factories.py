"""Factories for register data. They create rows through the services, as everything else does."""

import datetime
import itertools

import factory
from stdnum import luhn

from register import services
from register.codes import (
    Assessment,
    DecisionKind,
    FacilityStatus,
    FacilityType,
    Outcome,
    Ownership,
    ReviewArea,
    TargetGroup,
)
from register.models import Decision, Facility, Finding, Inspection, Municipality, Provider

_serial = itertools.count(1)


def build_valid_organisation_number(prefix: str) -> str:
    """A Luhn-valid organisationsnummer starting with the 9 digits of ``prefix``."""
    assert len(prefix) == 9
    return f"{prefix[:6]}-{prefix[6:]}{luhn.calc_check_digit(prefix)}"


def _next_organisation_number() -> str:
    return build_valid_organisation_number(f"559{next(_serial):06d}")


class _ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        instance = model_class(*args, **kwargs)
        return cls._service_save(instance)


class ProviderFactory(_ServiceFactory):
    class Meta:
        model = Provider

    organisation_number = factory.LazyFunction(_next_organisation_number)
    name = factory.Sequence(lambda n: f"Testomsorg {n} AB")
    ownership = Ownership.ENSKILD
    is_sole_trader = False

    @staticmethod
    def _service_save(instance):
        return services.provider_save(provider=instance)


class FacilityFactory(_ServiceFactory):
    class Meta:
        model = Facility

    facility_id = factory.Sequence(lambda n: f"T-{n:05d}")
    name = factory.Sequence(lambda n: f"Testgården {n}")
    facility_type = FacilityType.HVB
    provider = factory.SubFactory(ProviderFactory)
    municipality = factory.LazyFunction(lambda: Municipality.objects.get(code="0880"))
    places = 6
    status = FacilityStatus.AKTIV
    start_date = datetime.date(2015, 1, 1)

    @staticmethod
    def _service_save(instance):
        return services.facility_save(facility=instance)


class InspectionFactory(_ServiceFactory):
    class Meta:
        model = Inspection

    facility = factory.SubFactory(FacilityFactory)
    diarienummer = factory.Sequence(lambda n: f"3.2.2-{n + 1000}/2024")
    start_date = datetime.date(2024, 5, 1)

    @staticmethod
    def _service_save(instance):
        return services.inspection_save(inspection=instance)


class DecisionFactory(_ServiceFactory):
    class Meta:
        model = Decision

    facility = factory.SubFactory(FacilityFactory)
    diarienummer = factory.Sequence(lambda n: f"3.2.2-{n + 1}/2024")
    kind = DecisionKind.TILLSYN
    decision_date = datetime.date(2024, 6, 1)
    outcome = Outcome.INGA_BRISTER

    @staticmethod
    def _service_save(instance):
        return services.decision_save(decision=instance)


class FindingFactory(_ServiceFactory):
    """A finding; ``requirement`` and ``due_date`` given for a deficiency with a requirement."""

    class Meta:
        model = Finding

    decision = factory.SubFactory(DecisionFactory)
    area = ReviewArea.TRYGGHET_SAKERHET
    assessment = Assessment.INGEN_BRIST

    @staticmethod
    def _service_save(instance):
        return services.finding_save(finding=instance)


def make_user(
    role: str,
    *,
    municipality: str | None = "0880",
    email: str | None = None,
    password: str | None = None,
):
    """A user of one role (access/roles.py), as the service creates them: municipal users with a
    live allowlist entry for their address, IVO staff as staff users."""
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from access.models import Account, AllowlistEntry
    from access.roles import MUNICIPAL_ROLES

    serial = next(_serial)
    email = email or f"{role}.{serial}@example.com"
    municipal = role in MUNICIPAL_ROLES
    user = get_user_model().objects.create_user(
        username=email if municipal else f"{role}.{serial}",
        email=email,
        password=password,
        is_staff=not municipal,
    )
    Account.objects.create(
        user=user, role=role, municipality_id=municipality if municipal else None
    )
    if municipal:
        now = timezone.now()
        AllowlistEntry.objects.create(
            email=email,
            municipality_id=municipality,
            role=role,
            confirmed_at=now,
            expires_at=now + datetime.timedelta(days=365),
        )
    return user


def sign_in(client, user) -> None:
    """Sign ``user`` in on the test client as the service would: IVO staff with their second
    factor verified (django-otp), municipal users by session alone."""
    from django.conf import settings

    from access.roles import IVO_ROLES, role_of

    client.force_login(user)
    if role_of(user) in IVO_ROLES:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
        client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key


class CaseRecordFactory(factory.django.DjangoModelFactory):
    """A case record as ``import_cases`` stores it (linking/): not register data."""

    class Meta:
        model = "linking.CaseRecord"

    diarienummer = factory.Sequence(lambda n: f"8.5-{n + 5000}/2024")
    kind = DecisionKind.TILLSYN
    decision_date = datetime.date(2024, 6, 1)
    outcome = Outcome.INGA_BRISTER
    facility_name = factory.Sequence(lambda n: f"Ärendegården {n}")


# Protected homes beside public ones (tests/test_protected_homes*.py) -------------------------


def build_public_register() -> dict:
    """A small register of public homes (tests/test_protected_homes*.py): two providers, homes in
    two län, decisions and inspections, names that sort around the protected ones."""
    shared = ProviderFactory(name="Delad Omsorg AB")
    other = ProviderFactory(name="Annan Omsorg AB")
    homes = [
        FacilityFactory(facility_id="P-1", name="Almgården", provider=shared),
        FacilityFactory(facility_id="P-2", name="Dungen", provider=shared),
        FacilityFactory(
            facility_id="P-3",
            name="Ekbacken",
            provider=other,
            municipality_id="0180",
            target_groups=[TargetGroup.HEDERSRELATERAT],
        ),
        FacilityFactory(facility_id="P-4", name="Granen", provider=other),
    ]
    for number, home in enumerate(homes):
        decision = DecisionFactory(
            facility=home,
            diarienummer=f"3.2.2-{100 + number}/2024",
            decision_date=datetime.date(2024, 3, 1 + number),
            outcome=Outcome.BRISTER,
        )
        _with_findings(decision)
        InspectionFactory(facility=home, diarienummer=f"3.2.2-{200 + number}/2024")
    return {"shared": shared, "other": other}


def _with_findings(decision) -> None:
    """A deficiency with an open requirement and an area without one."""
    FindingFactory(
        decision=decision,
        area=ReviewArea.TRYGGHET_SAKERHET,
        assessment=Assessment.ALLVARLIG_BRIST,
        observation=f"Iakttagelse i {decision.diarienummer}.",
        requirement="Ta fram rutiner.",
        due_date=datetime.date(2099, 1, 1),
        fine_amount=50_000 if decision.outcome == Outcome.FORELAGGANDE_VITE else None,
    )
    FindingFactory(decision=decision, area=ReviewArea.LOKALER)


def add_protected_homes(public_register: dict, *, provider_id=None) -> dict:
    """One home with the target group skydd at a provider with public homes, sorting between
    them; one marked by IVO alone at a provider that runs nothing else; both with history."""
    by_target_group = FacilityFactory(
        facility_id="S-1",
        name="Björken",  # between Almgården and Dungen
        provider=public_register["shared"],
        target_groups=[TargetGroup.SKYDD, TargetGroup.HEDERSRELATERAT],
        gender="flickor",
        street_address="Hemliga vägen 1",
    )
    only_provider = ProviderFactory(
        name="Skyddsstiftelsen Trygga Händer", **({"public_id": provider_id} if provider_id else {})
    )
    by_mark = FacilityFactory(
        facility_id="S-2",
        name="Ängsbo",
        provider=only_provider,
        municipality_id="0180",
        protected_by_ivo=True,
    )
    for number, home in enumerate((by_target_group, by_mark)):
        decision = DecisionFactory(
            facility=home,
            diarienummer=f"3.2.2-{900 + number}/2025",
            decision_date=datetime.date(2025, 1, 1),
            outcome=Outcome.FORELAGGANDE_VITE,
        )
        _with_findings(decision)
        InspectionFactory(facility=home, diarienummer=f"3.2.2-{950 + number}/2025")
    return {"homes": [by_target_group, by_mark], "only_provider": only_provider}
