from django.core.management.base import BaseCommand

from linking.matching import match_case_records
from linking.models import CaseRecord, CaseStatus


class Command(BaseCommand):
    help = (
        "Matchar ärenden som inte är kopplade mot registret igen, till exempel sedan nya "
        "verksamheter har registrerats."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ny-verksamhet",
            action="store_true",
            help="Ta också med ärenden som markerats som ny verksamhet.",
        )

    def handle(self, *args, ny_verksamhet: bool, **options):
        statuses = [CaseStatus.NEW, CaseStatus.REVIEW, CaseStatus.UNMATCHED]
        records = list(CaseRecord.objects.filter(status__in=statuses))
        if ny_verksamhet:
            marked = list(CaseRecord.objects.filter(status=CaseStatus.NEW_FACILITY))
            for record in marked:
                record.status = CaseStatus.NEW
            records += marked
        self.stdout.write(match_case_records(records).line())
