"""POST /webhooks/orders: store/order/* deliveries: Placed, Fulfilled, Cancelled, Refunded Order, Ordered Product."""

from bcsync.domain.stores import Family
from bcsync.entrypoints.webhooks import webhook_handler

lambda_handler = webhook_handler(Family.ORDERS)
