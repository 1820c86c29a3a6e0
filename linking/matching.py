"""Matching case records to facilities: candidates, each with a score (0–100) and its reasons.

The case system describes a facility as a case officer typed it, so the evidence is weighed:

- identifying evidence — the provider's organisationsnummer (also a former provider's, from the
  register's history), the diarienummer of the facility's permit, registration, decision or
  inspection, the street address (also a former one);
- supporting evidence — the name (after normalising case, punctuation, å/ä/ö and words like "HVB",
  "AB", "stödboende"; also former names and names used in the facility's earlier linked cases),
  kommun, postort, the provider's name;
- counter-evidence — another kommun, a facility closed before the decision.

A record is linked automatically only with a score at or above ``LINKING_AUTO_THRESHOLD``, a clear
lead over the next candidate and identifying evidence: never on the name alone. From
``LINKING_REVIEW_THRESHOLD`` it goes to the review queue; below, it is flagged unmatched.

The register is read once per run into an in-memory index (``RegisterIndex``): a fixed number of
queries whatever the number of records, and rapidfuzz's ``process.extract`` (C++) for the name
search over every facility.
"""

import datetime
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process
from simple_history.utils import bulk_update_with_history

from linking import services
from linking.models import Candidate, CaseRecord, CaseStatus, LinkAction
from register.codes import FacilityStatus
from register.models import Decision, Facility, Inspection, Permit, Provider, Registration

# Words that say what kind of home or company it is, not which one.
STOP_WORDS = frozenset(
    {
        *("hvb", "hvbhem", "hem", "stodboende", "stodboendet", "stodboenden"),
        *("ab", "aktiebolag", "aktiebolaget", "hb", "kb", "stiftelse", "stiftelsen"),
        *("ekonomisk", "forening", "och", "i", "for"),
    }
)
CANDIDATES_KEPT = 5
NAME_SEARCH_LIMIT = 20
NAME_SEARCH_CUTOFF = 55

# Points of each kind of evidence (the score is their sum, clamped to 0–100).
POINTS = {
    "own_diarienummer": 60,
    "reference": 50,
    "organisation_number": 35,
    "former_organisation_number": 25,
    "address": 20,
    "former_address": 15,
    "name": 30,
    "former_name": 25,
    "earlier_case_name": 25,
    "municipality": 10,
    "postal_town": 5,
    "provider_name": 10,
    "other_municipality": -10,
    "closed": -20,
}
# Evidence that identifies a facility beyond its name: one of these is needed for an automatic link.
IDENTIFYING = frozenset(
    {
        "own_diarienummer",
        "reference",
        "organisation_number",
        "former_organisation_number",
        "address",
        "former_address",
    }
)


# Normalising --------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower case, å/ä/ö and other accents folded, punctuation to spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def normalise_name(text: str) -> str:
    """A facility's or provider's name without the words that do not tell homes apart."""
    folded = fold(text)
    words = [word for word in folded.split() if word not in STOP_WORDS]
    return " ".join(words) or folded


_ABBREVIATION = re.compile(r"(\w+?)(v|g)\.", re.IGNORECASE)


def normalise_address(text: str) -> tuple[str, str]:
    """(street, house number): ``Storg. 12 B`` and ``Storgatan 12b`` give ``(storgatan, 12b)``."""
    expanded = _ABBREVIATION.sub(
        lambda m: m.group(1) + ("vägen" if m.group(2).lower() == "v" else "gatan"), text
    )
    folded = fold(expanded)
    match = re.match(r"^(.*?)\s*(\d+)\s*([a-z])?\b", folded)
    if not match:
        return folded, ""
    return match.group(1).strip(), match.group(2) + (match.group(3) or "")


def name_points(similarity: float, full: int) -> int:
    """Points for a name ``similarity`` (0–100): nothing below 50, ``full`` at 100."""
    if similarity < 50:
        return 0
    return round(full * (similarity - 50) / 50)


# The register, read once ---------------------------------------------------------------------


@dataclass
class FacilityEntry:
    pk: int
    facility_id: str
    name: str
    municipality_code: str
    organisation_number: str
    provider_name: str
    status: str
    end_date: datetime.date | None
    street: tuple[str, str]
    town: str
    former_names: set[str] = field(default_factory=set)
    former_streets: set[tuple[str, str]] = field(default_factory=set)
    former_organisation_numbers: set[str] = field(default_factory=set)
    case_names: set[str] = field(default_factory=set)


