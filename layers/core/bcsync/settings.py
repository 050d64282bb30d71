"""Typed settings, read from the environment once per process."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from bcsync.domain.flows import Flow, parse_enabled_flows


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    bigcommerce_api_url: HttpUrl = HttpUrl("https://api.bigcommerce.com")
    events_table_name: str = Field(min_length=1)
    profiles_table_name: str = Field(min_length=1)
    triggers_table_name: str = Field(min_length=1)
    catalog_table_name: str = Field(min_length=1)
    deliveries_table_name: str = Field(min_length=1)
    retry_queue_url: str = Field(min_length=1)
    flow_trigger_queue_url: str = Field(min_length=1)
    enabled_flows: frozenset[Flow] = frozenset(Flow)
    store_secret_prefix: str = "bcsync/stores/"
    # How long a webhook may wait on BigCommerce (429 resets, 5xx backoff) before parking instead.
    webhook_bigcommerce_budget_seconds: float = 8.0
    retry_bigcommerce_budget_seconds: float = 60.0
    # Standard Webhooks deliveries are retried by BigCommerce for ~48 h; remember ids longer.
    delivery_dedupe_seconds: int = 72 * 3600
    secret_cache_seconds: int = 300

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {
            name: env[name.upper()] for name in cls.model_fields if name.upper() in env and name != "enabled_flows"
        }
        values["enabled_flows"] = parse_enabled_flows(env.get("ENABLED_FLOWS", "all"))
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings.from_environ()
