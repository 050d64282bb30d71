"""`bcsync demo`: the local stack against the sandbox store, a scripted story, and its timeline."""

from __future__ import annotations

import http.client
import io
import json
import os
import secrets
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlencode, urlsplit

from bcsync.domain.confirmation import click_token
from bcsync_ops.local_stack import LocalStack, StoreConfig
from bcsync_ops.operations import StackHandle
from bcsync_ops.sandbox import Line, Product, SandboxServer, SandboxStore
from bcsync_ops.snippet import snippet
from bcsync_ops.stopping import until_stopped
from bcsync_ops.storefront import Storefront
from bcsync_ops.webhook_sender import WebhookSender

if TYPE_CHECKING:
    from bcsync_ops.stack_reader import StackReader

STORE_HASH = "sandbox"
HEDY_CART = "5d1c2b3a-0000-4000-8000-000000000001"
GRACE_CART = "5d1c2b3a-0000-4000-8000-000000000002"
INES_CART = "5d1c2b3a-0000-4000-8000-000000000003"
LINUS_CART = "5d1c2b3a-0000-4000-8000-000000000004"
FAMILY_OF = {
    "order": "orders",
    "cart": "carts",
    "customer": "customers",
    "subscriber": "subscribers",
    "product": "catalog",
    "sku": "catalog",
}
ACCESS_TOKEN = "sandbox-access-token"
CLIENT_SECRET = "sandbox-client-secret-as-long-as-a-real-one"  # BigCommerce issues long ones


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
        family = FAMILY_OF[scope.split("/")[1]]
        status, _ = sender.send(family, scope, data, **kwargs)  # type: ignore[arg-type]
        return status

    out.write("Story:\n")
    store.customer_groups[1] = "Retail"
    store.add_customer(
        7, email="ada@example.com", first_name="Ada", last_name="Lovelace", at=now - timedelta(days=30), group_id=1
    )
    deliver("store/customer/created", {"type": "customer", "id": 7})
    step("Ada opens an account (customer 7): a profile, and a New Customer trigger")
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
    deliver(*store.take_stock(shirt.id, 1))
    deliver(*store.take_stock(mug.id, 2, variant=True))
    step("the stock the order took arrives as inventory hooks (product and SKU): the catalog's levels follow")

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

    run_shoppers_story(store, deliver, step, now)
    confirm_step(sender, step)

    subscriber_abandons_a_cart(store, deliver, step, now)

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


def run_shoppers_story(
    store: SandboxStore,
    deliver: Callable[..., int],
    step: Callable[[str], None],
    now: datetime,
) -> None:
    """Carts, accounts and subscriptions: the families beyond orders."""
    shirt, mug, tote = store.products[101], store.products[102], store.products[103]
    store.create_cart(HEDY_CART, [Line(shirt, 1)], at=now - timedelta(minutes=50))
    deliver("store/cart/created", {"type": "cart", "id": HEDY_CART})
    deliver("store/cart/lineItem/created", store.add_cart_line(HEDY_CART, Line(mug, 1), at=now - timedelta(minutes=49)))
    store.enter_checkout_email(HEDY_CART, "hedy@example.com", at=now - timedelta(minutes=48), first_name="Hedy")
    deliver("store/cart/updated", {"type": "cart", "id": HEDY_CART})
    step("Hedy adds a mug, goes to checkout and types her email: no address yet, so no Started Checkout")
    store.enter_shipping_address(HEDY_CART, at=now - timedelta(minutes=45))
    deliver("store/cart/updated", {"type": "cart", "id": HEDY_CART})
    deliver("store/cart/abandoned", {"type": "cart", "id": HEDY_CART, "token": "t0k3n"})
    step("...enters her address and leaves: Started Checkout, an Abandoned Cart trigger; `abandoned` adds nothing")

    store.create_cart(GRACE_CART, [Line(tote, 2)], at=now - timedelta(minutes=40))
    store.enter_checkout_email(GRACE_CART, "grace@example.org", at=now - timedelta(minutes=39), first_name="Grace")
    store.enter_shipping_address(GRACE_CART, at=now - timedelta(minutes=38))
    deliver("store/cart/updated", {"type": "cart", "id": GRACE_CART})
    store.place_order(
        1005,
        email="grace@example.org",
        first_name="Grace",
        last_name="Hopper",
        lines=[Line(tote, 2)],
        created=now - timedelta(minutes=35),
        city="Arlington",
        state="Virginia",
        zip_code="22201",
    )
    store.close_cart(GRACE_CART)
    deliver("store/cart/converted", {"type": "cart", "id": GRACE_CART, "orderId": 1005})
    deliver("store/order/created", {"type": "order", "id": 1005})
    step("Grace starts a second checkout and completes it: the cart is linked to order 1005 (recovered)")

    store.create_cart(INES_CART, [Line(tote, 1)], at=now - timedelta(minutes=34), tax_included=True)
    store.sign_in(INES_CART, 12, "ines@example.eu", at=now - timedelta(minutes=34), first_name="Ines", last_name="Roth")
    store.enter_shipping_address(INES_CART, at=now - timedelta(minutes=32), city="Vienna")
    deliver("store/cart/updated", {"type": "cart", "id": INES_CART})
    step(
        "Ines, signed in to account 12 (opened before bcsync was installed: no customer webhook), checks out "
        "where prices include tax: Started Checkout worth 27.50 with tax; her profile has External ID 12"
    )

    store.add_customer(
        9, email="grace@example.org", first_name="Grace", last_name="Hopper", at=now - timedelta(minutes=30)
    )
    deliver("store/customer/created", {"type": "customer", "id": 9})
    step("Grace, so far a guest, opens account 9: still one profile, same id, now with External ID 9")

    store.update_customer(7, at=now - timedelta(minutes=20), email="countess@example.com")
    deliver("store/customer/updated", {"type": "customer", "id": 7})
    step("Ada changes her account email: same profile, every event kept")

    store.subscribe(5, email="linus@example.com", first_name="Linus", at=now - timedelta(minutes=5))
    deliver("store/subscriber/created", {"type": "subscriber", "id": 5})
    step("Linus subscribes to the newsletter; double opt-in is on: pending, with a Confirm Subscription trigger")


