"""Forms of the watch pages. Bad input gives the page back with an exact message and writes
nothing."""

from django import forms
from django.utils.translation import gettext_lazy as _

from access.forms import DescribedFieldsMixin
from alerts.models import MailChoice
from portal.forms import geography
from portal.widgets import PlainSelect


class MunicipalityWatchForm(DescribedFieldsMixin, forms.Form):
    kommun = forms.ChoiceField(
        label=_("Kommun"),
        widget=PlainSelect,
        error_messages={
            "required": _("Välj en kommun."),
            "invalid_choice": _("Välj en kommun i listan."),
        },
    )

    def __init__(self, *args, municipality_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kommun"].choices = [("", _("Välj kommun")), *municipality_choices[1:]]


class CountyWatchForm(DescribedFieldsMixin, forms.Form):
    lan = forms.ChoiceField(
        label=_("Län"),
        widget=PlainSelect,
        error_messages={
            "required": _("Välj ett län."),
            "invalid_choice": _("Välj ett län i listan."),
        },
    )

    def __init__(self, *args, county_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lan"].choices = [("", _("Välj län")), *county_choices[1:]]


def area_forms(data=None, *, which: str | None = None):
    """The kommun and län forms of the watches page; ``data`` bound to the one submitted."""
    county_choices, municipality_choices = geography()
    return (
        MunicipalityWatchForm(
            data if which == "kommun" else None,
            municipality_choices=municipality_choices,
        ),
        CountyWatchForm(data if which == "lan" else None, county_choices=county_choices),
    )


class MailChoiceForm(DescribedFieldsMixin, forms.Form):
    mail = forms.ChoiceField(
        label=_("Hur vill du få e-post om det som inte är allvarligt?"),
        choices=MailChoice.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Välj hur du vill få e-post."),
            "invalid_choice": _("Välj hur du vill få e-post."),
        },
    )


class HandOverForm(DescribedFieldsMixin, forms.Form):
    """Hand a departed address's watches to a colleague whose access holds."""

    fran = forms.TypedChoiceField(
        coerce=int,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Adressen har inga bevakningar att överlåta.")},
    )
    till = forms.TypedChoiceField(
        label=_("Överlåt till"),
        coerce=int,
        widget=PlainSelect,
        error_messages={
            "required": _("Välj vem som ska ta över bevakningarna."),
            "invalid_choice": _("Välj en användare i kommunen som har behörighet."),
        },
    )

    def __init__(self, *args, departed, staying, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fran"].choices = [(d.user_id, d.email) for d in departed]
        self.fields["till"].choices = [("", _("Välj användare")), *staying]


class RemoveAllForm(forms.Form):
    fran = forms.TypedChoiceField(
        coerce=int,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("Adressen har inga bevakningar att ta bort.")},
    )

    def __init__(self, *args, departed, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fran"].choices = [(d.user_id, d.email) for d in departed]
