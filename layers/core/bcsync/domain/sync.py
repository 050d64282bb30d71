"""Reconciliation and backfill bookkeeping: which window to poll, where a pass stands, what the
store's hooks need, and how daily counts compare. Pure: the use cases read and save these.

A pass over a stream covers a window of BigCommerce's timestamps that ends in the past, so rows
can leave it (a modification moves `date_modified` beyond the end, a deletion) but never enter
it. That is what lets a saved cursor resume without loss:
- orders are read in id order from `min_id` (keyset), which nothing can shift;
- v3 collections are read by page; when their reported total shrinks between two pages, rows
  before the cursor left and the unread ones moved up, so the cursor steps back over them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bcsync.domain.bigcommerce import Hook
from bcsync.domain.stores import HANDLED_SCOPES, Family

# BigCommerce retries a failing hook for about 48 hours, then deactivates it.
HOOK_RETRY_SPAN = timedelta(hours=48)


class Stream(StrEnum):
    """In the order a pass runs them: the catalog first, so orders find their items cached."""

    PRODUCTS = "products"
    CUSTOMERS = "customers"
    SUBSCRIBERS = "subscribers"
    ORDERS = "orders"  # with their refunds


STREAMS: tuple[Stream, ...] = tuple(Stream)
STREAM_FAMILY: dict[Stream, Family] = {
    Stream.PRODUCTS: Family.CATALOG,
    Stream.CUSTOMERS: Family.CUSTOMERS,
    Stream.SUBSCRIBERS: Family.SUBSCRIBERS,
    Stream.ORDERS: Family.ORDERS,
}


class Window(BaseModel):
    """[start, end] of `field`; no start means from the beginning of the store."""

    model_config = ConfigDict(frozen=True)

    start: datetime | None
    end: datetime
    field: Literal["modified", "created"] = "modified"

    def covers(self, moment: datetime | None) -> bool:
        return moment is not None and (self.start is None or moment >= self.start) and moment <= self.end


class StreamCursor(BaseModel):
    """Where a pass over one stream stands; saved after every page that was fully recorded."""

    stream: Stream
    window: Window
    after_id: int = 0  # orders: the last id recorded
    page: int = 1  # v3 collections: the next page to read
    total: int | None = None  # v3 collections: the total the last page reported
    done: int = 0


def step_back_after_shrink(cursor: StreamCursor, total: int, page_size: int) -> int:
    """The page to read next when the collection's total fell from `cursor.total` to `total`.

    `shrunk` rows left from somewhere before the unread ones at worst, so the first unread row is
    now at position (read - shrunk + 1) or later; re-reading from there repeats some recorded
    rows (harmless: recording is idempotent) and skips none.
    """
    if cursor.total is None or total >= cursor.total:
        return cursor.page
    read = (cursor.page - 1) * page_size
    shrunk = cursor.total - total
    return max(1, (read - shrunk) // page_size + 1)


def reconcile_window(
    watermark: datetime | None,
    *,
    now: datetime,
    overlap: timedelta,
    first_lookback: timedelta,
    reopen_from: datetime | None = None,
) -> Window:
    """From the watermark minus the overlap (BigCommerce stamps a change a little before it is
    visible), or `first_lookback` on a first run, widened back to an outage's start; up to now."""
    start = watermark - overlap if watermark else now - first_lookback
    if reopen_from is not None and reopen_from < start:
        start = reopen_from
    return Window(start=start, end=now)


# ---------------------------------------------------------------------- state the jobs keep
class SyncControl(BaseModel):
    """What an operator sets per store: `bcsync sync on|off`, the hooks' destination, a stop."""

    enabled: bool = True
    destination: str | None = None
    backfill_stop_requested: bool = False


class RunReport(BaseModel):
    started_at: datetime
    finished_at: datetime | None = None
    created: dict[str, int] = Field(default_factory=dict)  # new events per stream: the drift
    seen: dict[str, int] = Field(default_factory=dict)  # records read per stream
    requests: int = 0
    error: str | None = None
    failed_at: datetime | None = None

    @property
    def drift(self) -> int:
        return sum(self.created.values())


class HookHealth(BaseModel):
    checked_at: datetime
    destination: str | None
    hooks: list[Hook] = Field(default_factory=list)
    created: list[str] = Field(default_factory=list)
    reenabled: list[str] = Field(default_factory=list)
    problem: str | None = None