@dataclass
class RegisterIndex:
    facilities: dict[int, FacilityEntry]
    by_organisation_number: dict[str, set[int]]
    by_former_organisation_number: dict[str, set[int]]
    by_street: dict[tuple[str, str], set[int]]
    diarienummer_owner: dict[str, tuple[int, str]]  # dnr → (facility pk, what it is)
    name_choices: list[str]
    name_owners: list[int]

    @classmethod
    def build(cls, records: Sequence[CaseRecord]) -> "RegisterIndex":
        facilities: dict[int, FacilityEntry] = {}
        rows = Facility.objects.values_list(
            "pk",
            "facility_id",
            "name",
            "municipality_id",
            "provider__organisation_number",
            "provider__name",
            "status",
            "end_date",
            "street_address",
            "postal_town",
        )
        for (
            pk,
            facility_id,
            name,
            municipality,
            number,
            provider,
            status,
            end,
            street,
            town,
        ) in rows:
            facilities[pk] = FacilityEntry(
                pk=pk,
                facility_id=facility_id,
                name=normalise_name(name),
                municipality_code=municipality,
                organisation_number=number,
                provider_name=normalise_name(provider),
                status=status,
                end_date=end,
                street=normalise_address(street) if street else ("", ""),
                town=fold(town),
            )
        provider_numbers = dict(Provider.objects.values_list("pk", "organisation_number"))
        # What the register's history remembers: former names, addresses and providers.
        history = (
            Facility.history.values_list("id", "name", "street_address", "provider_id")
            .order_by()
            .distinct()
        )
        for pk, name, street, provider_id in history:
            entry = facilities.get(pk)
            if entry is None:
                continue
            normalised = normalise_name(name)
            if normalised != entry.name:
                entry.former_names.add(normalised)
            if street:
                address = normalise_address(street)
                if address != entry.street:
                    entry.former_streets.add(address)
            number = provider_numbers.get(provider_id)
            if number and number != entry.organisation_number:
                entry.former_organisation_numbers.add(number)
        # Names used in the facility's earlier linked cases.
        for pk, name in CaseRecord.objects.filter(status=CaseStatus.LINKED).values_list(
            "facility_id", "facility_name"
        ):
            entry = facilities.get(pk)
            if entry is not None and normalise_name(name) not in (entry.name, ""):
                entry.case_names.add(normalise_name(name))

        by_number: dict[str, set[int]] = defaultdict(set)
        by_former_number: dict[str, set[int]] = defaultdict(set)
        by_street: dict[tuple[str, str], set[int]] = defaultdict(set)
        name_choices: list[str] = []
        name_owners: list[int] = []
        for entry in facilities.values():
            by_number[entry.organisation_number].add(entry.pk)
            for number in entry.former_organisation_numbers:
                by_former_number[number].add(entry.pk)
            for street in {entry.street, *entry.former_streets}:
                if street[0]:
                    by_street[street].add(entry.pk)
            for name in {entry.name, *entry.former_names, *entry.case_names}:
                name_choices.append(name)
                name_owners.append(entry.pk)

        wanted = {r.diarienummer for r in records} | {
            r.reference_diarienummer for r in records if r.reference_diarienummer
        }
        owners: dict[str, tuple[int, str]] = {}
        for model, what in (
            (Permit, _("tillstånd")),
            (Registration, _("anmälan")),
            (Inspection, _("inspektion")),
            (Decision, _("beslut")),
        ):
            for dnr, pk in model.objects.filter(diarienummer__in=wanted).values_list(
                "diarienummer", "facility_id"
            ):
                owners[dnr] = (pk, str(what))
        return cls(
            facilities=facilities,
            by_organisation_number=by_number,
            by_former_organisation_number=by_former_number,
            by_street=by_street,
            diarienummer_owner=owners,
            name_choices=name_choices,
            name_owners=name_owners,
        )


# Scoring ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    points: int
    text: str

    def as_dict(self) -> dict:
        return {"code": self.code, "points": self.points, "text": self.text}


@dataclass(frozen=True)
class Scored:
    facility_pk: int
    score: int
    reasons: tuple[Reason, ...]

    @property
    def identifying(self) -> bool:
        return any(reason.code in IDENTIFYING for reason in self.reasons)


