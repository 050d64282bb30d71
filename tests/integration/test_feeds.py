"""Product feeds under moto, from webhooks to the read API and the CLI: every feed ranks what the
orders and views wrote, fills its items from the catalog cache, skips what may not be shown, and
leaves returned orders out only where the store says so. A replayed order counts once."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bcsync_ops import reports
from bcsync_ops.sandbox.shapes import Line, Product
from tests.integration.conftest import use_settings, webhook_event
from tests.integration.test_read_api import call

CREATED = datetime(2026, 1, 5, 9, tzinfo=UTC)


def order(stack, order_id: int, customer: str, lines: list[tuple[int, int]], *, status_id: int = 11) -> None:
    store = stack.store
    store.place_order(
        order_id,
        email=f"{customer}@example.com",
        first_name=customer.title(),
        last_name="Example",
        customer_id=0,
        lines=[Line(store.products[pid], quantity) for pid, quantity in lines],
        created=datetime.now(UTC) - timedelta(hours=2),
        status_id=status_id,
    )
    assert stack.deliver(webhook_event("store/order/created", {"type": "order", "id": order_id}))["statusCode"] == 200


def feed(stack, name: str, **query: object) -> list[int]:
    status, body = call(stack, "GET", f"/feeds/{name}", {k: str(v) for k, v in query.items()})
    assert status == 200, body
    return [item["product_id"] for item in body["items"]]


@pytest.fixture
def shop(stack):
    """Three people's orders: Ada 101 + 2x102, Bob 102 + 103, Cy 3x103; Ada's replayed."""
    for pid, day in ((101, 1), (102, 2), (103, 3), (104, 4)):
        stack.store.products[pid].created = CREATED + timedelta(days=day)
    order(stack, 1, "ada", [(101, 1), (102, 2)])
    assert stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1}))["statusCode"] == 200
    order(stack, 2, "bob", [(102, 1), (103, 1)])
    order(stack, 3, "cy", [(103, 3)])
    return stack


def profile_of(stack, email: str) -> str:
    return next(p["id"] for p in stack.profiles() if p["email"] == email)


def test_best_sellers_bought_together_and_for_you_from_the_orders(shop):
    assert feed(shop, "best-sellers") == [103, 102, 101]  # 4, 3, 1 units
    assert feed(shop, "best-sellers", by="revenue") == [103, 101, 102]  # 100, 48, 36 (tax included)
    assert feed(shop, "bought-together", product_id=102) == [101, 103]  # one order each: lower id first
    assert feed(shop, "bought-together", product_id=104) == []
    # Ada bought 101 and 102: Bob's order put 103 with 102; nothing else has sold
    assert feed(shop, "for-you", profile_id=profile_of(shop, "ada@example.com")) == [103]
    status, body = call(shop, "GET", "/feeds/best-sellers", {"limit": "1"})
    assert status == 200
    (item,) = body["items"]
    assert item == {
        "product_id": 103,
        "name": "Canvas Tote",
        "url": "https://sandbox.example.com/canvas-tote/",
        "image_url": "https://cdn.example.com/tote-can.jpg",
        "price": 25.0,
        "sale_price": 0.0,
        "score": 4.0,
    }


def test_hidden_and_sold_out_products_leave_the_feed_once_the_catalog_says_so(shop):
    shop.store.update_product(103, is_visible=False)
    shop.deliver(webhook_event("store/product/updated", {"type": "product", "id": 103}))
    shop.store.update_product(102, inventory_level=0)
    shop.deliver(webhook_event("store/product/updated", {"type": "product", "id": 102}))
    assert feed(shop, "best-sellers") == [101]


def test_new_arrivals_are_the_catalogs_newest_products(shop):
    shop.store.add_product(Product(105, "Straw Hat", "HAT-STR", Decimal("30"), [1], "Fog Linen", created=CREATED))
    shop.deliver(webhook_event("store/product/created", {"type": "product", "id": 105}))
    assert feed(shop, "new-arrivals") == [103, 102, 101, 105]  # 104 never reached the cache
    assert feed(shop, "new-arrivals", limit=2) == [103, 102]


def test_a_store_that_excludes_returns_drops_a_cancelled_order_on_its_day(stack, monkeypatch, tmp_path):
    use_settings(monkeypatch, tmp_path, {"stores": {"sandbox": {"feeds_exclude_returns": True}}})
    order(stack, 1, "ada", [(101, 1), (102, 2)])
    order(stack, 2, "bob", [(102, 1), (103, 1)])
    stack.store.set_status(2, 5, at=datetime.now(UTC))  # Cancelled
    assert stack.deliver(webhook_event("store/order/statusUpdated", {"type": "order", "id": 2}))["statusCode"] == 200
    assert stack.deliver(webhook_event("store/order/statusUpdated", {"type": "order", "id": 2}))["statusCode"] == 200
    assert feed(stack, "best-sellers") == [102, 101]  # 102: Ada's two; Bob's lines are out
    assert feed(stack, "bought-together", product_id=102) == [101]


def test_a_store_that_keeps_returns_still_ranks_the_cancelled_order(stack):
    order(stack, 2, "bob", [(102, 1), (103, 1)])
    stack.store.set_status(2, 5, at=datetime.now(UTC))
    stack.deliver(webhook_event("store/order/statusUpdated", {"type": "order", "id": 2}))
    assert feed(stack, "best-sellers") == [103, 102]  # one unit each: the larger revenue first


@pytest.mark.parametrize(
    ("path", "query", "status", "error"),
    [
        ("/feeds/top-picks", {}, 404, "no feed top-picks"),
        ("/feeds/bought-together", {}, 400, "product_id: required for bought-together"),
        ("/feeds/for-you", {"profile_id": "nobody"}, 404, "no such profile"),
        ("/feeds/trending", {"days": "7"}, 400, "days: trending compares this week with those before"),
        ("/feeds/best-sellers", {"limit": "500"}, 400, "limit"),
        ("/feeds/best-sellers", {"by": "likes"}, 400, "by"),
    ],
)
def test_a_feed_it_cannot_answer_is_a_clear_4xx(stack, path, query, status, error):
    answered, body = call(stack, "GET", path, query)
    assert answered == status and error in body["error"]


def test_the_cli_shows_a_feed_as_a_table(shop, capsys):
    from bcsync.domain.feeds import Feed
    from bcsync.usecases.feeds import FeedQuery
    from bcsync.wiring import container

    reports.feed(container().feeds, "sandbox", FeedQuery(Feed.BEST_SELLERS, limit=2), out=sys.stdout)
    printed = capsys.readouterr().out
    assert "Canvas Tote" in printed and "Ceramic Mug" in printed and "Linen Shirt" not in printed


CROSS_SELL = """
flows:
  - name: Cross Sell
    kind: transactional
    trigger: {metric: Placed Order}
    steps:
      - delay: {hours: 1}
      - action: {template: cross-sell, feeds: [bought-together, {name: best-sellers, limit: 2}, for-you]}
