"""Extended thinking, only when asked for, and the ``max_tokens`` it needs (pure).

Thinking is never enabled unasked (difference 6 in docs/post-processing.md).

Three ways to ask, first match wins:

1. param ``thinking`` (Claude's own object) is sent unchanged;
2. param ``reasoning_effort`` with profile option ``adaptive_thinking: true`` gives
   ``thinking: {"type": "adaptive"}`` plus ``output_config.effort`` (minimal/low → ``low``,
   medium → ``medium``, high → ``high``, xhigh/max → ``max``);
3. param ``reasoning_effort`` alone gives ``thinking: {"type": "enabled", "budget_tokens": B}``
   with the reference's budget (docs/vendors/claude.md): a share of ``max_tokens`` — minimal 0 % (the floor),
   low 10 %, medium 25 %, high 50 %, xhigh/max 95 % — never below 1024 and, when not
   streaming, never above 21333. If ``max_tokens`` ≤ 1024, 1024 is added to it, so the budget
   always stays below ``max_tokens`` as Claude requires.

``reasoning_effort`` ``none``/``auto``, or absent, means no thinking (the reference turns
thinking on when the value is missing; chatpipe does not). When thinking is on (``enabled``
or ``adaptive``), ``temperature``, ``top_p`` and ``top_k`` are not sent (Claude restricts
them with thinking) — as in the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from chatpipe.plugin import InvalidRequestError

__all__ = ["BUDGET_SHARES", "MIN_BUDGET", "NON_STREAM_MAX_BUDGET", "Thinking", "thinking_for"]

MIN_BUDGET = 1024
NON_STREAM_MAX_BUDGET = 21333
BUDGET_SHARES: Mapping[str, float] = {
    "minimal": 0.0,
    "min": 0.0,
    "low": 0.10,
    "medium": 0.25,
    "high": 0.50,
    "xhigh": 0.95,
    "max": 0.95,
}
_ADAPTIVE_EFFORT = {"minimal": "low", "min": "low", "low": "low", "medium": "medium", "high": "high"}
_OFF = frozenset({"none", "auto"})


@attrs.frozen
class Thinking:
    """The outcome: ``thinking`` to send (or ``None``), ``output_config`` additions, final ``max_tokens``."""

    thinking: Mapping[str, Any] | None
    output_config: Mapping[str, Any]
    max_tokens: int

    @property
    def active(self) -> bool:
        """Whether the model will think (sampling knobs must then be left out)."""
        return self.thinking is not None and self.thinking.get("type") in ("enabled", "adaptive")


def _budget(effort: str, max_tokens: int, stream: bool) -> int:
    budget = max(MIN_BUDGET, int(max_tokens * BUDGET_SHARES[effort]))
    return budget if stream else min(budget, NON_STREAM_MAX_BUDGET)


def thinking_for(params: Mapping[str, Any], *, max_tokens: int, stream: bool, adaptive: bool) -> Thinking:
    """What ``params`` ask for (see the module docstring)."""
    explicit = params.get("thinking")
    if explicit is not None:
        if not isinstance(explicit, Mapping):
            raise InvalidRequestError(
                'thinking must be Claude\'s object, e.g. {"type": "enabled", "budget_tokens": 2048}',
                where="thinking",
            )
        return Thinking(dict(explicit), {}, max_tokens)
    effort = params.get("reasoning_effort")
    if effort is None or (isinstance(effort, str) and effort.lower() in _OFF):
        return Thinking(None, {}, max_tokens)
    key = effort.lower() if isinstance(effort, str) else effort
    if key not in BUDGET_SHARES:
        raise InvalidRequestError(
            f"reasoning_effort {effort!r} is not one of {', '.join(['none', *BUDGET_SHARES])}",
            where="reasoning_effort",
        )
    if adaptive:
        return Thinking({"type": "adaptive"}, {"effort": _ADAPTIVE_EFFORT.get(key, "max")}, max_tokens)
    budget = _budget(key, max_tokens, stream)
    if max_tokens <= MIN_BUDGET:
        max_tokens += MIN_BUDGET
    return Thinking({"type": "enabled", "budget_tokens": budget}, {}, max_tokens)
