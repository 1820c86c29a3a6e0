"""The login form of IVO's staff: username, password and the code from an authenticator app."""

from django import forms
from django.utils.translation import gettext_lazy as _

from access.forms import DescribedFieldsMixin


class OneTimeCodeInput(forms.TextInput):
    """A code is never written back into the page, as a password is not."""

    def get_context(self, name, value, attrs):
        return super().get_context(name, None, attrs)


class StaffLoginForm(DescribedFieldsMixin, forms.Form):
    username = forms.CharField(
        label=_("Användarnamn"),
        max_length=150,
        error_messages={"required": _("Skriv ditt användarnamn.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Lösenord"),
        strip=False,
        max_length=4096,
        error_messages={"required": _("Skriv ditt lösenord.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.RegexField(
        label=_("Kod från autentiseringsappen"),
        # Some apps show the code as two groups of three.
        regex=r"^\s*\d{3}\s?\d{3}\s*$",
        help_text=_("Sex siffror. Koden byts var 30:e sekund."),
        error_messages={
            "required": _("Skriv koden från autentiseringsappen."),
            "invalid": _("Koden är sex siffror."),
        },
        widget=OneTimeCodeInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "7"}
        ),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split())
