"""The deepseek provider passes the shared provider conformance suite (through its forced
semi-strict-tools conversion)."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestDeepSeekConformance(ProviderConformance):
    simulator = OpenAISimulator("deepseek", "/beta/chat/completions", base_path="/beta")
