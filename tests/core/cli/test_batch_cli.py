"""``chatpipe batch`` as a process: SIGKILL at about half and rerun, Ctrl-C, exit codes, --json.

The fake runs in this process (tests/support/batch_fake.py); the command talks to it over
loopback with ``--provider openai --base-url``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from batch_fake import BatchFake, planned

CONCURRENCY = 32
CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


def _write_input(path: Path, keys: list[str]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for key in keys:
            out.write(json.dumps({"id": key, "messages": [{"role": "user", "content": key}]}) + "\n")


def _command(fake: BatchFake, tmp_path: Path, *extra: str) -> list[str]:
    return [
        CHATPIPE,
        "batch",
        str(tmp_path / "in.jsonl"),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--provider",
        "openai",
        "--base-url",
        fake.base_url,
        "-m",
        "m",
        "-c",
        str(CONCURRENCY),
        *extra,
    ]


def _env() -> dict[str, str]:
    return {**os.environ, "OPENAI_API_KEY": "sk-test"}


def _rows(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "a row was left torn"
    return [json.loads(line) for line in data.splitlines()]


def _wait_for_rows(path: Path, count: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        assert process.poll() is None, "the batch ended before it was interrupted"
        time.sleep(0.005)
    raise AssertionError(f"fewer than {count} rows after {timeout} s")


def test_sigkill_at_half_then_rerun_gives_every_row_once(tmp_path: Path) -> None:
    keys = [f"q{i}" for i in range(5000)]
    _write_input(tmp_path / "in.jsonl", keys)
    with BatchFake(delay=0.002) as fake:
        process = subprocess.Popen(_command(fake, tmp_path, "-q"), env=_env(), stderr=subprocess.PIPE)
        _wait_for_rows(tmp_path / "out.jsonl", 2500, process)
        process.kill()  # SIGKILL: no cleanup at all
        process.wait(10)
        written = (tmp_path / "out.jsonl").read_bytes().count(b"\n")
        assert 2500 <= written < 5000

        rerun = subprocess.run(_command(fake, tmp_path, "--json"), env=_env(), capture_output=True, timeout=60)

        rows = _rows(tmp_path / "out.jsonl")
        assert len(rows) == 5000
        assert sorted(row["id"] for row in rows) == sorted(keys)
        errors = {row["id"]: row["error"] for row in rows if "error" in row}
        assert set(errors) == {key for key in keys if planned(key) == "400"}
        assert all(e["type"] == "BadRequestError" and e["status"] == 400 for e in errors.values())
        # only the calls in flight at the kill were sent twice
        assert len(fake.duplicates()) <= CONCURRENCY
    assert rerun.returncode == 6, rerun.stderr  # some rows are errors
    summary = json.loads(rerun.stdout)
    assert summary["skipped"] + summary["written"] == 5000 and summary["interrupted"] is False


def test_ctrl_c_finishes_the_calls_in_flight_exits_130_and_a_rerun_completes(tmp_path: Path) -> None:
    keys = [f"q{i}" for i in range(3000)]
    _write_input(tmp_path / "in.jsonl", keys)
    with BatchFake(delay=0.005) as fake:
        process = subprocess.Popen(
            _command(fake, tmp_path, "--json"), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        _wait_for_rows(tmp_path / "out.jsonl", 500, process)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        assert b"stopping: waiting for the calls in flight" in err
        assert b"rerun the same command" in err
        first = _rows(tmp_path / "out.jsonl")  # every row whole
        assert 500 <= len(first) < 3000
        summary = json.loads(out)
        assert summary["interrupted"] is True and summary["written"] == len(first)
        assert sum(fake.finals.values()) == len(first)  # every call sent was finished and written

        rerun = subprocess.run(_command(fake, tmp_path, "-q"), env=_env(), capture_output=True, timeout=60)

        rows = _rows(tmp_path / "out.jsonl")
        assert sorted(row["id"] for row in rows) == sorted(keys)
        assert fake.duplicates() == []  # a clean stop loses nothing
    assert rerun.returncode == 6 and rerun.stderr == b""


def test_a_second_ctrl_c_aborts_at_once_leaving_whole_rows(tmp_path: Path) -> None:
    _write_input(tmp_path / "in.jsonl", [f"q{i}" for i in range(3000)])
    with BatchFake(delay=4.0) as fake:  # the calls in flight would take seconds to finish
        process = subprocess.Popen(_command(fake, tmp_path), env=_env(), stderr=subprocess.PIPE)
        _wait_for_rows(tmp_path / "out.jsonl", CONCURRENCY, process)  # the first wave; the second is in flight
        process.send_signal(signal.SIGINT)
        time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, err = process.communicate(timeout=30)
        assert time.monotonic() - started < 2.5  # not the ~4 s the calls in flight needed
    assert process.returncode == 130, err
    assert CONCURRENCY <= len(_rows(tmp_path / "out.jsonl")) < 3000  # whole rows only


def test_every_row_ok_exits_0_with_a_summary_on_stderr(tmp_path: Path) -> None:
    keys = [key for key in (f"k{i}" for i in range(200)) if planned(key) == "ok"][:50]
    _write_input(tmp_path / "in.jsonl", keys)
    with BatchFake() as fake:
        result = subprocess.run(_command(fake, tmp_path), env=_env(), capture_output=True, timeout=60)
        again = subprocess.run(_command(fake, tmp_path, "--json"), env=_env(), capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert b"50 rows written" in result.stderr and b"50 ok, 0 failed" in result.stderr
    assert again.returncode == 0
    assert json.loads(again.stdout)["skipped"] == 50


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [(("-c", "0"), b"0 is not in the range"), ((), b"the output must be another file than the input")],
)
def test_usage_errors_exit_2(tmp_path: Path, extra: tuple[str, ...], fragment: bytes) -> None:
    _write_input(tmp_path / "in.jsonl", ["q1"])
    output = str(tmp_path / ("in.jsonl" if not extra else "out.jsonl"))
    command = [CHATPIPE, "batch", str(tmp_path / "in.jsonl"), "-o", output]
    command += ["--provider", "openai", "--base-url", "http://127.0.0.1:9/v1", *extra]
    result = subprocess.run(command, env=_env(), capture_output=True, timeout=60)
    assert result.returncode == 2
    assert fragment in result.stderr


def test_a_missing_key_exits_4_before_writing(tmp_path: Path) -> None:
    _write_input(tmp_path / "in.jsonl", ["q1"])
    command = [CHATPIPE, "batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "o.jsonl")]
    result = subprocess.run([*command, "--provider", "openai", "-m", "m"], capture_output=True, timeout=60)
    assert result.returncode == 4
    assert b"no API key" in result.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_on_a_terminal_stderr_shows_one_updating_progress_line(tmp_path: Path) -> None:
    import pty

    keys = [f"q{i}" for i in range(400)]
    _write_input(tmp_path / "in.jsonl", keys)
    leader, follower = pty.openpty()
    with BatchFake(delay=0.005) as fake:
        process = subprocess.Popen(_command(fake, tmp_path), env=_env(), stderr=follower, stdout=subprocess.DEVNULL)
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process ended
                break
            if not data:
                break
            chunks.append(data)
        process.wait(30)
    os.close(leader)
    text = b"".join(chunks).decode()
    progress, _, summary = text.rpartition("\n400 rows written")
    assert "\r" in progress and "/400 (" in progress and "/s" in progress and "ETA" in progress
    assert "errors" in progress and "tokens" in progress
    assert "400/400 (100.0%)" in progress  # the last draw shows the end
    assert summary.startswith(" in ")


def test_off_a_terminal_only_the_summary_is_printed(tmp_path: Path) -> None:
    _write_input(tmp_path / "in.jsonl", [f"q{i}" for i in range(100)])
    with BatchFake() as fake:
        result = subprocess.run(_command(fake, tmp_path), env=_env(), capture_output=True, timeout=60)
    lines = result.stderr.decode().splitlines()
    assert "\r" not in result.stderr.decode()
    assert lines[0].startswith("100 rows written in ") and len(lines) == 1
