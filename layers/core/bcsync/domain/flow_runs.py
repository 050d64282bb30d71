"""A person's way through a flow: its steps compiled to a short program, and the rules that move
a run along it (DESIGN.md, "Flows"; Klaviyo's semantics, literally).

- Flow filters are checked at entry, after every delay and before every action; a run whose
  person no longer qualifies leaves the flow there. `recheck` does the same the moment an event
  changes what the person did (a goal: an order ends an abandoned-cart run at once).
- A marketing action goes only to a `subscribed` person; smart sending skips (never reschedules)
  an action within its window of the person's last message on that channel. Skips are recorded.
- Re-entry: `always`, `once`, or once per period; at most one active run per (flow, person, entry
  key), the entry key being the trigger event's `source_id` (the cart) or the person.
- Every action has the dedup key `<run id>:<step>`: sent once, whatever is redelivered.
Pure: no clock, no I/O; the caller gives the time, the person's situation and what they were sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, Field

from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.flow_conditions import Situation, holds, qualifies
from bcsync.domain.flow_definitions import (
    WEEKDAYS,
    Action,
    ActionStep,
    Condition,
    DelayStep,
    Duration,
    Every,
    ExitStep,
    FlowDefinition,
    SplitStep,
    Step,
    UntilTime,
    Update,
    UpdateStep,
)
from bcsync.domain.flows import Flow, TriggerIntent, first_order_intent, profile_trigger
from bcsync.domain.profiles import Profile

SMART_SENDING_WINDOW = timedelta(hours=16)


# ---------------------------------------------------------------------- the program
@dataclass(frozen=True)
class Wait:
    delay: Duration | UntilTime


@dataclass(frozen=True)
class Send:
    action: Action


@dataclass(frozen=True)
class SetProperty:
    update: Update


@dataclass(frozen=True)
class Branch:
    """Go on when the condition holds, else jump to `otherwise`."""

    condition: Condition
    otherwise: int


@dataclass(frozen=True)
class Jump:
    target: int


@dataclass(frozen=True)
class End:
    pass


Instruction = Wait | Send | SetProperty | Branch | Jump | End


def compile_steps(steps: Sequence[Step]) -> tuple[Instruction, ...]:
    """Splits become a branch and a jump, so a run's place is one number; the program ends in End."""
    program: list[Instruction] = []

    def emit(block: Sequence[Step]) -> None:
        for step in block:
            if isinstance(step, DelayStep):
                program.append(Wait(step.delay))
            elif isinstance(step, ActionStep):
                program.append(Send(step.action))
            elif isinstance(step, UpdateStep):
                program.append(SetProperty(step.update))
            elif isinstance(step, ExitStep):
                program.append(End())
            elif isinstance(step, SplitStep):
                branch_at = len(program)
                program.append(End())  # replaced below, once the branch's end is known
                emit(step.split.then)
                jump_at = len(program)
                program.append(End())
                program[branch_at] = Branch(step.split.condition, otherwise=len(program))
                emit(step.split.otherwise)
                program[jump_at] = Jump(len(program))

    emit(steps)
    program.append(End())
    return tuple(program)


def flow_version(flow: FlowDefinition) -> str:
    """A run keeps to the definition it entered; a changed flow is a new version."""
    return hashlib.sha256(flow.model_dump_json().encode()).hexdigest()[:16]


# ---------------------------------------------------------------------- runs
class RunStatus(StrEnum):
    ACTIVE = "active"
    WAITING = "waiting"
    DONE = "done"
    EXITED = "exited"


class StepRecord(BaseModel):
    step: int
    at: datetime
    outcome: str  # sent | updated | waiting | skipped: smart sending | skipped: consent | exited: ...


class PendingAction(BaseModel):
    step: int
    action: Action

    def due(self, run_id: str) -> ActionDue:
        return ActionDue(run_id, self.step, self.action)


class FlowRun(BaseModel):
    run_id: str
    flow: str
    flow_version: str
    store_hash: str
    profile_id: str
    entry_key: str
    trigger_event_id: str | None
    entered_at: datetime
    step: int = 0
    status: RunStatus = RunStatus.ACTIVE
    wake_at: datetime | None = None
    exit_reason: str | None = None
    # Wake-ups that failed on this run (each retried at the next one) and the last fault's kind.
    errors: int = 0
    last_error: str | None = None
    history: list[StepRecord] = Field(default_factory=list)
    # Actions due and not yet sent: saved with the run's step, sent after it (an outbox).
    outbox: list[PendingAction] = Field(default_factory=list)
    revision: int = 0

    @property
    def active(self) -> bool:
        return self.status in (RunStatus.ACTIVE, RunStatus.WAITING)


