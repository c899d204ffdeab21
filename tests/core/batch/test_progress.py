"""chatpipe.batch._progress: the progress line's content and when it is drawn."""

from __future__ import annotations

import io

from chatpipe.batch import Progress
from chatpipe.batch._progress import format_duration


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_line_shows_done_total_rate_eta_errors_tokens() -> None:
    progress = Progress(1000, skipped=100, stream=io.StringIO())
    line = progress.line(200, 3, 4567, now=progress.started + 10)
    assert line == "300/1,000 (30.0%)  20.0/s  ETA 0:35  errors 3  tokens 4,567"


def test_without_a_total_there_is_no_eta() -> None:
    progress = Progress(None, stream=io.StringIO())
    assert progress.line(5, 0, 0, now=progress.started + 1) == "5  5.0/s  errors 0  tokens 0"


def test_nothing_is_drawn_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(10, stream=stream)
    progress.update(1, 0, 0, force=True)
    progress.close()
    assert stream.getvalue() == ""


def test_on_a_terminal_one_line_is_redrawn_in_place() -> None:
    stream = _Tty()
    progress = Progress(10, stream=stream, interval=0)
    progress.update(1, 0, 0)
    progress.update(2, 1, 9)
    progress.note("stopping")
    progress.close()
    text = stream.getvalue()
    assert text.count("\r") >= 3 and "\n" not in text.split("stopping")[0]
    assert "2/10 (20.0%)" in text and "errors 1" in text and "stopping\n" in text


def test_durations() -> None:
    assert format_duration(5) == "0:05"
    assert format_duration(3725) == "1:02:05"
