"""The search form: GET parameters (a search is a URL a worker can bookmark and send on) parsed
into the selector's ``FacilitySearch``. Bad values give the page back with a message."""

from django import forms
from django.utils.translation import gettext_lazy as _

from access.forms import DescribedFieldsMixin
from portal.widgets import PlainSelect
from register.codes import FacilityStatus, FacilityType, Gender, Outcome, Ownership, TargetGroup
from register.models import Municipality
from register.selectors import FacilitySearch

PAGE_SIZE = 20

SORTINGS = [
    ("name", _("Namn")),
    ("municipality", _("Kommun")),
    ("latest_decision", _("Senaste beslut")),
]

CHILD_GENDERS = [
    ("", _("Spelar ingen roll")),
    (Gender.FLICKOR, _("Flicka")),
    (Gender.POJKAR, _("Pojke")),
]


def geography() -> tuple[list, list]:
    """Län and kommun choices from one query; kommuner grouped by their län."""
    counties: dict[str, tuple[str, list]] = {}
    for municipality in Municipality.objects.select_related("county").order_by("county_id", "name"):
        county = municipality.county
        counties.setdefault(county.code, (county.name, []))[1].append(
            (municipality.code, municipality.name)
        )
    county_choices = [("", _("Alla län"))] + [(code, name) for code, (name, _m) in counties.items()]
    municipality_choices = [("", _("Alla kommuner"))] + [
        (name, municipalities) for name, municipalities in counties.values()
    ]
    return county_choices, municipality_choices


class SearchForm(DescribedFieldsMixin, forms.Form):
    q = forms.CharField(
        label=_("Sök på namn, organisationsnummer eller diarienummer"),
        required=False,
        max_length=200,
    )
    typ = forms.MultipleChoiceField(
        label=_("Typ av verksamhet"),
        choices=FacilityType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    alder = forms.IntegerField(
        label=_("Barnets ålder"),
        required=False,
        min_value=0,
        max_value=21,
        help_text=_("I hela år, 0–21. Visar hem vars åldersspann rymmer åldern."),
        error_messages={
            "invalid": _("Ange åldern som ett heltal, till exempel 15."),
            "min_value": _("Åldern kan inte vara lägre än 0."),
            "max_value": _("Registret gäller barn och unga upp till 21 år."),
        },
    )
    kon = forms.ChoiceField(
        label=_("Barnets kön"), choices=CHILD_GENDERS, required=False, widget=PlainSelect
    )
    lan = forms.ChoiceField(label=_("Län"), required=False, widget=PlainSelect)
    kommun = forms.ChoiceField(label=_("Kommun"), required=False, widget=PlainSelect)
    malgrupp = forms.MultipleChoiceField(
        label=_("Målgrupp"),
        choices=TargetGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Hemmet ska ta emot alla valda målgrupper."),
    )
    regi = forms.MultipleChoiceField(
        label=_("Regi"),
        choices=Ownership.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    status = forms.MultipleChoiceField(
        label=_("Status"),
        choices=FacilityStatus.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Utan val visas bara aktiva verksamheter."),
    )
    platser = forms.IntegerField(
        label=_("Minst antal platser"),
        required=False,
        min_value=0,
        max_value=10000,
        error_messages={
            "invalid": _("Ange antal platser som ett heltal, till exempel 4."),
            "min_value": _("Antal platser kan inte vara negativt."),
            "max_value": _("Ange högst 10 000 platser."),
        },
    )
    utfall = forms.MultipleChoiceField(
        label=_("Utfall i senaste beslutet"),
        choices=Outcome.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sortera = forms.ChoiceField(
        label=_("Sortera efter"), choices=SORTINGS, required=False, widget=PlainSelect
    )

    # Shown in a "more filters" group, open when one of them is in use.
    MORE_FILTERS = ("malgrupp", "regi", "status", "platser", "utfall")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        county_choices, municipality_choices = geography()
        self.fields["lan"].choices = county_choices
        self.fields["kommun"].choices = municipality_choices
        self._municipality_county = {
            code: code[:2] for _name, group in municipality_choices[1:] for code, _n in group
        }
        for name in ("lan", "kommun", "kon", "sortera"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "Okänt värde %(value)s. Välj ett av alternativen i listan."
            )
        for name in ("typ", "malgrupp", "regi", "status", "utfall"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "Okänt värde %(value)s. Välj bland alternativen."
            )

    def clean(self):
        cleaned = super().clean()
        county, municipality = cleaned.get("lan"), cleaned.get("kommun")
        if county and municipality and self._municipality_county.get(municipality) != county:
            self.add_error("kommun", _("Kommunen ligger inte i det valda länet."))
        return cleaned

    @property
    def more_filters_in_use(self) -> bool:
        return any(self.data.get(name) for name in self.MORE_FILTERS)

    def to_search(self, *, include_protected: bool) -> FacilitySearch:
        data = self.cleaned_data
        return FacilitySearch(
            include_protected=include_protected,
            text=data["q"],
            facility_types=tuple(data["typ"]),
            target_groups=tuple(data["malgrupp"]),
            child_age=data["alder"],
            gender=data["kon"],
            counties=(data["lan"],) if data["lan"] else (),
            municipality=data["kommun"],
            ownerships=tuple(data["regi"]),
            statuses=tuple(data["status"]) or (FacilityStatus.AKTIV,),
            min_places=data["platser"],
            latest_outcomes=tuple(data["utfall"]),
            ordering=data["sortera"] or "name",
        )
