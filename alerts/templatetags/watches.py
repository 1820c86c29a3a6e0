"""The "Bevaka" / "Sluta bevaka" button beside a home or a provider."""

from django import template

register = template.Library()


@register.inclusion_tag("alerts/_watch_button.html", takes_context=True)
def watch_button(context, kind: str, key: str, name: str, anchor: str = ""):
    """One POST form: watch ``kind`` ("facility" or "provider") ``key`` (its register id or
    public id), or stop watching it. Nothing for a user who cannot watch."""
    if not context.get("may_watch"):
        return {"shown": False}
    request = context["request"]
    watch_id = context["watching"][kind].get(str(key))
    return {
        "shown": True,
        "kind": kind,
        "key": key,
        "name": name,
        "watch_id": watch_id,
        "next": request.get_full_path() + (f"#{anchor}" if anchor else ""),
        "csrf_token": context.get("csrf_token"),
    }
