"""POST /track?store=<hash>: the storefront snippet's beacons. Answers 202 for every beacon it
accepts, tracked or not (an anonymous visitor, a bot), and {"error"} with a 4xx for the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from bcsync.domain.onsite import BeaconRefused
from bcsync.domain.refusals import Refusal
from bcsync.domain.stores import STORE_HASH
from bcsync.entrypoints.http import json_resolver
from bcsync.usecases.onsite import BeaconContext
from bcsync.wiring import container


def track_resolver() -> APIGatewayHttpResolver:
    app = json_resolver(failure="beacon could not be recorded", unavailable="temporarily unavailable")

    @app.post("/track")
    def track() -> Response[dict[str, str]]:
        event = app.current_event
        store = event.get_query_string_value("store") or ""
        if not STORE_HASH.match(store):
            raise BeaconRefused(Refusal.INVALID, "store: name the store with ?store=<store hash>")
        try:
            body = event.decoded_body or ""
        except (UnicodeDecodeError, ValueError):
            raise BeaconRefused(Refusal.INVALID, "beacon is not UTF-8 text") from None
        headers = {name.lower(): value for name, value in (event.headers or {}).items()}
        context = BeaconContext(
            store_hash=store,
            origin=headers.get("origin"),
            user_agent=headers.get("user-agent"),
            ip=event.request_context.http.source_ip,
            now=datetime.now(UTC),
        )
        answer = container().onsite.track(body, context)
        # The page may read the answer (its visitor token): this origin passed the store's check.
        cors = {"Access-Control-Allow-Origin": context.origin} if context.origin else {}
        return Response(
            202, content_types.APPLICATION_JSON, answer.body(), headers={**cors, "Cache-Control": "no-store"}
        )

    return app
