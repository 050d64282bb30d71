"""POST /webhooks/customers: store/customer/* deliveries: profiles, identities and the New Customer trigger."""

from bcsync.domain.stores import Family
from bcsync.entrypoints.webhooks import webhook_handler

lambda_handler = webhook_handler(Family.CUSTOMERS)
