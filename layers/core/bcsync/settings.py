"""Typed settings, read from the environment once per process."""

from __future__ import annotations

import json
import os
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

from bcsync.domain.field_mapping import DEFAULT_FIELD_MAPPING, parse_field_mapping
from bcsync.domain.flows import Flow, parse_enabled_flows


class StoreSettings(BaseModel):
    """Per-store behaviour, from the settings file (`layers/settings/bcsync-settings.json`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    double_opt_in: bool = False
    confirmation_link_hours: int = Field(default=168, ge=1, le=24 * 30)
    # Where confirmation links point; by default the URL the webhook arrived on.
    public_base_url: HttpUrl | None = None
    field_mapping: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_FIELD_MAPPING))
    # Product feeds leave out orders cancelled or refunded in full (from when it is turned on).
    feeds_exclude_returns: bool = False

    @field_validator("field_mapping", mode="before")
    @classmethod
    def _known_fields(cls, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise ValueError("field_mapping must be an object of BigCommerce field -> property name")
        return parse_field_mapping(value)

    @property
    def public_url(self) -> str | None:
        return str(self.public_base_url) if self.public_base_url else None


class SettingsFile(BaseModel):
    """`defaults` for every store, and `stores` overriding any of them per store hash."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    defaults: StoreSettings = Field(default_factory=StoreSettings)
    stores: dict[str, StoreSettings] = Field(default_factory=dict)

    @field_validator("stores", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any, info: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError("stores must be an object of store hash -> settings")
        base = info.data.get("defaults", StoreSettings())
        merged = {}
        for store_hash, overrides in value.items():
            if not isinstance(overrides, dict):
                raise ValueError(f"stores.{store_hash} must be an object")
            merged[store_hash] = {**base.model_dump(mode="json", exclude_unset=False), **overrides}
        return merged

    def for_store(self, store_hash: str) -> StoreSettings:
        return self.stores.get(store_hash, self.defaults)

    @classmethod
    def load(cls, path: str | None) -> SettingsFile:
        """The file's settings (all checked now: a typo fails the cold start, loudly)."""
        if not path:
            return cls()
        try:
            raw = json.loads(Path(path).read_text())
            return cls.model_validate(raw)
        except FileNotFoundError:
            raise ValueError(f"settings file {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"settings file {path} is not valid JSON: {exc}") from None
        except ValidationError as exc:
            faults = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"settings file {path}: {faults}") from None


class MissingSetting(Exception):
    """A function asked for a table or queue its environment does not name."""


# The tables and queues: each function's environment names only those it uses.
Resource = Literal[
    "events_table_name",
    "counters_table_name",
    "profiles_table_name",
    "triggers_table_name",
    "catalog_table_name",
    "deliveries_table_name",
    "carts_table_name",
    "sync_state_table_name",
    "flow_runs_table_name",
    "retry_queue_url",
    "flow_trigger_queue_url",
    "sync_job_queue_url",
    "flow_action_queue_url",
]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    bigcommerce_api_url: HttpUrl = HttpUrl("https://api.bigcommerce.com")
    events_table_name: str | None = None
    counters_table_name: str | None = None
    profiles_table_name: str | None = None
    triggers_table_name: str | None = None
    catalog_table_name: str | None = None
    deliveries_table_name: str | None = None
    retry_queue_url: str | None = None
    flow_trigger_queue_url: str | None = None
    enabled_flows: frozenset[Flow] = frozenset(Flow)
    store_secret_prefix: str = "bcsync/stores/"
    # How long a webhook may wait on BigCommerce (429 resets, 5xx backoff) before parking instead.
    webhook_bigcommerce_budget_seconds: float = 8.0
    retry_bigcommerce_budget_seconds: float = 60.0
    # Standard Webhooks deliveries are retried by BigCommerce for ~48 h; remember ids longer.
    delivery_dedupe_seconds: int = 72 * 3600
    secret_cache_seconds: int = 300
    carts_table_name: str | None = None
    sync_state_table_name: str | None = None
    sync_job_queue_url: str | None = None
    flow_runs_table_name: str | None = None
    flow_action_queue_url: str | None = None
    # Reconciliation re-reads this much before each watermark (BigCommerce stamps a change a
    # little before it is visible); a store's first run reaches back `first_lookback`.
    reconcile_overlap_minutes: float = Field(default=15, ge=0)
    reconcile_first_lookback_hours: float = Field(default=168, gt=0)
    # Reconciliation and backfill use at most this share of the store's API quota.
    sync_quota_share: float = Field(default=0.5, gt=0, le=1)
    # A job stops this long before the Lambda time limit and continues in a new invocation.
    sync_stop_margin_seconds: float = Field(default=90, ge=0)
    # The local stack's `--time-scale`: flow delays and timers run this many times faster from
    # the origin (the stack's start). Deployed stacks keep the wall clock (1).
    flow_time_scale: float = Field(default=1.0, ge=1)
    flow_clock_origin: datetime | None = None
    settings_file: str | None = None
    stores: SettingsFile = Field(default_factory=SettingsFile)

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {
            name: env[name.upper()]
            for name in cls.model_fields
            if name.upper() in env and name not in ("enabled_flows", "stores")
        }
        values["enabled_flows"] = parse_enabled_flows(env.get("ENABLED_FLOWS", "all"))
        values["stores"] = SettingsFile.load(env.get("SETTINGS_FILE"))
        return cls.model_validate(values)

    def for_store(self, store_hash: str) -> StoreSettings:
        return self.stores.for_store(store_hash)

    def require(self, name: Resource) -> str:
        """A table's name or a queue's URL; a function whose environment lacks it fails here,
        naming the variable, at the first use of what needs it."""
        value: str | None = getattr(self, name)
        if not value:
            raise MissingSetting(f"{name.upper()} is not set: add it to the function's Environment in template.yaml")
        return value


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environ()
