"""The links people follow from email: GET /subscriptions/confirm?token=... (the double opt-in
link) and /subscriptions/unsubscribe?token=..., each answered with a small HTML page, and
/carts/recover?token=... (an abandoned-cart email's cart), answered with a redirect."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from bcsync.domain.confirmation import InvalidConfirmation
from bcsync.domain.consent import ConfirmOutcome
from bcsync.domain.refusals import Refusal
from bcsync.entrypoints.http import status_of
from bcsync.observability import logger, metrics
from bcsync.wiring import container

PAGES = {
    ConfirmOutcome.CONFIRMED: (200, "You are subscribed", "Thank you for confirming your subscription."),
    ConfirmOutcome.ALREADY_CONFIRMED: (200, "You are subscribed", "Your subscription was already confirmed."),
    ConfirmOutcome.NOT_PENDING: (
        409,
        "Nothing to confirm",
        "This subscription is no longer waiting for confirmation. Subscribe again to get a new link.",
    ),
}


def page(status: int, title: str, message: str) -> Response[str]:
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        f'<body style="font-family:sans-serif;max-width:32rem;margin:4rem auto">'
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></body></html>"
    )
    return Response(status, content_types.TEXT_HTML, body, headers={"Cache-Control": "no-store"})


def confirmation_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()

    @app.get("/subscriptions/confirm")
    def confirm() -> Response[str]:
        token = app.current_event.get_query_string_value("token")
        outcome = container().subscribers.confirm(token, now=datetime.now(UTC))
        logger.info("confirmation link followed", extra={"outcome": outcome.value})
        metrics.add_metric(name="ConfirmationLinksFollowed", unit="Count", value=1)
        return page(*PAGES[outcome])

    @app.get("/subscriptions/unsubscribe")
    def unsubscribe() -> Response[str]:
        token = app.current_event.get_query_string_value("token")
        withdrawn = container().subscribers.unsubscribe(token, now=datetime.now(UTC))
        logger.info("unsubscribe link followed", extra={"withdrawn": withdrawn})
        metrics.add_metric(name="UnsubscribeLinksFollowed", unit="Count", value=1)
        message = "You will get no more marketing email from us." if withdrawn else "You were already unsubscribed."
        return page(200, "You are unsubscribed", message)

    @app.get("/carts/recover")
    def recover_cart() -> Response[str]:
        token = app.current_event.get_query_string_value("token")
        target = container().cart_recovery.recover(token, now=datetime.now(UTC))
        metrics.add_metric(name="CartRecoveryLinksFollowed", unit="Count", value=1)
        if target is None:
            return page(503, "Please try again", "We could not restore your cart just now. Please try again.")
        logger.info("cart recovery link followed")
        return Response(302, content_types.TEXT_HTML, "", headers={"Location": target, "Cache-Control": "no-store"})

    @app.exception_handler(InvalidConfirmation)
    def refused(exc: InvalidConfirmation) -> Response[str]:
        logger.info("link refused", extra={"reason": exc.reason.value, "detail": exc.message})
        metrics.add_metric(name="LinksRefused", unit="Count", value=1)
        title = "Link expired" if exc.reason is Refusal.EXPIRED else "Link not valid"
        return page(status_of(exc), title, exc.message)

    @app.exception_handler(Exception)
    def failed(exc: Exception) -> Response[str]:
        logger.exception("link could not be followed")
        metrics.add_metric(name="LinkFailures", unit="Count", value=1)
        return page(503, "Please try again", "Something went wrong on our side just now. Please try again.")

    return app
