"""One log line per answered chat call: profile, model, tokens and cost (docs/cost.md)."""

from __future__ import annotations

from .._log import INFO, get_logger
from ..models import ChatResponse

__all__ = ["log_reply"]

_log = get_logger("gateway")


def log_reply(profile: str, response: ChatResponse, client: str | None = None) -> None:
    """Log (INFO, ``chatpipe.gateway``) what the call of ``profile`` answered with ``response`` used and cost.

    ``reply profile=fast client=team-a model=gpt-4o-mini tokens=12+30 cost=0.000123 USD``:
    ``client`` is the label of the gateway key (``serve.keys``; absent without keys, never the
    key); an unknown part is ``unknown``. Computes the cost only when INFO is on.
    """
    if not _log.isEnabledFor(INFO):
        return
    usage = response.usage
    known = usage is not None and usage.prompt_tokens is not None and usage.completion_tokens is not None
    tokens = f"{usage.prompt_tokens}+{usage.completion_tokens}" if known and usage is not None else "unknown"
    cost = response.cost
    priced = "unknown" if cost is None else f"{cost.total:f} {cost.currency}"
    target = f" route={response.route}" if response.route else ""
    who = f" client={client}" if client else ""
    _log.info("reply profile=%s%s%s model=%s tokens=%s cost=%s", profile, who, target, response.model, tokens, priced)
