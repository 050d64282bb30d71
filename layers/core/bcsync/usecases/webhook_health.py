"""Webhook health: every scope bcsync handles has an active hook to its family's route.

BigCommerce deactivates a hook after ~48 h of failed retries and after 90 idle days, and deletes
hooks with their app; the hourly reconciliation repairs them (and its poll window is widened back
over the outage), and `bcsync webhooks register|status` does the same by hand.
"""

from __future__ import annotations

from datetime import datetime

from bcsync.domain.sync import HookHealth, HookPlan, infer_destination, plan_hooks
from bcsync.observability import logger, metrics
from bcsync.usecases.ports import BigCommercePoller, CredentialStore, DownstreamFault, SyncStateStore

TOKEN_HEADER = "X-Webhook-Token"


class WebhookHealth:
    def __init__(self, credentials: CredentialStore, state: SyncStateStore) -> None:
        self._credentials = credentials
        self._state = state

    def check(
        self,
        store_hash: str,
        reader: BigCommercePoller,
        *,
        now: datetime,
        repair: bool,
        destination: str | None = None,
    ) -> tuple[HookHealth, HookPlan]:
        """List the store's hooks and, with `repair`, create the missing and re-enable the
        deactivated. `destination` (a base URL) is remembered for later runs."""
        if destination:
            self._state.update_control(store_hash, destination=destination.rstrip("/"))
        try:
            hooks = reader.list_hooks()
        except DownstreamFault as fault:
            logger.warning("could not list webhooks", extra={"store_hash": store_hash, "fault": str(fault)})
            metrics.add_metric(name="WebhookHealthProblems", unit="Count", value=1)
            return HookHealth(
                checked_at=now, destination=destination, problem=f"listing hooks failed: {fault}"
            ), HookPlan()
        base = destination or self._state.control(store_hash).destination or infer_destination(hooks)
        if base is None:
            problem = "no webhook destination known: run `bcsync webhooks register --destination URL`"
            metrics.add_metric(name="WebhookHealthProblems", unit="Count", value=1)
            return HookHealth(checked_at=now, destination=None, hooks=hooks, problem=problem), HookPlan()
        plan = plan_hooks(hooks, base, now=now)
        health = HookHealth(checked_at=now, destination=base, hooks=hooks)
        if not repair:
            return health, plan
        token = self._credentials.credentials(store_hash).webhook_token
        headers = {TOKEN_HEADER: token} if token else None
        by_id = {hook.id: hook for hook in hooks}
        try:
            for scope, target in plan.create:
                created = reader.create_hook(scope, target, headers)
                by_id[created.id] = created
                health.created.append(scope)
            for hook in plan.reenable:
                by_id[hook.id] = reader.activate_hook(hook.id, headers)
                health.reenabled.append(hook.scope)
        except DownstreamFault as fault:
            # Polling still recovers the events; the next run tries the hooks again.
            logger.warning("could not repair webhooks", extra={"store_hash": store_hash, "fault": str(fault)})
            health.problem = f"repairing hooks failed: {fault}"
            metrics.add_metric(name="WebhookHealthProblems", unit="Count", value=1)
        health.hooks = sorted(by_id.values(), key=lambda hook: (hook.destination, hook.scope))
        if health.created or health.reenabled:
            metrics.add_metric(name="WebhooksRepaired", unit="Count", value=len(health.created) + len(health.reenabled))
            logger.warning(
                "webhooks repaired",
                extra={"store_hash": store_hash, "hooks_created": health.created, "hooks_reenabled": health.reenabled},
            )
        return health, plan
