"""The flow runner: people enter the store's flows, their runs move on when a wait ends or when
something they do ends them (a goal), and each action due is sent once.

Order of work, as the profiles' outbox: a run's new state is saved with the actions it owes
(conditionally: on its id when new, on its revision after), then the actions are put on the
action queue with their `<run id>:<step>` dedup keys, then cleared from the run. A crash in
between leaves them owed; whoever next moves or checks the run sends them again, which the FIFO
queue drops inside its deduplication window and consumers can drop by `dedup_key` after it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Protocol

from bcsync.domain.events import MarketingEvent
from bcsync.domain.flow_conditions import Situation, qualifies, trigger_accepts
from bcsync.domain.flow_definitions import FeedRef, FlowDefinition, MetricTrigger, ProfileTrigger, Update
from bcsync.domain.flow_runs import (
    ActionDue,
    FeedProduct,
    FlowRun,
    RunStatus,
    StepRecord,
    action_message,
    advance,
    catch_up,
    compile_steps,
    flow_version,
    may_enter,
    past_profile_trigger,
    recheck,
    run_id,
)
from bcsync.domain.flows import Flow, TriggerIntent
from bcsync.domain.profiles import Profile, activity_counts, touched
from bcsync.observability import flow_metric, logger
from bcsync.usecases.clock import utc_now
from bcsync.usecases.ports import (
    ActionPublisher,
    EventLookup,
    FlowLibrary,
    Known,
    RunStore,
    StoreHistory,
)
from bcsync.usecases.profiles import ProfileBook


class ActionFeeds(Protocol):
    """The product feeds an action names (bcsync/usecases/feeds.py)."""

    def for_action(
        self, store_hash: str, profile_id: str, event: MarketingEvent | None, feeds: Sequence[FeedRef]
    ) -> Mapping[str, Sequence[FeedProduct]]: ...


# The profile changes bcsync promises a trigger for, as a flow file names them.
PROFILE_TRIGGERS = {
    Flow.WELCOME_SERIES: "subscribed",
    Flow.NEW_CUSTOMER: "account_created",
    Flow.FIRST_ORDER: "first_order",
}
WAKE_BATCH = 100
# Pages of due runs one wake-up takes: 1,000 runs a store a minute before wake-ups lag.
WAKE_PAGES = 10
# Applied flows are read at most this often per store and process: a change takes effect within it.
FLOWS_CACHE_SECONDS = 60.0


class FlowRunner:
    def __init__(
        self,
        library: FlowLibrary,
        runs: RunStore,
        profiles: ProfileBook,
        events: EventLookup,
        publisher: ActionPublisher,
        *,
        zone_of: Callable[[str], tzinfo],
        unsubscribe_link: Callable[[Profile, datetime], str | None],
        recovery_link: Callable[[MarketingEvent | None, datetime], str | None],
        click_token: Callable[[Profile, datetime], str | None] = lambda profile, now: None,
        feeds: ActionFeeds | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`feeds`: fills the product feeds an action names (none: an action naming feeds
        carries empty lists)."""
        self._feeds = feeds
        self._unsubscribe_link = unsubscribe_link
        self._recovery_link = recovery_link
        self._click_token = click_token
        self._clock = clock
        self._cached: dict[str, tuple[float, dict[str, FlowDefinition]]] = {}
        self._library = library
        self._runs = runs
        self._profiles = profiles
        self._events = events
        self._publisher = publisher
        self._zone_of = zone_of

    # ------------------------------------------------------------------ what starts and stops runs
    def on_event(self, event: MarketingEvent, now: datetime) -> list[FlowRun]:
        """A live event: it may end the person's runs (a goal), then start new ones."""
        if event.backfill or event.profile_id is None:
            return []
        flows = self._flows(event.store_hash)
        profile = self._profiles.current(event.store_hash, event.profile_id, _nothing_read())
        if not flows or profile is None:
            return []
        earlier = self._runs.runs_of(event.store_hash, profile.id)
        self._recheck(earlier, flows, profile, now)
        entered = []
        for flow in flows.values():
            if isinstance(flow.trigger, MetricTrigger) and trigger_accepts(flow.trigger, event):
                run = self._enter(
                    flow, profile, event, entry_key=event.source_id, basis=event.id, earlier=earlier, now=now
                )
                entered += [run] if run else []
        return entered

    def on_profile_trigger(self, intent: TriggerIntent, now: datetime) -> list[FlowRun]:
        """A profile change bcsync promised a trigger for (subscribed, account created, first order)."""
        change = PROFILE_TRIGGERS.get(intent.flow)
        flows = self._flows(intent.store_hash)
        profile = self._profiles.current(intent.store_hash, intent.profile_id, _nothing_read())
        if change is None or not flows or profile is None:
            return []
        earlier = self._runs.runs_of(intent.store_hash, profile.id)
        event = self._events.events([intent.event_id]).get(intent.event_id) if intent.event_id else None
        entered = []
        for flow in flows.values():
            if isinstance(flow.trigger, ProfileTrigger) and flow.trigger.profile == change:
                run = self._enter(
                    flow, profile, event, entry_key=profile.id, basis=intent.dedup_key, earlier=earlier, now=now
                )
                entered += [run] if run else []
        return entered

    def wake(self, store_hash: str, now: datetime) -> int:
        """Move on every run whose wait has ended, and send what any run still owes (its send
        failed after its step was saved); how many moved or sent. One run's fault is logged and
        left for the next wake-up, never in the way of the others."""
        flows = self._flows(store_hash)
        moved, seen = 0, set()
        for _ in range(WAKE_PAGES):
            batch = [run for run in self._runs.due(store_hash, now, WAKE_BATCH) if run.run_id not in seen]
            for run in batch:
                seen.add(run.run_id)
                try:
                    moved += self._wake_one(run, flows.get(run.flow), now)
                except Exception as fault:
                    logger.exception(
                        "flow run could not move; retried at the next wake-up", extra={"run_id": run.run_id}
                    )
                    flow_metric("FlowRunErrors", run.flow)
                    self._note_error(run, fault)
            if not batch:
                break  # nothing due that this wake-up has not seen (a failing run is not retried here)
        return moved

    def _note_error(self, run: FlowRun, fault: Exception) -> None:
        """Count the failure on the run for `flows status`; best effort: a run saved since it was
        read (a fault already counted where it happened), or a store that is down, is left as is."""
        noted = run.model_copy(update={"errors": run.errors + 1, "last_error": type(fault).__name__})
        try:
            self._runs.save(noted, previous=run)
        except Exception:
            logger.warning("flow run error not recorded", extra={"run_id": run.run_id})

    def _wake_one(self, run: FlowRun, flow: FlowDefinition | None, now: datetime) -> int:
        profile = self._profiles.current(run.store_hash, run.profile_id, _nothing_read())
        if profile is None or flow is None or flow_version(flow) != run.flow_version:
            reason = "profile erased" if profile is None else "flow removed" if flow is None else "flow changed"
            self._end(run, now, reason)
            return 1
        event = self._trigger_event(run)
        if run.outbox:
            run = self._deliver(run, profile, event, now)
        after = advance(
            run,
            flow,
            compile_steps(flow.steps),
            self._situation(profile, event, run, now),
            last_sent=_LastSent(self._runs, run.store_hash, profile.id),
            zone=self._zone_of(run.store_hash),
        )
        if after.run == run:
            return 1 if not run.outbox else 0
        saved = self._runs.save(after.run, previous=run)
        if saved is None:
            return 0  # another wake-up moved it first
        self._apply_updates(profile, after.updates)
        self._deliver(saved, profile, event, now)
        return 1

    # ------------------------------------------------------------------ back-population
    def backpopulate(
        self,
        store_hash: str,
        flow_name: str,
        history: StoreHistory,
        *,
        since: datetime | None,
        now: datetime,
        dry_run: bool,
    ) -> Counter[str]:
        """Past qualifying people enter at the step they would be at now, measured from their
        latest trigger since `since` (backfilled history included): for a metric flow, their
        latest accepted event; for a profile-change flow, the change as the profile records it.
        Counts by where they enter. A run's id is the live trigger's, so running this twice, or a
        live trigger after it, enters and sends nothing twice."""
        flow = self._flows(store_hash).get(flow_name)
        if flow is None:
            raise UnknownFlow(f"no flow named {flow_name!r} applied to {store_hash}")
        program = compile_steps(flow.steps)
        where: Counter[str] = Counter()
        for past in self._past_entries(store_hash, flow, history, since):
            profile, event = past.profile, past.event
            mine = [run for run in self._runs.runs_of(store_hash, profile.id) if run.flow == flow.name]
            situation = Situation(profile, event, activity_counts(profile), now, flow_started_at=past.at)
            if not may_enter(flow, past.entry_key, mine, now) or not qualifies(flow, situation):
                where["not qualifying now"] += 1
                continue
            started = self._new_run(
                flow, profile, event, entry_key=past.entry_key, basis=past.basis, entered_at=past.at
            )
            moved = catch_up(
                started,
                flow,
                program,
                situation,
                last_sent=_LastSent(self._runs, store_hash, profile.id),
                zone=self._zone_of(store_hash),
            )
            where[_position(moved.run)] += 1
            if dry_run:
                continue
            created = self._runs.create(moved.run)
            if created is not None:
                self._apply_updates(profile, moved.updates)
                self._deliver(created, profile, event, now)
        return where

    def _past_entries(
        self, store_hash: str, flow: FlowDefinition, history: StoreHistory, since: datetime | None
    ) -> Iterator[PastEntry]:
        if isinstance(flow.trigger, MetricTrigger):
            return self._past_metric_entries(store_hash, flow.trigger, history, since)
        return self._past_profile_entries(store_hash, flow.trigger.profile, history, since)

    def _past_metric_entries(
        self, store_hash: str, trigger: MetricTrigger, history: StoreHistory, since: datetime | None
    ) -> Iterator[PastEntry]:
        """Each person's latest event of the metric that the trigger's filters accept."""
        latest: dict[str, MarketingEvent] = {}
        for event in history.events_of(store_hash, trigger.metric, since):
            person = event.profile_id
            newest = person is not None and (person not in latest or event.time > latest[person].time)
            if newest and person and trigger_accepts(trigger, event):
                latest[person] = event
        for profile_id, event in sorted(latest.items()):
            profile = self._profiles.current(store_hash, profile_id, _nothing_read())
            if profile is not None:
                yield PastEntry(profile, event, event.source_id, event.id, event.time)

    def _past_profile_entries(
        self, store_hash: str, change: str, history: StoreHistory, since: datetime | None
    ) -> Iterator[PastEntry]:
        """Each person who made the change, as their profile records it (a scan of the store's)."""
        for profile in history.profiles_of(store_hash):
            found = past_profile_trigger(profile, change)
            if found is None:
                continue
            intent, recorded_at = found
            event = self._events.events([intent.event_id]).get(intent.event_id) if intent.event_id else None
            at = event.time if event is not None else recorded_at
            if at is not None and (since is None or at >= since):
                yield PastEntry(profile, event, profile.id, intent.dedup_key, at)

    # ------------------------------------------------------------------ the steps of the work
    def _enter(
        self,
        flow: FlowDefinition,
        profile: Profile,
        event: MarketingEvent | None,
        *,
        entry_key: str,
        basis: str,
        earlier: list[FlowRun],
        now: datetime,
    ) -> FlowRun | None:
        store_hash = profile.store_hash
        mine = [run for run in earlier if run.flow == flow.name]
        # A person enters when the trigger happened (an event's time; a profile change when it is
        # promised): "since starting this flow" counts what they did after that, even when the
        # event reached us late. The waits count from now: nothing is sent early for a late event.
        entered_at = min(event.time, now) if event is not None and isinstance(flow.trigger, MetricTrigger) else now
        situation = Situation(profile, event, activity_counts(profile), now, flow_started_at=entered_at)
        if not may_enter(flow, entry_key, mine, now) or not qualifies(flow, situation):
            return None
        started = self._new_run(flow, profile, event, entry_key=entry_key, basis=basis, entered_at=entered_at)
        after = advance(
            started,
            flow,
            compile_steps(flow.steps),
            situation,
            last_sent=_LastSent(self._runs, store_hash, profile.id),
            zone=self._zone_of(store_hash),
        )
        created = self._runs.create(after.run)
        if created is None:
            return None  # a duplicate trigger: its run exists
        flow_metric("FlowRunsStarted", flow.name)
        self._apply_updates(profile, after.updates)
        return self._deliver(created, profile, event, now)

    @staticmethod
    def _new_run(
        flow: FlowDefinition,
        profile: Profile,
        event: MarketingEvent | None,
        *,
        entry_key: str,
        basis: str,
        entered_at: datetime,
    ) -> FlowRun:
        return FlowRun(
            run_id=run_id(profile.store_hash, flow.name, profile.id, basis),
            flow=flow.name,
            flow_version=flow_version(flow),
            store_hash=profile.store_hash,
            profile_id=profile.id,
            entry_key=entry_key,
            trigger_event_id=event.id if event else None,
            entered_at=entered_at,
        )

    def _recheck(self, runs: list[FlowRun], flows: dict[str, FlowDefinition], profile: Profile, now: datetime) -> None:
        for run in runs:
            flow = flows.get(run.flow)
            if not run.active or flow is None:
                continue
            checked = recheck(run, flow, self._situation(profile, None, run, now))
            if checked is not run and self._runs.save(checked, previous=run) is not None:
                flow_metric("FlowGoalExits", run.flow)
                logger.info("flow run ended by a goal", extra={"flow": run.flow, "run_id": run.run_id})

    def _deliver(self, run: FlowRun, profile: Profile, event: MarketingEvent | None, now: datetime) -> FlowRun:
        """Send what the run owes, then clear it from the run."""
        if not run.outbox:
            return run
        owed = [pending.due(run.run_id) for pending in run.outbox]
        links = {
            "unsubscribe_url": self._unsubscribe_link(profile, now),
            "cart_recovery_url": self._recovery_link(event, now),
            "click_token": self._click_token(profile, now),
        }
        messages = [
            (
                due.dedup_key,
                action_message(due, run, profile, event, feeds=self._feeds_of(due, profile, event), **links),
            )
            for due in owed
        ]
        try:
            self._publisher.publish(messages)
        except Exception as fault:
            self._note_error(run, fault)  # the run as saved: its step taken, its actions owed
            raise
        flow_metric("FlowActionsSent", run.flow, len(owed))
        sent: dict[str, datetime] = {due.action.channel: now for due in owed}  # smart sending, same write
        cleared = self._runs.save(run.model_copy(update={"outbox": []}), previous=run, sent=sent)
        return cleared or run

    def _feeds_of(
        self, due: ActionDue, profile: Profile, event: MarketingEvent | None
    ) -> Mapping[str, Sequence[FeedProduct]] | None:
        named = due.action.feeds
        if not named:
            return None
        if self._feeds is None:
            return {ref.name.value: [] for ref in named}
        return self._feeds.for_action(profile.store_hash, profile.id, event, named)

    def _end(self, run: FlowRun, now: datetime, reason: str) -> None:
        ended = run.model_copy(deep=True)
        ended.status, ended.wake_at, ended.exit_reason = RunStatus.EXITED, None, reason
        ended.history.append(StepRecord(step=run.step, at=now, outcome=f"exited: {reason}"))
        self._runs.save(ended, previous=run)

    def _apply_updates(self, profile: Profile, updates: list[Update]) -> None:
        if not updates:
            return

        def edit(current: Profile | None) -> Profile | None:
            if current is None:
                return None
            updated = current.model_copy(deep=True)
            updated.properties = {**updated.properties, **{u.property: u.value for u in updates}}
            return touched(current, updated, utc_now())

        self._profiles.change(profile.store_hash, profile.id, edit)

    def _situation(self, profile: Profile, event: MarketingEvent | None, run: FlowRun, now: datetime) -> Situation:
        return Situation(profile, event, activity_counts(profile), now, flow_started_at=run.entered_at)

    def _trigger_event(self, run: FlowRun) -> MarketingEvent | None:
        if run.trigger_event_id is None:
            return None
        return self._events.events([run.trigger_event_id]).get(run.trigger_event_id)

    def _flows(self, store_hash: str) -> dict[str, FlowDefinition]:
        """The store's applied flows, read at most once a minute; a store with none is asked
        every time, so the first flows applied act on the very next event."""
        read_at, flows = self._cached.get(store_hash, (float("-inf"), {}))
        if self._clock() - read_at >= FLOWS_CACHE_SECONDS:
            applied = self._library.flows(store_hash)
            flows = {flow.name: flow for flow in applied.flows} if applied else {}
            if flows:
                self._cached[store_hash] = (self._clock(), flows)
        return flows


def _nothing_read() -> Known:
    return Known()


class UnknownFlow(Exception):
    """The flow named is not applied to the store."""


@dataclass(frozen=True)
class PastEntry:
    """Where back-population finds a person's trigger: the live path's entry key and run basis,
    and when it happened."""

    profile: Profile
    event: MarketingEvent | None
    entry_key: str
    basis: str
    at: datetime


def _position(run: FlowRun) -> str:
    if run.status is RunStatus.WAITING and run.wake_at is not None:
        return f"waiting at step {run.step}"
    return "done (its steps due now)" if run.status is RunStatus.DONE else str(run.status.value)


class _LastSent(Mapping[str, datetime]):
    """The person's last sends, read only if a step asks (most steps are waits)."""

    def __init__(self, runs: RunStore, store_hash: str, profile_id: str) -> None:
        self._runs, self._store_hash, self._profile_id = runs, store_hash, profile_id
        self._read: dict[str, datetime] | None = None

    def _all(self) -> dict[str, datetime]:
        if self._read is None:
            self._read = self._runs.last_sent(self._store_hash, self._profile_id)
        return self._read

    def __getitem__(self, channel: str) -> datetime:
        return self._all()[channel]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())
