"""The perplexity provider passes the shared provider conformance suite: usage in every
chunk, no data: [DONE], and no tools (its forced strict conversion folds them)."""

from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance


class TestPerplexityConformance(ProviderConformance):
    simulator = OpenAISimulator(
        "perplexity",
        "/chat/completions",
        base_path="",
        stream_usage_in_every_chunk=True,
        done_marker=False,
        supports_tools=False,
    )
