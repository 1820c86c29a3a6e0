"""Helpers for the import tests (register/imports.py, linking/imports.py): the format file's
examples, a personnummer from the test range, the commands run as an operator runs them, and row
counts that show that nothing was written."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from stdnum import luhn

from register.models import (
    Decision,
    Facility,
    Inspection,
    Manager,
    Permit,
    Provider,
    Registration,
)

REGISTER_MODELS = [Provider, Facility, Permit, Registration, Manager, Inspection, Decision]

# The example of the format file, as it stands there.
FACILITY_EXAMPLE = (
    "verksamhetsid;verksamhet;verksamhetstyp;organisationsnummer;huvudman;regi;kommunkod;"
    "antal_platser;status;kon;alder_fran;alder_till\n"
    "K0880-001;Exempelgården HVB;hvb;212000-0746;Kalmar kommun;kommunal;0880;6;aktiv;alla;13;17\n"
)
DECISION_HEADER = (
    "diarienummer;verksamhetsid;beslutstyp;beslutsdatum;utfall;granskade_omraden;"
    "inspektionsdatum;inspektion_anmald;sammanfattning\n"
)
DECISION_EXAMPLE = DECISION_HEADER + (
    "3.2.2-13748/2022;K0880-001;tillsyn;2022-11-03;brister;trygghet_sakerhet|dokumentation;"
    "2022-09-14|2022-09-15;nej;IVO fann brister i dokumentationen.\n"
)
FACILITY_HEADER = FACILITY_EXAMPLE.splitlines()[0]
PRIVATE_HEADER = FACILITY_HEADER + ";tillstand_dnr;tillstand_datum"


def personnummer_in_test_range(birth: str = "19811218", serial: str = "987") -> str:
    """A personnummer from Skatteverket's test range (födelsenummer 980–999)."""
    check = luhn.calc_check_digit(birth[2:] + serial)
    return f"{birth}-{serial}{check}"


# Stands for tomorrow in a parametrised row; `on_the_day` puts the date in when the test runs,
# since a date taken when the tests are collected is today by the time a suite that started
# before midnight reaches it.
TOMORROW = "<imorgon>"


def on_the_day(text: str) -> str:
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    return text.replace(TOMORROW, tomorrow.isoformat())


def snapshot() -> dict[str, int]:
    """Row counts of the register and of its history: "nothing written" means all are equal."""
    counts = {}
    for model in REGISTER_MODELS:
        counts[model.__name__] = model.objects.count()
        counts[f"{model.__name__} history"] = model.history.count()
    return counts


def write(tmp_path, text: str, name: str = "fil.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def run(command: str, path: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(command, path, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(command: str, path: str) -> tuple[list[str], str]:
    """Run an import that must fail; its error lines and the final message."""
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command(command, path, stdout=io.StringIO(), stderr=err)
    return err.getvalue().splitlines(), str(failure.value)
