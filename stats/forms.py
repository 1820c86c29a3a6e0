"""The statistics pages' filter: period, län and type of home, as GET parameters (a figure is a
URL that can be bookmarked and sent on). Bad values give the page back with a message beside the
field and no figure computed."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from access.forms import DescribedFieldsMixin
from portal.widgets import PlainSelect
from register.codes import FacilityType
from register.models import County
from stats.figures import YEARS_FROM as FIRST_YEAR
from stats.figures import YEARS_SPAN_MAX as LONGEST_PERIOD
from stats.figures import Filters


def _year_field(label) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=False,
        error_messages={"invalid": _("Ange året med fyra siffror, till exempel 2021.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 6}),
    )


class StatisticsFilterForm(DescribedFieldsMixin, forms.Form):
    fran = _year_field(_("Från och med år"))
    till = _year_field(_("Till och med år"))
    lan = forms.ChoiceField(
        label=_("Län"),
        required=False,
        widget=PlainSelect,
        error_messages={"invalid_choice": _("Välj ett län i listan.")},
    )
    typ = forms.ChoiceField(
        label=_("Typ av verksamhet"),
        required=False,
        choices=[("", _("Alla typer")), *FacilityType.choices],
        widget=PlainSelect,
        error_messages={"invalid_choice": _("Välj en typ av verksamhet i listan.")},
    )

    def __init__(self, data, *, default: Filters, today: datetime.date):
        # A year left out is the default period's: the fields then show the years in use.
        data = data.copy()
        if not data.get("fran"):
            data["fran"] = str(default.first_year)
        if not data.get("till"):
            data["till"] = str(default.last_year)
        super().__init__(data)
        self.today = today
        self.fields["lan"].choices = [("", _("Hela landet"))] + [
            (county.code, county.name) for county in County.objects.order_by("name")
        ]

    def _clean_year(self, name: str) -> int | None:
        year = self.cleaned_data.get(name)
        if year is not None and not FIRST_YEAR <= year <= self.today.year:
            raise forms.ValidationError(
                _("Välj ett år från %(first)s till och med %(last)s.")
                % {"first": FIRST_YEAR, "last": self.today.year}
            )
        return year

    def clean_fran(self) -> int | None:
        return self._clean_year("fran")

    def clean_till(self) -> int | None:
        return self._clean_year("till")

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("fran"), cleaned.get("till")
        if first is not None and last is not None:
            if first > last:
                self.add_error("fran", _("Första året kan inte vara senare än det sista."))
            elif last - first + 1 > LONGEST_PERIOD:
                self.add_error(
                    "fran",
                    _("Välj högst %(years)s år åt gången.") % {"years": LONGEST_PERIOD},
                )
        return cleaned

    def county_name(self) -> str:
        return str(dict(self.fields["lan"].choices).get(self.cleaned_data["lan"], ""))

    def type_name(self) -> str:
        return str(dict(self.fields["typ"].choices).get(self.cleaned_data["typ"], ""))

    def to_filters(self, *, facilities: frozenset[int] | None = None) -> Filters:
        return Filters(
            first_year=self.cleaned_data["fran"],
            last_year=self.cleaned_data["till"],
            county=self.cleaned_data["lan"],
            facility_type=self.cleaned_data["typ"],
            facilities=facilities,
        )
