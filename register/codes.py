"""The register's code lists (DESIGN.md): stored value, Swedish label, and for outcomes the
severity that drives the marking's colour and symbol.

Colour is never the only signal: every marking carries a symbol and a text.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class FacilityType(models.TextChoices):
    HVB = "hvb", _("HVB för barn och unga")
    STODBOENDE = "stodboende", _("Stödboende för barn och unga 16–20 år")
    SARSKILT_UNGDOMSHEM = "sarskilt_ungdomshem", _("Särskilt ungdomshem (SiS, 12 § LVU)")


# 3 kap. 19 § SoF: HVB are inspected at least once a year, and stödboenden for children; SiS's
# särskilda ungdomshem are HVB (12 § LVU), so the same rule holds for them.
TYPES_WITH_YEARLY_INSPECTION = (
    FacilityType.HVB,
    FacilityType.STODBOENDE,
    FacilityType.SARSKILT_UNGDOMSHEM,
)


class Ownership(models.TextChoices):
    ENSKILD = "enskild", _("Enskild")
    KOMMUNAL = "kommunal", _("Kommunal")
    REGIONAL = "regional", _("Regional")
    STATLIG = "statlig", _("Statlig")


class FacilityStatus(models.TextChoices):
    AKTIV = "aktiv", _("Aktiv")
    NEDLAGD = "nedlagd", _("Nedlagd")
    ATERKALLAD = "aterkallad", _("Tillståndet återkallat")
    FORBUD = "forbud", _("Förbud mot verksamheten")
    # Derived from a decision while it holds (register.supervision.current_status), or stated by
    # a facility file; the decision's last day ends it.
    TILLFALLIGT_FORBUD = "tillfalligt_forbud", _("Tillfälligt förbud")


class DecisionKind(models.TextChoices):
    TILLSYN = "tillsyn", _("Tillsyn")
    TILLSTAND = "tillstand", _("Tillstånd")


class Outcome(models.TextChoices):
    INGA_BRISTER = "inga_brister", _("Inga brister")
    BRISTER = "brister", _("Brister konstaterade")
    FORELAGGANDE = "forelaggande", _("Föreläggande")
    FORELAGGANDE_VITE = "forelaggande_vite", _("Föreläggande med vite")
    TILLFALLIGT_FORBUD = "tillfalligt_forbud", _("Tillfälligt förbud")
    FORBUD = "forbud", _("Förbud")
    ATERKALLELSE = "aterkallelse", _("Återkallelse av tillstånd")
    SANKTIONSAVGIFT = "sanktionsavgift", _("Sanktionsavgift")
    TILLSTAND_BEVILJAT = "tillstand_beviljat", _("Tillstånd beviljat")
    TILLSTAND_AVSLAG = "tillstand_avslag", _("Ansökan avslagen")


# Outcomes that change the facility's stored status as of the decision date (DESIGN.md). A
# temporary prohibition is not among them: it holds only from its decision date to its last day,
# so the status it gives is derived while it holds (register.supervision.current_status) and the
# stored status is what the facility returns to.
STATUS_FROM_OUTCOME: dict[str, str] = {
    Outcome.ATERKALLELSE: FacilityStatus.ATERKALLAD,
    Outcome.FORBUD: FacilityStatus.FORBUD,
}

# A temporary prohibition pending the final decision holds at most six months (13 kap. 10 §
# SoL (2001:453); DESIGN.md, register-import.md's forbud_till).
TEMPORARY_PROHIBITION_MAX_MONTHS = 6


class AppealStatus(models.TextChoices):
    EJ_OVERKLAGAT = "ej_overklagat", _("Ej överklagat")
    OVERKLAGAT = "overklagat", _("Överklagat")
    FASTALLT = "fastallt", _("Fastställt av domstol")
    UPPHAVT = "upphavt", _("Upphävt av domstol")


class FollowUp(models.TextChoices):
    INGEN = "ingen", _("Ingen uppföljning")
    PLANERAD = "planerad", _("Uppföljning planerad")
    PAGAR = "pagar", _("Uppföljning pågår")
    AVSLUTAD = "avslutad", _("Uppföljning avslutad")


class ReviewArea(models.TextChoices):
    TRYGGHET_SAKERHET = "trygghet_sakerhet", _("Trygghet och säkerhet")
    VALD_KRANKNINGAR = "vald_krankningar", _("Våld och kränkningar")
    DELAKTIGHET = "delaktighet", _("Delaktighet")
    KOMPETENS_BEMANNING = "kompetens_bemanning", _("Kompetens och bemanning")
    FORESTANDARE = "forestandare", _("Föreståndare")
    INSKRIVNA = "inskrivna", _("Inskrivna barn och unga")
    LOKALER = "lokaler", _("Lokaler")
    BEGRANSNINGSATGARDER = "begransningsatgarder", _("Begränsningsåtgärder")
    DOKUMENTATION = "dokumentation", _("Dokumentation")
    LAMPLIGHET_AGARE = "lamplighet_agare", _("Ägarens lämplighet")
    EKONOMI = "ekonomi", _("Ekonomi")
    UPPFOLJNING_TIDIGARE_BESLUT = "uppfoljning_tidigare_beslut", _("Uppföljning av tidigare beslut")
    BARNS_UPPLEVELSE = "barns_upplevelse", _("Barn och ungas upplevelse")


class InspectionReason(models.TextChoices):
    """Why the inspection behind a decision was made."""

    FREKVENSTILLSYN = "frekvenstillsyn", _("Årlig tillsyn (frekvenstillsyn)")
    KLAGOMAL = "klagomal", _("Klagomål")
    ANMALAN = "anmalan", _("Anmälan (till exempel lex Sarah)")
    INITIATIV = "initiativ", _("IVO:s eget initiativ")
    UPPFOLJNING = "uppfoljning", _("Uppföljning av ett tidigare beslut")
    TILLSTANDSPROVNING = "tillstandsprovning", _("Tillståndsprövning")


class Assessment(models.TextChoices):
    """IVO's assessment of one area a decision reviewed (a Finding)."""

    INGEN_BRIST = "ingen_brist", _("Inga brister")
    BRIST = "brist", _("Brist")
    ALLVARLIG_BRIST = "allvarlig_brist", _("Allvarlig brist")


