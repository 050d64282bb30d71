"""`bcsync import events` and `bcsync events export --format csv`: another platform's history in,
and ours out in the same Klaviyo-style layout (a file bcsync wrote reads back as it was)."""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml
from pydantic import ValidationError

from bcsync.domain.imports import (
    Format,
    ImportFileInvalid,
    ImportMap,
    RowProblem,
    SourceRow,
    csv_cells,
    csv_header,
    read_csv,
    read_jsonl,
)
from bcsync_ops.terminal import progress_bar

if TYPE_CHECKING:
    from bcsync.usecases.imports import ImportReport
    from bcsync_ops.operations import StackHandle
    from bcsync_ops.stack_reader import StackReader

# Bytes of the file's start and end that (with its size and the options) name it for resuming.
FINGERPRINT_BYTES = 1 << 20


def load_map(path: str | None) -> ImportMap:
    if not path:
        return ImportMap()
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
        return ImportMap.model_validate(data)
    except (OSError, yaml.YAMLError) as error:
        raise ImportFileInvalid(f"the map {path}: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ImportFileInvalid(f"the map {path}: {where}: {first['msg']}") from None


class SourceFile:
    """The file being imported: read a line at a time (constant memory), with how far it got."""

    def __init__(self, path: Path, form: Format, metric: str | None) -> None:
        self.path, self.form, self.metric = path, form, metric
        self.size = path.stat().st_size
        self.position = 0

    @classmethod
    def open(cls, name: str, form: str | None, metric: str | None, mapping: ImportMap) -> SourceFile:
        path = Path(name)
        if not path.is_file():
            raise ImportFileInvalid(f"no such file: {name}")
        chosen: Format = (
            "jsonl" if (form or "") == "jsonl" or (not form and path.suffix in (".jsonl", ".ndjson")) else "csv"
        )
        if chosen == "csv" and not metric and len(mapping.metrics) == 1:
            metric = next(iter(mapping.metrics))  # the map's only metric names the file's
        return cls(path, chosen, metric)

    def rows(self) -> Iterator[SourceRow | RowProblem]:
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            lines = self._counted(handle)
            yield from read_csv(lines, self.metric) if self.form == "csv" else read_jsonl(lines)

    def _counted(self, handle: TextIO) -> Iterator[str]:
        for line in handle:
            self.position += len(line)
            yield line

    def fingerprint(self, mapping: ImportMap) -> str:
        """The same file with the same options resumes; any change starts afresh."""
        digest = hashlib.sha256(f"{self.form}|{self.metric}|{mapping.model_dump_json()}|{self.size}".encode())
        with self.path.open("rb") as handle:
            digest.update(handle.read(FINGERPRINT_BYTES))
            handle.seek(max(0, self.size - FINGERPRINT_BYTES))
            digest.update(handle.read(FINGERPRINT_BYTES))
        return digest.hexdigest()[:32]


def import_events(stack: StackHandle | None, args: Any, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """0 when every row was imported (or already there), 1 when some were refused (the rest were
    imported), 2 when the file or the map cannot be read (nothing was)."""
    try:
        mapping = load_map(args.map)
        source = SourceFile.open(args.file, args.format, args.metric, mapping)
        if args.dry_run:
            return _dry_run(source, mapping, out)
        assert stack is not None
        return _import(stack, source, mapping, out, err)
    except ImportFileInvalid as error:
        print(f"bcsync import: {error}", file=err)
        return 2


def _dry_run(source: SourceFile, mapping: ImportMap, out: TextIO) -> int:
    from bcsync.usecases.clock import utc_moment
    from bcsync.usecases.imports import preview

    seen = preview(source.rows(), mapping, utc_moment())
    out.write(f"dry run of {source.path.name} ({source.form}, source {mapping.source}): nothing written\n")
    for metric, count in sorted(seen.by_metric.items()):
        out.write(f"  {metric}: {count} rows would be imported\n")
    out.write(f"  rows refused: {seen.problems}\n")
    for problem in seen.first_problems:
        out.write(f"    {problem}\n")
    return 1 if seen.problems else 0


def _import(stack: StackHandle, source: SourceFile, mapping: ImportMap, out: TextIO, err: TextIO) -> int:
    importer = stack.container.history_import
    with progress_bar(err, counted=False) as bar:

        def progress(report: ImportReport) -> None:
            bar.update(source.position, source.size, f"line {report.lines_done}: {report.imported} imported")

        def refused(problem: RowProblem) -> None:
            bar.say(str(problem))

        report = importer.run(
            stack.store_hash,
            source.rows(),
            mapping,
            key=source.fingerprint(mapping),
            file=source.path.name,
            on_problem=refused,
            on_batch=progress,
        )
    if report.resumed_after:
        out.write(f"resumed after line {report.resumed_after}\n")
    out.write(
        f"imported {source.path.name} into {stack.store_hash}: {report.imported} new events, "
        f"{report.already_there} already there, {report.problems} rows refused; no flow started\n"
    )
    for metric, count in sorted(report.by_metric.items()):
        out.write(f"  {metric}: {count}\n")
    return 1 if report.problems else 0


# ---------------------------------------------------------------------- export
def export_csv(stack: StackReader, store_hash: str | None, metric: str, out: TextIO) -> int:
    """One metric's events, oldest first, in the layout `bcsync import events` reads."""
    people = {profile.id: profile for profile in stack.profiles()}
    events = sorted(
        (
            event
            for event in stack.events()
            if str(event.metric) == metric and (store_hash is None or event.store_hash == store_hash)
        ),
        key=lambda event: (event.time, event.id),
    )
    header = csv_header({name for event in events for name in event.properties})
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for event in events:
        person = people.get(event.profile_id or "")
        writer.writerow(
            csv_cells(event, person.email if person else None, person.external_id if person else None, header)
        )
    return len(events)
