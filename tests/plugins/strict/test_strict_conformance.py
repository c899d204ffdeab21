"""The strict and strict-tools converters pass the shared converter conformance suite."""

from chatpipe.testing.conformance import ConverterConformance


class TestStrictConformance(ConverterConformance):
    converter = "strict"
    idempotent = True


class TestStrictToolsConformance(ConverterConformance):
    converter = "strict-tools"
    idempotent = True
