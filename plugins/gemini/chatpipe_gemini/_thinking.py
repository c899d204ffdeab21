"""``reasoning_effort`` -> Gemini's ``generationConfig.thinkingConfig`` (pure).

Gemini has two ways to size thinking: a token ``thinkingBudget`` (the Gemini 2.5 models) and a
``thinkingLevel`` (Gemini 3 and later). chatpipe decides by the model id: an id starting with
one of :data:`LEVEL_MODEL_PREFIXES` (``gemini-3``) takes a level, every other a budget.

* No ``reasoning_effort`` (or ``auto``) sends no ``thinkingConfig``: the model's default
  applies (dynamic thinking on 2.5 and 3 models; models without thinking would reject the field).
* Budgets (:data:`BUDGETS`): ``none`` 0 (thinking off: Flash and Flash-Lite accept it, 2.5 Pro
  refuses it — it cannot stop thinking), ``minimal`` 512, ``low`` 1024, ``medium`` 8192,
  ``high`` 24576, ``xhigh``/``max`` 32768 (Gemini caps it per model).
* Levels (:data:`LEVELS`): ``none``/``minimal`` → ``minimal``, ``low`` → ``low``, ``medium`` →
  ``medium``, ``high``/``xhigh``/``max`` → ``high``. Gemini 3 cannot switch thinking off, so
  ``none`` asks for the least. A Pro model (an id with ``-pro``) takes only ``low`` and
  ``high``, so there (:data:`PRO_LEVELS`) ``none``/``minimal``/``low`` → ``low`` and the others → ``high``.
* ``includeThoughts: true`` is added whenever thinking is on (profile option
  ``include_thoughts: false`` leaves it out): the thought summaries then come back as the
  reply's reasoning.
* A ``thinking_config`` parameter (Gemini's own ``thinkingConfig`` object) is sent as it is,
  instead of all this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import InvalidRequestError

__all__ = ["BUDGETS", "LEVELS", "LEVEL_MODEL_PREFIXES", "PRO_LEVELS", "thinking_config", "uses_level"]

LEVEL_MODEL_PREFIXES = ("gemini-3",)
"""Model-id prefixes of the models sized by ``thinkingLevel`` (the others take a budget)."""

BUDGETS: Mapping[str, int] = {
    "none": 0,
    "minimal": 512,
    "low": 1024,
    "medium": 8192,
    "high": 24576,
    "xhigh": 32768,
    "max": 32768,
}
LEVELS: Mapping[str, str] = {
    "none": "minimal",
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}
PRO_LEVELS: Mapping[str, str] = {key: "low" if level in ("minimal", "low") else "high" for key, level in LEVELS.items()}


def uses_level(model: str) -> bool:
    """Whether ``model`` is sized by ``thinkingLevel`` rather than ``thinkingBudget``."""
    return model.removeprefix("models/").startswith(LEVEL_MODEL_PREFIXES)


def thinking_config(params: Mapping[str, Any], *, model: str, include_thoughts: bool) -> dict[str, Any] | None:
    """The ``thinkingConfig`` to send for ``params``, or ``None`` (see the module docstring)."""
    explicit = params.get("thinking_config")
    if explicit is not None:
        if not isinstance(explicit, Mapping):
            raise InvalidRequestError(
                'thinking_config must be Gemini\'s thinkingConfig object, e.g. {"thinkingBudget": 2048}',
                where="thinking_config",
            )
        return dict(explicit)
    effort = params.get("reasoning_effort")
    if effort is None or effort == "auto":
        return None
    key = effort.lower() if isinstance(effort, str) else effort
    if key not in BUDGETS:
        raise InvalidRequestError(
            f"reasoning_effort {effort!r} is not one of {', '.join(['auto', *BUDGETS])}", where="reasoning_effort"
        )
    if uses_level(model):
        levels = PRO_LEVELS if "-pro" in model else LEVELS
        config: dict[str, Any] = {"thinkingLevel": levels[key]}
    else:
        config = {"thinkingBudget": BUDGETS[key]}
    if include_thoughts and config.get("thinkingBudget") != 0:
        config["includeThoughts"] = True
    return config
