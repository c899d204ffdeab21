"""The single-user converter passes the shared converter conformance suite.

Not idempotent by design: a second pass would prefix the already merged message again.
"""

from chatpipe.testing.conformance import ConverterConformance


class TestSingleUserConformance(ConverterConformance):
    converter = "single-user"
