"""The dependency rule (docs/architecture.md): interfaces depend on the domain, never the reverse.
``register`` is the domain; ``access``, ``portal``, ``api``, ``documents`` and ``linking`` are
built on it, so nothing in ``register`` may name them: not an import at the top of a module or
inside a function, not a module imported by name (``importlib.import_module``, ``__import__``),
not a model looked up or related to by its app's label (``apps.get_model``, ``"access.Account"``),
not a migration depending on theirs.

Where the domain must let the apps above it act (the demo data's logins, a facility's rows in
their tables removed with it), it sends a signal they listen to, or a command of theirs calls it.
"""

import ast
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
DOMAIN = BASE_DIR / "register"
ABOVE = ("access", "portal", "api", "documents", "linking", "alerts", "stats", "operations")


def _above(dotted: str) -> bool:
    """Whether a module path or an app label (``access``, ``access.models``, ``access.Account``)
    names one of the apps above the domain."""
    return dotted.split(".")[0] in ABOVE


def _strings(node: ast.AST) -> list[str]:
    return [
        argument.value
        for argument in node.args
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str)
    ]


def _called(node: ast.Call) -> str:
    """The called name's last part: ``import_module`` of ``importlib.import_module``."""
    function = node.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


RELATIONS = {"ForeignKey", "OneToOneField", "ManyToManyField"}


def reaches_above(source: str, filename: str = "<string>") -> list[str]:
    """Each place in ``source`` that names an app above the domain, as ``line: what``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        named: list[str] = []
        if isinstance(node, ast.Import):
            named = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            named = [node.module]
        elif isinstance(node, ast.Call):
            called = _called(node)
            strings = _strings(node)
            if called in ("import_module", "__import__") and strings:
                named = strings[:1]
            elif called == "get_model" and strings:
                named = strings[:1]  # get_model("access", "Account") or ("access.Account")
            elif called in RELATIONS and strings:
                named = [text for text in strings[:1] if "." in text]  # "access.Account"
        elif isinstance(node, ast.Tuple) and len(node.elts) == 2:
            # A migration's dependency: ("access", "0001_initial").
            first, second = node.elts
            if (
                isinstance(first, ast.Constant)
                and isinstance(second, ast.Constant)
                and isinstance(second.value, str)
                and second.value[:4].isdigit()
            ):
                named = [str(first.value)]
        found += [f"{node.lineno}: {name}" for name in named if _above(name)]
    return found


def test_register__names_no_app_above_it():
    reaching = {}
    for path in sorted(DOMAIN.rglob("*.py")):
        found = reaches_above(path.read_text(encoding="utf-8"), str(path))
        if found:
            reaching[str(path.relative_to(BASE_DIR))] = found

    assert reaching == {}


@pytest.mark.parametrize(
    "source",
    [
        "import access",
        "import portal.views as views",
        "from api.models import ApiClient",
        "from documents import services",
        "def seed():\n    from linking.models import CaseRecord\n",
        "import importlib\nimportlib.import_module('access.demo')",
        "from importlib import import_module\nimport_module('portal')",
        "__import__('api.auth')",
        "apps.get_model('access', 'Account')",
        "apps.get_model('documents.DecisionRequest')",
        "models.ForeignKey('access.Account', on_delete=models.PROTECT)",
        "dependencies = [('register', '0001_initial'), ('linking', '0002_caserecord')]",
    ],
)
def test_reaches_above__each_way_of_naming_an_app__found(source):
    assert reaches_above(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from register import services",
        "from . import validation",
        "from django.contrib.auth import get_user_model",
        "import accessibility",
        "apps.get_model('register', 'Facility')",
        "models.ForeignKey('register.Municipality', on_delete=models.PROTECT)",
        "models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)",
        "dependencies = [('register', '0001_initial'), ('auth', '0012_alter_user')]",
        "AREA = ('api', 'ett ord')",
    ],
)
def test_reaches_above__the_domain_and_django__not_found(source):
    assert reaches_above(source) == []
