"""The README's Python examples run, as written, against a local fake OpenAI server.

Every ```python block of README.md is executed in order. No code is edited; the
environment is: ``OPENAI_API_KEY`` set to a test key, the ``openai`` provider's default base
URL pointed at a FakeServer (the provider class's ``info`` is patched for the test), and
``CHATPIPE_CONFIG`` naming a file holding the README's own ```yaml config block (the one with
the ``lmstudio`` profile), with its
``lmstudio`` URL pointed at the same server. What a block prints, and the output its
comments promise, are checked.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import attrs
import pytest
from chatpipe.registry import default_registry
from chatpipe.testing import FakeServer
from chatpipe.testing.conformance import OpenAISimulator, Reply

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README.read_text()) if lang == language]


@pytest.fixture
def readme_environment(fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeServer:
    openai = default_registry().provider("openai")
    monkeypatch.setattr(openai, "info", attrs.evolve(openai.info, default_base_url=fake_server.url + "/v1"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-readme-0000")
    (yaml_block,) = [block for block in blocks("yaml") if "lmstudio:" in block]  # the config example
    assert "http://127.0.0.1:1234/v1" in yaml_block
    config = tmp_path / "chatpipe.yaml"
    config.write_text(yaml_block.replace("http://127.0.0.1:1234/v1", fake_server.url + "/v1"))
    monkeypatch.setenv("CHATPIPE_CONFIG", str(config))
    return fake_server


def promised_output(source: str) -> tuple[ast.Module, str | None]:
    """The block without a trailing ``# <repr>`` comment, and that comment (the promised value)."""
    lines = source.rstrip().splitlines()
    comment = lines[-1][2:] if lines and lines[-1].startswith("# ") else None
    return ast.parse(source), comment


def test_the_python_examples_run(readme_environment: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    sim = OpenAISimulator("openai")
    server = readme_environment
    server.enqueue("POST /v1/chat/completions", sim.reply(Reply(text="Hello from the fake server.")))
    server.enqueue("POST /v1/chat/completions", sim.stream(Reply(text="Once upon a time.")))
    examples = blocks("python")
    assert len(examples) >= 2, "the README lost its Python examples"
    for source in examples:
        tree, promise = promised_output(source)
        namespace: dict[str, Any] = {"__name__": "readme"}
        last = tree.body[-1]
        if promise is not None and isinstance(last, ast.Expr):
            exec(compile(ast.Module(tree.body[:-1], []), "README.md", "exec"), namespace)
            value = eval(compile(ast.Expression(last.value), "README.md", "eval"), namespace)
            check_promise(value, promise)
        else:
            exec(compile(tree, "README.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "Hello from the fake server." in printed and "Once upon a time." in printed
    first, second = server.requests
    assert first.json["model"] == "gpt-4o-mini" and second.json["stream"] is True
    assert first.headers["authorization"] == "Bearer sk-readme-0000"


def check_promise(value: Any, promise: str) -> None:
    """The roles and the contents a ``# [{'role': ..., 'content': ...}, ...]`` comment shows are the value's."""
    roles = re.findall(r"'role': '(\w+)'", promise)
    assert roles, f"cannot read the promised output {promise!r}"
    assert [m["role"] for m in value] == roles
    for content in re.findall(r"'content': '([^']*)'", promise):
        assert content in [m["content"] for m in value]
