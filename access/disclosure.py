"""The disclosure policy (DESIGN.md): the one module that decides which fields a viewer sees.

Portal pages, the API, feeds and exports build what they show of a provider or a manager through
here; nothing else reads a restricted field for output. Today no viewer is given personal data:
a sole trader's name and organisationsnummer (the owner's personnummer) and everything about a
manager stay on the server. The access issue brings viewers, the ``PERSONAL_DATA_DISCLOSURE``
setting and the access log into this module; the callers do not change.
"""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from register.models import Provider


@dataclass(frozen=True)
class ProviderFacts:
    """What a viewer may see of a provider."""

    public_id: str
    name: str
    organisation_number: str  # "" when withheld
    ownership: str
    is_sole_trader: bool
    withheld: bool  # the name and number are personal data and were not given


def provider_facts(provider: Provider, *, viewer=None) -> ProviderFacts:
    if provider.is_sole_trader:
        return ProviderFacts(
            public_id=str(provider.public_id),
            name=_("Enskild näringsidkare"),
            organisation_number="",
            ownership=provider.ownership,
            is_sole_trader=True,
            withheld=True,
        )
    return ProviderFacts(
        public_id=str(provider.public_id),
        name=provider.name,
        organisation_number=provider.organisation_number,
        ownership=provider.ownership,
        is_sole_trader=False,
        withheld=False,
    )
