"""A field for a small set of codes from one code list (target groups, review areas).

Stored as text ``|code|code|`` (sorted, delimited at both ends) so that "holds this code" is a plain
``contains`` lookup on SQLite and PostgreSQL alike, and so the set is kept in the record's history
with the rest of the row. In Python the value is a sorted list of codes.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from register.validation import code_values

SEPARATOR = "|"


def encode_codes(codes: list[str] | tuple[str, ...]) -> str:
    unique = sorted(set(codes))
    return f"{SEPARATOR}{SEPARATOR.join(unique)}{SEPARATOR}" if unique else ""


def decode_codes(text: str) -> list[str]:
    return [part for part in text.split(SEPARATOR) if part]


def holds_code(code: str) -> str:
    """The ``contains`` argument that matches rows holding ``code``."""
    return f"{SEPARATOR}{code}{SEPARATOR}"


class CodeListField(models.CharField):
    def __init__(self, *args, codes: type[models.TextChoices] | None = None, **kwargs):
        self.codes = codes
        kwargs.setdefault("max_length", 400)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", list)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["codes"] = self.codes
        if kwargs.get("max_length") == 400:
            del kwargs["max_length"]
        if kwargs.get("blank") is True:
            del kwargs["blank"]
        if kwargs.get("default") is list:
            del kwargs["default"]
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return decode_codes(value) if value is not None else []

    def to_python(self, value):
        if isinstance(value, list | tuple):
            return sorted(set(value))
        if value is None:
            return []
        return decode_codes(value)

    def get_prep_value(self, value):
        if isinstance(value, list | tuple):
            return encode_codes(value)
        return super().get_prep_value(value)

    def value_to_string(self, obj):
        return encode_codes(self.value_from_object(obj))

    def validate(self, value, model_instance):
        if not value and not self.blank:
            raise ValidationError(self.error_messages["blank"], code="blank")
        if self.codes is not None:
            known = code_values(self.codes)
            unknown = [code for code in value if code not in known]
            if unknown:
                raise ValidationError(_("okänd kod %(value)s") % {"value": ", ".join(unknown)})

    def formfield(self, **kwargs):
        return forms.TypedMultipleChoiceField(
            choices=self.codes.choices if self.codes else [],
            required=not self.blank,
            label=self.verbose_name.capitalize() if self.verbose_name else None,
            widget=forms.CheckboxSelectMultiple,
            help_text=self.help_text,
        )
