"""Flow definitions: what an operator's flow file says, validated to the field (DESIGN.md, "Flows").

A flow has a trigger (a metric, with trigger filters on its event, or a profile change), flow
filters (re-checked before every action and after every delay), steps (delay, action, split,
update, exit), a re-entry rule, smart sending and a kind. Every object takes exactly the keys
written in DESIGN.md: an unknown key is an error naming its path, never a silent skip.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from bcsync.domain.events import Metric
from bcsync.domain.feeds import MAX_DAYS, MAX_ITEMS, WEEK, Feed

Operator = Literal["=", "!=", ">", ">=", "<", "<=", "contains", "exists"]
CountOperator = Literal["=", "!=", ">", ">=", "<", "<="]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Metrics bcsync records, and the onsite ones a flow may wait for (Browse Abandonment).
TRIGGER_METRICS = frozenset(metric.value for metric in Metric)
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# Union members are told apart by the one key that names them; these tags never reach an error.
_TAG = "~"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _keyed(*keys: str) -> Discriminator:
    """A union member chosen by which of `keys` the object has (the first one present)."""

    def tag(value: Any) -> str | None:
        if isinstance(value, Mapping):
            return next((f"{_TAG}{key}" for key in keys if key in value), None)
        return next((f"{_TAG}{key}" for key in keys if hasattr(value, key)), None)

    return Discriminator(tag, custom_error_type="unknown_kind", custom_error_message=f"expected one of {list(keys)}")


# ---------------------------------------------------------------------- conditions
class PropertyCondition(Strict):
    """`{property, op, value}`; `on` says whose property: the trigger event's (`$value` is its
    value) or the profile's. Trigger filters read the event, flow filters the profile, and a
    split the event when it has the property, else the profile."""

    property: str = Field(min_length=1)
    op: Operator
    value: Any = None
    on: Literal["event", "profile"] | None = None

    @model_validator(mode="after")
    def _value_needed(self) -> PropertyCondition:
        if self.op != "exists" and self.value is None:
            raise ValueError(f"op {self.op!r} needs a value")
        return self


class Days(Strict):
    days: int = Field(gt=0)


class EventCount(Strict):
    """How many times the person did `metric`: since the run started, ever, or in the last N days."""

    metric: str
    count: int = Field(ge=0)
    op: CountOperator = "="
    since: Literal["flow_start", "all_time"] | Days = "all_time"

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        if metric not in TRIGGER_METRICS:
            raise ValueError(f"unknown metric; known: {sorted(TRIGGER_METRICS)}")
        return metric


class ConsentIs(Strict):
    consent: Literal["subscribed", "unsubscribed", "pending", "never_subscribed"]


class InList(Strict):
    list_name: str = Field(alias="list", min_length=1)


Condition = Annotated[
    Annotated[EventCount, Tag(f"{_TAG}metric")]
    | Annotated[ConsentIs, Tag(f"{_TAG}consent")]
    | Annotated[InList, Tag(f"{_TAG}list")]
    | Annotated[PropertyCondition, Tag(f"{_TAG}property")],
    _keyed("metric", "consent", "list", "property"),
]


# ---------------------------------------------------------------------- triggers
class MetricTrigger(Strict):
    metric: str
    filters: list[PropertyCondition] = Field(default_factory=list)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, metric: str) -> str:
        return EventCount._known_metric(metric)


class ProfileTrigger(Strict):
    profile: Literal["subscribed", "account_created", "first_order"]


Trigger = Annotated[
    Annotated[MetricTrigger, Tag(f"{_TAG}metric")] | Annotated[ProfileTrigger, Tag(f"{_TAG}profile")],
    _keyed("metric", "profile"),
]


# ---------------------------------------------------------------------- steps
class Duration(Strict):
    minutes: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    days: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _some_time(self) -> Duration:
        if not self.length:
            raise ValueError("a delay of zero: give minutes, hours or days")
        return self

    @property
    def length(self) -> timedelta:
        return timedelta(minutes=self.minutes, hours=self.hours, days=self.days)


class UntilTime(Strict):
    """Until the next `until` (HH:MM, the store's timezone) on one of `weekdays`."""

    until: str
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)

    @field_validator("until")
    @classmethod
    def _time_of_day(cls, until: str) -> str:
        if not _TIME_OF_DAY.match(until):
            raise ValueError("a time of day is HH:MM, 00:00 to 23:59")
        return until


