"""DynamoDB persistence: events, profiles and identities, flow-trigger records, catalog cache.

Every write that must happen once is a conditional put keyed on a deterministic id, so retries,
replays and concurrent deliveries converge on one stored item.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from bcsync.domain.bigcommerce import StoreInfo
from bcsync.domain.catalog import CatalogItem
from bcsync.domain.counters import STORE_SHARDS, shard_of
from bcsync.domain.events import MarketingEvent, Metric, iso_utc
from bcsync.domain.flows import TriggerIntent
from bcsync.domain.profiles import Profile, email_digest
from bcsync.usecases.ports import ChangeConflict, IdentityKind, NameKind

if TYPE_CHECKING:
    from bcsync.adapters.counters import DynamoCounters

BATCH_GET_LIMIT = 100
PROFILE_TIMELINE_INDEX = "ProfileTimeline"
PLACED_ORDERS_INDEX = "PlacedOrders"
ARRIVALS_INDEX = "NewArrivals"
ARRIVALS_PAGE = 25


_DESERIALIZER = TypeDeserializer()


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _existing_item(error: ClientError) -> dict[str, Any]:
    """The item that made a conditional put fail (ALL_OLD), which boto3 leaves in wire format."""
    raw: dict[str, Any] = error.response.get("Item") or {}  # type: ignore[assignment]
    return {key: _DESERIALIZER.deserialize(value) for key, value in raw.items()}


def now_iso() -> str:
    return iso_utc(datetime.now(UTC))


def batch_get(resource: Any, table_name: str, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Strongly consistent BatchGetItem in chunks of 100, retrying unprocessed keys."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        request = {table_name: {"Keys": list(keys[start : start + BATCH_GET_LIMIT]), "ConsistentRead": True}}
        while request:
            response = resource.batch_get_item(RequestItems=request)
            items += response.get("Responses", {}).get(table_name, [])
            request = response.get("UnprocessedKeys") or {}
    return items


def query_all(table: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    return _every_page(table.query, kwargs)


def scan_all(table: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    return _every_page(table.scan, kwargs)


def _every_page(read: Any, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        page = read(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# ---------------------------------------------------------------------- events
def event_item(event: MarketingEvent) -> dict[str, Any]:
    item = event.export()
    item["pk"] = item.pop("id")
    item["recorded_at"] = now_iso()
    item["timeline_key"] = f"{item['time']}#{event.id}"
    if event.profile_id:
        item["profile_key"] = f"{event.store_hash}#{event.profile_id}"
    if event.metric is Metric.PLACED_ORDER:  # sparse index: daily counts read only these
        item["placed_key"] = placed_key(event.store_hash, shard_of(event.id))
    return item


def placed_key(store_hash: str, shard: int) -> str:
    """A store's Placed Orders spread over shards: one index key per store would take every order
    of a fast backfill or of a sale's peak on one partition of the index."""
    return f"{store_hash}#{shard}"


def event_from_item(item: dict[str, Any]) -> MarketingEvent:
    fields = {key: value for key, value in item.items() if key in MarketingEvent.model_fields}
    return MarketingEvent.model_validate({**fields, "id": item["pk"], "properties": plain(item["properties"])})


def plain(value: Any) -> Any:
    """DynamoDB returns every number as Decimal; give integers back as int."""
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    if isinstance(value, Decimal) and value == value.to_integral_value() and value.as_tuple().exponent == 0:
        return int(value)
    return value


