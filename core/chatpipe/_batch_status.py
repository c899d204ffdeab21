"""A vendor batch as one poll saw it (importable from :mod:`chatpipe.provider`).

Apart from :mod:`chatpipe.provider`, which every pipeline imports, so that the class is created
only when a vendor batch runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from .provider import BatchState

__all__ = ["BatchStatus"]


@attrs.frozen
class BatchStatus:
    """A vendor batch as one poll saw it (parsed by :meth:`VendorBatchAPI.parse_batch`).

    ``counts`` are the vendor's own request counts (OpenAI ``total``/``completed``/``failed``;
    Anthropic ``processing``/``succeeded``/``errored``/``canceled``/``expired``). ``results``
    are what :meth:`VendorBatchAPI.results` needs to fetch them (OpenAI's output and error file
    ids, Anthropic's results URL): empty until there are any. ``detail`` explains a failure.
    """

    id: str
    state: BatchState
    counts: Mapping[str, int] = attrs.field(factory=dict)
    results: tuple[str, ...] = ()
    detail: str | None = None
    vendor_status: str | None = None

    @property
    def done(self) -> bool:
        """Whether polling is over (any state but ``in_progress``)."""
        return self.state != "in_progress"