@dataclass(frozen=True)
class _Typed:
    """A case record's facts, normalised once."""

    diarienummer: str
    reference: str
    organisation_number: str
    name: str
    provider_name: str
    street: tuple[str, str]
    town: str
    municipality_code: str
    decision_date: datetime.date

    @classmethod
    def of(cls, record: CaseRecord) -> "_Typed":
        return cls(
            diarienummer=record.diarienummer,
            reference=record.reference_diarienummer,
            organisation_number=record.organisation_number,
            name=normalise_name(record.facility_name),
            provider_name=normalise_name(record.provider_name) if record.provider_name else "",
            street=normalise_address(record.street_address) if record.street_address else ("", ""),
            town=fold(record.postal_town),
            municipality_code=record.municipality_id or "",
            decision_date=record.decision_date,
        )


def _same_street(typed: tuple[str, str], known: tuple[str, str]) -> bool:
    if not typed[0] or not known[0]:
        return False
    if typed[1] and known[1] and typed[1] != known[1]:
        return False
    return fuzz.ratio(typed[0], known[0]) >= 90


def _score(typed: _Typed, entry: FacilityEntry, index: RegisterIndex) -> Scored:
    reasons: list[Reason] = []

    def add(code: str, text: str, points: int | None = None) -> None:
        reasons.append(Reason(code, POINTS[code] if points is None else points, text))

    for dnr, label in ((typed.diarienummer, "own_diarienummer"), (typed.reference, "reference")):
        owner = index.diarienummer_owner.get(dnr) if dnr else None
        if owner and owner[0] == entry.pk:
            if label == "own_diarienummer":
                text = _("ärendets diarienummer finns redan i registret som verksamhetens %(what)s")
            else:
                text = _("referensdiarienumret är verksamhetens %(what)s")
            add(label, text % {"what": owner[1]})
    number = typed.organisation_number
    if number and number == entry.organisation_number:
        add("organisation_number", _("organisationsnumret är huvudmannens"))
    elif number and number in entry.former_organisation_numbers:
        add(
            "former_organisation_number",
            _("organisationsnumret är en tidigare huvudmans (registrets historik)"),
        )
    if _same_street(typed.street, entry.street):
        add("address", _("adressen stämmer"))
    elif any(_same_street(typed.street, street) for street in entry.former_streets):
        add("former_address", _("adressen är verksamhetens tidigare (registrets historik)"))

    best = ("name", fuzz.token_sort_ratio(typed.name, entry.name))
    for code, names in (
        ("former_name", entry.former_names),
        ("earlier_case_name", entry.case_names),
    ):
        for name in names:
            similarity = fuzz.token_sort_ratio(typed.name, name)
            if name_points(similarity, POINTS[code]) > name_points(best[1], POINTS[best[0]]):
                best = (code, similarity)
    code, similarity = best
    points = name_points(similarity, POINTS[code])
    if points:
        texts = {
            "name": _("namnet liknar verksamhetens (%(similarity)s %%)"),
            "former_name": _("namnet liknar ett tidigare namn (%(similarity)s %%)"),
            "earlier_case_name": _(
                "namnet liknar det i ett tidigare kopplat ärende (%(similarity)s %%)"
            ),
        }
        add(code, texts[code] % {"similarity": round(similarity)}, points)

    if typed.municipality_code:
        if typed.municipality_code == entry.municipality_code:
            add("municipality", _("samma kommun"))
        else:
            add("other_municipality", _("en annan kommun"))
    if typed.town and typed.town == entry.town:
        add("postal_town", _("samma postort"))
    if (
        typed.provider_name
        and number != entry.organisation_number
        and fuzz.token_sort_ratio(typed.provider_name, entry.provider_name) >= 85
    ):
        add("provider_name", _("huvudmannens namn liknar"))
    if (
        entry.status == FacilityStatus.NEDLAGD
        and entry.end_date
        and entry.end_date < typed.decision_date - datetime.timedelta(days=30)
    ):
        add("closed", _("verksamheten var nedlagd vid beslutet"))
    reasons.sort(key=lambda reason: -reason.points)
    score = max(0, min(100, sum(reason.points for reason in reasons)))
    return Scored(entry.pk, score, tuple(reasons))


