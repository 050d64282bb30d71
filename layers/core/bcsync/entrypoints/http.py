"""The HTTP edge's answers: one status per refusal reason with a JSON body saying why, and a
logged 503 for anything else (the caller may retry; nothing was half-written)."""

from __future__ import annotations

from types import MappingProxyType

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from bcsync import resume_collection
from bcsync.domain.refusals import Refusal, Refused
from bcsync.observability import logger

HTTP_STATUS = MappingProxyType(
    {
        Refusal.INVALID: 400,
        Refusal.UNAUTHENTICATED: 401,
        Refusal.FORBIDDEN: 403,
        Refusal.UNKNOWN: 404,
        Refusal.EXPIRED: 410,
        Refusal.TOO_LARGE: 413,
        Refusal.TOO_FREQUENT: 429,
        Refusal.BUSY: 409,
    }
)


def status_of(refused: Refused) -> int:
    return HTTP_STATUS[refused.reason]


def json_resolver(*, failure: str, unavailable: str, enable_validation: bool = False) -> APIGatewayHttpResolver:
    """A resolver answering every refusal `{"error": ...}` with its 4xx, and any other fault with
    a 503 saying `unavailable` (after logging `failure` with the exception). Built as the
    function's module finishes loading, so the cold start's paused collector resumes here: a
    request refused before it reaches the composition root must not find it paused."""
    resume_collection()
    app = APIGatewayHttpResolver(enable_validation=enable_validation)

    @app.exception_handler(Refused)
    def refused(exc: Refused) -> Response[dict[str, str]]:
        logger.info("request refused", extra={"reason": exc.reason.value, "detail": exc.message})
        return Response(status_of(exc), content_types.APPLICATION_JSON, {"error": exc.message})

    @app.exception_handler(Exception)
    def failed(exc: Exception) -> Response[dict[str, str]]:
        logger.exception(failure)
        return Response(503, content_types.APPLICATION_JSON, {"error": unavailable})

    return app