def run_id(store_hash: str, flow: str, profile_id: str, basis: str) -> str:
    """Deterministic: the same trigger (event id, or a profile trigger's dedup key) makes the same
    run, so a duplicate trigger finds the run it already made."""
    digest = hashlib.sha256(f"{store_hash}|{flow}|{profile_id}|{basis}".encode()).hexdigest()
    return f"run_{digest[:24]}"


def may_enter(flow: FlowDefinition, entry_key: str, earlier: Sequence[FlowRun], now: datetime) -> bool:
    """`earlier`: this person's runs of this flow."""
    if any(run.active and run.entry_key == entry_key for run in earlier):
        return False
    if flow.reentry == "once":
        return not earlier
    if isinstance(flow.reentry, Every):
        window = flow.reentry.every.length
        return all(run.entered_at <= now - window for run in earlier)
    return True


@dataclass(frozen=True)
class ActionDue:
    """An action to put on the outbox, once: `dedup_key` is the (run, step)."""

    run_id: str
    step: int
    action: Action

    @property
    def dedup_key(self) -> str:
        return f"{self.run_id}:{self.step}"


@dataclass
class Advanced:
    run: FlowRun
    actions: list[ActionDue] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)


def advance(
    run: FlowRun,
    flow: FlowDefinition,
    program: Sequence[Instruction],
    situation: Situation,
    *,
    last_sent: Mapping[str, datetime],
    zone: tzinfo,
) -> Advanced:
    """Move the run as far as it goes now: to its next wait, or its end. A wake-up before its
    time moves nothing (a timer delivered early or twice)."""
    now = situation.now
    moved = Advanced(run.model_copy(deep=True))
    run = moved.run
    if not run.active or not _woken(moved, flow, situation):
        return moved
    sent = dict(last_sent)
    while run.status is RunStatus.ACTIVE:
        instruction = program[run.step]
        if isinstance(instruction, Wait):
            run.status, run.wake_at = RunStatus.WAITING, wake_time(instruction.delay, now, zone)
            run.history.append(StepRecord(step=run.step, at=now, outcome="waiting"))
        elif isinstance(instruction, Send):
            _act(moved, flow, instruction.action, situation, sent)
        elif isinstance(instruction, SetProperty):
            moved.updates.append(instruction.update)
            run.history.append(StepRecord(step=run.step, at=now, outcome="updated"))
            run.step += 1
        elif isinstance(instruction, Branch):
            run.step = run.step + 1 if holds(instruction.condition, situation) else instruction.otherwise
        elif isinstance(instruction, Jump):
            run.step = instruction.target
        else:
            run.status = RunStatus.DONE
    return moved


def _woken(moved: Advanced, flow: FlowDefinition, situation: Situation) -> bool:
    """A waiting run goes on past its wait when its time has come and its person still qualifies."""
    run = moved.run
    if run.status is not RunStatus.WAITING:
        return True
    if run.wake_at is None or situation.now < run.wake_at:
        return False
    run.status, run.wake_at = RunStatus.ACTIVE, None
    run.step += 1
    if not qualifies(flow, situation):
        _exit(moved, situation.now, "no longer qualifies")
        return False
    return True


def _act(
    moved: Advanced, flow: FlowDefinition, action: Action, situation: Situation, sent: dict[str, datetime]
) -> None:
    run = moved.run
    if not qualifies(flow, situation):
        _exit(moved, situation.now, "no longer qualifies")
        return
    outcome = _send_or_skip(flow, action, situation, sent)
    if outcome == "sent":
        moved.actions.append(ActionDue(run.run_id, run.step, action))
        run.outbox.append(PendingAction(step=run.step, action=action))
        sent[action.channel] = situation.now
    run.history.append(StepRecord(step=run.step, at=situation.now, outcome=outcome))
    run.step += 1


def recheck(run: FlowRun, flow: FlowDefinition, situation: Situation) -> FlowRun:
    """Something the person did may end the run now (a goal), not at its next step."""
    if not run.active or qualifies(flow, situation):
        return run
    return _exit(Advanced(run.model_copy(deep=True)), situation.now, "goal reached").run


