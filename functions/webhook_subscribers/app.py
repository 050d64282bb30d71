"""POST /webhooks/subscribers: store/subscriber/* deliveries: email-marketing consent, lists and double opt-in."""

from bcsync.domain.stores import Family
from bcsync.entrypoints.webhooks import webhook_handler

lambda_handler = webhook_handler(Family.SUBSCRIBERS)
