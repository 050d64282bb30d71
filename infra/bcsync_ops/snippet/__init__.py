"""`bcsync onsite snippet`: the storefront script, filled in for one store."""

from __future__ import annotations

import json
from importlib import resources


def snippet(endpoint: str, store_hash: str, client_id: str = "", *, keep_anonymous_views: bool = False) -> str:
    """A `<script>` for BigCommerce's Script Manager (footer, all pages): the stack's API, the
    store, (to know signed-in shoppers) the app's client id for the current-customer JWT, and
    whether an anonymous visitor's views are kept in their browser for up to 14 days (off)."""
    source = resources.files(__name__).joinpath("bcsync.js").read_text()
    source = source.replace("keepAnonymous: false", f"keepAnonymous: {'true' if keep_anonymous_views else 'false'}")
    for placeholder, value in (
        ('"__ENDPOINT__"', endpoint.rstrip("/")),
        ('"__STORE__"', store_hash),
        ('"__CLIENT_ID__"', client_id),
    ):
        source = source.replace(placeholder, json.dumps(value).replace("</", "<\\/"))
    return f"<script>\n{source}</script>\n"


SCRIPT_NAME = "bcsync onsite tracking"


def script_manager_entry(script: str) -> dict[str, object]:
    """What `bcsync onsite install` asks the Scripts API for (`script_Post`): on storefront pages,
    in the footer, as analytics, so a store with a cookie-consent banner runs it only for shoppers
    who allowed analytics."""
    return {
        "name": SCRIPT_NAME,
        "description": "Viewed Product and Active on Site for known browsers (bcsync)",
        "html": script,
        "auto_uninstall": True,
        "load_method": "default",
        "location": "footer",
        "visibility": "storefront",
        "kind": "script_tag",
        "consent_category": "analytics",
    }