def wake_time(delay: Duration | UntilTime, now: datetime, zone: tzinfo) -> datetime:
    if isinstance(delay, Duration):
        return now + delay.length
    hour, minute = (int(part) for part in delay.until.split(":"))
    local = now.astimezone(zone)
    for ahead in range(8):
        day = local + timedelta(days=ahead)
        candidate = day.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if candidate > local and WEEKDAYS[candidate.weekday()] in delay.weekdays:
            return candidate.astimezone(now.tzinfo)
    raise AssertionError("a week always holds one of the weekdays")  # weekdays is never empty


def _send_or_skip(flow: FlowDefinition, action: Action, situation: Situation, sent: Mapping[str, datetime]) -> str:
    if flow.kind == "transactional":
        return "sent"
    if situation.profile.consent.email_marketing != "subscribed":
        return "skipped: consent"
    last = sent.get(action.channel)
    if flow.smart_sending and last is not None and situation.now - last < SMART_SENDING_WINDOW:
        return "skipped: smart sending"
    return "sent"


def _exit(moved: Advanced, now: datetime, reason: str) -> Advanced:
    run = moved.run
    run.status, run.wake_at, run.exit_reason = RunStatus.EXITED, None, reason
    run.history.append(StepRecord(step=run.step, at=now, outcome=f"exited: {reason}"))
    return moved


def action_message(
    due: ActionDue,
    run: FlowRun,
    profile: Profile,
    event: MarketingEvent | None,
    *,
    unsubscribe_url: str | None,
    cart_recovery_url: str | None,
    click_token: str | None = None,
    feeds: Mapping[str, Sequence[FeedProduct]] | None = None,
) -> dict[str, Any]:
    """What the outbox queue carries (DESIGN.md): the flow, the step, the run, the person with their
    consent, the trigger event, and a context ready for a template (with the feeds the action
    names, when it names any)."""
    details = _items_of(event)
    message: dict[str, Any] = {
        "flow": run.flow,
        "step": due.step,
        "run_id": run.run_id,
        "dedup_key": due.dedup_key,
        "channel": due.action.channel,
        "template": due.action.template,
        "profile": {
            "id": profile.id,
            "email": profile.email,
            "consent": profile.consent.model_dump(mode="json"),
        },
        "event": event.export() if event else None,
        "context": {
            "items": [
                {
                    "name": item.get("Name"),
                    "image_url": item.get("ImageURL") or None,
                    "product_url": _clicked(item.get("ProductURL"), click_token),
                    "price": item.get("Price"),
                }
                for item in details
            ],
            "cart_recovery_url": cart_recovery_url,
            "unsubscribe_url": unsubscribe_url,
            # For the store links a template adds: `?_bc=` makes the visit a known browser's.
            "click_token": click_token,
        },
    }
    if feeds is not None:
        message["context"]["feeds"] = {
            name: [
                {
                    "product_id": item.product_id,
                    "name": item.name,
                    "image_url": item.image_url or None,
                    "product_url": _clicked(item.url, click_token),
                    "price": item.price,
                    "sale_price": item.sale_price,
                }
                for item in items
            ]
            for name, items in feeds.items()
        }
    return message


class FeedProduct(Protocol):
    """A feed's item as an action's context shows it (bcsync/usecases/feeds.py FeedItem)."""

    @property
    def product_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def image_url(self) -> str: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def sale_price(self) -> Decimal: ...


# How an action decision is exported (`bcsync actions export`, DESIGN.md): skipped, and why.
SKIP_REASONS = {
    "skipped: consent": "consent",
    "skipped: smart sending": "smart_sending",
    "exited: no longer qualifies": "filter",
    "exited: goal reached": "goal",
}


def action_decisions(run: FlowRun) -> list[dict[str, Any]]:
    """Each action the run sent or skipped, and where a filter or a goal ended it before its next
    action; waits, updates, splits and back-population's catch-up are not decisions."""
    decisions = []
    for record in run.history:
        if record.outcome != "sent" and record.outcome not in SKIP_REASONS:
            continue
        decisions.append(
            {
                "flow": run.flow,
                "step": record.step,
                "run_id": run.run_id,
                "profile_id": run.profile_id,
                "event_id": run.trigger_event_id,
                "status": "sent" if record.outcome == "sent" else "skipped",
                "reason": SKIP_REASONS.get(record.outcome),
                "at": record.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            }
        )
    return decisions