def subscriber_abandons_a_cart(
    store: SandboxStore, deliver: Callable[..., int], step: Callable[[str], None], now: datetime
) -> None:
    """What the default flows act on: a subscribed person's abandoned checkout."""
    store.create_cart(LINUS_CART, [Line(store.products[102], 1)], at=now - timedelta(minutes=1))
    store.enter_checkout_email(LINUS_CART, "linus@example.com", at=now - timedelta(minutes=1), first_name="Linus")
    store.enter_shipping_address(LINUS_CART, at=now)
    deliver("store/cart/updated", {"type": "cart", "id": LINUS_CART})
    step("Linus, now subscribed, leaves a mug in a checkout: the Abandoned Cart flow will reach him")


def confirm_step(sender: WebhookSender, step: Callable[[str], None]) -> None:
    """Follow the link the Confirm Subscription trigger carries, as Linus would from his inbox."""
    from bcsync.adapters.dynamodb import scan_all

    app = StackHandle.resolve(None, STORE_HASH).container
    rows = scan_all(app.dynamodb.Table(app.settings.require("triggers_table_name")))
    (link,) = [row["details"]["confirmation_url"] for row in rows if row["flow"] == "Confirm Subscription"]
    with urllib.request.urlopen(link, timeout=30) as response:
        status = response.status
    step(f"...and follows the link: {status}, subscribed, and the Welcome Series starts")


def print_timeline(stack: StackReader, out: TextIO) -> None:
    events = sorted(stack.events(), key=lambda e: (e.time, e.id))
    profiles = sorted(stack.profiles(), key=lambda p: p.created_at + p.id)
    triggers = list(stack.triggers())
    out.write("\nTimelines:\n")
    for profile in profiles:
        name = f"{profile.properties.get('First Name', '')} {profile.properties.get('Last Name', '')}".strip()
        kind = f"account {profile.external_id}" if profile.external_id else "guest"
        consent = profile.consent.email_marketing or "no consent"
        lists = ", ".join(profile.lists) or "no lists"
        out.write(f"\n  {name} <{profile.email}> ({kind}, {profile.id})\n    email marketing: {consent}; {lists}\n")
        for event in (e for e in events if e.profile_id == profile.id):
            detail = event.properties.get("Name") or ", ".join(event.properties.get("Items", []))
            amount = f"{event.value:>8.2f} {event.currency}"
            out.write(f"    {event.time:%Y-%m-%d %H:%M}  {event.metric!s:<17} {amount}  {detail}\n")
    out.write("\nFlow triggers sent:\n")
    for trigger in sorted(triggers, key=lambda t: (t["flow"], t["dedup_key"])):
        owner = next((p for p in profiles if p.id == trigger["profile_id"]), None)
        out.write(
            f"  {trigger['flow']:<28} -> {owner.email if owner else trigger['profile_id']}  ({trigger['event_id']})\n"
        )
    carts = list(stack.carts())
    out.write("\nCarts:\n")
    for cart in sorted(carts, key=lambda c: c["cart_id"]):
        outcome = f"became order {cart['order_id']}" if cart["order_id"] else "not converted"
        out.write(f"  {cart['cart_id']}  {len(cart['started_checkout_ids'])} Started Checkout, {outcome}\n")
    out.write(f"\n{len(events)} events, {len(profiles)} profiles, {len(triggers)} flow triggers.\n")


