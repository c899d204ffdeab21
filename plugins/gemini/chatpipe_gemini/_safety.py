"""The profile option ``safety_settings``: validated, then sent as Gemini's ``safetySettings`` (pure).

The option is a list of ``{category, threshold}`` objects, as Gemini takes them::

    options:
      safety_settings:
        - {category: HARM_CATEGORY_HARASSMENT, threshold: BLOCK_ONLY_HIGH}
        - {category: HARM_CATEGORY_DANGEROUS_CONTENT, threshold: "OFF"}

* ``category`` is one of :data:`CATEGORIES`, ``threshold`` one of :data:`THRESHOLDS`
  (case-insensitive; sent upper-cased); each category at most once.
* An unquoted ``OFF`` reads as the boolean ``false`` in YAML 1.1; it is taken as ``OFF``.
* Anything else is a :class:`~chatpipe.errors.ConfigError` whose path names the entry
  (``options.safety_settings[1].threshold``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatpipe.plugin import ConfigError

__all__ = ["CATEGORIES", "THRESHOLDS", "safety_settings"]

CATEGORIES = (
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
)
"""The categories Gemini models take (the older PaLM ones are refused by Gemini)."""

THRESHOLDS = (
    "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
    "BLOCK_LOW_AND_ABOVE",
    "BLOCK_MEDIUM_AND_ABOVE",
    "BLOCK_ONLY_HIGH",
    "BLOCK_NONE",
    "OFF",
)

_PATH = "options.safety_settings"


def _choice(value: Any, allowed: Sequence[str], path: str) -> str:
    text = "OFF" if value is False else value
    if not isinstance(text, str) or text.upper() not in allowed:
        raise ConfigError(f"{value!r} is not one of {', '.join(allowed)}", path=path)
    return text.upper()


def safety_settings(value: Any) -> list[dict[str, str]]:
    """The ``safetySettings`` for the option's ``value``; a ConfigError naming the entry when it is wrong."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise ConfigError(
            "must be a list of {category, threshold} objects, e.g. "
            "[{category: HARM_CATEGORY_HARASSMENT, threshold: BLOCK_ONLY_HIGH}]",
            path=_PATH,
        )
    out: list[dict[str, str]] = []
    for i, entry in enumerate(value):
        where = f"{_PATH}[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError("must be an object with 'category' and 'threshold'", path=where)
        unknown = sorted(set(entry) - {"category", "threshold"})
        if unknown:
            raise ConfigError(f"unknown key(s) {unknown}; an entry has only 'category' and 'threshold'", path=where)
        for key in ("category", "threshold"):
            if key not in entry:
                raise ConfigError(f"'{key}' is missing", path=f"{where}.{key}")
        category = _choice(entry["category"], CATEGORIES, f"{where}.category")
        if any(s["category"] == category for s in out):
            raise ConfigError(f"{category} is set twice; give each category once", path=f"{where}.category")
        out.append({"category": category, "threshold": _choice(entry["threshold"], THRESHOLDS, f"{where}.threshold")})
    return out
