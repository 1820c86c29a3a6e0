"""Case records tied to demo homes go with the demo data (register.demo): in a demo database
they are generated cases (generate_cases) or ones tried out there."""

from django.db.models import Q
from django.dispatch import receiver

from linking.models import CaseRecord, LinkAction
from register.demo import demo_data_deleting


@receiver(demo_data_deleting)
def _remove_demo_rows(sender, *, facility_pks, **kwargs):
    cases = CaseRecord.objects.filter(
        Q(facility__in=facility_pks)
        | Q(candidates__facility__in=facility_pks)
        | Q(actions__facility__in=facility_pks)
    ).distinct()
    case_pks = list(cases.values_list("pk", flat=True))
    actions = LinkAction.objects.filter(case_record__in=case_pks)
    actions.filter(undoes__isnull=False).delete()  # an undo protects what it undid
    actions.delete()
    CaseRecord.objects.filter(pk__in=case_pks).delete()  # candidates go with them
    CaseRecord.history.filter(id__in=case_pks).delete()
