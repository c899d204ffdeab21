"""The fireworks provider passes the shared provider conformance suite."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestFireworksConformance(ProviderConformance):
    simulator = OpenAISimulator("fireworks", "/inference/v1/chat/completions", base_path="/inference/v1")
