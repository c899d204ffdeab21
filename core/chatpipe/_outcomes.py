"""What :meth:`Pipeline.check <chatpipe.pipeline.Pipeline.check>` and :meth:`Pipeline.explain
<chatpipe.pipeline.Pipeline.explain>` return (importable from :mod:`chatpipe.pipeline`).

Apart from the pipeline so that building one does not create these classes: they are created
with the first check or explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from .models import ModelInfo

__all__ = ["CheckResult", "Explanation"]


@attrs.frozen
class CheckResult:
    """Outcome of :meth:`Pipeline.check`. ``ok`` is false only for a failed, non-bypassed check."""

    ok: bool
    detail: str
    status: int | None = None
    bypassed: bool = False
    models: tuple[ModelInfo, ...] = ()


@attrs.frozen
class Explanation:
    """What :meth:`Pipeline.explain` shows: each converter stage and the exact HTTP request.

    ``stages`` starts with ``("input", ...)``; ``request`` is the redacted request
    (method, url, headers with the key replaced by ``***``, JSON body).
    """

    provider: str
    model: str
    stages: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]
    request: Mapping[str, Any]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form."""
        return {
            "provider": self.provider,
            "model": self.model,
            "stages": [{"converter": name, "messages": list(msgs)} for name, msgs in self.stages],
            "request": dict(self.request),
            "notes": list(self.notes),
        }
