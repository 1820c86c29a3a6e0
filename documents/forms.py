from django import forms
from django.utils.translation import gettext_lazy as _

from access.forms import DescribedFieldsMixin
from documents.services import REASON_MAX_LENGTH


def _textarea(rows: int = 4) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "maxlength": REASON_MAX_LENGTH})


class RequestForm(DescribedFieldsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Skäl (frivilligt)"),
        help_text=_(
            "Ni behöver inte uppge varför ni begär ut beslutet. Skriv inga uppgifter om barnet."
        ),
        required=False,
        widget=_textarea(),
    )


class PdfForm(DescribedFieldsMixin, forms.Form):
    """The full decision; its ids differ from the release form's on the same page."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "full_%s")
        super().__init__(*args, **kwargs)

    upload = forms.FileField(
        label=_("Fullständigt beslut (PDF)"),
        required=False,  # the service gives the Swedish messages: missing, empty, too large
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": "application/pdf"}),
    )


class ReleaseForm(DescribedFieldsMixin, forms.Form):
    outcome = forms.ChoiceField(
        label=_("Besked"),
        choices=[
            ("utlamnad", _("Lämna ut hela beslutet")),
            ("delvis", _("Lämna ut delvis: uppgifter som omfattas av sekretess är maskerade")),
        ],
        initial="utlamnad",
        widget=forms.RadioSelect,
    )
    upload = forms.FileField(
        label=_("Sekretessprövad kopia (PDF)"),
        help_text=_("Den kopia som lämnas ut, med eventuella maskeringar gjorda."),
        required=False,
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": "application/pdf"}),
    )
    note = forms.CharField(
        label=_("Vad som har maskerats och varför"),
        help_text=_(
            "Krävs vid delvis utlämnande; visas för kommunen tillsammans med hur man överklagar."
        ),
        required=False,
        widget=_textarea(),
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == "delvis" and not (data.get("note") or "").strip():
            self.add_error(
                "note", _("Skriv vad som har maskerats och med stöd av vilken bestämmelse.")
            )
        return data


class RefuseForm(DescribedFieldsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Skäl för avslag"),
        help_text=_("Med stöd av vilken bestämmelse i offentlighets- och sekretesslagen."),
        widget=_textarea(),
    )
