"""Form widgets of the portal."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class PlainSelect(forms.Select):
    """A select rendered in Python rather than one template per option.

    Django renders each option through a template; for the 290 kommuner that was most of the
    search page's server time (bench/pages.py). Same markup, escaped the same way.
    """

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            for option in options:
                parts.append(
                    format_html(
                        '<option value="{}"{}>{}</option>',
                        option["value"],
                        mark_safe(" selected") if option["selected"] else "",
                        option["label"],
                    )
                )
            if group_name:
                parts.append(mark_safe("</optgroup>"))
        parts.append(mark_safe("</select>"))
        return mark_safe("".join(parts))


class CountySelect(PlainSelect):
    """The list of län for a field whose name may repeat (``?lan=08&lan=07``): it reads every
    value and shows the first; the others are checkboxes of the same name beside it
    (portal/search.html)."""

    def value_from_datadict(self, data, files, name):
        return data.getlist(name) if hasattr(data, "getlist") else data.get(name)

    def format_value(self, value) -> list[str]:
        values = [v for v in value if v] if isinstance(value, (list, tuple)) else [value]
        return [str(values[0])] if values and values[0] else [""]
