"""Requests and documents of demo decisions go with the demo data (register.demo)."""

from django.dispatch import receiver

from documents.models import DecisionDocument, DecisionRequest
from register.demo import demo_data_deleting


@receiver(demo_data_deleting)
def _remove_demo_rows(sender, *, facility_pks, **kwargs):
    for model in (DecisionRequest, DecisionDocument):
        rows = model.objects.filter(decision__facility__in=facility_pks)
        pks = list(rows.values_list("pk", flat=True))
        rows.delete()
        model.history.filter(id__in=pks).delete()  # after: the delete writes a history row
