"""The openrouter provider passes the shared provider conformance suite (its stream parser wraps the base one)."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestOpenRouterConformance(ProviderConformance):
    simulator = OpenAISimulator("openrouter", "/api/v1/chat/completions", base_path="/api/v1")
