"""API keys as values that cannot leak by accident.

:class:`Secret` wraps a key: its ``repr``/``str`` never show it, and only
:meth:`Secret.reveal` returns it (called where a header is built, nowhere else).
:func:`scrub` removes known secrets from any text before it is stored on an error or logged.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Secret", "mask", "scrub"]


class Secret:
    """An API key. ``repr``, ``str`` and formatting show ``Secret('***')``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("an API key must be a string")
        self._value = value

    def reveal(self) -> str:
        """The key itself. Call only to build the outgoing request."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Secret values are not picklable")


def mask(value: str) -> str:
    """A display form that proves which key is stored without revealing it: ``sk-…a1b2``."""
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:3]}…{value[-4:]}"


def scrub(text: str, secrets: Iterable[Secret | str | None]) -> str:
    """``text`` with every occurrence of every secret (of 4+ characters) replaced by ``***``."""
    for secret in secrets:
        if secret is None:
            continue
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if len(value) >= 4 and value in text:
            text = text.replace(value, "***")
    return text