def _items_of(event: MarketingEvent | None) -> list[dict[str, Any]]:
    """An order's or a checkout's lines; a viewed product (Browse Abandonment) is its one item."""
    if event is None:
        return []
    if "Items Detail" in event.properties:
        return list(event.properties["Items Detail"])
    if event.metric == Metric.VIEWED_PRODUCT:
        viewed = event.properties
        return [
            {
                "Name": viewed.get("Name"),
                "ImageURL": viewed.get("ImageURL"),
                "ProductURL": viewed.get("URL"),
                "Price": viewed.get("Price"),
            }
        ]
    return []


def _clicked(url: str | None, token: str | None) -> str | None:
    """A product link that tells onsite tracking who followed it."""
    if not url or not token:
        return url or None
    return f"{url}{'&' if '?' in url else '?'}_bc={token}"


@dataclass
class FlowStatus:
    """What a flow has done, from its runs (`bcsync flows status`)."""

    active: int = 0
    done: int = 0
    sent: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    exited: dict[str, int] = field(default_factory=dict)
    # Failed wake-ups, and runs whose due actions are not sent yet (both retried every minute).
    errors: int = 0
    owed: int = 0


def flow_status(runs: Sequence[FlowRun]) -> dict[str, FlowStatus]:
    by_flow: dict[str, FlowStatus] = {}
    for run in runs:
        status = by_flow.setdefault(run.flow, FlowStatus())
        status.errors += run.errors
        status.owed += 1 if run.outbox else 0
        if run.active:
            status.active += 1
        elif run.status is RunStatus.DONE:
            status.done += 1
        else:
            reason = run.exit_reason or "unknown"
            status.exited[reason] = status.exited.get(reason, 0) + 1
        status.sent -= len(run.outbox)  # their steps are recorded as sent; the send is still owed
        for record in run.history:
            if record.outcome == "sent":
                status.sent += 1
            elif record.outcome.startswith("skipped: "):
                why = record.outcome.removeprefix("skipped: ")
                status.skipped[why] = status.skipped.get(why, 0) + 1
    return by_flow


def catch_up(
    run: FlowRun,
    flow: FlowDefinition,
    program: Sequence[Instruction],
    situation: Situation,
    *,
    last_sent: Mapping[str, datetime],
    zone: tzinfo,
) -> Advanced:
    """Back-population: a run entered in the past (`run.entered_at`), brought to where it would be
    now. Waits that have ended are passed; what came before the last of them is skipped (it would
    have been sent then); what comes after it is done now; a wait still running keeps its end."""
    now, at, step, start = situation.now, run.entered_at, 0, 0
    pending: datetime | None = None
    while not isinstance(program[step], End):
        instruction = program[step]
        if isinstance(instruction, Wait):
            ends = wake_time(instruction.delay, at, zone)
            if ends > now:
                pending = ends
                break
            at, step, start = ends, step + 1, step + 1
        elif isinstance(instruction, Branch):
            step = step + 1 if holds(instruction.condition, situation) else instruction.otherwise
        elif isinstance(instruction, Jump):
            step = instruction.target
        else:
            step += 1
    skipped = [
        StepRecord(step=n, at=now, outcome="skipped: back-population")
        for n in range(start)
        if isinstance(program[n], Send)
    ]
    placed = run.model_copy(update={"step": start, "history": skipped})
    moved = advance(placed, flow, program, situation, last_sent=last_sent, zone=zone)
    if moved.run.status is RunStatus.WAITING and pending is not None and moved.run.step == step:
        moved.run.wake_at = pending  # the wait began in the past: it ends when it would have
    return moved


def past_profile_trigger(profile: Profile, change: str) -> tuple[TriggerIntent, datetime | None] | None:
    """The trigger the live path promised (or would have) for a profile change, keyed as it was,
    and when the change happened as the profile records it (First Order: its event's time, which
    the caller reads); None when the person never made that change."""
    if change == "subscribed":
        if profile.consent.email_marketing != "subscribed" or not profile.subscribed_at:
            return None
        intent = profile_trigger(Flow.WELCOME_SERIES, profile.store_hash, profile.id, profile.subscribed_at)
        return intent, datetime.fromisoformat(profile.subscribed_at)
    if change == "account_created":
        if not profile.external_id:
            return None
        episode = f"customer:{profile.external_id}"
        intent = profile_trigger(Flow.NEW_CUSTOMER, profile.store_hash, profile.id, episode)
        created = profile.account_created_at
        return intent, datetime.fromisoformat(created) if created else None
    if change == "first_order" and profile.first_order_event_id:
        return first_order_intent(profile.store_hash, profile.id, profile.first_order_event_id), None
    return None
