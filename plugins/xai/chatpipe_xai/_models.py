"""What xAI's Grok models accept, by model id (docs/vendors/xai.md, "Decisions").

Two questions, answered from xAI's reasoning guide (docs.x.ai, model capabilities, reasoning):

* :func:`is_reasoning_model`: reasoning models reject ``presence_penalty``,
  ``frequency_penalty`` and ``stop`` with an error. Grok 2, Grok 3 (not mini) and every
  ``*-non-reasoning`` variant are not reasoning models; every other ``grok-*`` id is
  (``grok-3-mini``, ``grok-4*``, ``grok-code-fast-*`` and newer families). An id that is not
  ``grok-*`` (a proxy's own name) is not judged: nothing is dropped.
* :func:`effort_for`: only some models take ``reasoning_effort`` — ``grok-3-mini`` (``low`` or
  ``high``) and ``grok-4.3`` (``none``, ``low``, ``medium``, ``high``); every other model answers
  it with an error, so it is not sent to them. Each chatpipe effort maps to the nearest level
  the model has (:data:`EFFORT_LEVELS`).
"""

from __future__ import annotations

from collections.abc import Mapping

from chatpipe.plugin import InvalidRequestError

__all__ = ["EFFORTS", "EFFORT_LEVELS", "effort_for", "is_reasoning_model"]

EFFORTS = ("none", "auto", "minimal", "min", "low", "medium", "high", "xhigh", "max")
"""The ``reasoning_effort`` values chatpipe takes (``auto``: the model's default, nothing sent)."""

_LOW_HIGH: Mapping[str, str] = {
    "none": "low",  # grok-3-mini always thinks: the least it can
    "minimal": "low",
    "min": "low",
    "low": "low",
    "medium": "low",  # its default-sized answer, not the maximum
    "high": "high",
    "xhigh": "high",
    "max": "high",
}
_FOUR_LEVELS: Mapping[str, str] = {
    "none": "none",
    "minimal": "low",
    "min": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}

EFFORT_LEVELS: tuple[tuple[str, Mapping[str, str]], ...] = (
    ("grok-3-mini", _LOW_HIGH),
    ("grok-4.3", _FOUR_LEVELS),
)
"""(model id prefix, chatpipe effort -> the level sent) for the models that take ``reasoning_effort``."""

_NOT_REASONING = ("grok-2", "grok-3", "grok-beta", "grok-vision-beta")


def _bare(model: str) -> str:
    return model.lower().rsplit("/", 1)[-1]  # "x-ai/grok-4" (a router's spelling) is grok-4


def is_reasoning_model(model: str) -> bool:
    """Whether ``model`` is one of xAI's reasoning models (which reject penalties and ``stop``)."""
    bare = _bare(model)
    if not bare.startswith("grok-") or "non-reasoning" in bare:
        return False
    if bare.startswith("grok-3-mini"):
        return True
    return not bare.startswith(_NOT_REASONING)


def effort_for(model: str, effort: object) -> str | None:
    """The ``reasoning_effort`` to send ``model`` for the caller's ``effort`` (``None``: send none).

    Raises :class:`~chatpipe.errors.InvalidRequestError` for an effort not in :data:`EFFORTS`,
    whatever the model, so a typo never passes silently.
    """
    key = effort.lower() if isinstance(effort, str) else effort
    if key not in EFFORTS:
        raise InvalidRequestError(
            f"reasoning_effort {effort!r} is not one of {', '.join(EFFORTS)}", where="reasoning_effort"
        )
    bare = _bare(model)
    for prefix, levels in EFFORT_LEVELS:
        if bare.startswith(prefix):
            return levels.get(str(key))
    return None
