from django import forms
from django.utils.translation import gettext_lazy as _

from access.roles import Role


class DescribedFieldsMixin:
    """Ties each control to its help text and error message for screen readers (WCAG 3.3.1),
    matching the ids of portal/_field.html."""

    def full_clean(self):
        super().full_clean()
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.CheckboxSelectMultiple):
                continue  # the group's fieldset carries them (portal/_field.html)
            described_by = [f"{name}-help"] if field.help_text else []
            if name in self.errors:
                described_by.append(f"{name}-error")
                field.widget.attrs["aria-invalid"] = "true"
            if described_by:
                field.widget.attrs["aria-describedby"] = " ".join(described_by)


class EmailForm(DescribedFieldsMixin, forms.Form):
    email = forms.EmailField(
        label=_("Din e-postadress i tjänsten"),
        max_length=254,
        help_text=_("Den adress din kommun har frilistat, oftast din jobbadress."),
        error_messages={
            "required": _("Skriv din e-postadress."),
            "invalid": _("Skriv en e-postadress, till exempel namn@kommun.se."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class CodeForm(DescribedFieldsMixin, forms.Form):
    code = forms.RegexField(
        label=_("Kod från e-postmeddelandet"),
        regex=r"^\s*\d{6}\s*$",
        help_text=_("Sex siffror."),
        error_messages={
            "required": _("Skriv koden från e-postmeddelandet."),
            "invalid": _("Koden är sex siffror."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class AllowlistAddForm(DescribedFieldsMixin, forms.Form):
    email = forms.EmailField(
        label=_("E-postadress"),
        max_length=254,
        error_messages={"invalid": _("Skriv en e-postadress, till exempel namn@kommun.se.")},
    )
    role = forms.ChoiceField(
        label=_("Roll"),
        choices=[
            (Role.MUNICIPAL_USER, Role.MUNICIPAL_USER.label),
            (Role.MUNICIPAL_ADMIN, Role.MUNICIPAL_ADMIN.label),
        ],
        initial=Role.MUNICIPAL_USER,
    )


class FirstAdministratorForm(DescribedFieldsMixin, forms.Form):
    municipality = forms.ChoiceField(label=_("Kommun"))
    email = forms.EmailField(
        label=_("Den kommunala administratörens e-postadress"),
        max_length=254,
        error_messages={"invalid": _("Skriv en e-postadress, till exempel namn@kommun.se.")},
    )

    def __init__(self, *args, municipalities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipality"].choices = [("", _("Välj kommun"))] + [
            (m.code, f"{m.name} ({m.code})") for m in municipalities
        ]
