"""Budgets (``budgets:`` in the config): what a client (a gateway key label) or a profile may spend per period.

Before a call is routed, :meth:`Budgets.check` looks at every budget that applies (the
client's label, the profile the client named); one that is spent (an amount at or over its
limit) refuses the call with HTTP 429, ``code: budget_exceeded``, the budget's name (never a
key), the reset time and ``Retry-After``. After a reply (JSON, or a stream that ended with
``[DONE]``), :meth:`Budgets.spend` adds its tokens (the usage total) and its cost
(``response.cost.total``, when known) to each. The check comes before the call, so the call
that crosses a limit is answered in full: a budget may be overshot by one call per worker in
flight. The amounts live in the config's ``state`` store (Redis: shared by every worker).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._log import get_logger
from ._errors import GatewayError

if TYPE_CHECKING:
    from ..config import BudgetConfig, Config
    from ..models import ChatResponse
    from ..state import Store

__all__ = ["Budgets"]

_log = get_logger("gateway")

Applying = tuple[tuple[str, "BudgetConfig"], ...]


def _key(name: str) -> str:
    return f"budget:{name}"


def reply_amounts(response: ChatResponse) -> dict[str, float]:
    """What ``response`` spent: ``tokens`` (when the usage is known) and ``usd`` (when the cost is)."""
    amounts: dict[str, float] = {}
    usage = response.usage
    if usage is not None:
        total = usage.total_tokens
        if total is None and usage.prompt_tokens is not None and usage.completion_tokens is not None:
            total = usage.prompt_tokens + usage.completion_tokens
        if total:
            amounts["tokens"] = float(total)
    cost = response.cost
    if cost is not None and cost.currency == "USD" and cost.total > 0:
        amounts["usd"] = float(cost.total)
    return amounts


class Budgets:
    """The budgets of a config, counted in ``store``."""

    def __init__(self, budgets: Mapping[str, BudgetConfig], store: Store) -> None:
        self._budgets = dict(budgets)
        self._store = store

    @classmethod
    def from_config(cls, config: Config) -> Budgets | None:
        """The budgets ``config`` sets, in the store of its ``state`` (``None``: no budgets)."""
        if not config.budgets:
            return None
        from ..state import store_for

        return cls(config.budgets, store_for(config.state))

    def applying(self, label: str | None, profile: str) -> Applying:
        """The budgets of client ``label`` (``None``: no keys) and of ``profile``, with their names."""
        names = [name for name in (label, profile) if name is not None]
        return tuple((name, self._budgets[name]) for name in dict.fromkeys(names) if name in self._budgets)

    async def check(self, applying: Applying) -> None:
        """Raise the 429 :class:`GatewayError` of the first spent budget in ``applying``."""
        for name, budget in applying:
            spent = await self._store.aspent(_key(name), budget.period)
            for unit, limit in (("tokens", budget.tokens), ("usd", budget.usd)):
                if limit is not None and spent.amounts.get(unit, 0.0) >= limit:
                    raise _exceeded(name, unit, limit, spent.resets_at)

    async def spend(self, applying: Applying, response: ChatResponse) -> None:
        """Add what ``response`` spent to every budget in ``applying`` (never raises: the reply is sent)."""
        amounts = reply_amounts(response)
        if not amounts:
            return
        for name, budget in applying:
            try:
                await self._store.aspend(_key(name), amounts, budget.period)
            except Exception:  # the store's own policy has already logged an unreachable store
                _log.exception("counting a reply against budget %r failed", name)


def _exceeded(name: str, unit: str, limit: float, resets_at: float) -> GatewayError:
    when = datetime.datetime.fromtimestamp(resets_at, datetime.UTC).isoformat(timespec="seconds")
    wait = max(1, math.ceil(resets_at - datetime.datetime.now(datetime.UTC).timestamp()))
    amount = f"{limit:g} USD" if unit == "usd" else f"{limit:g} tokens"
    return GatewayError(
        429,
        f"budget {name!r} is spent ({amount} per period); it resets at {when.replace('+00:00', 'Z')}",
        type="rate_limit_error",
        code="budget_exceeded",
        headers={"Retry-After": str(wait), "x-should-retry": "false"},
    )
