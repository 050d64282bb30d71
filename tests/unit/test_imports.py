"""Importing history, the pure part: reading CSV and JSON lines, cells, the map, each row's checks,
imported events' ids, and the export's layout reading back as it was written."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.imports import (
    ImportFileInvalid,
    ImportMap,
    ImportRow,
    RowProblem,
    SourceRow,
    check,
    csv_cells,
    csv_header,
    decode_cell,
    encode_cell,
    read_csv,
    read_jsonl,
)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SHOPIFY = ImportMap(
    source="shopify",
    metrics={"Placed Order (Shopify)": "Placed Order"},
    properties={"Placed Order": {"Total": "$value", "Line Items": "Items"}},
)


def rows(text: str, metric: str | None = "Placed Order (Shopify)") -> list[SourceRow | RowProblem]:
    return list(read_csv(io.StringIO(text), metric))


def good(row: SourceRow, mapping: ImportMap = SHOPIFY) -> ImportRow:
    checked = check(row, mapping, NOW)
    assert isinstance(checked, ImportRow), checked
    return checked


def test_a_klaviyo_style_csv_is_one_metric_with_every_other_column_a_property():
    text = (
        "Timestamp,Email,$value,Currency,$event_id,Line Items,Total,Zip\n"
        '2024-02-11 09:14:03,Grace@Example.org,58.00,usd,4101,"[""Linen Shirt"",""Tote""]",61.5,02139\n'
    )
    [row] = rows(text)
    assert isinstance(row, SourceRow) and row.line == 2
    assert row.properties == {"Line Items": ["Linen Shirt", "Tote"], "Total": Decimal("61.5"), "Zip": "02139"}
    imported = good(row)
    assert imported.metric is Metric.PLACED_ORDER and imported.original_metric == "Placed Order (Shopify)"
    assert imported.value == Decimal("61.5")  # the map's `Total: $value` wins over the $value column
    assert imported.properties == {"Items": ["Linen Shirt", "Tote"], "Zip": "02139"}
    assert (imported.email, imported.currency) == ("grace@example.org", "USD")
    assert imported.time == datetime(2024, 2, 11, 9, 14, 3, tzinfo=UTC)  # no zone: UTC
    event = imported.event("sandbox", "shopify", "prof_1")
    assert event.id == "sandbox:placed-order:import:shopify:4101" and event.source_id == "4101"
    assert (event.backfill, event.source, event.original_metric) == (True, "import", "Placed Order (Shopify)")


def test_a_file_that_cannot_be_read_is_refused_whole():
    with pytest.raises(ImportFileInvalid, match="--metric"):
        rows("Timestamp,Email\n", metric=None)
    with pytest.raises(ImportFileInvalid, match="header needs"):
        rows("When,Who\n2024-01-01,a@b.co\n")
    with pytest.raises(ImportFileInvalid, match="empty"):
        rows("")
    with pytest.raises(ImportFileInvalid, match="twice"):
        rows("Timestamp,Email,Email\n")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("2024-01-01 00:00:00,not-an-address,1,USD,a", "email: not an email address"),
        ("2024-01-01 00:00:00,,1,USD,a", "email: required (or an external id)"),
        ("yesterday,a@example.com,1,USD,a", "time: not a date and time"),
        ("1999-12-31 23:59:59,a@example.com,1,USD,a", "is not between 2000 and now"),
        ("2027-01-01 00:00:00,a@example.com,1,USD,a", "is not between 2000 and now"),
        ("2024-01-01 00:00:00,a@example.com,twelve,USD,a", "value: not a number"),
        ("2024-01-01 00:00:00,a@example.com,NaN,USD,a", "value: not a number"),
        ("2024-01-01 00:00:00,a@example.com,1,dollars,a", "currency: a three-letter code"),
        ("2024-01-01 00:00:00,a@example.com,1,USD", "4 cells for 5 columns"),
    ],
)
def test_each_bad_row_says_its_line_and_why(line: str, reason: str):
    [row] = rows("Timestamp,Email,$value,Currency,$event_id\n" + line + "\n")
    problem = row if isinstance(row, RowProblem) else check(row, SHOPIFY, NOW)
    assert isinstance(problem, RowProblem) and problem.line == 2 and reason in problem.reason
    assert str(problem).startswith("line 2: ")


def test_a_row_without_an_event_id_gets_the_same_digest_each_time_and_differs_by_any_fact():
    header = "Timestamp,Email,$value,Color\n"
    first = good(rows(header + "2024-01-01 00:00:00,a@example.com,5,red\n")[0])  # type: ignore[arg-type]
    again = good(rows(header + "2024-01-01T00:00:00Z,A@example.com,5.0,red\n")[0])  # type: ignore[arg-type]
    other = good(rows(header + "2024-01-01 00:00:00,a@example.com,5,blue\n")[0])  # type: ignore[arg-type]
    assert first.source_id.startswith("sha256:") and first.source_id == again.source_id != other.source_id


def test_unmapped_metrics_keep_their_own_name_and_json_lines_carry_native_values():
    text = (
        '{"metric": "Opened Email", "time": "2024-06-01T10:00:00Z", "email": "g@example.org", '
        '"source_id": "ev-1", "properties": {"Subject": "Linen", "Opens": 2}}\n'
        "\n"
        "not json\n"
        '{"metric": "", "time": "2024-06-01T10:00:00Z", "email": "g@example.org"}\n'
        '{"metric": "Placed Order", "time": 1717236000, "external_id": "7", "value": 12.5}\n'
    )
    opened, broken, nameless, placed = read_jsonl(io.StringIO(text))
    assert (broken, nameless) == (RowProblem(3, "not JSON"), RowProblem(4, "metric: a name is required"))
    custom = good(opened, ImportMap())  # type: ignore[arg-type]
    assert custom.metric == "Opened Email" and not isinstance(custom.metric, Metric)
    assert custom.event("s", "import", "p").id == "s:opened-email:import:import:ev-1"
    assert custom.properties == {"Subject": "Linen", "Opens": 2}
    by_account = good(placed, ImportMap())  # type: ignore[arg-type]
    assert (by_account.email, by_account.external_id, by_account.value) == (None, "7", Decimal("12.5"))
    assert by_account.time == datetime(2024, 6, 1, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "",
        "12345",
        "02139",
        "true",
        "[not json",
        '"quoted"',
        0,
        12,
        Decimal("12.50"),
        True,
        ["a", 1],
        {"k": "v"},
    ],
)
def test_every_property_value_survives_its_csv_cell(value: object):
    decoded = decode_cell(encode_cell(value))
    assert decoded == value
    assert type(decoded) is type(value) or isinstance(value, Decimal)  # 12.50 reads back as 12.5


def test_the_export_layout_reads_back_as_the_same_rows():
    events = [
        MarketingEvent(
            id="sandbox:placed-order:order:1",
            store_hash="sandbox",
            metric=Metric.PLACED_ORDER,
            profile_id="p1",
            time=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
            value=Decimal("40.5"),
            currency="USD",
            properties={"Items": ["Linen Shirt"], "Item Count": 1, "Coupons": [], "Discounted": False, "Note": "7"},
            source_id="order:1",
        ),
        MarketingEvent(
            id="sandbox:placed-order:import:shopify:4101",
            store_hash="sandbox",
            metric=Metric.PLACED_ORDER,
            profile_id="p2",
            time=datetime(2024, 2, 11, 9, 14, 3, tzinfo=UTC),
            value=Decimal(58),
            currency="USD",
            properties={"Items": ["Tote"]},
            source="import",
            source_id="4101",
            backfill=True,
        ),
    ]
    header = csv_header({name for event in events for name in event.properties})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerow(csv_cells(events[0], "ada@example.com", "7", header))
    writer.writerow(csv_cells(events[1], "grace@example.org", None, header))
    native, imported = (good(row, ImportMap()) for row in rows(out.getvalue(), "Placed Order"))  # type: ignore[arg-type]
    assert native.source_id == events[0].id and imported.source_id == "4101"  # an imported event keeps its own id
    for row, event in ((native, events[0]), (imported, events[1])):
        assert (row.time, row.value, row.currency, row.properties) == (
            event.time,
            event.value,
            event.currency,
            event.properties,
        )
    assert (native.email, native.external_id) == ("ada@example.com", "7")
