"""POST /webhooks/carts: store/cart/* deliveries: Started Checkout, derived from the checkout; cart-order links."""

from bcsync.domain.stores import Family
from bcsync.entrypoints.webhooks import webhook_handler

lambda_handler = webhook_handler(Family.CARTS)
