"""chatpipe-otel as an installed plugin: loaded by name from ``observers: [otel]``, global tracer provider."""

from __future__ import annotations

import pytest
from chatpipe import Pipeline
from chatpipe.config import parse_config
from chatpipe.plugin import ConfigError
from chatpipe.registry import PLUGIN_GROUP, Registry
from chatpipe.testing import FakeResponse, FakeServer
from chatpipe_otel._content import capture_from_env
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .test_observer import KEY, MESSAGES, ROUTE, completion

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def global_provider() -> None:
    """The process's tracer provider, set once (OpenTelemetry refuses to replace it)."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


def test_the_entry_point_is_installed_under_its_name() -> None:
    entries = [e for e in Registry().entry_points() if e.group == PLUGIN_GROUP and e.name == "otel"]
    assert [(e.value, e.distribution) for e in entries] == [("chatpipe_otel", "chatpipe-otel")]


def test_observers_otel_in_a_config_traces_the_calls(fake_server: FakeServer) -> None:
    EXPORTER.clear()
    config = parse_config(
        f"observers: [otel]\nprofiles:\n  p: {{provider: openai, base_url: '{fake_server.url}/v1', model: m}}\n"
    )
    fake_server.enqueue(ROUTE, FakeResponse.json(completion("Hello!")))
    with Pipeline.from_config("p", config=config, registry=Registry(), api_key=KEY) as p:
        assert p.complete(MESSAGES).text == "Hello!"
    (span,) = EXPORTER.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert (span.name, attrs["gen_ai.provider.name"], attrs["chatpipe.profile"]) == ("chat m", "openai", "p")
    assert attrs["gen_ai.usage.output_tokens"] == 2


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_capture_value_that_is_no_boolean_is_a_clear_error(value: str) -> None:
    with pytest.raises(ConfigError, match=rf"CHATPIPE_OTEL_CAPTURE_CONTENT='{value}' is not a boolean: set it to true"):
        capture_from_env({"CHATPIPE_OTEL_CAPTURE_CONTENT": value})


def test_vendors_with_a_well_known_name_are_reported_by_it() -> None:
    from chatpipe_otel._names import provider_name

    assert [provider_name(p) for p in ("claude", "mistral", "xai", "openrouter", "custom")] == [
        "anthropic",
        "mistral_ai",
        "x_ai",
        "openrouter",
        "custom",
    ]
