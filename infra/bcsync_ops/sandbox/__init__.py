"""A small fake BigCommerce API: the sandbox store behind `bcsync demo` and the end-to-end tests.

It serves the endpoints bcsync reads, in BigCommerce's published shapes (v2 money as strings and
dates in RFC 2822, v3 lists under `data`, 204 for empty v2 pages, line items embedded in
consignments and capped at 50 with a `__warning__`, checkouts with both cart amounts and the
consignment's `address`, `include=` honoured), checks X-Auth-Token, sends the rate-limit headers,
and can be told to fail (429, 5xx) so tests can prove nothing is lost. `tests/contract/` holds
every answer to the published one for the same facts, so it cannot drift from the real API.

One module per resource (catalog, customers, carts, orders, hooks, collections), each a part of
`SandboxStore` over the shared `StoreState`; `server` serves it over HTTP.
"""

from bcsync_ops.sandbox.server import SandboxServer
from bcsync_ops.sandbox.shapes import Line, Product
from bcsync_ops.sandbox.state import Quota
from bcsync_ops.sandbox.store import SandboxStore

__all__ = ["Line", "Product", "Quota", "SandboxServer", "SandboxStore"]
