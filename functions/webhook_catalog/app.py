"""POST /webhooks/catalog: store/product/* and store/sku/* deliveries: the catalog items enrichment reads."""

from bcsync.domain.stores import Family
from bcsync.entrypoints.webhooks import webhook_handler

lambda_handler = webhook_handler(Family.CATALOG)
