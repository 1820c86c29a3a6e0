"""Writes of the alerts app: watches, the mail choice, notices read. Access is checked by the
caller (the view or API handler) first; these only write."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from alerts.models import AlertSettings, MailChoice, Notice, Watch
from register.models import County, Facility, Municipality, Provider

Target = Facility | Provider | Municipality | County

_KIND_OF = {
    Facility: Watch.Kind.FACILITY,
    Provider: Watch.Kind.PROVIDER,
    Municipality: Watch.Kind.MUNICIPALITY,
    County: Watch.Kind.COUNTY,
}


def watch_add(*, user, owner_municipality: Municipality | str, target: Target) -> Watch:
    """Watch ``target``; the watch already there when the user watches it."""
    kind = _KIND_OF[type(target)]
    existing = Watch.objects.filter(user=user, **{kind: target}).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Watch.objects.create(
                user=user,
                owner_municipality_id=getattr(owner_municipality, "pk", owner_municipality),
                kind=kind,
                **{kind: target},
            )
    except IntegrityError:  # a second click at the same moment
        return Watch.objects.get(user=user, **{kind: target})


def watch_remove(*, watch: Watch) -> None:
    """Stop a watch. The notices it gave stay in the user's list."""
    watch.delete()


def alert_settings_set(*, user, mail: str) -> AlertSettings:
    if mail not in MailChoice.values:
        raise ValueError(mail)
    settings, _created = AlertSettings.objects.update_or_create(user=user, defaults={"mail": mail})
    return settings


def notices_mark_read(*, user, notice_ids=None) -> int:
    """Mark the user's notices read (all, or those given)."""
    unread = Notice.objects.filter(user=user, read_at__isnull=True)
    if notice_ids is not None:
        unread = unread.filter(pk__in=list(notice_ids))
    return unread.update(read_at=timezone.now())
