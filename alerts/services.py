"""Writes of the alerts app: watches, the mail choice, notices read. Access is checked by the
caller (the view or API handler) first; these only write."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from access import log
from access.models import AccessEvent
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


def _targets(watch: Watch) -> dict:
    kind = watch.kind
    return {f"{kind}_id": getattr(watch, f"{kind}_id")}


@transaction.atomic
def watches_hand_over(*, request, from_user, to_user, municipality: Municipality) -> int:
    """Give ``from_user``'s watches made in ``municipality`` to ``to_user`` (someone who left,
    to a colleague who stays): what the receiver already watches is dropped, not doubled.
    Written to the access log as the administrator's. Returns how many watches were handed
    over (the dropped duplicates not counted)."""
    watches = list(
        Watch.objects.select_for_update().filter(user=from_user, owner_municipality=municipality)
    )
    moved = 0
    for watch in watches:
        if Watch.objects.filter(user=to_user, **_targets(watch)).exists():
            watch.delete()
            continue
        watch.user = to_user
        watch.save(update_fields=["user"])
        moved += 1
    _log_watches(request, from_user, "bevakningar överlåtna", len(watches), to_user=to_user)
    return moved


@transaction.atomic
def watches_remove_all(*, request, user, municipality: Municipality) -> int:
    """Remove the watches ``user`` made in ``municipality``; written to the access log."""
    _total, by_model = Watch.objects.filter(user=user, owner_municipality=municipality).delete()
    removed = by_model.get(Watch._meta.label, 0)
    _log_watches(request, user, "bevakningar borttagna", removed)
    return removed


def _log_watches(request, user, what: str, count: int, *, to_user=None) -> None:
    # The allowlist's entry kind: handing over or removing a departed address's watches is the
    # administrator's work on that address after its entry ended (access/services.py).
    log.record(
        request,
        AccessEvent.Action.ALLOWLIST_CHANGE,
        object_type="watches",
        object_id=str(user.pk),
        detail={
            "ändring": what,
            "adress": user.email,
            "antal": count,
            "till": to_user.email if to_user is not None else "",
        },
    )