STREAM_SETTLE_SECONDS = 2.0


def apply_default_flows() -> None:
    from bcsync.wiring import container
    from bcsync_ops.flows import load
    from bcsync_ops.local_stack import PROJECT_ROOT

    container().flow_library.apply(STORE_HASH, load(PROJECT_ROOT / "flows" / "default.yaml"))


def run_flows(stack: LocalStack, store: SandboxStore, sender: WebhookSender, out: TextIO) -> None:
    """The default flows on the story, with the clock compressed: the minute tick fired as of
    hours and days later. What each person was sent, what was skipped, what ended early."""
    from bcsync_ops.flows import status

    time.sleep(STREAM_SETTLE_SECONDS)  # the stream pollers hand the story's last events over
    timer = next(schedule for schedule in stack.schedules if schedule.function.logical_id == "FlowTimerFunction")
    started = datetime.now(UTC)
    out.write("\nFlows (default flows applied; the clock compressed by firing the minute tick later):\n")
    for later in (timedelta(0), timedelta(hours=1), timedelta(hours=5), timedelta(days=1, hours=1), timedelta(days=15)):
        if later == timedelta(hours=1):
            hedy_orders_inside_the_delay(store, sender)
            stack.wait_until_drained()
            time.sleep(STREAM_SETTLE_SECONDS)
            out.write(
                f"  +{_span(later):<8} Hedy completes her checkout inside the 4-hour delay: her Abandoned Cart"
                f" run {_run_state('hedy@example.com', 'Abandoned Cart')}\n"
            )
        if later:
            stack.fire(timer, at=started + later)
        for message in stack.drain("FlowActionQueue"):
            action = json.loads(message["Body"])
            out.write(
                f"  +{_span(later):<8} {action['flow']:<28} {action['template']:<22} -> {action['profile']['email']}\n"
            )
            if link := action["context"]["cart_recovery_url"]:
                out.write(f"{'':<12}its cart link, followed: {_followed(link)}\n")
    out.write("\nFlow status:\n")
    buffer = io.StringIO()
    status(StackHandle.resolve(None, STORE_HASH).reader().runs_of_store(STORE_HASH), STORE_HASH, buffer)
    out.write("".join(f"  {line}\n" for line in buffer.getvalue().splitlines()))


def _run_state(email: str, flow: str) -> str:
    from bcsync.wiring import container

    app = container()
    profile_id = app.profile_repository.find(STORE_HASH, "email", email) or ""
    (run,) = [run for run in app.flow_runs.runs_of(STORE_HASH, profile_id) if run.flow == flow]
    return f"{run.status.value}: {run.exit_reason}" if run.exit_reason else run.status.value


def hedy_orders_inside_the_delay(store: SandboxStore, sender: WebhookSender) -> None:
    store.place_order(
        1006,
        email="hedy@example.com",
        first_name="Hedy",
        last_name="Lamarr",
        lines=[Line(store.products[101], 1), Line(store.products[102], 1)],
        created=datetime.now(UTC).replace(microsecond=0),
    )
    store.close_cart(HEDY_CART)
    sender.send("carts", "store/cart/converted", {"type": "cart", "id": HEDY_CART, "orderId": 1006})
    sender.send("orders", "store/order/created", {"type": "order", "id": 1006})


def _followed(link: str) -> str:
    """What a click on the link answers (the redirect, not where it leads)."""
    parts = urlsplit(link)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    connection.request("GET", f"{parts.path}?{parts.query}")
    response = connection.getresponse()
    connection.close()
    return f"{response.status} to {response.getheader('Location')}"


