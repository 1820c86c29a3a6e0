"""What supervision found, derived in one place and never stored by hand (DESIGN.md): each
requirement's state, recurring deficiencies, a temporary prohibition in force, the facility's
status today, and what an appeal means for a decision.

Python for a facility in hand (the facility page, a page of search hits, the API), and the same
rules as SQL for what the search filters on (``status_condition``, ``current_status_expression``
and the columns ``register.services.refresh_latest`` writes: ``temporary_prohibition_until``,
``unresolved_requirements``). tests/test_supervision.py holds the two to the same answers.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Case, CharField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from register.codes import (
    DEFICIENT_ASSESSMENTS,
    STATUS_FROM_OUTCOME,
    AppealStatus,
    FacilityStatus,
    Outcome,
    RequirementState,
    ReviewArea,
)
from register.models import Decision, Facility, Finding

# An area found deficient in two decisions within this many years is a recurring deficiency
# (återkommande brist, DESIGN.md).
RECURRING_WITHIN_YEARS = 3

# Outcomes that say what a facility's status is: a later one of these, not overturned, "says
# otherwise" than an earlier revocation, prohibition or temporary prohibition.
STATUS_DECIDING_OUTCOMES = (*STATUS_FROM_OUTCOME, Outcome.TILLSTAND_BEVILJAT)

_AREA_ORDER = {code: index for index, code in enumerate(ReviewArea.values)}


def years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# The facility's status today ------------------------------------------------------------------


def temporary_prohibition_holds(
    until: datetime.date | None, stored_status: str, today: datetime.date
) -> bool:
    """A temporary prohibition holds from its decision date to its last day, over a home that is
    otherwise active; after that day the status is the stored one again (what it was before,
    unless a later decision changed it)."""
    return until is not None and today <= until and stored_status == FacilityStatus.AKTIV


def current_status(facility: Facility, today: datetime.date | None = None) -> str:
    """The facility's status today: ``tillfalligt_forbud`` while a temporary prohibition holds,
    else the stored status."""
    today = today or timezone.localdate()
    if temporary_prohibition_holds(facility.temporary_prohibition_until, facility.status, today):
        return FacilityStatus.TILLFALLIGT_FORBUD
    return facility.status


def _holds(today: datetime.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": FacilityStatus.AKTIV}) & Q(
        **{f"{prefix}temporary_prohibition_until__gte": today}
    )


def status_condition(statuses: Iterable[str], today: datetime.date, prefix: str = "") -> Q:
    """Facilities whose status today (``current_status``) is one of ``statuses``."""
    condition = Q(pk__in=[])
    for status in statuses:
        if status == FacilityStatus.AKTIV:
            condition |= Q(**{f"{prefix}status": status}) & ~_holds(today, prefix)
        elif status == FacilityStatus.TILLFALLIGT_FORBUD:
            condition |= Q(**{f"{prefix}status": status}) | _holds(today, prefix)
        else:
            condition |= Q(**{f"{prefix}status": status})
    return condition


def current_status_expression(today: datetime.date) -> Case:
    """``current_status`` in SQL, for an annotation."""
    return Case(
        When(_holds(today), then=Value(FacilityStatus.TILLFALLIGT_FORBUD)),
        default="status",
        output_field=CharField(),
    )


# Requirements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """A finding with a requirement (krav), its decision and its derived state."""

    finding: Finding
    decision: Decision
    state: str  # RequirementState
    settled_by: Decision | None = None  # the follow-up decision that found it met or not met

    @property
    def area_label(self) -> str:
        return str(ReviewArea(self.finding.area).label)

    @property
    def state_label(self) -> str:
        return str(RequirementState(self.state).label)


def requirement_state(
    finding: Finding,
    *,
    decision: Decision,
    follow_ups: Sequence[Decision],
    today: datetime.date,
) -> tuple[str, Decision | None]:
    """A requirement's state (DESIGN.md) and the decision that settled it:

    - met: a decision that follows up this one found no deficiency in the same area;
    - not met: it found one there again;
    - overdue: its day has passed and no decision has followed it up in that area;
    - open: its day has not come (or it has none), and none has yet.

    ``follow_ups``: the decisions whose ``follows_up`` is ``decision``, with their findings; the
    latest of them with a finding in the area settles it."""
    settling = [
        (later, later_finding)
        for later in follow_ups
        for later_finding in later.findings.all()
        if later_finding.area == finding.area
    ]
    if settling:
        later, later_finding = max(settling, key=lambda pair: (pair[0].decision_date, pair[0].pk))
        if later_finding.assessment in DEFICIENT_ASSESSMENTS:
            return RequirementState.NOT_MET, later
        return RequirementState.MET, later
    if finding.due_date is not None and finding.due_date < today:
        return RequirementState.OVERDUE, None
    return RequirementState.OPEN, None


# A facility's supervision, from its decisions --------------------------------------------------


@dataclass(frozen=True)
class Recurring:
    """An area found deficient in decisions that follow each other within three years."""

    area: str
    decisions: tuple[Decision, ...]  # oldest first

    @property
    def area_label(self) -> str:
        return str(ReviewArea(self.area).label)

    @property
    def latest(self) -> Decision:
        return self.decisions[-1]


@dataclass
class DecisionFindings:
    """One decision with its findings in the code list's order and each requirement's state."""

    decision: Decision
    findings: list[Finding]
    requirements: dict[int, Requirement]  # by finding id
    recurring_areas: frozenset[str]

    @property
    def deficient_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.assessment in DEFICIENT_ASSESSMENTS]

    @property
    def fine_total(self) -> int:
        return sum(f.fine_amount or 0 for f in self.findings)


@dataclass
class Supervision:
    """Everything derived from one facility's decisions and their findings."""

    today: datetime.date
    decisions: list[DecisionFindings]  # newest first
    recurring: list[Recurring] = field(default_factory=list)

    @property
    def latest(self) -> DecisionFindings | None:
        return self.decisions[0] if self.decisions else None

    def requirements(self, *states: str) -> list[Requirement]:
        """Requirements of decisions no court overturned, in the given states, earliest day
        first (those without a day last)."""
        found = [
            requirement
            for entry in self.decisions
            if not entry.decision.is_overturned
            for requirement in entry.requirements.values()
            if requirement.state in states
        ]
        return sorted(
            found,
            key=lambda r: (r.finding.due_date or datetime.date.max, _AREA_ORDER[r.finding.area]),
        )

    @property
    def open_requirements(self) -> list[Requirement]:
        return self.requirements(RequirementState.OPEN)

    @property
    def overdue_requirements(self) -> list[Requirement]:
        return self.requirements(RequirementState.OVERDUE)

    @property
    def unresolved_requirements(self) -> list[Requirement]:
        return self.requirements(RequirementState.OPEN, RequirementState.OVERDUE)

    @property
    def recent_recurring(self) -> list[Recurring]:
        """Recurring deficiencies whose latest occurrence is within the last three years."""
        since = years_before(self.today, RECURRING_WITHIN_YEARS)
        return [r for r in self.recurring if r.latest.decision_date >= since]

    @property
    def temporary_prohibition(self) -> Decision | None:
        """The temporary prohibition that holds today, if any."""
        decision = temporary_prohibition_decision(d.decision for d in self.decisions)
        if decision is not None and decision.decision_date <= self.today <= (
            decision.prohibition_until or datetime.date.min
        ):
            return decision
        return None

    @property
    def ended_temporary_prohibition(self) -> Decision | None:
        """The latest temporary prohibition whose last day has passed (it held, then ended)."""
        decision = temporary_prohibition_decision(d.decision for d in self.decisions)
        if decision is not None and decision.prohibition_until < self.today:
            return decision
        return None


