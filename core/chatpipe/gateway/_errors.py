"""Gateway errors: every failure becomes OpenAI's error JSON with the right HTTP status.

::

    {"error": {"message": "...", "type": "invalid_request_error", "param": "messages", "code": null}}

:func:`from_chatpipe_error` maps the chatpipe exception tree onto statuses:

==========================================  =====  =====================================
chatpipe error                              HTTP   notes
==========================================  =====  =====================================
InvalidRequestError, upstream BadRequest    400    (upstream 413/422 keep their status)
upstream NotFoundError                      404    ``code: model_not_found``
upstream RateLimitError                     429    ``Retry-After`` kept
LimitExceededError (the profile's limits)   429    ``code: rate_limit_exceeded``, ``Retry-After``
                                                   (seconds, rounded up) when known; no vendor called
upstream AuthenticationError/PermissionDen  502    the gateway's vendor key was refused;
                                                   the client's credentials are not at fault
upstream ServerError, connection, protocol  502
upstream OverloadedError                    503
upstream APITimeoutError                    504
AllTargetsFailedError (a router profile)    502    ``code: all_targets_failed``, each target's failure
                                                   listed (cooling down and over-limit targets too)
StateUnavailableError                       503    ``code: state_unavailable``: the shared state
                                                   (Redis) is down and ``on_state_error: closed``
missing vendor key, ConfigError, plugin     500    the gateway is misconfigured
==========================================  =====  =====================================

Messages are built from the error's own message, scrubbed of every known secret; an
upstream response *body* is never forwarded, and connection errors never name the upstream URL
(nor does a state error name the state server: its detail goes to the server log only).
In a stream that has already started, the same mapping gives the error frame's contents.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from .._log import get_logger
from ..errors import (
    AllTargetsFailedError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatpipeError,
    ConfigError,
    ContentFilterError,
    ContextLengthError,
    InvalidRequestError,
    LimitExceededError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    PluginNotFoundError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    StateUnavailableError,
)
from ..secrets import Secret, scrub

__all__ = ["GatewayError", "error_body", "from_chatpipe_error", "request_timeout_error"]

_log = get_logger("gateway")


class GatewayError(Exception):
    """An error answered to the client: ``status``, OpenAI ``type``/``code``/``param``, headers.

    ``message`` must already be safe to show (no secret, no upstream body).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(f"HTTP {status}: {message}")

    def body(self) -> dict[str, Any]:
        """The OpenAI error envelope for this error."""
        return error_body(self.message, type=self.type, code=self.code, param=self.param)


def error_body(message: str, *, type: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    """``{"error": {"message", "type", "param", "code"}}`` as OpenAI sends it."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def _upstream_message(error: ProviderError, secrets: Iterable[Secret | str | None]) -> str:
    text = error.message
    if error.request_id:
        text += f" (upstream request id {error.request_id})"
    prefix = f"upstream {error.provider}" if error.provider else "upstream"
    if error.status is not None:
        prefix += f" HTTP {error.status}"
    return scrub(f"{prefix}: {text}", secrets)


def _retry_headers(error: RateLimitError) -> dict[str, str]:
    if error.retry_after is None or not math.isfinite(error.retry_after) or error.retry_after < 0:
        return {}
    return {"Retry-After": str(math.ceil(error.retry_after))}


def request_timeout_error() -> GatewayError:
    """The 504 for a request that ran past ``serve.request_timeout`` (before or during its reply)."""
    return GatewayError(
        504, "the request took longer than serve.request_timeout", type="timeout", code="request_timeout"
    )


def internal_error() -> GatewayError:
    """The 500 for a failure of the gateway itself (a bug, logged with its traceback; never a vendor's fault)."""
    return GatewayError(500, "internal gateway error; see the server log", type="server_error")


def from_chatpipe_error(
    error: ChatpipeError, *, profile: str | None = None, secrets: Iterable[Secret | str | None] = ()
) -> GatewayError:
    """The :class:`GatewayError` a chatpipe exception is answered with (see the module table).

    ``profile`` names the routed profile in gateway-side messages; ``secrets`` are scrubbed
    from every message (the adapter's key and configured header values).
    """
    secrets = tuple(secrets)
    where = f"profile {profile!r}" if profile else "the gateway"
    if isinstance(error, InvalidRequestError):
        return GatewayError(400, scrub(str(error), secrets), param=error.where)
    if isinstance(error, AuthenticationError) and error.status is None:
        return GatewayError(
            500,
            f"{where} has no vendor API key configured on the server; the operator must set one "
            "(chatpipe keys set, the vendor's env var, or api_key in the profile)",
            type="server_error",
            code="gateway_misconfigured",
        )
    if isinstance(error, (ConfigError, PluginNotFoundError)):
        return GatewayError(
            500,
            scrub(f"{where} is misconfigured on the server: {error}", secrets),
            type="server_error",
            code="gateway_misconfigured",
        )
    if not isinstance(error, ProviderError):
        return GatewayError(500, scrub(str(error), secrets), type="server_error")
    if isinstance(error, LimitExceededError):
        return GatewayError(
            429,
            scrub(f"rate limit of the gateway: {error.message}", secrets),
            type="rate_limit_error",
            code="rate_limit_exceeded",
            headers=_retry_headers(error),
        )
    if isinstance(error, StateUnavailableError):
        _log.error("%s: %s", where, scrub(error.message, secrets))
        return GatewayError(
            503,
            f"{where} cannot be served now: the gateway's shared rate-limit state is unreachable "
            "and it is configured to refuse calls then (state.on_state_error: closed); "
            "nothing was sent to the vendor, try again later",
            type="server_error",
            code="state_unavailable",
        )
    message = _upstream_message(error, secrets)
    if isinstance(error, AllTargetsFailedError):
        return GatewayError(502, message, type="upstream_error", code="all_targets_failed")
    if isinstance(error, ContextLengthError):
        return GatewayError(400, message, code="context_length_exceeded")
    if isinstance(error, ContentFilterError):
        return GatewayError(400, message, code="content_filter")
    if isinstance(error, BadRequestError):
        status = error.status if error.status in (400, 413, 422) else 400
        return GatewayError(status or 400, message)
    if isinstance(error, NotFoundError):
        return GatewayError(404, message, code="model_not_found")
    if isinstance(error, RateLimitError):
        return GatewayError(
            429, message, type="rate_limit_error", code="rate_limit_exceeded", headers=_retry_headers(error)
        )
    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return GatewayError(
            502,
            f"{message} — the vendor refused the gateway's credentials for {where}; "
            "this is a server-side problem, not the client's key",
            type="upstream_error",
            code="upstream_auth_failed",
        )
    if isinstance(error, OverloadedError):
        return GatewayError(503, message, type="server_error", code="upstream_overloaded")
    if isinstance(error, APITimeoutError):
        return GatewayError(
            504, f"upstream {error.provider or 'vendor'} timed out for {where}", type="timeout", code="upstream_timeout"
        )
    if isinstance(error, APIConnectionError):
        return GatewayError(
            502,
            f"could not reach the upstream {error.provider or 'vendor'} for {where}",
            type="upstream_error",
            code="upstream_unreachable",
        )
    if isinstance(error, ProtocolError):
        return GatewayError(
            502,
            f"upstream {error.provider or 'vendor'} sent a malformed reply for {where}",
            type="upstream_error",
            code="upstream_protocol_error",
        )
    return GatewayError(502, message, type="upstream_error", code="upstream_error")