def backpopulate_winback(store: SandboxStore, out: TextIO) -> None:
    """History the webhooks never saw (an order from before bcsync) comes in by backfill, which
    starts no flow; a back-population dry run says who the winback would reach now."""
    from bcsync_ops.flows import backpopulate
    from bcsync_ops.operations import backfill

    store.place_order(
        990,
        email="marie@example.org",
        first_name="Marie",
        last_name="Curie",
        lines=[Line(store.products[103], 1)],
        created=datetime.now(UTC).replace(microsecond=0) - timedelta(days=200),
    )
    handle = StackHandle.resolve(None, STORE_HASH)
    backfill(handle, io.StringIO(), since=None, wait=True)
    out.write("\nBackfill: Marie's order of 200 days ago, from before bcsync, imported without starting flows.\n")
    out.write("Winback back-population, dry run (`bcsync flows backfill 'Customer Winback' --dry-run`):\n")
    buffer = io.StringIO()
    dry_run = SimpleNamespace(flow="Customer Winback", since=None, dry_run=True)
    backpopulate(handle.container.flow_runner, handle.reader(), STORE_HASH, dry_run, out=buffer, err=buffer)
    out.write("".join(f"  {line}\n" for line in buffer.getvalue().splitlines()))


def import_from_another_platform(out: TextIO) -> None:
    """The store's years on Shopify, from a Klaviyo-style export: good rows once (a second run
    changes nothing), bad rows named by line, no flow started."""
    from bcsync_ops.history import import_events
    from bcsync_ops.local_stack import PROJECT_ROOT

    examples = PROJECT_ROOT / "examples" / "import"
    args = SimpleNamespace(
        file=str(examples / "shopify-placed-orders.csv"),
        format=None,
        map=str(examples / "shopify-map.yaml"),
        metric=None,
        dry_run=False,
    )
    out.write("\nSwitching platforms (`bcsync import events examples/import/shopify-placed-orders.csv --map ...`):\n")
    for attempt in ("first run", "again"):
        summary, problems = io.StringIO(), io.StringIO()
        import_events(StackHandle.resolve(None, STORE_HASH), args, summary, problems)
        said = next(line for line in summary.getvalue().splitlines() if line.startswith("imported"))
        out.write(f"  {attempt}: {said}\n")
    out.write("".join(f"    refused {line}\n" for line in problems.getvalue().splitlines()))


def browse_the_storefront(stack: LocalStack, storefront: Storefront, out: TextIO) -> None:
    """Linus follows his welcome email's link to the store, then looks at the tote twice: what the
    snippet on each page sends (a browser would; the demo posts the same beacons)."""
    from bcsync.wiring import container

    linus = container().profile_repository.find(STORE_HASH, "email", "linus@example.com") or ""
    token = click_token(CLIENT_SECRET, STORE_HASH, linus, datetime.now(UTC))
    tote = storefront.store.products[103]
    out.write(f"\nOnsite: the storefront {storefront.url} carries `bcsync onsite snippet`.\n")
    out.write(f"  Linus follows his email's link ({storefront.url}/?_bc=...): ")
    answer = _beacon(stack, storefront, {"metric": "Active on Site", "token": token, "url": f"{storefront.url}/"})
    out.write(f"{answer['status']}, and his browser keeps a visitor token\n")
    for _ in range(2):
        view = {
            "metric": "Viewed Product",
            "token": answer["visitor"],
            "product_id": tote.id,
            "url": f"{storefront.url}{tote.path}",
        }
        _beacon(stack, storefront, view)
    anonymous = _beacon(stack, storefront, {"metric": "Viewed Product", "product_id": tote.id})
    stack.wait_until_drained()
    events = [e for e in container().events.timeline(STORE_HASH, linus) if e.source == "onsite"]
    out.write(
        f"  he looks at the {tote.name} twice: {', '.join(sorted(str(e.metric) for e in events))} recorded once each\n"
    )
    out.write(f"  an anonymous visitor's view: {anonymous['status']} ({anonymous['reason']}), nothing stored\n")
    triggered = [
        t for t in StackHandle.resolve(None, STORE_HASH).reader().triggers() if t["flow"] == "Browse Abandonment"
    ]
    out.write(f"  Browse Abandonment triggers: {len(triggered)} (the view of the {tote.name})\n")
    sign_up_on_the_storefront(stack, storefront, out)


