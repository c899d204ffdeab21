"""The fault matrix: every fault of ``rel_faults.FAULTS`` × every family × every call mode.

Each cell starts a fresh fake server, injects the fault and checks the promised outcome:
retried as configured, or a typed chatpipe error carrying the provider, status and the text
received so far — never a hang (each cell has a 30 s timeout, most take milliseconds),
never an untyped exception, never a stream retried after its first byte.
"""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe.testing import FakeServer
from rel_faults import FAULTS, Case, Fault, params
from rel_harness import FAMILIES, Family, Sleeps


def test_catalogue_covers_the_issue() -> None:
    """Every fault the issue lists has at least one entry (guards against silent removal)."""
    ids = {f.id for f in FAULTS}
    required = {
        "connection-refused", "connect-timeout", "reset-before-headers", "reset-mid-body", "reset-mid-stream",
        "status-408-no-hint", "status-409-no-hint", "status-429-no-hint", "status-429-retry-after",
        "status-429-retry-after-ms", "status-500-no-hint", "status-502-no-hint", "status-503-no-hint",
        "status-504-no-hint", "status-529-no-hint", "status-401", "status-403", "status-404", "status-400",
        "status-413", "status-422", "read-timeout", "stalled-stream", "truncated-json", "non-json-body",
        "html-proxy-error", "stream-without-terminator", "duplicated-events", "out-of-order-events",
        "gigantic-response",
    }  # fmt: skip
    assert required <= ids, sorted(required - ids)


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("fault", "family", "mode"), params(FAMILIES))
def test_fault(
    fault: Fault, family: Family, mode: str, server: FakeServer, closed_port: int, unresponsive_port: int
) -> None:
    extra: dict[str, Any] = {"closed_port": closed_port, "unresponsive_port": unresponsive_port}
    fault.check(Case(family, mode, server, Sleeps(), extra))