"""


def test_an_action_that_names_feeds_carries_them_for_its_person_and_trigger(shop):
    from tests.integration.test_flows import apply_flows

    shop.drain_streams()  # the earlier orders came before the flow
    apply_flows(CROSS_SELL)
    order(shop, 4, "dee", [(101, 1)])
    assert shop.drain_streams() > 0
    shop.tick(datetime.now(UTC) + timedelta(hours=1, minutes=1))
    [action] = shop.actions()
    feeds = action["context"]["feeds"]
    # Dee's order started from 101: Ada's order put 102 with it
    assert [item["product_id"] for item in feeds["bought-together"]] == [102]
    assert [item["product_id"] for item in feeds["best-sellers"]] == [103, 102]
    assert [item["product_id"] for item in feeds["for-you"]] == [102, 103]  # with 101, then best sellers
    tote = feeds["best-sellers"][0]
    assert tote["name"] == "Canvas Tote" and tote["product_url"].startswith("https://sandbox.example.com/canvas-tote/")
    assert tote["image_url"] == "https://cdn.example.com/tote-can.jpg"


def test_for_you_puts_what_the_person_viewed_and_did_not_buy_first(stack):
    from bcsync.domain.confirmation import click_token
    from bcsync_ops.demo import CLIENT_SECRET
    from tests.integration.test_track import STOREFRONT, beacon

    order(stack, 1, "ada", [(101, 1), (102, 2)])
    order(stack, 2, "bob", [(102, 1), (104, 1)])
    profile_id = profile_of(stack, "ada@example.com")
    token = click_token(CLIENT_SECRET, "sandbox", profile_id, datetime.now(UTC))
    for product in (103, 101):  # a bought product viewed again is still not offered
        body = {"metric": "Viewed Product", "token": token, "product_id": product, "url": f"{STOREFRONT}/x"}
        assert beacon(stack, body)[0] == 202
    # 103: viewed once; 104: with 102 (Ada's) in Bob's order
    assert feed(stack, "for-you", profile_id=profile_id) == [103, 104]