def score_candidates(record: CaseRecord, index: RegisterIndex) -> list[Scored]:
    """The facilities that might be this record's, best first."""
    typed = _Typed.of(record)
    pks: set[int] = set()
    for dnr in (typed.diarienummer, typed.reference):
        owner = index.diarienummer_owner.get(dnr) if dnr else None
        if owner:
            pks.add(owner[0])
    if typed.organisation_number:
        pks |= index.by_organisation_number.get(typed.organisation_number, set())
        pks |= index.by_former_organisation_number.get(typed.organisation_number, set())
    if typed.street[0]:
        pks |= index.by_street.get(typed.street, set())
    for _choice, _similarity, position in process.extract(
        typed.name,
        index.name_choices,
        scorer=fuzz.token_sort_ratio,
        limit=NAME_SEARCH_LIMIT,
        score_cutoff=NAME_SEARCH_CUTOFF,
    ):
        pks.add(index.name_owners[position])
    scored = [_score(typed, index.facilities[pk], index) for pk in pks if pk in index.facilities]
    scored = [item for item in scored if item.score > 0]
    scored.sort(key=lambda item: (-item.score, index.facilities[item.facility_pk].facility_id))
    return scored


@dataclass(frozen=True)
class Verdict:
    status: str  # CaseStatus: REVIEW or UNMATCHED, or LINKED for an automatic link
    candidates: list[Scored]

    @property
    def automatic(self) -> bool:
        return self.status == CaseStatus.LINKED


def decide(scored: list[Scored]) -> Verdict:
    """What the thresholds say about a record with these candidates."""
    if not scored or scored[0].score < settings.LINKING_REVIEW_THRESHOLD:
        return Verdict(CaseStatus.UNMATCHED, scored)
    top = scored[0]
    lead = top.score - (scored[1].score if len(scored) > 1 else 0)
    if (
        top.score >= settings.LINKING_AUTO_THRESHOLD
        and lead >= settings.LINKING_AUTO_MARGIN
        and top.identifying  # never on the name alone
    ):
        return Verdict(CaseStatus.LINKED, scored)
    return Verdict(CaseStatus.REVIEW, scored)


# Running it -----------------------------------------------------------------------------------


@dataclass
class MatchSummary:
    automatic: int = 0
    review: int = 0
    unmatched: int = 0

    def line(self) -> str:
        return _(
            "Matchning: %(automatic)s kopplade automatiskt, %(review)s till granskning, "
            "%(unmatched)s utan trolig verksamhet"
        ) % {"automatic": self.automatic, "review": self.review, "unmatched": self.unmatched}


def match_case_records(records: Iterable[CaseRecord], *, actor=None) -> MatchSummary:
    """Score the unlinked ``records``, keep their best candidates, and link, queue or flag each.

    Automatic links go through ``linking.services.case_link``, so they become decisions on the
    facility through the register's services and are recorded as ``LinkAction``s of the machine.
    """
    records = [
        record
        for record in records
        if record.status not in (CaseStatus.LINKED, CaseStatus.NEW_FACILITY)
    ]
    summary = MatchSummary()
    if not records:
        return summary
    index = RegisterIndex.build(records)
    with transaction.atomic():
        Candidate.objects.filter(case_record__in=records).delete()
        candidates: list[Candidate] = []
        automatic: list[tuple[CaseRecord, int]] = []
        changed: list[CaseRecord] = []
        for record in records:
            verdict = decide(score_candidates(record, index))
            for rank, item in enumerate(verdict.candidates[:CANDIDATES_KEPT], start=1):
                candidates.append(
                    Candidate(
                        case_record=record,
                        facility_id=item.facility_pk,
                        rank=rank,
                        score=item.score,
                        reasons=[reason.as_dict() for reason in item.reasons],
                    )
                )
            if verdict.automatic:
                automatic.append((record, verdict.candidates[0].facility_pk))
            elif verdict.status == CaseStatus.REVIEW:
                summary.review += 1
            else:
                summary.unmatched += 1
            # An automatic link starts from the queue: undoing it leaves the record for a person.
            wanted = CaseStatus.REVIEW if verdict.automatic else verdict.status
            if record.status != wanted:
                record.status = wanted
                record._history_user = actor  # type: ignore[attr-defined]
                record._change_reason = _("matchning")  # type: ignore[attr-defined]
                changed.append(record)
        Candidate.objects.bulk_create(candidates, batch_size=2000)
        bulk_update_with_history(changed, CaseRecord, ["status"], batch_size=2000)
        facilities = Facility.objects.select_related("provider").in_bulk(
            [pk for _record, pk in automatic]
        )
        for record, pk in automatic:
            try:
                services.case_link(
                    case_record=record,
                    facility=facilities[pk],
                    actor=None,
                    kind=LinkAction.Kind.AUTOMATIC,
                )
            except ValidationError:
                # The register refuses the link (a conflicting decision, say): a person decides.
                summary.review += 1
                continue
            summary.automatic += 1
    return summary