def temporary_prohibition_decision(decisions: Iterable[Decision]) -> Decision | None:
    """The temporary prohibition that decides the facility's status: the latest decision
    ``tillfalligt_forbud`` that no court overturned and no later revocation, prohibition or
    permit replaced (refresh_latest writes its last day as ``temporary_prohibition_until``)."""
    decisions = [d for d in decisions if not d.is_overturned]
    temporary = [d for d in decisions if d.outcome == Outcome.TILLFALLIGT_FORBUD]
    if not temporary:
        return None
    latest = max(temporary, key=lambda d: (d.decision_date, d.pk))
    replaced = any(
        d.outcome in STATUS_DECIDING_OUTCOMES and d.decision_date > latest.decision_date
        for d in decisions
    )
    return None if replaced else latest


def supervision_of(
    decisions: Iterable[Decision], *, today: datetime.date | None = None
) -> Supervision:
    """The derived facts of one facility from all its decisions, each with ``findings``
    prefetched: no query of its own."""
    today = today or timezone.localdate()
    decisions = sorted(decisions, key=lambda d: (d.decision_date, d.pk), reverse=True)
    follow_ups: dict[int, list[Decision]] = defaultdict(list)
    for decision in decisions:
        if decision.follows_up_id is not None:
            follow_ups[decision.follows_up_id].append(decision)
    recurring = recurring_deficiencies(decisions)
    recurring_by_decision: dict[int, set[str]] = defaultdict(set)
    for chain in recurring:
        for decision in chain.decisions:
            recurring_by_decision[decision.pk].add(chain.area)
    entries = []
    for decision in decisions:
        findings = sorted(decision.findings.all(), key=lambda f: _AREA_ORDER[f.area])
        requirements = {}
        for finding in findings:
            if not finding.requirement:
                continue
            state, settled_by = requirement_state(
                finding, decision=decision, follow_ups=follow_ups[decision.pk], today=today
            )
            requirements[finding.pk] = Requirement(finding, decision, state, settled_by)
        entries.append(
            DecisionFindings(
                decision, findings, requirements, frozenset(recurring_by_decision[decision.pk])
            )
        )
    return Supervision(today=today, decisions=entries, recurring=recurring)


