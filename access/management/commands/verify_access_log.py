"""``verify_access_log [--heads FILE]``: walk the access log's hash chain (access/chain.py) and
report every entry that was changed, removed, inserted or backdated, by id and time; exit 1 if any.

The chain shows a change anywhere before its newest entry. What it cannot show alone is a log cut
short at its end, or rewritten from some entry to the end with new hashes: for that IVO keeps the
daily heads (``export_access_log_head``) somewhere the database's administrators cannot write,
and gives them here. A head whose entry has since been pruned is checked only for its age: the
database never lets an entry younger than a year be removed (migration 0002), so a missing entry
with a younger head was taken out by other means.
"""

import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access import chain
from access.management.commands.prune_access_log import MINIMUM_RETENTION_DAYS
from access.models import AccessEvent, AccessLogChain


class Command(BaseCommand):
    help = (
        "Kontrollerar åtkomstloggens hashkedja: ändrade, borttagna, infogade och "
        "bakåtdaterade poster."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--database",
            default=None,
            help="Databasen med åtkomstloggen (standard: ACCESS_LOG_DATABASE).",
        )
        parser.add_argument(
            "--heads",
            type=Path,
            help="Fil med exporterade kedjetoppar (export_access_log_head), en per rad.",
        )

    def handle(self, *args, heads: Path | None = None, **options):
        using = options["database"] or settings.ACCESS_LOG_DATABASE
        kept_heads = _read_heads(heads) if heads else []
        anchor = AccessLogChain.objects.using(using).filter(pk=1).first()
        problems_before = []
        if anchor is None:
            anchor = AccessLogChain(anchor_id=0, anchor_hash=chain.GENESIS_HASH)
            problems_before.append(
                chain.Problem(None, None, "kedjans ankare saknas: kontrollen börjar från början")
            )
        rows = (
            AccessEvent.objects.using(using)
            .order_by("id")
            .values_list("id", "prev_hash", "hash", *chain.BODY_COLUMNS)
            .iterator(chunk_size=5000)
        )
        report = chain.verify(
            rows,
            anchor_id=anchor.anchor_id,
            anchor_hash=anchor.anchor_hash,
            anchor_at=anchor.anchor_at,
            heads=kept_heads,
            now=timezone.now(),
            minimum_retention=datetime.timedelta(days=MINIMUM_RETENTION_DAYS),
        )
        problems = problems_before + report.problems
        for problem in problems:
            self.stdout.write(problem.line())
        span = (
            f"{report.entries} poster, id {report.first_id}–{report.last_id}"
            if report.entries
            else "inga poster"
        )
        start = f"efter post {anchor.anchor_id} (rensad)" if anchor.anchor_id else "från början"
        if problems:
            raise CommandError(
                f"Åtkomstloggen är inte intakt: {len(problems)} fel ({span}, kedjan {start})."
            )
        self.stdout.write(
            f"Åtkomstloggen är intakt: {span}, kedjan {start}; kedjans topp "
            f"{report.last_hash or anchor.anchor_hash}; "
            f"{len(kept_heads)} exporterade kedjetoppar kontrollerade."
        )


def _read_heads(path: Path) -> list[chain.Head]:
    heads = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            heads.append(chain.Head.parse(line))
        except ValueError as error:
            raise CommandError(
                f"{path}, rad {number}: väntade 'ÅÅÅÅ-MM-DD id hash', fick {line!r}."
            ) from error
    return heads
