"""What the read API and the console show: profiles with their identities, timelines paged by
cursor, metric snapshots and daily series from the counters, and each store's sync status.

Every answer is a few key reads or one query, whatever the number of events: snapshots and series
read the counters, never the events. The models here are the API's answers and its OpenAPI
document's schemas.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field, PlainSerializer

from bcsync.domain.counters import days_back, is_utc
from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.profiles import Profile, normalize_email
from bcsync.domain.refusals import Refusal, Refused
from bcsync.domain.sync import BackfillState, DayCount, ReconcileState, RunReport, SyncControl
from bcsync.usecases.ports import JobQueue, ProfileRepository, StoreDirectory

SNAPSHOT_DAYS = 30
MAX_SERIES_DAYS = 366
MAX_PAGE = 100
MAX_CHECK_DAYS = 90
STORES_CACHE_SECONDS = 300.0


# ---------------------------------------------------------------------- answers
# Values are JSON numbers, as in the event exports (pydantic would write Decimal as a string).
Money = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class Identity(BaseModel):
    kind: Literal["email", "customer", "subscriber"]
    value: str


class ProfileView(BaseModel):
    profile: dict[str, Any] = Field(description="The profile as `bcsync profiles export` writes it")
    identities: list[Identity]


class EventsPage(BaseModel):
    events: list[dict[str, Any]] = Field(description="Newest first, as `bcsync events export` writes them")
    next: str | None = Field(description="Pass as `before` for the next page; null on the last")


class Amount(BaseModel):
    count: int
    value: Money


class MetricSnapshot(BaseModel):
    metric: str
    last_30_days: Amount
    all_time: Amount


class Snapshot(BaseModel):
    profile_id: str
    days: int = SNAPSHOT_DAYS
    through: str = Field(description="The last day counted, in the store's timezone")
    metrics: list[MetricSnapshot]


class MetricTotal(BaseModel):
    metric: str
    all_time: Amount


class SeriesDay(BaseModel):
    day: str
    count: int
    value: Money


class Series(BaseModel):
    metric: str
    timezone: str
    days: list[SeriesDay]


class RunView(BaseModel):
    started_at: datetime
    finished_at: datetime | None
    read: int
    drift: int = Field(description="Events the run created: what webhooks had missed")
    created: dict[str, int]
    requests: int
    error: str | None


class BackfillView(BaseModel):
    status: str
    done: int
    total: int
    requests: int
    started_at: datetime
    updated_at: datetime
    error: str | None


class WebhooksView(BaseModel):
    checked_at: datetime
    destination: str | None
    active: int
    total: int
    problem: str | None


class CountCheck(BaseModel):
    day: str
    bigcommerce: int = Field(description="Orders BigCommerce says were created that day in placed statuses")
    bcsync: int = Field(description="Placed Order events bcsync holds for that day")
    matches: bool


class SyncStatus(BaseModel):
    store: str
    sync_enabled: bool
    last_reconcile: RunView | None
    reconcile_running: bool
    backfill: BackfillView | None
    webhooks: WebhooksView | None


# ---------------------------------------------------------------------- ports
class Counted(Protocol):
    @property
    def metric(self) -> str: ...
    @property
    def day(self) -> str | None: ...
    @property
    def count(self) -> int: ...
    @property
    def value(self) -> Decimal: ...


class CounterReader(Protocol):
    def person(self, store_hash: str, profile_id: str, *, first_day: str) -> Sequence[Counted]: ...
    def series(
        self, store_hash: str, metric: str, first_day: str, last_day: str, *, utc: bool
    ) -> Sequence[Counted]: ...
    def totals(self, store_hash: str) -> Sequence[Counted]: ...


class TimelineReader(Protocol):
    def timeline_page(
        self, store_hash: str, profile_id: str, *, before: str | None, limit: int, metric: str | None
    ) -> tuple[list[MarketingEvent], str | None]: ...


class SyncStateReader(Protocol):
    def control(self, store_hash: str) -> SyncControl: ...
    def update_control(self, store_hash: str, **changes: object) -> SyncControl: ...
    def reconcile(self, store_hash: str) -> ReconcileState: ...
    def backfill(self, store_hash: str) -> BackfillState | None: ...


# ---------------------------------------------------------------------- the use case
class ReadModel:
    def __init__(
        self,
        profiles: ProfileRepository,
        timeline: TimelineReader,
        counters: CounterReader,
        sync_state: SyncStateReader,
        *,
        jobs: JobQueue,
        stores: StoreDirectory,
        zone_of: Callable[[str], tzinfo],
        now: Callable[[], datetime],
        daily_counts: Callable[[str, int, datetime], Sequence[DayCount]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`daily_counts(store, days, now)`: BigCommerce's placed orders per day against ours."""
        self._profiles = profiles
        self._timeline = timeline
        self._counters = counters
        self._sync_state = sync_state
        self._jobs = jobs
        self._stores = stores
        self._zone_of = zone_of
        self._now = now
        self._daily_counts = daily_counts
        self._clock = clock
        self._known_stores: tuple[float, frozenset[str]] = (float("-inf"), frozenset())

    def store(self, named: str | None) -> str:
        """The store a request is about: the one named, or the stack's only store."""
        stores = self._store_hashes()
        if named:
            if named not in stores:
                raise Refused(Refusal.UNKNOWN, f"unknown store {named}")
            return named
        if len(stores) != 1:
            raise Refused(Refusal.INVALID, f"name the store with ?store= (this stack has {len(stores)})")
        return next(iter(stores))

    # ------------------------------------------------------------------ profiles
    def profile_by_email(self, store_hash: str, email: str) -> ProfileView:
        address = normalize_email(email)
        if not address:
            raise Refused(Refusal.INVALID, "email: not an email address")
        profile_id = self._profiles.find(store_hash, "email", address)
        if profile_id is None:
            raise Refused(Refusal.UNKNOWN, "no profile with that email")
        return self.profile(store_hash, profile_id)

    def profile(self, store_hash: str, profile_id: str) -> ProfileView:
        profile = self._existing(store_hash, profile_id)
        return ProfileView(profile=profile.export(), identities=_identities(profile))

    def events(
        self, store_hash: str, profile_id: str, *, metric: str | None, before: str | None, limit: int
    ) -> EventsPage:
        if not 1 <= limit <= MAX_PAGE:
            raise Refused(Refusal.INVALID, f"limit: between 1 and {MAX_PAGE}")
        profile = self._existing(store_hash, profile_id)
        events, last = self._timeline.timeline_page(
            store_hash, profile.id, before=_decoded(before), limit=limit, metric=metric
        )
        return EventsPage(events=[event.export() for event in events], next=_encoded(last) if last else None)

    def snapshot(self, store_hash: str, profile_id: str) -> Snapshot:
        """One query of the person's counters; only a person with none (no events yet, an id a
        merge retired, no such person) costs a read of the profile too."""
        window = days_back(self._today(store_hash), SNAPSHOT_DAYS)
        counted_rows = self._counters.person(store_hash, profile_id, first_day=window[0])
        if not counted_rows:
            profile_id = self._existing(store_hash, profile_id).id
            counted_rows = self._counters.person(store_hash, profile_id, first_day=window[0])
        recent: dict[str, Amount] = {}
        total: dict[str, Amount] = {}
        for counted in counted_rows:
            into = total if counted.day is None else recent
            held = into.setdefault(counted.metric, Amount(count=0, value=Decimal(0)))
            held.count, held.value = held.count + counted.count, held.value + counted.value
        metrics = [
            MetricSnapshot(
                metric=metric,
                last_30_days=recent.get(metric, Amount(count=0, value=Decimal(0))),
                all_time=total.get(metric, Amount(count=0, value=Decimal(0))),
            )
            for metric in _metric_names(total)
        ]
        return Snapshot(profile_id=profile_id, through=window[-1], metrics=metrics)

    # ------------------------------------------------------------------ metrics
    def metrics(self, store_hash: str) -> list[MetricTotal]:
        totals = {c.metric: Amount(count=c.count, value=c.value) for c in self._counters.totals(store_hash)}
        return [
            MetricTotal(metric=metric, all_time=totals.get(metric, Amount(count=0, value=Decimal(0))))
            for metric in _metric_names(totals)
        ]

    def series(self, store_hash: str, metric: str, *, days: int, tz: Literal["store", "utc"]) -> Series:
        if not 1 <= days <= MAX_SERIES_DAYS:
            raise Refused(Refusal.INVALID, f"days: between 1 and {MAX_SERIES_DAYS}")
        ours = metric in {m.value for m in Metric}  # another (an imported one) must have been counted
        if not ours and metric not in {c.metric for c in self._counters.totals(store_hash)}:
            raise Refused(Refusal.UNKNOWN, f"unknown metric {metric}")
        zone = self._zone_of(store_hash)
        utc = tz == "utc" and not is_utc(zone)
        shown_zone = "UTC" if tz == "utc" or is_utc(zone) else str(zone)
        today = self._now().astimezone(zone if tz == "store" else UTC).date()
        window = days_back(today, days)
        found = {c.day: c for c in self._counters.series(store_hash, metric, window[0], window[-1], utc=utc)}
        points = [
            SeriesDay(day=day, count=found[day].count, value=found[day].value)
            if day in found
            else SeriesDay(day=day, count=0, value=Decimal(0))
            for day in window
        ]
        return Series(metric=metric, timezone=shown_zone, days=points)

    # ------------------------------------------------------------------ sync
    def sync_status(self, store_hash: str) -> SyncStatus:
        control = self._sync_state.control(store_hash)
        reconcile = self._sync_state.reconcile(store_hash)
        backfill = self._sync_state.backfill(store_hash)
        hooks = reconcile.hooks
        return SyncStatus(
            store=store_hash,
            sync_enabled=control.enabled,
            last_reconcile=_run_view(reconcile.last_finished),
            reconcile_running=reconcile.running,
            backfill=None
            if backfill is None
            else BackfillView(
                status=backfill.status,
                done=backfill.progress[0],
                total=backfill.progress[1],
                requests=backfill.requests,
                started_at=backfill.started_at,
                updated_at=backfill.updated_at,
                error=backfill.error,
            ),
            webhooks=None
            if hooks is None
            else WebhooksView(
                checked_at=hooks.checked_at,
                destination=hooks.destination,
                active=sum(1 for hook in hooks.hooks if hook.is_active),
                total=len(hooks.hooks),
                problem=hooks.problem,
            ),
        )

    def count_checks(self, store_hash: str, *, days: int) -> list[CountCheck]:
        """`bcsync verify-counts` for the console: each day's placed orders, BigCommerce's against ours."""
        if not 1 <= days <= MAX_CHECK_DAYS:
            raise Refused(Refusal.INVALID, f"days: between 1 and {MAX_CHECK_DAYS}")
        if self._daily_counts is None:
            raise Refused(Refusal.UNKNOWN, "daily counts are not served here")
        rows = self._daily_counts(store_hash, days, self._now())
        return [
            CountCheck(day=row.day.isoformat(), bigcommerce=row.bigcommerce, bcsync=row.bcsync, matches=row.matches)
            for row in rows
        ]

    def sync_now(self, store_hash: str) -> None:
        self._jobs.enqueue(store_hash, "reconcile", dedup=f"api:{self._now().isoformat()}")

    def set_sync(self, store_hash: str, *, enabled: bool) -> SyncStatus:
        self._sync_state.update_control(store_hash, enabled=enabled)
        return self.sync_status(store_hash)

    # ------------------------------------------------------------------ helpers
    def _existing(self, store_hash: str, profile_id: str) -> Profile:
        """The profile (an id a merge retired finds its survivor), or 404."""
        profile = self._profiles.get(store_hash, profile_id)
        if profile is None:
            raise Refused(Refusal.UNKNOWN, "no such profile")
        return profile

    def _today(self, store_hash: str) -> date:
        return self._now().astimezone(self._zone_of(store_hash)).date()

    def _store_hashes(self) -> frozenset[str]:
        read_at, stores = self._known_stores
        if self._clock() - read_at >= STORES_CACHE_SECONDS or not stores:
            stores = frozenset(self._stores.store_hashes())
            self._known_stores = (self._clock(), stores)
        return stores


def _identities(profile: Profile) -> list[Identity]:
    emails = sorted({*(profile.aliases or []), *([profile.email] if profile.email else [])})
    identities = [Identity(kind="email", value=email) for email in emails]
    if profile.external_id:
        identities.append(Identity(kind="customer", value=profile.external_id))
    identities += [Identity(kind="subscriber", value=str(sid)) for sid in profile.subscriber_ids]
    return identities


def _metric_names(found: dict[str, Any]) -> list[str]:
    """bcsync's metrics in their order, then any other the store has (imported ones)."""
    ours = [metric.value for metric in Metric]
    return ours + sorted(name for name in found if name not in ours)


def _run_view(run: RunReport | None) -> RunView | None:
    if run is None:
        return None
    return RunView(
        started_at=run.started_at,
        finished_at=run.finished_at,
        read=sum(run.seen.values()),
        drift=run.drift,
        created=run.created,
        requests=run.requests,
        error=run.error,
    )


def _encoded(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def _decoded(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        position = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position = ""
    if "#" not in position:
        raise Refused(Refusal.INVALID, "before: not a cursor this API gave")
    return position
