"""The search form: GET parameters (a search is a URL a worker can bookmark and send on) parsed
into the selector's ``FacilitySearch``. Bad values give the page back with a message."""

from django import forms
from django.utils.translation import gettext_lazy as _

from access.forms import DescribedFieldsMixin
from portal.widgets import CountySelect, PlainSelect
from register.codes import FacilityStatus, FacilityType, Gender, Outcome, Ownership, TargetGroup
from register.counties import with_neighbours
from register.models import Municipality
from register.selectors import FacilitySearch

PAGE_SIZE = 20

SORTINGS = [
    ("name", _("Namn")),
    ("municipality", _("Kommun")),
    ("latest_decision", _("Senaste beslut")),
]

CHILD_GENDERS = [
    ("", _("Alla")),
    (Gender.FLICKOR, _("Flicka")),
    (Gender.POJKAR, _("Pojke")),
]


# "No serious decision in the last N years": the choices a worker is offered.
SERIOUS_DECISION_YEARS = [
    ("", _("Ingen gräns")),
    ("1", _("det senaste året")),
    ("2", _("de senaste 2 åren")),
    ("3", _("de senaste 3 åren")),
    ("5", _("de senaste 5 åren")),
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
    # One län from the list, and any more from checkboxes of the same name (``lan`` repeats in
    # the URL: ``?lan=08&lan=07``); with ``grannlan`` each chosen län brings its neighbours.
    lan = forms.MultipleChoiceField(label=_("Län"), required=False, widget=CountySelect)
    grannlan = forms.BooleanField(
        label=_("Ta med grannlän"),
        required=False,
        help_text=_(
            "Län som gränsar till det valda, för Kalmar län till exempel Blekinge, "
            "Gotlands, Jönköpings, Kronobergs och Östergötlands län."
        ),
    )
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
    utan_allvarligt = forms.TypedChoiceField(
        label=_("Inget allvarligt beslut"),
        choices=SERIOUS_DECISION_YEARS,
        coerce=int,
        empty_value=None,
        required=False,
        widget=PlainSelect,
        help_text=_(
            "Allvarligt är föreläggande med vite, förbud, tillfälligt förbud, återkallelse och "
            "sanktionsavgift. Beslut som domstol har upphävt räknas inte."
        ),
    )
    utan_krav = forms.BooleanField(
        label=_("Inga krav som ska åtgärdas eller är försenade"), required=False
    )
    inspekterad = forms.BooleanField(
        label=_("Inspekterad det senaste året (ingen försenad inspektion)"), required=False
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
        for name in ("lan", "kommun", "kon", "utan_allvarligt", "sortera"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "Okänt värde %(value)s. Välj ett av alternativen i listan."
            )
        for name in ("typ", "malgrupp", "regi", "status", "utfall"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "Okänt värde %(value)s. Välj bland alternativen."
            )

    def clean_lan(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for code in self.cleaned_data["lan"] if code))

    def clean(self):
        cleaned = super().clean()
        chosen = cleaned.get("lan")
        if chosen is None:  # an unknown län: its own message says so
            return cleaned
        if cleaned.get("grannlan") and not chosen:
            self.add_error("grannlan", _("Välj ett län att ta med grannlänen till."))
            return cleaned
        counties = chosen
        if cleaned.get("grannlan"):
            counties = tuple(
                dict.fromkeys(code for county in chosen for code in with_neighbours(county))
            )
        cleaned["counties"] = counties
        municipality = cleaned.get("kommun")
        if (
            counties
            and municipality
            and self._municipality_county.get(municipality) not in counties
        ):
            if len(counties) == 1:
                self.add_error("kommun", _("Kommunen ligger inte i det valda länet."))
            else:
                self.add_error("kommun", _("Kommunen ligger inte i något av de valda länen."))
        return cleaned

    @property
    def more_filters_in_use(self) -> bool:
        return any(self.data.get(name) for name in self.MORE_FILTERS)

    def _chosen_counties(self) -> list[str]:
        values = self.data.getlist("lan") if hasattr(self.data, "getlist") else []
        return list(dict.fromkeys(value for value in values if value))

    @property
    def more_counties(self) -> list[dict]:
        """The checkboxes for more län: every län but the one in the list, those chosen
        checked (the list shows the first län of the URL, the checkboxes the rest)."""
        chosen = self._chosen_counties()
        first, rest = (chosen[0] if chosen else ""), set(chosen[1:])
        return [
            {"code": code, "name": name, "checked": code in rest}
            for code, name in self.fields["lan"].choices
            if code and code != first
        ]

    @property
    def more_counties_in_use(self) -> bool:
        return len(self._chosen_counties()) > 1

    def to_search(self, *, include_protected: bool) -> FacilitySearch:
        data = self.cleaned_data
        return FacilitySearch(
            include_protected=include_protected,
            text=data["q"],
            facility_types=tuple(data["typ"]),
            target_groups=tuple(data["malgrupp"]),
            child_age=data["alder"],
            gender=data["kon"],
            counties=data["counties"],
            municipality=data["kommun"],
            ownerships=tuple(data["regi"]),
            statuses=tuple(data["status"]) or (FacilityStatus.AKTIV,),
            min_places=data["platser"],
            latest_outcomes=tuple(data["utfall"]),
            no_serious_decision_years=data["utan_allvarligt"],
            no_unresolved_requirement=data["utan_krav"],
            no_overdue_inspection=data["inspekterad"],
            ordering=data["sortera"] or "name",
        )
