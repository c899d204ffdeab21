"""The local provider's adapter passes the shared provider conformance suite.

The llama.cpp process is replaced by the fake vendor: the adapter's one I/O method,
``server_base_url`` (which would start the server), returns the fake server's URL instead.
Everything else — request building, parsing, streaming, errors — is the real adapter.
"""

from __future__ import annotations

from typing import Any

from chatpipe import Pipeline
from chatpipe.testing import FakeServer
from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestLocalConformance(ProviderConformance):
    simulator = OpenAISimulator("local")

    def pipeline(self, server: FakeServer, **overrides: Any) -> Any:
        pipe = Pipeline("local", api_key="sk-conformance-0000", max_retries=0, **overrides)
        url = f"{server.url}/v1"

        def fake_server_base_url() -> str:
            pipe.adapter.base_url = url
            return url

        pipe.adapter.server_base_url = fake_server_base_url  # type: ignore[method-assign]
        return pipe
