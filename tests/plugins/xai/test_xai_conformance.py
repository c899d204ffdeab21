"""The xai provider passes the shared provider conformance suite."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestXAIConformance(ProviderConformance):
    simulator = OpenAISimulator("xai", "/v1/chat/completions", base_path="/v1")