Wait = Annotated[
    Annotated[UntilTime, Tag(f"{_TAG}until")] | Annotated[Duration, Tag(f"{_TAG}duration")],
    Discriminator(lambda value: f"{_TAG}until" if _has(value, "until") else f"{_TAG}duration"),
]


class FeedRef(Strict):
    """A product feed the action's context carries (`feeds: [trending, {name: bought-together,
    limit: 3}]`): bought-together starts from the trigger's product, for-you from the person."""

    name: Feed
    limit: int = Field(default=4, ge=1, le=MAX_ITEMS)
    days: int | None = Field(default=None, ge=1, le=MAX_DAYS)

    @model_validator(mode="before")
    @classmethod
    def _by_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _trending_window(self) -> FeedRef:
        if self.name is Feed.TRENDING and self.days is not None and self.days < 2 * WEEK:
            raise ValueError(f"trending compares this week with those before: days at least {2 * WEEK}")
        return self


class Action(Strict):
    channel: Literal["email", "sms"] = "email"
    template: str = Field(min_length=1)
    feeds: list[FeedRef] = Field(default_factory=list)

    @field_validator("feeds")
    @classmethod
    def _each_once(cls, feeds: list[FeedRef]) -> list[FeedRef]:
        names = [feed.name.value for feed in feeds]
        if len(set(names)) != len(names):
            raise ValueError("each feed at most once")
        return feeds

    @model_serializer(mode="wrap")
    def _without_no_feeds(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """An action naming no feeds dumps as it did before feeds existed: a flow's version (a
        hash of its dump) stays, and its waiting runs with it."""
        dumped: dict[str, Any] = handler(self)
        if not self.feeds:
            dumped.pop("feeds", None)
        return dumped


class Update(Strict):
    property: str = Field(min_length=1)
    value: Any


class DelayStep(Strict):
    delay: Wait


class ActionStep(Strict):
    action: Action


class UpdateStep(Strict):
    update: Update


class ExitStep(Strict):
    exit: Literal[True]


class Split(Strict):
    condition: Condition = Field(alias="if")
    then: list[Step] = Field(default_factory=list)
    otherwise: list[Step] = Field(default_factory=list, alias="else")


class SplitStep(Strict):
    split: Split


Step = Annotated[
    Annotated[DelayStep, Tag(f"{_TAG}delay")]
    | Annotated[ActionStep, Tag(f"{_TAG}action")]
    | Annotated[SplitStep, Tag(f"{_TAG}split")]
    | Annotated[UpdateStep, Tag(f"{_TAG}update")]
    | Annotated[ExitStep, Tag(f"{_TAG}exit")],
    _keyed("delay", "action", "split", "update", "exit"),
]


# ---------------------------------------------------------------------- flows
class Every(Strict):
    every: Duration


class FlowDefinition(Strict):
    name: str = Field(min_length=1)
    kind: Literal["marketing", "transactional"] = "marketing"
    trigger: Trigger
    filters: list[Condition] = Field(default_factory=list)
    # Klaviyo lets a person enter a metric-triggered flow each time by default; one active run
    # per entry key holds whatever this says.
    reentry: Literal["once", "always"] | Every = "always"
    smart_sending: bool = True
    steps: list[Step] = Field(min_length=1)


class FlowFile(Strict):
    flows: list[FlowDefinition]

    @field_validator("flows")
    @classmethod
    def _unique_names(cls, flows: list[FlowDefinition]) -> list[FlowDefinition]:
        first: dict[str, int] = {}
        for number, flow in enumerate(flows):
            if flow.name in first:
                raise ValueError(f"two flows are named {flow.name!r} (flows[{first[flow.name]}] and flows[{number}])")
            first[flow.name] = number
        return flows


class FlowFileInvalid(Exception):
    """Every fault in a flow file, each as `path: what is wrong`."""

    def __init__(self, faults: list[str]) -> None:
        super().__init__("\n".join(faults))
        self.faults = faults


def parse_flow_file(document: Any) -> FlowFile:
    try:
        return FlowFile.model_validate(document)
    except ValidationError as exc:
        raise FlowFileInvalid([_fault(error) for error in exc.errors(include_url=False)]) from None


def _fault(error: Any) -> str:
    loc = [part for part in error["loc"] if not (isinstance(part, str) and part.startswith(_TAG))]
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = "unknown unit" if len(loc) >= 2 and loc[-2] == "delay" else "unknown field"
    elif message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{path or 'file'}: {message}"


def _has(value: Any, key: str) -> bool:
    return key in value if isinstance(value, Mapping) else hasattr(value, key)


Split.model_rebuild()
