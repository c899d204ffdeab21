"""chatpipe._log: loggers that import logging on first use and behave as logging's own."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import pytest
from chatpipe._log import DEBUG, INFO, Logger, enable_debug_logging, get_logger


def test_the_level_constants_are_loggings() -> None:
    assert (DEBUG, INFO) == (logging.DEBUG, logging.INFO)


def test_records_reach_the_named_logger_with_the_callers_location(caplog: pytest.LogCaptureFixture) -> None:
    log = get_logger("probe.records")
    assert isinstance(log, Logger) and log.logger is logging.getLogger("chatpipe.probe.records")
    with caplog.at_level(logging.DEBUG, logger="chatpipe.probe.records"):
        assert log.isEnabledFor(DEBUG)
        log.debug("d %s", 1)
        log.info("i %s", 2)
        log.warning("w %s", 3)
        log.error("e %s", 4)
        log.log(INFO, "l %s", 5)
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("x %s", 6)
        log.exception("given", exc_info=KeyError("k"))
    records = [r for r in caplog.records if r.name == "chatpipe.probe.records"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.DEBUG, "d 1"),
        (logging.INFO, "i 2"),
        (logging.WARNING, "w 3"),
        (logging.ERROR, "e 4"),
        (logging.INFO, "l 5"),
        (logging.ERROR, "x 6"),
        (logging.ERROR, "given"),
    ]
    assert {(r.funcName, r.filename) for r in records} == {
        ("test_records_reach_the_named_logger_with_the_callers_location", "test_log.py")
    }
    assert [r.exc_info[0] for r in records[-2:] if r.exc_info] == [ValueError, KeyError]


def test_a_level_off_is_seen_as_off() -> None:
    log = get_logger("probe.off")
    log.logger.setLevel(logging.WARNING)
    try:
        assert not log.isEnabledFor(DEBUG) and log.isEnabledFor(logging.WARNING)
    finally:
        log.logger.setLevel(logging.NOTSET)


def test_logging_loads_on_first_use_with_one_null_handler_on_chatpipe() -> None:
    code = textwrap.dedent(
        """
        import sys
        from chatpipe._log import get_logger, enable_debug_logging
        log = get_logger("pipeline")
        print("logging" in sys.modules)
        log.isEnabledFor(10)
        get_logger("transport").isEnabledFor(10)
        import logging
        print([type(h).__name__ for h in logging.getLogger("chatpipe").handlers])
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.splitlines() == ["False", "['NullHandler']"]


def test_enable_debug_logging_replaces_its_own_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger("chatpipe")
    level = root.level
    try:
        first = enable_debug_logging(sys.stderr)
        second = enable_debug_logging(sys.stderr)
        assert first not in root.handlers and second in root.handlers
        get_logger("probe.verbose").debug("shown %s", "here")
        assert "DEBUG chatpipe.probe.verbose: shown here" in capsys.readouterr().err
    finally:
        root.removeHandler(second)
        root.setLevel(level)
