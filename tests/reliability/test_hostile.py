"""Hostile servers (issue 13): every fault of ``rel_hostile.HOSTILE`` × every family × every call mode.

Each cell scripts a socket-level answer (exact bytes, waits, keep-alives), makes one call and
checks the promised outcome: a typed error within a bounded time (the text received kept on
streams, nothing secret reachable from the error), or the correct reply.
"""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe.testing import FakeServer
from rel_faults import Case, Fault
from rel_harness import FAMILIES, Family, Sleeps
from rel_hostile import HOSTILE


def test_catalogue_covers_the_issue() -> None:
    """One scenario per defect class of issue 13 (guards against silent removal)."""
    required = {
        "cut-stream-clean-end", "cut-stream-content-length", "cut-stream-close-delimited", "trickle-body",
        "trickle-head", "keep-alive-comments-forever", "blank-lines-forever", "pings-forever", "deep-json-reply",
        "deep-json-error", "surplus-bytes", "huge-content-length", "oversized-body", "oversized-event",
        "key-echoed-in-a-200-error", "key-echoed-in-a-broken-200",
    }  # fmt: skip
    assert required <= {f.id for f in HOSTILE}


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("fault", "family", "mode"),
    [pytest.param(f, fam, m, id=f"{f.id}-{fam.name}-{m}") for f in HOSTILE for fam in FAMILIES for m in f.modes],
)
def test_hostile(fault: Fault, family: Family, mode: str, server: FakeServer) -> None:
    extra: dict[str, Any] = {}
    fault.check(Case(family, mode, server, Sleeps(), extra))