DEFICIENT_ASSESSMENTS = (Assessment.BRIST, Assessment.ALLVARLIG_BRIST)


class RequirementState(models.TextChoices):
    """A requirement's state, derived (register.supervision.requirement_state), never stored."""

    OPEN = "open", _("Ska vara åtgärdat")
    OVERDUE = "overdue", _("Försenat")
    MET = "met", _("Åtgärdat")
    NOT_MET = "not_met", _("Inte åtgärdat")


class TargetGroup(models.TextChoices):
    MISSBRUK = "missbruk", _("Missbruk")
    NORMBRYTANDE = "normbrytande", _("Normbrytande beteende")
    PSYKISK_OHALSA = "psykisk_ohalsa", _("Psykisk ohälsa")
    NPF = "npf", _("Neuropsykiatriska funktionsnedsättningar")
    ENSAMKOMMANDE = "ensamkommande", _("Ensamkommande")
    HEDERSRELATERAT = "hedersrelaterat", _("Hedersrelaterat våld och förtryck")
    VALD_OVERGREPP = "vald_overgrepp", _("Våld och övergrepp")
    SEXUELLT_BETEENDE = "sexuellt_beteende", _("Sexuellt beteende")
    SKYDD = "skydd", _("Skyddat boende")


class Gender(models.TextChoices):
    FLICKOR = "flickor", _("Flickor")
    POJKAR = "pojkar", _("Pojkar")
    ALLA = "alla", _("Alla")


class PermitStatus(models.TextChoices):
    GALLANDE = "gallande", _("Gällande")
    ATERKALLAT = "aterkallat", _("Återkallat")
    UPPHORT = "upphort", _("Upphört")


class Severity(models.TextChoices):
    OK = "ok", _("Inga brister")
    ATTENTION = "attention", _("Brister")
    SERIOUS = "serious", _("Allvarligt")
    NEUTRAL = "neutral", _("Tillståndsbeslut")


@dataclass(frozen=True)
class Marking:
    """How an outcome is shown: a severity (for colour), a symbol and a text, always together."""

    severity: str
    symbol: str
    colour: str
    label: str


_SEVERITY_STYLE = {
    Severity.OK: ("✓", "green"),
    Severity.ATTENTION: ("!", "amber"),
    Severity.SERIOUS: ("✕", "red"),
    Severity.NEUTRAL: ("–", "grey"),
}

OUTCOME_SEVERITY: dict[str, str] = {
    Outcome.INGA_BRISTER: Severity.OK,
    Outcome.BRISTER: Severity.ATTENTION,
    Outcome.FORELAGGANDE: Severity.ATTENTION,
    Outcome.FORELAGGANDE_VITE: Severity.SERIOUS,
    Outcome.TILLFALLIGT_FORBUD: Severity.SERIOUS,
    Outcome.FORBUD: Severity.SERIOUS,
    Outcome.ATERKALLELSE: Severity.SERIOUS,
    Outcome.SANKTIONSAVGIFT: Severity.SERIOUS,
    Outcome.TILLSTAND_BEVILJAT: Severity.NEUTRAL,
    Outcome.TILLSTAND_AVSLAG: Severity.NEUTRAL,
}


def marking_for(outcome: str, appeal_status: str = AppealStatus.EJ_OVERKLAGAT) -> Marking:
    """The marking of a decision outcome; a decision a court has overturned says so."""
    severity = OUTCOME_SEVERITY[outcome]
    label = str(Outcome(outcome).label)
    if appeal_status == AppealStatus.UPPHAVT:
        # The court's judgment replaces the decision: no longer a finding against the home.
        overturned = _("%(outcome)s – upphävt av domstol") % {"outcome": label}
        return Marking(Severity.NEUTRAL, "–", "grey", overturned)
    if appeal_status == AppealStatus.OVERKLAGAT:
        label = _("%(outcome)s (överklagat)") % {"outcome": label}
    symbol, colour = _SEVERITY_STYLE[severity]
    return Marking(severity, symbol, colour, label)


class EventKind(models.TextChoices):
    """What happened at a facility that a watcher is told (register.events)."""

    FACILITY_CREATED = "facility_created", _("Ny verksamhet")
    DECISION = "decision", _("Nytt beslut")
    REQUIREMENT_OVERDUE = "requirement_overdue", _("Krav inte åtgärdat i tid")
    STATUS_CHANGED = "status_changed", _("Ändrad status")
    APPEAL_DECIDED = "appeal_decided", _("Överklagande avgjort")
    PROVIDER_CHANGED = "provider_changed", _("Ny huvudman")
    MANAGER_CHANGED = "manager_changed", _("Ny föreståndare")
    INSPECTION_OVERDUE = "inspection_overdue", _("Inspektion försenad")


# Statuses whose coming is serious news for a home where a child may be placed.
SERIOUS_STATUSES = frozenset(
    {FacilityStatus.FORBUD, FacilityStatus.ATERKALLAD, FacilityStatus.TILLFALLIGT_FORBUD}
)
