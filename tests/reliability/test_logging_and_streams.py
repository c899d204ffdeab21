"""Regressions found by the matrix, and the logging contract.

* A 200 answer to a streaming request whose body holds no server-sent event (the server
  ignored ``stream: true``, a proxy page, an empty body, keep-alives only) used to end as an
  *empty successful reply*; it is now a ProtocolError quoting the body.
* chatpipe logs through the ``chatpipe`` logger hierarchy only, configures nothing itself
  (a NullHandler), and ``--verbose`` / ``enable_debug_logging`` turn on DEBUG records.
"""

from __future__ import annotations

import io
import logging

import pytest
from chatpipe._log import LOGGER_NAME, enable_debug_logging
from chatpipe.errors import ProtocolError
from chatpipe.testing import FakeResponse, FakeServer
from rel_harness import CONVERSATION, KEY, Family, call, make_pipeline

NOT_STREAMS = {
    "json-completion": (lambda f: f.ok(), "not an event stream (content-type application/json)"),
    "empty-body": (lambda f: FakeResponse.text(""), "empty body"),
    "keep-alives-only": (lambda f: FakeResponse.sse([], done=False, comments=["ping", "ping"]), "without any event"),
}


@pytest.mark.parametrize("case", NOT_STREAMS)
@pytest.mark.parametrize("mode", ["sync-stream", "async-stream"])
def test_a_stream_without_events_is_a_protocol_error(family: Family, server: FakeServer, mode: str, case: str) -> None:
    build, words = NOT_STREAMS[case]
    server.enqueue(family.route, build(family))
    with pytest.raises(ProtocolError) as info:
        call(make_pipeline(family, server.url), mode)
    assert words in str(info.value)
    assert info.value.status == 200 and info.value.provider == family.provider
    assert len(server.requests) == 1


def test_the_library_configures_no_logging() -> None:
    logger = logging.getLogger(LOGGER_NAME)
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)
    assert not [h for h in logger.handlers if getattr(h, "_chatpipe_verbose", False)]
    assert logger.level == logging.NOTSET


def test_enable_debug_logging_shows_requests_once(family: Family, server: FakeServer) -> None:
    logger = logging.getLogger(LOGGER_NAME)
    out = io.StringIO()
    try:
        enable_debug_logging(io.StringIO())
        handler = enable_debug_logging(out)  # replaces the first: one handler, not two
        assert [h for h in logger.handlers if getattr(h, "_chatpipe_verbose", False)] == [handler]
        server.enqueue(family.route, family.ok())
        make_pipeline(family, server.url).complete(CONVERSATION)
    finally:
        for h in [h for h in logger.handlers if getattr(h, "_chatpipe_verbose", False)]:
            logger.removeHandler(h)
        logger.setLevel(logging.NOTSET)
    text = out.getvalue()
    assert "DEBUG chatpipe.transport: request POST http://127.0.0.1" in text
    assert "attempt=1/3" in text and "response 200" in text and "DEBUG chatpipe.pipeline: built request" in text
    assert KEY not in text