def sign_up_on_the_storefront(stack: LocalStack, storefront: Storefront, out: TextIO) -> None:
    """A new visitor submits the newsletter form: the snippet sends a random claim with the address,
    BigCommerce creates the subscriber, its webhook links the address, and the claim then knows her."""
    from bcsync.wiring import container

    claim = secrets.token_urlsafe(24)
    page = f"{storefront.url}/"
    sent: dict[str, object] = {
        "metric": "Active on Site",
        "claim": claim,
        "signup_email": "noor@example.com",
        "url": page,
    }
    held = _beacon(stack, storefront, sent)
    out.write(f"  Noor signs up on the storefront's newsletter form: the claim is kept ({held['reason']} for now)\n")
    form = urlencode({"action": "subscribe", "nl_email": "noor@example.com"}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{storefront.url}/subscribe.php", data=form), timeout=30).close()
    stack.wait_until_drained()
    answer = _beacon(stack, storefront, {"metric": "Active on Site", "claim": claim, "url": page})
    noor = container().profile_repository.find(STORE_HASH, "email", "noor@example.com") or ""
    events = [str(e.metric) for e in container().events.timeline(STORE_HASH, noor) if e.source == "onsite"]
    out.write(f"  after the subscriber webhook, her next page is {answer['status']}: {', '.join(events)}\n")


def _beacon(stack: LocalStack, storefront: Storefront, body: dict[str, object]) -> dict[str, str]:
    request = urllib.request.Request(
        f"{stack.api_url}/track?store={STORE_HASH}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "text/plain", "Origin": storefront.url, "User-Agent": "Mozilla/5.0 (demo)"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, str] = json.loads(response.read())
        return answer


def show_feeds(out: TextIO) -> None:
    """What a cross-sell email would carry, from bcsync's own events and catalog cache."""
    from bcsync.domain.feeds import Feed
    from bcsync.usecases.feeds import FeedQuery
    from bcsync_ops.reports import feed

    handle = StackHandle.resolve(None, STORE_HASH)
    for query in (FeedQuery(Feed.BEST_SELLERS, limit=3), FeedQuery(Feed.BOUGHT_TOGETHER, limit=3, product_id=101)):
        options = f" --product-id {query.product_id}" if query.product_id else ""
        out.write(f"\nProduct feed (`bcsync feeds show {query.feed}{options}`):\n")
        buffer = io.StringIO()
        feed(handle.container.feeds, STORE_HASH, query, out=buffer)
        out.write("".join(f"  {line}\n" for line in buffer.getvalue().splitlines()))


def free_port() -> int:
    """A port for the local API, known before it starts: its links need their own address."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _span(delta: timedelta) -> str:
    return f"{delta.days}d" if delta.days and not delta.seconds else f"{int(delta.total_seconds() // 3600)}h"


def main(out: TextIO = sys.stdout, *, serve: bool = False) -> int:

    store = sandbox_store()
    sandbox = SandboxServer(store).start()
    storefront = Storefront(store).start()
    store.secure_url = storefront.url  # its pages may send beacons: they are the store's site
    workdir = Path(tempfile.mkdtemp(prefix="bcsync-demo-"))
    os.environ.setdefault("BCSYNC_STATE_DIR", str(workdir))
    settings = workdir / "bcsync-settings.json"
    port = free_port()
    public = {"double_opt_in": True, "public_base_url": f"http://127.0.0.1:{port}"}
    settings.write_text(json.dumps({"stores": {STORE_HASH: public}}))
    os.environ["SETTINGS_FILE"] = str(settings)
    config = StoreConfig(STORE_HASH, ACCESS_TOKEN, CLIENT_SECRET, api_url=sandbox.url)
    stack = LocalStack(config, port=port, log_level="ERROR").start()
    try:
        out.write(f"bcsync demo: local stack at {stack.api_url}, sandbox BigCommerce at {sandbox.url}\n")
        out.write(f"console: {stack.console_url} (kept up after the story with `bcsync demo --serve`)\n\n")
        apply_default_flows()
        sender = WebhookSender(stack.api_url, STORE_HASH, CLIENT_SECRET)
        run_story(store, sender, out)
        stack.wait_until_drained()
        print_timeline(StackHandle.resolve(None, STORE_HASH).reader(), out)
        run_flows(stack, store, sender, out)
        backpopulate_winback(store, out)
        import_from_another_platform(out)
        storefront.script = snippet(stack.api_url, STORE_HASH)
        storefront.forward_sign_ups(sender)
        browse_the_storefront(stack, storefront, out)
        show_feeds(out)
        if serve:
            out.write(f"\nThe stack keeps running; the console: {stack.console_url}\nCtrl-C to stop.\n")
            out.flush()
            until_stopped()
    finally:
        stack.stop()
        storefront.stop()
        sandbox.stop()
    return 0
