"""Watches and notices of demo homes go with the demo data (register.demo)."""

from django.db.models import Q
from django.dispatch import receiver

from alerts.models import EventFanOut, Notice, Watch
from register.demo import demo_data_deleting
from register.models import Facility


@receiver(demo_data_deleting)
def _remove_demo_rows(sender, *, facility_pks, **kwargs):
    Notice.objects.filter(event__facility__in=facility_pks).delete()
    EventFanOut.objects.filter(event__facility__in=facility_pks).delete()
    providers = Facility.objects.filter(pk__in=facility_pks).values("provider_id")
    Watch.objects.filter(Q(facility__in=facility_pks) | Q(provider__in=providers)).delete()
