"""Switching platforms, the pure part: another platform's history (a Klaviyo-style metric CSV, or
JSON lines) read row by row, its metrics and property keys mapped onto bcsync's, each row checked,
and the event a good row becomes: `backfill: true` (no flow starts), `source: import`, and an id
from the source platform and its own event id, so importing a file twice changes nothing.

CSV cells are text; a cell holding a JSON array, object, number, `true`/`false` or a quoted string
is read as that value (Klaviyo writes lists as JSON arrays), anything else stays the text. The
export writes cells the same way, so a file bcsync wrote reads back as it was.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bcsync.domain.events import MarketingEvent, Metric, event_id, iso_utc
from bcsync.domain.profiles import normalize_email

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# A clock a little ahead of ours is not a row from the future.
CLOCK_SKEW = timedelta(minutes=5)
TIMESTAMP, EMAIL, EXTERNAL_ID, VALUE, CURRENCY, EVENT_ID = (
    "Timestamp",
    "Email",
    "External ID",
    "$value",
    "Currency",
    "$event_id",
)
CSV_COLUMNS = (TIMESTAMP, EMAIL, EXTERNAL_ID, VALUE, CURRENCY, EVENT_ID)
ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An event is one DynamoDB item (400 KB at most), written in a transaction with others: a row
# too large to store is refused alone rather than failing its batch.
MAX_PROPERTIES_CHARS = 64 * 1024
NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")

Format = Literal["csv", "jsonl"]


class ImportFileInvalid(ValueError):
    """The whole file cannot be read (no header, no metric name, a bad map): nothing is imported."""


class ImportMap(BaseModel):
    """`--map FILE` (YAML): the source's name (part of every imported id), its metrics' bcsync
    names, and per bcsync metric the property keys to rename (`$value`: the event's value)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(default="import", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    metrics: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, dict[str, str]] = Field(default_factory=dict)

    def metric_for(self, name: str) -> Metric | str:
        mapped = self.metrics.get(name, name)
        try:
            return Metric(mapped)
        except ValueError:
            return mapped  # a custom metric, under its own (or its mapped) name


# ---------------------------------------------------------------------- rows as the file has them
@dataclass(frozen=True)
class SourceRow:
    line: int
    metric: str
    time: object
    email: str
    external_id: str
    value: object
    currency: str
    source_id: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def decode_cell(text: str) -> Any:
    """A CSV cell's value (see the module's note); an empty cell is no value (None)."""
    if text == "":
        return None
    if text[0] in '[{"' or text in ("true", "false") or NUMBER.match(text):
        try:
            return json.loads(text, parse_float=Decimal)
        except ValueError:
            return text
    return text


def encode_cell(value: Any) -> str:
    """The cell `decode_cell` reads back as `value`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return json.dumps(value) if value == "" or decode_cell(value) != value else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)).normalize(), "f")
    return json.dumps(value, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def read_csv(lines: Iterable[str], metric: str | None) -> Iterator[SourceRow | RowProblem]:
    """One metric a file: `metric` names it (`--metric`, or the map's only metric)."""
    if not metric:
        raise ImportFileInvalid("a CSV holds one metric: name it with --metric NAME (or one metric in the map)")
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileInvalid("the file is empty") from None
    except csv.Error as error:
        raise ImportFileInvalid(f"line 1: {error}") from None
    header = [name.strip().lstrip("\ufeff") for name in header]
    if TIMESTAMP not in header or not {EMAIL, EXTERNAL_ID} & set(header):
        raise ImportFileInvalid(f"the header needs {TIMESTAMP} and {EMAIL} (or {EXTERNAL_ID}); it has {header[:8]}")
    if len(set(header)) != len(header):
        raise ImportFileInvalid("the header names a column twice")
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowProblem(reader.line_num, f"not CSV ({error})")
            continue
        if not cells:
            continue
        if len(cells) != len(header):
            yield RowProblem(reader.line_num, f"{len(cells)} cells for {len(header)} columns")
            continue
        row = dict(zip(header, cells, strict=True))
        properties = {
            name: value
            for name, cell in row.items()
            if name and name not in CSV_COLUMNS and (value := decode_cell(cell)) is not None
        }
        yield SourceRow(
            line=reader.line_num,
            metric=metric,
            time=row[TIMESTAMP],
            email=row.get(EMAIL, ""),
            external_id=row.get(EXTERNAL_ID, ""),
            value=row.get(VALUE, ""),
            currency=row.get(CURRENCY, ""),
            source_id=row.get(EVENT_ID, ""),
            properties=properties,
        )


def read_jsonl(lines: Iterable[str]) -> Iterator[SourceRow | RowProblem]:
    """`{"metric", "time", "email", "external_id", "value", "currency", "source_id", "properties"}`."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text, parse_float=Decimal)
        except ValueError:
            yield RowProblem(number, "not JSON")
            continue
        if not isinstance(record, dict):
            yield RowProblem(number, "not a JSON object")
            continue
        metric, properties = record.get("metric"), record.get("properties") or {}
        if not isinstance(metric, str) or not metric.strip():
            yield RowProblem(number, "metric: a name is required")
            continue
        if not isinstance(properties, dict):
            yield RowProblem(number, "properties: must be an object")
            continue
        yield SourceRow(
            line=number,
            metric=metric,
            time=record.get("time"),
            email=_text(record.get("email")),
            external_id=_text(record.get("external_id")),
            value=record.get("value"),
            currency=_text(record.get("currency")),
            source_id=_text(record.get("source_id")),
            properties={key: value for key, value in properties.items() if value is not None},
        )


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


# ---------------------------------------------------------------------- checked rows
@dataclass(frozen=True)
class ImportRow:
    """A good row, mapped: what it becomes once its person is known."""

    line: int
    metric: Metric | str
    original_metric: str
    time: datetime
    email: str | None
    external_id: str | None
    value: Decimal
    currency: str
    source_id: str
    properties: dict[str, Any]

    def event(self, store_hash: str, source: str, profile_id: str | None) -> MarketingEvent:
        return MarketingEvent(
            id=event_id(store_hash, self.metric, f"import:{source}:{self.source_id}"),
            store_hash=store_hash,
            metric=self.metric,
            profile_id=profile_id,
            time=self.time,
            value=self.value,
            currency=self.currency,
            properties=self.properties,
            source="import",
            source_id=self.source_id,
            backfill=True,
            original_metric=self.original_metric,
        )


def check(row: SourceRow, mapping: ImportMap, now: datetime) -> ImportRow | RowProblem:
    """The row as bcsync will keep it, or why it is refused (the rest of the file goes on)."""
    time = _time(row.time)
    problem = _why_not(row, time, now)
    if problem or time is None:
        return RowProblem(row.line, problem or "time: missing")
    metric = mapping.metric_for(row.metric.strip())
    value, properties = _value(row.value), dict(row.properties)
    for key, target in mapping.properties.get(str(metric), {}).items():
        if key not in properties:
            continue
        moved = properties.pop(key)
        if target == VALUE:
            value = _value(moved)
        else:
            properties[target] = moved
    if value is None:
        return RowProblem(row.line, "value: not a number")
    email = normalize_email(row.email)
    time = _time(row.time)
    assert time is not None  # checked above
    source_id = row.source_id.strip() or _digest(
        str(metric), email or f"external:{row.external_id}", time, value, properties
    )
    return ImportRow(
        line=row.line,
        metric=metric,
        original_metric=row.metric.strip(),
        time=time,
        email=email,
        external_id=row.external_id.strip() or None,
        value=value,
        currency=row.currency.strip().upper(),
        source_id=source_id,
        properties=properties,
    )


def _why_not(row: SourceRow, time: datetime | None, now: datetime) -> str | None:
    if len(row.metric) > 128:
        return "metric: at most 128 characters"
    if time is None:
        return "time: not a date and time (ISO 8601, or YYYY-MM-DD HH:MM:SS in UTC)"
    if not EARLIEST <= time <= now + CLOCK_SKEW:
        return f"time: {iso_utc(time)} is not between 2000 and now"
    email, external = row.email.strip(), row.external_id.strip()
    if email and (len(email) > 254 or not ADDRESS.match(email)):
        return "email: not an email address"
    if not email and not external:
        return "email: required (or an external id)"
    if row.currency.strip() and not re.fullmatch(r"[A-Za-z]{3}", row.currency.strip()):
        return "currency: a three-letter code"
    if len(row.source_id) > 256:
        return "event id: at most 256 characters"
    if any(not isinstance(key, str) or not key.strip() for key in row.properties):
        return "properties: a key is empty"
    if len(json.dumps(row.properties, default=str)) > MAX_PROPERTIES_CHARS:
        return f"properties: larger than {MAX_PROPERTIES_CHARS // 1024} KB"
    return None


def _time(value: object) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _value(value: object) -> Decimal | None:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _digest(metric: str, person: str, time: datetime, value: Decimal, properties: Mapping[str, Any]) -> str:
    """An id for a row its platform gave none: the same row always gets the same one."""
    basis = json.dumps(
        [metric, person, iso_utc(time), format(value.normalize(), "f"), properties],
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:32]


# ---------------------------------------------------------------------- the export's layout
def csv_header(property_names: Iterable[str]) -> list[str]:
    return [*CSV_COLUMNS, *sorted(name for name in property_names if name not in CSV_COLUMNS)]


def csv_cells(event: MarketingEvent, email: str | None, external_id: str | None, header: list[str]) -> list[str]:
    """An event as a row of `bcsync events export --format csv`; `$event_id` is the id the import
    will key it by (an imported event keeps the id its platform gave it)."""
    standard = {
        TIMESTAMP: iso_utc(event.time),
        EMAIL: email or "",
        EXTERNAL_ID: external_id or "",
        VALUE: encode_cell(event.value),
        CURRENCY: event.currency,
        EVENT_ID: event.source_id if event.source == "import" else event.id,
    }
    return [standard[name] if name in standard else encode_cell(event.properties.get(name)) for name in header]
