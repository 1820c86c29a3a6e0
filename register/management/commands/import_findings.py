from register.imports import import_findings
from register.management.commands._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Importerar iakttagelser och krav för beslut som redan finns i registret; filens "
        "iakttagelser ersätter de beslutens tidigare."
    )
    importer = staticmethod(import_findings)
