"""``chatpipe batch --vendor-batch``: the vendor's batch API from a JSONL file to another, resumable.

The fake of OpenAI's files and batches endpoints (validated against the OpenAPI file) is the
one of tests/core/batch/vendor_fakes.py, in this process; the command runs as a process and
talks to it over loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chatpipe.testing import FakeServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "batch"))
from vendor_fakes import FakeOpenAIBatches


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


def _chatpipe(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-test-vendor-batch-key"}
    return subprocess.run([CHATPIPE, *args], capture_output=True, text=True, env=env, timeout=60)


def _run(server: FakeServer, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["batch", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl")]
    args += ["--provider", "openai", "--base-url", f"{server.url}/v1", "-m", "gpt-4o-mini"]
    return _chatpipe(*args, "--vendor-batch", "--poll-interval", "0.1", *extra)


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)), "a row was written twice"
    return {row["id"]: row for row in rows}


def test_vendor_batch_writes_the_rows_and_a_rerun_submits_nothing(server, openai_spec, tmp_path: Path):
    fake = FakeOpenAIBatches(server, openai_spec)
    lines = [{"id": f"q{i}", "messages": [{"role": "user", "content": f"question {i}"}]} for i in range(5)]
    lines.append({"id": "bad", "messages": "not a list"})
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))

    first = _run(server, tmp_path, "--json")
    assert first.returncode == 6, first.stderr  # the invalid line is an error row
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert (summary["ok"], summary["failed"], summary["invalid"]) == (5, 1, 1)
    rows = _rows(tmp_path / "out.jsonl")
    assert sorted(rows) == ["bad", "q0", "q1", "q2", "q3", "q4"]
    assert rows["q3"]["response"]["object"] == "chat.completion" and rows["bad"]["error"]["type"]
    assert fake.creates == 1 and fake.problems == []
    assert (tmp_path / "out.jsonl.vendor-batch.json").exists()
    assert "batch batch_1" in first.stderr

    again = _run(server, tmp_path)
    assert again.returncode == 6, again.stderr  # the error row is still in the output
    assert fake.creates == 1  # nothing submitted twice
    assert _rows(tmp_path / "out.jsonl") == rows


def test_a_router_profile_is_refused_with_a_reason(tmp_path: Path):
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "a", "messages": [{"role": "user", "content": "x"}]}) + "\n")
    config = tmp_path / "chatpipe.yaml"
    config.write_text(
        "profiles:\n  a: {provider: openai, model: m, base_url: 'http://127.0.0.1:9/v1', api_key: sk-x}\n"
        "  r: {route: {targets: [a]}}\n"
    )
    result = _chatpipe(
        "--config",
        str(config),
        "batch",
        str(tmp_path / "in.jsonl"),
        "-o",
        str(tmp_path / "o.jsonl"),
        "-p",
        "r",
        "--vendor-batch",
    )
    assert result.returncode != 0 and "router" in result.stderr.lower(), result.stderr