class DynamoEventLedger:
    """`counters`: kept in step when events move to another person or are erased (a ledger
    without them only reads)."""

    def __init__(self, resource: Any, table_name: str, counters: DynamoCounters | None = None) -> None:
        self._table = resource.Table(table_name)
        self._name = table_name
        self._counters = counters

    def timeline(self, store_hash: str, profile_id: str) -> list[MarketingEvent]:
        key = Key("profile_key").eq(f"{store_hash}#{profile_id}")
        items = query_all(self._table, IndexName=PROFILE_TIMELINE_INDEX, KeyConditionExpression=key)
        return [event_from_item(item) for item in items]

    def timeline_page(
        self, store_hash: str, profile_id: str, *, before: str | None, limit: int, metric: str | None
    ) -> tuple[list[MarketingEvent], str | None]:
        """Up to `limit` events older than the position `before`, newest first, and the position
        of the last one when more follow (a position is `<time>#<event id>`: stable while newer
        events arrive)."""
        key: ConditionBase = Key("profile_key").eq(f"{store_hash}#{profile_id}")
        if before:
            key = key & Key("timeline_key").lt(before)
        query: dict[str, Any] = {
            "IndexName": PROFILE_TIMELINE_INDEX,
            "KeyConditionExpression": key,
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if metric:
            query["FilterExpression"] = Attr("metric").eq(metric)
        items: list[dict[str, Any]] = []
        while len(items) <= limit:
            answer = self._table.query(**query)
            items += answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                break
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        page = items[:limit]
        more = len(items) > limit
        return [event_from_item(item) for item in page], str(page[-1]["timeline_key"]) if more and page else None

    def reassign(self, store_hash: str, from_profile: str, to_profile: str) -> int:
        """Point the profile's events at another; an event no longer the profile's (moved by
        another run of the same merge) is left as it is."""
        moved = 0
        for event in self.timeline(store_hash, from_profile):
            try:
                self._table.update_item(
                    Key={"pk": event.id},
                    UpdateExpression="SET profile_id = :to, profile_key = :key",
                    ConditionExpression="profile_id = :from",
                    ExpressionAttributeValues={
                        ":to": to_profile,
                        ":key": f"{store_hash}#{to_profile}",
                        ":from": from_profile,
                    },
                )
            except ClientError as error:
                if not _is_conditional_failure(error):
                    raise
                continue
            moved += 1
        if self._counters is not None:
            self._counters.move_person(store_hash, from_profile, to_profile)
        return moved

    def erase(self, store_hash: str, profile_id: str) -> int:
        events = self.timeline(store_hash, profile_id)
        if self._counters is not None:
            self._counters.delete_events(self._name, events)
            self._counters.erase_person(store_hash, profile_id)
            return len(events)
        with self._table.batch_writer() as batch:
            for event in events:
                batch.delete_item(Key={"pk": event.id})
        return len(events)

    def placed_order_times(self, store_hash: str, start: datetime, end: datetime) -> list[datetime]:
        """Times of the store's Placed Order events in [start, end), earliest first (a query a shard)."""
        window = Key("time").between(iso_utc(start), iso_utc(end - timedelta(seconds=1)))
        times = [
            datetime.fromisoformat(item["time"].replace("Z", "+00:00"))
            for shard in range(STORE_SHARDS)
            for item in query_all(
                self._table,
                IndexName=PLACED_ORDERS_INDEX,
                KeyConditionExpression=Key("placed_key").eq(placed_key(store_hash, shard)) & window,
            )
        ]
        return sorted(times)


# ---------------------------------------------------------------------- profiles
def identity_key(store_hash: str, kind: IdentityKind, value: str) -> str:
    if kind in ("email", "signup"):
        value = email_digest(value)  # no address appears in a key (keys surface in logs and traces)
    return digested_identity_key(store_hash, kind, value)


def digested_identity_key(store_hash: str, kind: IdentityKind, value: str) -> str:
    """The key of an identity whose value is already what keys hold (an address's digest)."""
    return f"{store_hash}#{kind}#{value}"


def profile_key(store_hash: str, profile_id: str) -> str:
    return f"{store_hash}#profile#{profile_id}"


def profile_item(profile: Profile) -> dict[str, Any]:
    return {"pk": profile_key(profile.store_hash, profile.id), "entity": "profile", "profile": profile.model_dump()}


def profile_from_item(item: dict[str, Any]) -> Profile | str:
    """The profile, or the id it was merged into."""
    return str(item["merged_into"]) if item.get("entity") == "merged" else Profile.model_validate(item["profile"])


def trigger_item(intent: TriggerIntent, **stamps: str) -> dict[str, Any]:
    return {**intent.model_dump(mode="json"), "pk": intent.dedup_key, **stamps}


MAX_MERGE_HOPS = 5


class DynamoProfileRepository:
    """Profiles, the identity keys pointing at them, and pointers left by merges, in one table."""

    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)

    def find(self, store_hash: str, kind: IdentityKind, value: str) -> str | None:
        key = identity_key(store_hash, kind, value)
        item = self._table.get_item(Key={"pk": key}, ConsistentRead=True).get("Item")
        return str(item["profile_id"]) if item else None

    def claim(self, store_hash: str, kind: IdentityKind, value: str, profile_id: str) -> str:
        try:
            self._table.put_item(
                Item={"pk": identity_key(store_hash, kind, value), "profile_id": profile_id, "linked_at": now_iso()},
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            return profile_id
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise
            return str(_existing_item(error)["profile_id"])

    def point(self, store_hash: str, kind: IdentityKind, value: str, profile_id: str) -> None:
        self._table.put_item(
            Item={"pk": identity_key(store_hash, kind, value), "profile_id": profile_id, "linked_at": now_iso()}
        )

    def release(self, store_hash: str, kind: IdentityKind, value: str, profile_id: str) -> None:
        try:
            self._table.delete_item(
                Key={"pk": identity_key(store_hash, kind, value)},
                ConditionExpression=Attr("profile_id").eq(profile_id),
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise

    def get(self, store_hash: str, profile_id: str) -> Profile | None:
        """The profile, following the pointers merges leave, so an old id still finds its person."""
        for _ in range(MAX_MERGE_HOPS):
            key = {"pk": profile_key(store_hash, profile_id)}
            item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
            if not item:
                return None
            found = profile_from_item(item)
            if isinstance(found, Profile):
                return found
            profile_id = found
        return None

    def retire(self, store_hash: str, profile_id: str, *, merged_into: str, revision: int) -> None:
        try:
            self._table.put_item(
                Item={
                    "pk": profile_key(store_hash, profile_id),
                    "entity": "merged",
                    "merged_into": merged_into,
                    "merged_at": now_iso(),
                },
                ConditionExpression="#p.revision = :revision",
                ExpressionAttributeNames={"#p": "profile"},
                ExpressionAttributeValues={":revision": revision},
            )
        except ClientError as error:
            if not _is_conditional_failure(error):
                raise
            raise ChangeConflict(f"profile {profile_id} changed while it was merged") from None

    def delete(self, store_hash: str, profile_id: str) -> None:
        """The profile and every merge pointer that leads to it."""
        pointers = scan_all(
            self._table, FilterExpression=Attr("entity").eq("merged") & Attr("merged_into").eq(profile_id)
        )
        with self._table.batch_writer() as batch:
            for item in pointers:
                if str(item["pk"]).startswith(f"{store_hash}#"):
                    batch.delete_item(Key={"pk": item["pk"]})
            batch.delete_item(Key={"pk": profile_key(store_hash, profile_id)})


# ---------------------------------------------------------------------- triggers
class DynamoTriggerLedger:
    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)

    def erase(self, store_hash: str, profile_id: str) -> int:
        filter_ = Attr("store_hash").eq(store_hash) & Attr("profile_id").eq(profile_id)
        return _delete_matching(self._table, filter_)


# ---------------------------------------------------------------------- catalog
class DynamoCatalogRepository:
    def __init__(self, resource: Any, table_name: str) -> None:
        self._resource = resource
        self._table_name = table_name
        self._table = resource.Table(table_name)

    def get_items(self, store_hash: str, product_ids: Iterable[int]) -> dict[int, CatalogItem]:
        keys = [{"pk": f"{store_hash}#product#{pid}"} for pid in sorted(set(product_ids))]
        items = batch_get(self._resource, self._table_name, keys)
        return {int(item["product_id"]): CatalogItem.model_validate(plain(item["item"])) for item in items}

    def put_items(self, store_hash: str, items: Iterable[CatalogItem]) -> None:
        """Each item whole; a dated one is in the NewArrivals index (keys only: a refresh that
        keeps its date writes nothing there)."""
        with self._table.batch_writer() as batch:
            for item in items:
                cached = item.model_dump(mode="python", exclude={"date_created"})
                record: dict[str, Any] = {
                    "pk": f"{store_hash}#product#{item.product_id}",
                    "product_id": item.product_id,
                    "item": cached,
                    "cached_at": now_iso(),
                }
                if item.date_created is not None:
                    cached["date_created"] = created = iso_utc(item.date_created)
                    # Ties on the second go to the higher (later) product id.
                    record |= {"arrivals_of": store_hash, "created_at": f"{created}#{item.product_id:012d}"}
                batch.put_item(Item=record)

    def newest(self, store_hash: str, *, since: datetime | None) -> Iterator[list[CatalogItem]]:
        """Newest first, a page of the index at a time, each page's items in one BatchGetItem."""
        condition: ConditionBase = Key("arrivals_of").eq(store_hash)
        if since is not None:
            condition &= Key("created_at").gte(iso_utc(since))
        request: dict[str, Any] = {
            "IndexName": ARRIVALS_INDEX,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": ARRIVALS_PAGE,
        }
        while True:
            page = self._table.query(**request)
            ids = [int(str(key["pk"]).rsplit("#", 1)[-1]) for key in page.get("Items", [])]
            found = self.get_items(store_hash, ids)
            yield [found[pid] for pid in ids if pid in found]
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def delete_items(self, store_hash: str, product_ids: Iterable[int]) -> None:
        with self._table.batch_writer() as batch:
            for product_id in sorted(set(product_ids)):
                batch.delete_item(Key={"pk": f"{store_hash}#product#{product_id}"})

    def get_names(self, store_hash: str, kind: NameKind, ids: Iterable[int]) -> dict[int, str]:
        keys = [{"pk": f"{store_hash}#{kind}#{ref}"} for ref in sorted(set(ids))]
        return {int(item["ref_id"]): str(item["name"]) for item in batch_get(self._resource, self._table_name, keys)}

    def put_names(self, store_hash: str, kind: NameKind, names: dict[int, str]) -> None:
        with self._table.batch_writer() as batch:
            for ref, name in names.items():
                batch.put_item(Item={"pk": f"{store_hash}#{kind}#{ref}", "ref_id": ref, "name": name})

    def get_store_info(self, store_hash: str) -> StoreInfo | None:
        item = self._table.get_item(Key={"pk": f"{store_hash}#store"}).get("Item")
        return StoreInfo.model_validate(plain(item["info"])) if item else None

    def put_store_info(self, store_hash: str, info: StoreInfo) -> None:
        self._table.put_item(Item={"pk": f"{store_hash}#store", "info": info.model_dump(mode="python")})


# ---------------------------------------------------------------------- carts
CART_RETENTION = timedelta(days=180)


class DynamoCartLedger:
    """One item per cart: who started its checkout, the Started Checkout ids, the order it became."""

    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)

    def record_checkout(self, store_hash: str, cart_id: str, *, profile_id: str, event_id: str) -> None:
        self._table.update_item(
            Key={"pk": f"{store_hash}#cart#{cart_id}"},
            UpdateExpression=(
                "SET store_hash = :store, cart_id = :cart, profile_id = :profile, updated_at = :now, "
                "expires_at = :expires ADD started_checkout_ids :event"
            ),
            ExpressionAttributeValues={
                ":store": store_hash,
                ":cart": cart_id,
                ":profile": profile_id,
                ":now": now_iso(),
                ":expires": _expiry(),
                ":event": {event_id},
            },
        )

    def record_conversion(self, store_hash: str, cart_id: str, *, order_id: int, at: datetime) -> None:
        self._table.update_item(
            Key={"pk": f"{store_hash}#cart#{cart_id}"},
            UpdateExpression=(
                "SET store_hash = :store, cart_id = :cart, order_id = :order, converted_at = :at, "
                "updated_at = :now, expires_at = :expires"
            ),
            ExpressionAttributeValues={
                ":store": store_hash,
                ":cart": cart_id,
                ":order": order_id,
                ":at": iso_utc(at),
                ":now": now_iso(),
                ":expires": _expiry(),
            },
        )

    def erase(self, store_hash: str, profile_id: str) -> int:
        return _delete_matching(self._table, Attr("store_hash").eq(store_hash) & Attr("profile_id").eq(profile_id))


def _expiry() -> int:
    return int((datetime.now(UTC) + CART_RETENTION).timestamp())


def _delete_matching(table: Any, filter_: ConditionBase) -> int:
    items = list(scan_all(table, FilterExpression=filter_, ProjectionExpression="pk"))
    with table.batch_writer() as batch:
        for item in items:
            batch.delete_item(Key={"pk": item["pk"]})
    return len(items)
