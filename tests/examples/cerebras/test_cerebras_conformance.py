"""The example third-party plugin (examples/cerebras) passes the shared provider conformance suite."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestCerebrasConformance(ProviderConformance):
    simulator = OpenAISimulator("cerebras", "/v1/chat/completions", base_path="/v1")
