"""Cart recovery links: the abandoned-cart email's "return to your cart".

BigCommerce's own redirect URLs are single use, live 30 days and exist only for carts made with
the Management API, so a shopper's cart cannot be linked to directly. The email carries a signed
bcsync link instead (purpose-bound, naming the Started Checkout it came from); following it
recreates the cart with `POST /v3/carts` and sends the shopper to a fresh redirect URL, as
BigCommerce's docs advise for links visited more than once. A link that can no longer be honoured
(expired, products gone, BigCommerce down) still lands on the store's cart page, never an error.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bcsync.domain.carts import recreated_cart
from bcsync.domain.confirmation import CART_RECOVERY_PURPOSE, InvalidConfirmation, LinkClaims, read_claims
from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.refusals import Refusal
from bcsync.observability import logger
from bcsync.usecases.links import ConfirmationLinks
from bcsync.usecases.ports import BigCommerceConnector, CatalogRepository, DownstreamFault, EventLookup

RECOVER_PATH = "/carts/recover"
# A BigCommerce cart lives 30 days from its last change; the link lives as long as the email
# that carries it is worth following.
RECOVERY_LINK_LIFE = timedelta(days=30)


class CartRecovery:
    def __init__(
        self,
        links: ConfirmationLinks,
        events: EventLookup,
        catalog: CatalogRepository,
        connector: BigCommerceConnector,
        *,
        budget_seconds: float,
    ) -> None:
        self._links = links
        self._events = events
        self._catalog = catalog
        self._connector = connector
        self._budget = budget_seconds

    def link(self, event: MarketingEvent | None, now: datetime) -> str | None:
        """The recovery link for a Started Checkout; None for other triggers, or until the store
        has a public URL."""
        if event is None or event.metric != Metric.STARTED_CHECKOUT:
            return None
        claims = LinkClaims(event.store_hash, event.id, now + RECOVERY_LINK_LIFE)
        return self._links.public_link(RECOVER_PATH, claims, purpose=CART_RECOVERY_PURPOSE)

    def recover(self, token: str | None, *, now: datetime) -> str | None:
        """Where to send the shopper: a restored cart, else the store's cart page (None when the
        store's address is not known yet). InvalidConfirmation for a token that is not ours."""
        try:
            claims = self._links.verify(token, now=now, purpose=CART_RECOVERY_PURPOSE)
        except InvalidConfirmation as refused:
            if refused.reason is not Refusal.EXPIRED:
                raise
            logger.info("cart recovery link expired; sending the shopper to the store's cart")
            return self._cart_page(read_claims(token).store_hash)  # signed by the store: verified first
        return self._restored(claims) or self._cart_page(claims.store_hash)

    def _restored(self, claims: LinkClaims) -> str | None:
        event = self._events.events([claims.subject]).get(claims.subject)
        if event is None or event.store_hash != claims.store_hash:
            logger.info("cart recovery link names no checkout we keep")
            return None
        body = recreated_cart(event)
        if body is None:
            return None
        client = self._connector.reader(claims.store_hash, budget_seconds=self._budget)
        try:
            cart = client.create_cart(body)
            return client.create_cart_redirect(cart.id).cart_url
        except DownstreamFault as fault:
            # A product deleted or out of stock since, or BigCommerce down: the shopper still
            # reaches the store.
            logger.warning("cart could not be recreated", extra={"reason": str(fault)})
            return None

    def _cart_page(self, store_hash: str) -> str | None:
        """The store's own cart page, from the store address cached with the catalog (or asked of
        BigCommerce when nothing was cached yet)."""
        info = self._catalog.get_store_info(store_hash)
        if info is None:
            try:
                info = self._connector.reader(store_hash, budget_seconds=self._budget).get_store_info()
            except DownstreamFault:
                return None
        return f"{info.secure_url.rstrip('/')}/cart.php" if info.secure_url else None
