"""The read API (IAM-authenticated in AWS; the local stack takes the token it prints) and the
console page. Each route validates its parameters, asks the read model, and answers JSON; the
OpenAPI document (`GET /openapi.json`) is generated from the same route signatures and models.
A refusal is `{"error": "..."}` with its 4xx status."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Literal
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from bcsync.domain.feeds import MAX_DAYS, MAX_ITEMS, Feed, Measure
from bcsync.domain.refusals import Refusal, Refused
from bcsync.entrypoints.http import json_resolver
from bcsync.usecases.feeds import FeedQuery, FeedView
from bcsync.usecases.read_model import (
    CountCheck,
    EventsPage,
    MetricTotal,
    ProfileView,
    Series,
    Snapshot,
    SyncStatus,
)
from bcsync.wiring import container

TITLE = "bcsync read API"
Store = Annotated[str | None, Query(description="Store hash; may be left out on a stack with one store")]
ProfileId = Annotated[str, Path(description="A profile id (an id a merge retired finds its survivor)")]


def read_resolver() -> APIGatewayHttpResolver:
    app = json_resolver(
        failure="read API request failed", unavailable="temporarily unavailable; retry", enable_validation=True
    )

    @app.get("/profiles", summary="Find a profile by email", tags=["profiles"])
    def find_profile(email: Annotated[str, Query(min_length=3, max_length=320)], store: Store = None) -> ProfileView:
        read = container().read_model
        return read.profile_by_email(read.store(store), email)

    @app.get("/profiles/<profile_id>", summary="A profile and its identities", tags=["profiles"])
    def get_profile(profile_id: ProfileId, store: Store = None) -> ProfileView:
        read = container().read_model
        return read.profile(read.store(store), profile_id)

    @app.get("/profiles/<profile_id>/events", summary="A profile's timeline, newest first", tags=["profiles"])
    def profile_events(
        profile_id: ProfileId,
        metric: Annotated[str | None, Query(max_length=128)] = None,
        before: Annotated[str | None, Query(max_length=512, description="The `next` of the previous page")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
        store: Store = None,
    ) -> EventsPage:
        read = container().read_model
        return read.events(read.store(store), profile_id, metric=metric, before=before, limit=limit)

    @app.get("/profiles/<profile_id>/metrics", summary="Per metric: last 30 days and all time", tags=["profiles"])
    def profile_metrics(profile_id: ProfileId, store: Store = None) -> Snapshot:
        read = container().read_model
        return read.snapshot(read.store(store), profile_id)

    @app.get("/metrics", summary="Every metric with its all-time totals", tags=["metrics"])
    def list_metrics(store: Store = None) -> list[MetricTotal]:
        read = container().read_model
        return read.metrics(read.store(store))

    @app.get("/metrics/<metric>/series", summary="A metric's daily count and value", tags=["metrics"])
    def metric_series(
        metric: Annotated[str, Path(max_length=128)],
        days: Annotated[int, Query(ge=1, le=366)] = 30,
        tz: Annotated[Literal["store", "utc"], Query(description="Days of the store's timezone or UTC")] = "store",
        store: Store = None,
    ) -> Series:
        read = container().read_model
        # The route is matched on the raw path: "Placed%20Order" is "Placed Order".
        return read.series(read.store(store), unquote(metric), days=days, tz=tz)

    @app.get("/feeds/<name>", summary="A product feed for flow emails, from bcsync's own events", tags=["feeds"])
    def feed(
        name: Annotated[
            str, Path(max_length=32, description="best-sellers, trending, bought-together, for-you or new-arrivals")
        ],
        *,
        limit: Annotated[int, Query(ge=1, le=MAX_ITEMS)] = 10,
        days: Annotated[
            int | None, Query(ge=1, le=MAX_DAYS, description="Days read (best-sellers 30, trending 28 by default)")
        ] = None,
        product_id: Annotated[int | None, Query(ge=1, description="For bought-together")] = None,
        profile_id: Annotated[str | None, Query(min_length=1, max_length=128, description="For for-you")] = None,
        by: Annotated[Measure, Query(description="What best-sellers ranks by")] = "units",
        store: Store = None,
    ) -> FeedView:
        known = {feed.value: feed for feed in Feed}
        if name not in known:
            raise Refused(Refusal.UNKNOWN, f"no feed {name}; feeds: {', '.join(known)}")
        query = FeedQuery(known[name], limit=limit, days=days, product_id=product_id, profile_id=profile_id, by=by)
        read = container().read_model
        return container().feeds.show(read.store(store), query)

    @app.get("/sync/status", summary="Last reconcile, backfill progress, webhook health, sync on/off", tags=["sync"])
    def sync_status(store: Store = None) -> SyncStatus:
        read = container().read_model
        return read.sync_status(read.store(store))

    @app.get("/sync/daily-counts", summary="Placed orders per day: BigCommerce's against bcsync's", tags=["sync"])
    def daily_counts(days: Annotated[int, Query(ge=1, le=90)] = 30, store: Store = None) -> list[CountCheck]:
        read = container().read_model
        return read.count_checks(read.store(store), days=days)

    @app.post("/sync/now", summary="Queue a reconciliation now", tags=["sync"], status_code=202)
    def sync_now(store: Store = None) -> dict[str, str]:
        read = container().read_model
        store_hash = read.store(store)
        read.sync_now(store_hash)
        return {"queued": "reconcile", "store": store_hash}

    @app.post("/sync/on", summary="Turn the hourly sync on", tags=["sync"])
    def sync_on(store: Store = None) -> SyncStatus:
        read = container().read_model
        return read.set_sync(read.store(store), enabled=True)

    @app.post("/sync/off", summary="Turn the hourly sync off", tags=["sync"])
    def sync_off(store: Store = None) -> SyncStatus:
        read = container().read_model
        return read.set_sync(read.store(store), enabled=False)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> Response[str]:
        document = app.get_openapi_json_schema(title=TITLE, version="1")
        return Response(200, content_types.APPLICATION_JSON, document)

    @app.get("/console", include_in_schema=False)
    def console() -> Response[str]:
        page = resources.files("bcsync.console").joinpath("index.html").read_text()
        headers = {"Cache-Control": "no-store", "Content-Security-Policy": CONSOLE_POLICY}
        return Response(200, content_types.TEXT_HTML, page, headers=headers)

    @app.exception_handler(RequestValidationError)
    def invalid(exc: RequestValidationError) -> Response[dict[str, str]]:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())[1:]) or "request"
        return Response(400, content_types.APPLICATION_JSON, {"error": f"{where}: {first.get('msg')}"})

    @app.not_found
    def not_found(exc: Exception) -> Response[dict[str, str]]:
        return Response(404, content_types.APPLICATION_JSON, {"error": "no such route"})

    return app


# The console is one self-contained page: its script and styles inline, nothing from elsewhere.
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'"
)
