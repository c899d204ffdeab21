"""The xAI adapter: the OpenAI-compatible base plus xAI's differences (docs/vendors/xai.md).

* Base URL ``https://api.x.ai/v1``, key ``XAI_API_KEY``, default model ``grok-4.3``. No forced
  conversion.
* Body (:meth:`adjust_body`): ``reasoning_effort`` is sent only to the models that take it,
  mapped to their levels; for reasoning models ``presence_penalty``, ``frequency_penalty`` and
  ``stop`` are dropped (:mod:`._models`). ``include_body`` can still force any of them.
* Replies: ``reasoning_content`` (grok-3-mini, in replies and stream deltas) is read by the
  base adapter as reasoning; ``completion_tokens_details.reasoning_tokens`` becomes
  ``Usage.reasoning_tokens``; ``citations`` stay in ``ChatResponse.extra``.
* Errors: xAI answers a wrong key with HTTP 400 ("Incorrect API key provided"), which becomes an
  :class:`~chatpipe.errors.AuthenticationError` naming where the key comes from.
"""

from __future__ import annotations

import re
from typing import Any

from chatpipe.plugin import (
    APIStatusError,
    AuthenticationError,
    Capabilities,
    ChatRequest,
    HttpResponse,
    OpenAICompatibleProvider,
    ProviderInfo,
)

from ._models import effort_for, is_reasoning_model

__all__ = ["REASONING_DROPPED", "XAIProvider"]

REASONING_DROPPED = ("presence_penalty", "frequency_penalty", "stop")
"""Body fields xAI's reasoning models reject; removed for them before include/exclude apply."""

_BAD_KEY = re.compile(r"incorrect(%20| )api(%20| )key", re.IGNORECASE)


class XAIProvider(OpenAICompatibleProvider):
    """xAI's OpenAI-compatible API at ``https://api.x.ai/v1`` (Grok models)."""

    info = ProviderInfo(
        name="xai",
        package="chatpipe-xai",
        display_name="xAI",
        default_base_url="https://api.x.ai/v1",
        api_key_env=("XAI_API_KEY",),
        capabilities=Capabilities(vision=True, reasoning=True),
        default_model="grok-4.3",
        description="xAI's Grok models: reasoning models with reasoning_content, tools and vision.",
    )

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """``reasoning_effort`` only where the model takes it; no penalties or ``stop`` for reasoning models."""
        effort = body.pop("reasoning_effort", None)
        if effort is not None:
            level = effort_for(request.model, effort)
            if level is not None:
                body["reasoning_effort"] = level
        if is_reasoning_model(request.model):
            for key in REASONING_DROPPED:
                body.pop(key, None)
        return body

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The base error, except that a 400 saying the key is wrong is an authentication error."""
        error = super().parse_error(response)
        if response.status == 400 and _BAD_KEY.search(error.message):
            return AuthenticationError(
                f"{error.message.replace('%20', ' ').rstrip('.')}. {self.auth_hint()}",
                provider=error.provider,
                status=error.status,
                request_id=error.request_id,
                body=error.body,
                vendor_type=error.vendor_type,
            )
        return error
