"""`bcsync demo`: the local stack against the sandbox store, a scripted story, and its timeline."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TextIO

from bcsync_ops.local_stack import LocalStack, StoreConfig
from bcsync_ops.sandbox import Line, Product, SandboxServer, SandboxStore
from bcsync_ops.webhook_sender import WebhookSender

STORE_HASH = "sandbox"
ACCESS_TOKEN = "sandbox-access-token"
CLIENT_SECRET = "sandbox-client-secret"


def sandbox_store() -> SandboxStore:
    store = SandboxStore(STORE_HASH, ACCESS_TOKEN)
    for category_id, name in ((1, "Apparel"), (2, "Shirts"), (3, "Kitchen"), (4, "Bags")):
        store.add_category(category_id, name)
    store.add_product(Product(101, "Linen Shirt", "SHIRT-LIN", Decimal("40"), [1, 2], "Fog Linen", Decimal("15")))
    store.add_product(Product(102, "Ceramic Mug", "MUG-CER", Decimal("12"), [3], "Stoneware Co", Decimal("4")))
    store.add_product(Product(103, "Canvas Tote", "TOTE-CAN", Decimal("25"), [4], "Fog Linen", Decimal("9")))
    store.add_product(Product(104, "Wool Socks", "SOCK-WOL", Decimal("9"), [1], "Northwool", Decimal("3")))
    return store


def run_story(store: SandboxStore, sender: WebhookSender, out: TextIO) -> None:
    """Deliver the story as signed webhooks, each after the store changed, as BigCommerce does."""
    now = datetime.now(UTC).replace(microsecond=0)
    shirt, mug, tote, socks = (store.products[pid] for pid in (101, 102, 103, 104))

    def step(text: str) -> None:
        out.write(f"  - {text}\n")

    def deliver(scope: str, data: dict[str, object], **kwargs: object) -> int:
        status, _ = sender.send("orders", scope, data, **kwargs)  # type: ignore[arg-type]
        return status

    out.write("Story:\n")
    store.place_order(
        1001,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        customer_id=7,
        lines=[Line(shirt, 1, Decimal("4"), coupon="WELCOME10", options={"Size": "M"}), Line(mug, 2)],
        created=now - timedelta(hours=5),
        phone="+1 512 555 0100",
    )
    deliver("store/order/created", {"type": "order", "id": 1001}, webhook_id="msg_ada_created")
    step("Ada (account 7) orders a shirt with coupon WELCOME10 and two mugs")
    duplicate = deliver("store/order/created", {"type": "order", "id": 1001}, webhook_id="msg_ada_created")
    step(f"BigCommerce delivers that webhook twice: answered {duplicate}, nothing new is written")

    store.set_status(1001, 2, at=now - timedelta(hours=4), shipped=True)
    deliver(
        "store/order/statusUpdated",
        {"type": "order", "id": 1001, "status": {"previous_status_id": 11, "new_status_id": 2}},
    )
    step("Ada's order ships")

    store.refund(1001, Decimal("13.20"), at=now - timedelta(hours=3), reason="Chipped mug")
    store.set_status(1001, 14, at=now - timedelta(hours=3))
    deliver(
        "store/order/statusUpdated",
        {"type": "order", "id": 1001, "status": {"previous_status_id": 2, "new_status_id": 14}},
    )
    deliver("store/order/refund/created", {"type": "order", "id": 1001, "refund": {"refund_id": 1}})
    step("one mug is refunded (status and refund webhooks arrive in either order)")

    store.place_order(
        1002,
        email="grace@example.org",
        first_name="Grace",
        last_name="Hopper",
        lines=[Line(tote, 1)],
        created=now - timedelta(hours=2),
        city="Arlington",
        state="Virginia",
        zip_code="22201",
    )
    deliver("store/order/created", {"type": "order", "id": 1002})
    step("Grace checks out as a guest with a canvas tote")

    store.place_order(
        1003,
        email="alan@example.net",
        first_name="Alan",
        last_name="Turing",
        customer_id=8,
        lines=[Line(socks, 3)],
        created=now - timedelta(hours=1),
    )
    deliver("store/order/created", {"type": "order", "id": 1003})
    store.set_status(1003, 5, at=now - timedelta(minutes=30))
    deliver(
        "store/order/statusUpdated",
        {"type": "order", "id": 1003, "status": {"previous_status_id": 11, "new_status_id": 5}},
    )
    step("Alan (account 8) orders socks, then the order is cancelled")

    store.place_order(
        1004,
        email="linus@example.com",
        first_name="Linus",
        last_name="Pauling",
        lines=[Line(mug, 1)],
        created=now - timedelta(minutes=10),
        status_id=7,
    )
    deliver("store/order/created", {"type": "order", "id": 1004})
    step("Linus's order stays Awaiting Payment: never placed, so no events")

    forged = sender.body("store/order/created", {"type": "order", "id": 1002})
    status, answer = sender.post(
        "orders",
        forged,
        {
            "webhook-id": "msg_forged",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1,Zm9yZ2Vk",
        },
    )
    step(f"a forged delivery is refused: {status} {answer.get('error')}")


def print_timeline(stack_tables: object, out: TextIO) -> None:
    from bcsync_ops.exports import StackTables

    assert isinstance(stack_tables, StackTables)
    events = sorted(stack_tables.events().all(), key=lambda e: (e.time, e.id))
    profiles = sorted(stack_tables.profiles().all(), key=lambda p: p.created_at + p.id)
    triggers = list(stack_tables.triggers().all())
    out.write("\nTimelines:\n")
    for profile in profiles:
        name = f"{profile.properties.get('First Name', '')} {profile.properties.get('Last Name', '')}".strip()
        kind = f"account {profile.external_id}" if profile.external_id else "guest"
        out.write(f"\n  {name} <{profile.email}> ({kind}, {profile.id})\n")
        for event in (e for e in events if e.profile_id == profile.id):
            detail = event.properties.get("Name") or ", ".join(event.properties.get("Items", []))
            amount = f"{event.value:>8.2f} {event.currency}"
            out.write(f"    {event.time:%Y-%m-%d %H:%M}  {event.metric.value:<17} {amount}  {detail}\n")
    out.write("\nFlow triggers sent:\n")
    for trigger in sorted(triggers, key=lambda t: (t["flow"], t["dedup_key"])):
        owner = next((p for p in profiles if p.id == trigger["profile_id"]), None)
        out.write(
            f"  {trigger['flow']:<28} -> {owner.email if owner else trigger['profile_id']}  ({trigger['event_id']})\n"
        )
    out.write(f"\n{len(events)} events, {len(profiles)} profiles, {len(triggers)} flow triggers.\n")


def main(out: TextIO = sys.stdout) -> int:
    from bcsync_ops.exports import local_tables

    store = sandbox_store()
    sandbox = SandboxServer(store).start()
    os.environ.setdefault("BCSYNC_STATE_DIR", tempfile.mkdtemp(prefix="bcsync-demo-"))
    config = StoreConfig(STORE_HASH, ACCESS_TOKEN, CLIENT_SECRET, api_url=sandbox.url)
    stack = LocalStack(config, port=0, log_level="ERROR").start()
    try:
        out.write(f"bcsync demo: local stack at {stack.api_url}, sandbox BigCommerce at {sandbox.url}\n\n")
        run_story(store, WebhookSender(stack.api_url, STORE_HASH, CLIENT_SECRET), out)
        stack.wait_until_drained()
        print_timeline(local_tables(), out)
    finally:
        stack.stop()
        sandbox.stop()
    return 0
