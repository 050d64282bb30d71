"""Cart recovery links under moto and the sandbox store: an abandoned-cart action's link recreates
the shopper's cart through the Management API and redirects to a fresh BigCommerce redirect URL;
a link that cannot be honoured still lands on the store's cart page; a forged one is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from bcsync.domain.confirmation import CART_RECOVERY_PURPOSE, UNSUBSCRIBE_PURPOSE, LinkClaims, issue_token
from bcsync.domain.flow_definitions import parse_flow_file
from bcsync.wiring import container
from tests.integration.conftest import CLIENT_SECRET, STORE_HASH, load_event, use_settings
from tests.integration.test_carts_webhook import open_checkout, started_checkouts

REMINDER = """
flows:
  - {name: Cart Reminder, kind: transactional, trigger: {metric: Started Checkout}, steps: [{action: {template: cart}}]}
"""
STORE_CART_PAGE = f"https://{STORE_HASH}.example.com/cart.php"


@pytest.fixture
def reminded(stack, monkeypatch, tmp_path):
    """A started checkout whose reminder went out; the action's recovery link."""
    use_settings(monkeypatch, tmp_path, {"stores": {STORE_HASH: {"public_base_url": "https://shop.example"}}})
    container().flow_library.apply(STORE_HASH, parse_flow_file(yaml.safe_load(REMINDER)))
    open_checkout(stack)
    assert stack.deliver(load_event("cart_updated.json"))["statusCode"] == 200
    stack.drain_streams()
    [action] = stack.actions()
    return action["context"]["cart_recovery_url"]


def follow(stack, link: str) -> dict:
    token = link.split("token=", 1)[1]
    event = load_event("subscription_confirm.json")
    event.update(rawPath="/carts/recover", rawQueryString=f"token={token}", queryStringParameters={"token": token})
    event["requestContext"]["http"]["path"] = "/carts/recover"
    return stack.invoke("ConfirmSubscriptionFunction", event)


def test_the_link_recreates_the_cart_and_redirects_to_it_every_time_it_is_followed(stack, reminded):
    assert reminded.startswith("https://shop.example/carts/recover?token=")
    first, second = follow(stack, reminded), follow(stack, reminded)
    assert first["statusCode"] == second["statusCode"] == 302
    targets = [answer["headers"]["Location"] for answer in (first, second)]
    assert all(t.startswith(f"https://{STORE_HASH}.example.com/cart.php?action=load&id=") for t in targets)
    assert targets[0] != targets[1]  # BigCommerce's redirect URLs are single use: a fresh one each time
    assert len(stack.store.api_carts) == 2
    for cart_id in stack.store.api_carts:
        lines = stack.store.checkouts[cart_id]["lines"]
        assert [(line.product.id, line.quantity) for line in lines] == [(101, 1), (102, 2)]


def test_a_cart_that_cannot_be_rebuilt_still_lands_on_the_stores_cart_page(stack, reminded):
    stack.store.delete_product(102)
    answer = follow(stack, reminded)
    assert (answer["statusCode"], answer["headers"]["Location"]) == (302, STORE_CART_PAGE)
    assert stack.store.api_carts == set()


def test_an_expired_link_goes_to_the_cart_page_and_a_forged_or_foreign_one_is_refused(stack, reminded):
    [event_id] = started_checkouts(stack)
    expired = issue_token(
        CLIENT_SECRET,
        LinkClaims(STORE_HASH, event_id, datetime.now(UTC) - timedelta(days=1)),
        purpose=CART_RECOVERY_PURPOSE,
    )
    answer = follow(stack, f"x?token={expired}")
    assert (answer["statusCode"], answer["headers"]["Location"]) == (302, STORE_CART_PAGE)
    in_a_day = datetime.now(UTC) + timedelta(days=1)
    forged = issue_token("not-the-secret", LinkClaims(STORE_HASH, event_id, in_a_day), purpose=CART_RECOVERY_PURPOSE)
    unsubscribe = issue_token(CLIENT_SECRET, LinkClaims(STORE_HASH, event_id, in_a_day), purpose=UNSUBSCRIBE_PURPOSE)
    for token in (forged, unsubscribe, f"{reminded.split('token=')[1]}x"):
        answer = follow(stack, f"x?token={token}")
        assert answer["statusCode"] == 400 and "Link not valid" in answer["body"]
    assert stack.store.api_carts == set()
