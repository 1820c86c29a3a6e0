from register.imports import import_decisions
from register.management.commands._import import ImportCommand


class Command(ImportCommand):
    help = "Importerar beslut (med inspektion) för verksamheter som redan finns i registret."
    importer = staticmethod(import_decisions)