class StreamProgress(BaseModel):
    """Where a resumable job stands: the streams it has left, and the cursor in the first one."""

    pending: list[Stream] = Field(default_factory=list)
    cursor: StreamCursor | None = None


class ReconcileState(StreamProgress):
    watermarks: dict[Stream, datetime] = Field(default_factory=dict)
    reopen_from: dict[Stream, datetime] = Field(default_factory=dict)
    windows: dict[Stream, Window] = Field(default_factory=dict)  # the current run's windows
    run: RunReport | None = None  # the current or the last run
    last_finished: RunReport | None = None
    hooks: HookHealth | None = None

    @property
    def running(self) -> bool:
        return bool(self.pending)


BackfillStatus = Literal["running", "stopped", "done"]


class BackfillState(StreamProgress):
    status: BackfillStatus
    since: datetime | None
    until: datetime
    started_at: datetime
    updated_at: datetime
    pending: list[Stream] = Field(default_factory=lambda: list(STREAMS))
    totals: dict[str, int] = Field(default_factory=dict)
    done: dict[str, int] = Field(default_factory=dict)
    created: dict[str, int] = Field(default_factory=dict)
    requests: int = 0
    error: str | None = None

    def window_for(self, stream: Stream) -> Window:
        """Orders since `since` by creation (history); the catalog, customers and subscribers
        whole (they are current state, which orders and flows need whatever their age)."""
        if stream is Stream.ORDERS:
            return Window(start=self.since, end=self.until, field="created")
        return Window(start=None, end=self.until, field="created")

    @property
    def progress(self) -> tuple[int, int]:
        return sum(self.done.values()), sum(self.totals.values())


# ---------------------------------------------------------------------- webhook health
def hook_destination(base: str, family: Family) -> str:
    return f"{base.rstrip('/')}/webhooks/{family.value}"


def infer_destination(hooks: list[Hook]) -> str | None:
    """The base URL of hooks bcsync registered earlier (they end in /webhooks/<family>)."""
    for hook in hooks:
        for family in Family:
            suffix = f"/webhooks/{family.value}"
            if hook.destination.endswith(suffix):
                return hook.destination.removesuffix(suffix)
    return None


class HookPlan(BaseModel):
    create: list[tuple[str, str]] = Field(default_factory=list)  # (scope, destination)
    reenable: list[Hook] = Field(default_factory=list)
    outage_since: dict[Family, datetime] = Field(default_factory=dict)


def plan_hooks(hooks: list[Hook], destination: str, *, now: datetime) -> HookPlan:
    """Every scope bcsync handles needs an active hook to its family's route. A deactivated one
    failed for ~48 h before BigCommerce gave up: its family's outage began that long before."""
    plan = HookPlan()
    for family, scopes in HANDLED_SCOPES.items():
        target = hook_destination(destination, family)
        ours = {hook.scope: hook for hook in hooks if hook.destination == target}
        for scope in sorted(scopes):
            hook = ours.get(scope)
            if hook is None:
                plan.create.append((scope, target))
            elif not hook.is_active:
                plan.reenable.append(hook)
                began = (hook.updated_at or now) - HOOK_RETRY_SPAN
                if family not in plan.outage_since or began < plan.outage_since[family]:
                    plan.outage_since[family] = began
    return plan


# ---------------------------------------------------------------------- daily counts
class DayCount(BaseModel):
    day: date
    bigcommerce: int
    bcsync: int

    @property
    def matches(self) -> bool:
        return self.bigcommerce == self.bcsync


def store_days(days: int, *, zone: tzinfo, now: datetime) -> list[tuple[date, datetime, datetime]]:
    """The last `days` days up to today in the store's timezone, oldest first, each with its
    start and end (end exclusive)."""
    today = now.astimezone(zone).date()
    spans = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        spans.append((day, start, end))
    return spans


def day_of(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


# ---------------------------------------------------------------------- imports (bcsync import events)
class ImportProgress(BaseModel):
    """Saved after each batch, so an import stopped part-way resumes after `lines_done`."""

    file: str
    lines_done: int = 0
    imported: int = 0
    already_there: int = 0
    problems: int = 0
    by_metric: dict[str, int] = Field(default_factory=dict)
    status: Literal["running", "done"] = "running"
    started_at: str
    updated_at: str
