"""First-party plugin names and the packages that provide them, for "pip install" hints.

This is only a lookup table for error messages: nothing here is imported or loaded.
"""

from __future__ import annotations

PROVIDER_PACKAGES: dict[str, str] = {
    "openai": "chatpipe-openai",
    "custom": "chatpipe-custom",
    "deepseek": "chatpipe-deepseek",
    "fireworks": "chatpipe-fireworks",
    "perplexity": "chatpipe-perplexity",
    "claude": "chatpipe-claude",
    "mistral": "chatpipe-mistral",
    "cohere": "chatpipe-cohere",
    "ai21": "chatpipe-ai21",
    "local": "chatpipe-local",
}

CONVERTER_PACKAGES: dict[str, str] = {
    "none": "chatpipe-none",
    "merge": "chatpipe-merge",
    "merge-tools": "chatpipe-merge",
    "merge_tools": "chatpipe-merge",
    "claude": "chatpipe-merge",
    "semi-strict": "chatpipe-semi-strict",
    "semi-strict-tools": "chatpipe-semi-strict",
    "semi": "chatpipe-semi-strict",
    "semi_tools": "chatpipe-semi-strict",
    "strict": "chatpipe-strict",
    "strict-tools": "chatpipe-strict",
    "strict_tools": "chatpipe-strict",
    "single-user": "chatpipe-single-user",
    "single": "chatpipe-single-user",
}

CONVERTER_ALIASES: dict[str, str] = {"": "none"}
"""Reference ids that cannot be entry-point names: SillyTavern's empty string means "none"."""


def package_for(kind: str, name: str) -> str | None:
    """The first-party package providing ``name``, or ``None`` for unknown names."""
    table = PROVIDER_PACKAGES if kind == "provider" else CONVERTER_PACKAGES
    return table.get(name)
