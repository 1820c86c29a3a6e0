from register.imports import import_facilities
from register.management.commands._import import ImportCommand


class Command(ImportCommand):
    help = "Importerar verksamheter (med huvudman, tillstånd eller anmälan och föreståndare)."
    importer = staticmethod(import_facilities)
