"""The merge and merge-tools converters pass the shared converter conformance suite."""

from chatpipe.testing.conformance import ConverterConformance


class TestMergeConformance(ConverterConformance):
    converter = "merge"
    idempotent = True


class TestMergeToolsConformance(ConverterConformance):
    converter = "merge-tools"
    idempotent = True
