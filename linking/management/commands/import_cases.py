from linking.imports import import_cases
from register.management.commands._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Importerar ärenden från ärendehanteringssystemet och matchar dem mot registrets "
        "verksamheter (docs/formats/case-import.md)."
    )
    importer = staticmethod(import_cases)