def recurring_deficiencies(decisions: Iterable[Decision]) -> list[Recurring]:
    """Areas found deficient in two or more decisions, each within three years of the one
    before (decisions a court overturned do not count): one chain per run of such decisions."""
    by_area: dict[str, list[Decision]] = defaultdict(list)
    for decision in sorted(decisions, key=lambda d: (d.decision_date, d.pk)):
        if decision.is_overturned:
            continue
        for finding in decision.findings.all():
            if finding.assessment in DEFICIENT_ASSESSMENTS:
                by_area[finding.area].append(decision)
    chains = []
    for area, found in by_area.items():
        run = [found[0]]
        for decision in found[1:]:
            if (
                years_before(decision.decision_date, RECURRING_WITHIN_YEARS)
                <= run[-1].decision_date
            ):
                run.append(decision)
                continue
            if len(run) > 1:
                chains.append(Recurring(area, tuple(run)))
            run = [decision]
        if len(run) > 1:
            chains.append(Recurring(area, tuple(run)))
    return sorted(chains, key=lambda r: (-r.latest.decision_date.toordinal(), _AREA_ORDER[r.area]))


# Appeals, in plain Swedish ---------------------------------------------------------------------

# IVO's injunctions, prohibitions and revocations apply at once, also when appealed (16 kap. 4 §
# SoL (2001:453)): the court's review does not suspend them unless the court orders so.
_APPLIES_WHILE_APPEALED = {
    Outcome.FORELAGGANDE,
    Outcome.FORELAGGANDE_VITE,
    Outcome.TILLFALLIGT_FORBUD,
    Outcome.FORBUD,
    Outcome.ATERKALLELSE,
}


def appeal_explanation(decision: Decision) -> str:
    """What the decision's appeal status means for a reader, in one plain sentence; "" when it
    was not appealed."""
    status = decision.appeal_status
    if status == AppealStatus.UPPHAVT:
        return _(
            "Domstolen har upphävt beslutet. Det gäller inte och påverkar inte verksamhetens "
            "status."
        )
    if status == AppealStatus.FASTALLT:
        return _("Beslutet överklagades, och domstolen har fastställt det. Det gäller.")
    if status == AppealStatus.OVERKLAGAT:
        if decision.outcome in _APPLIES_WHILE_APPEALED:
            return {
                Outcome.TILLFALLIGT_FORBUD: _(
                    "Förbudet är överklagat och gäller tills domstolen har prövat det."
                ),
                Outcome.FORBUD: _(
                    "Förbudet är överklagat och gäller tills domstolen har prövat det."
                ),
                Outcome.ATERKALLELSE: _(
                    "Återkallelsen är överklagad och gäller tills domstolen har prövat den."
                ),
            }.get(
                decision.outcome,
                _("Föreläggandet är överklagat och gäller tills domstolen har prövat det."),
            )
        return _("Beslutet är överklagat. Domstolen har ännu inte prövat det.")
    return ""
