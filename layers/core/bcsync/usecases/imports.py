"""Importing another platform's history (`bcsync import events`): good rows are recorded a batch
at a time through the recorder every event goes through (identity, the profile's activity, the
counters; `backfill`, so no flow starts), bad rows are reported with their line and skipped, and
progress is saved after each batch so a stopped import resumes where it was.

People are matched by email, then by external id (a BigCommerce customer id bcsync already knows):
a row with neither an email nor a known customer is reported, never guessed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from bcsync.domain.events import MarketingEvent
from bcsync.domain.imports import ImportMap, ImportRow, RowProblem, SourceRow, check
from bcsync.domain.profiles import Profile, blank_profile, fill_gaps
from bcsync.domain.sync import ImportProgress
from bcsync.usecases.clock import utc_moment, utc_now
from bcsync.usecases.ports import ImportProgressStore, ProfileRepository
from bcsync.usecases.recording import EventRecorder, Sighting

# Rows a batch: one read of their people and events, then transactions of up to 100 items.
BATCH_ROWS = 250


@dataclass
class ImportReport:
    imported: int = 0
    already_there: int = 0
    problems: int = 0
    by_metric: Counter[str] = field(default_factory=Counter)
    lines_done: int = 0
    resumed_after: int = 0


@dataclass
class Preview:
    """What `--dry-run` prints: the good rows per bcsync metric, and the problems."""

    by_metric: Counter[str] = field(default_factory=Counter)
    problems: int = 0
    first_problems: list[RowProblem] = field(default_factory=list)


def preview(rows: Iterable[SourceRow | RowProblem], mapping: ImportMap, now: datetime, *, keep: int = 10) -> Preview:
    seen = Preview()
    for row in rows:
        checked = row if isinstance(row, RowProblem) else check(row, mapping, now)
        if isinstance(checked, RowProblem):
            seen.problems += 1
            if len(seen.first_problems) < keep:
                seen.first_problems.append(checked)
        else:
            seen.by_metric[_label(checked)] += 1
    return seen


def _label(row: ImportRow) -> str:
    name = str(row.metric)
    return name if name == row.original_metric else f"{name} (from {row.original_metric})"


class HistoryImport:
    def __init__(self, recorder: EventRecorder, repository: ProfileRepository, progress: ImportProgressStore) -> None:
        self._recorder = recorder
        self._repository = repository
        self._progress = progress

    def run(
        self,
        store_hash: str,
        rows: Iterable[SourceRow | RowProblem],
        mapping: ImportMap,
        *,
        key: str,
        file: str,
        on_problem: Callable[[RowProblem], None] = lambda problem: None,
        on_batch: Callable[[ImportReport], None] = lambda report: None,
    ) -> ImportReport:
        """Import the rows after the saved progress of `key` (the file); a finished import is
        read again whole (each event once still: the second run finds them all there)."""
        now = utc_now()
        saved = self._progress.import_progress(store_hash, key)
        if saved is None or saved.status == "done":
            saved = ImportProgress(file=file, started_at=now, updated_at=now)
        report = ImportReport(
            imported=saved.imported,
            already_there=saved.already_there,
            problems=saved.problems,
            by_metric=Counter(saved.by_metric),
            lines_done=saved.lines_done,
            resumed_after=saved.lines_done,
        )
        pending = (row for row in rows if row.line > saved.lines_done)
        for batch in _batches(pending, BATCH_ROWS):
            self._import_batch(store_hash, batch, mapping, report, on_problem)
            report.lines_done = batch[-1].line
            self._save(store_hash, key, saved, report, "running")
            on_batch(report)
        self._save(store_hash, key, saved, report, "done")
        return report

    def _import_batch(
        self,
        store_hash: str,
        batch: list[SourceRow | RowProblem],
        mapping: ImportMap,
        report: ImportReport,
        on_problem: Callable[[RowProblem], None],
    ) -> None:
        now = utc_moment()
        sightings: list[Sighting] = []
        recorded: list[ImportRow] = []
        for row in batch:
            checked = row if isinstance(row, RowProblem) else check(row, mapping, now)
            sighting = checked if isinstance(checked, RowProblem) else self._sighting(store_hash, checked, mapping)
            if isinstance(sighting, RowProblem):
                report.problems += 1
                on_problem(sighting)
            elif isinstance(checked, ImportRow):
                sightings.append(sighting)
                recorded.append(checked)
        for good, result in zip(recorded, self._recorder.record_many(sightings), strict=True):
            report.imported += result.new_events
            report.already_there += result.events - result.new_events
            report.by_metric[str(good.metric)] += 1

    def _sighting(self, store_hash: str, row: ImportRow, mapping: ImportMap) -> Sighting | RowProblem:
        def events(profile_id: str | None) -> list[MarketingEvent]:
            # Asked with None first, for the ids to look up: an id never depends on the person.
            return [row.event(store_hash, mapping.source, profile_id)]

        if row.email:
            email = row.email

            def named(profile: Profile | None, profile_id: str) -> Profile:
                return fill_gaps(
                    profile, email=email, properties={}, profile_id=profile_id, store_hash=store_hash, now=utc_now()
                )

            return Sighting(store_hash, None, email, events, named, source=f"import:line:{row.line}")
        external = row.external_id or ""
        known = external.isdigit() and self._repository.find(store_hash, "customer", external)
        if not known:
            return RowProblem(row.line, f"external id {external}: no customer bcsync knows (give an email)")

        def kept(profile: Profile | None, profile_id: str) -> Profile:
            return profile or blank_profile(profile_id, store_hash, utc_now())

        return Sighting(store_hash, int(external), None, events, kept, source=f"import:line:{row.line}")

    def _save(self, store_hash: str, key: str, saved: ImportProgress, report: ImportReport, status: str) -> None:
        progress = saved.model_copy(
            update={
                "lines_done": report.lines_done,
                "imported": report.imported,
                "already_there": report.already_there,
                "problems": report.problems,
                "by_metric": dict(report.by_metric),
                "status": status,
                "updated_at": utc_now(),
            }
        )
        self._progress.save_import_progress(store_hash, key, progress)


def _batches(rows: Iterator[SourceRow | RowProblem], size: int) -> Iterator[list[SourceRow | RowProblem]]:
    while batch := list(islice(rows, size)):
        yield batch
