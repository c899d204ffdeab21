"""The chatpipe-strict plugin: registration, packaging and reference 2.2 (strict / strict_tools)."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import chatpipe_strict
import pytest
from chatpipe.converter import ConvertContext, Converter
from chatpipe.wire import messages_from_dicts, messages_to_dicts

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "plugins" / "strict"
PH = {"role": "user", "content": "[Start a new chat]"}


def registered() -> dict[str, Converter]:
    found: list[Converter] = []
    chatpipe_strict.chatpipe_register_converters(register=found.append)
    return {c.name: c for c in found}


def run(name: str, dicts: list[dict]) -> list[dict]:
    return messages_to_dicts(registered()[name](messages_from_dicts(dicts), ConvertContext()))


def test_registers_strict_and_strict_tools():
    convs = registered()
    assert set(convs) == {"strict", "strict-tools"}
    strict, tools = convs["strict"], convs["strict-tools"]
    assert (strict.aliases, strict.keeps_tools, strict.strictness) == ((), False, 3)
    assert (tools.aliases, tools.keeps_tools, tools.strictness) == (("strict_tools",), True, 3)


def test_entry_points_list_names_and_aliases():
    declared = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())["project"]["entry-points"][
        "chatpipe.converters"
    ]
    names = {n for c in registered().values() for n in (c.name, *c.aliases)}
    assert declared == dict.fromkeys(names, "chatpipe_strict")
    installed = {ep.name: ep.value for ep in entry_points(group="chatpipe.converters") if ep.value == "chatpipe_strict"}
    assert installed == declared


def test_readme_before_after_example_is_what_the_converter_produces():
    import json
    import re

    import chatpipe

    blocks = re.findall(r"```json\n(.*?)```", (PLUGIN_DIR / "README.md").read_text(), re.S)
    before, after = (json.loads(b) for b in blocks[:2])
    assert chatpipe.convert(before, "strict", names=None) == after


A = {"role": "assistant", "content": "greeting"}
U = {"role": "user", "content": "u"}
S = {"role": "system", "content": "S"}


@pytest.mark.parametrize("mode", ["strict", "strict-tools"])
@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([A, U], [PH, A, U]),
        ([S, A, U], [S, PH, A, U]),
        ([S], [S, PH]),
        ([], [PH]),
        ([S, {"role": "system", "content": "S2"}], [{"role": "system", "content": "S\n\nS2"}, PH]),
    ],
    ids=["assistant-first", "system-assistant", "lone-system", "empty", "two-systems"],
)
def test_2_2_strict_bullets(mode, given, expected):
    assert run(mode, given) == expected


def test_custom_placeholder_from_context():
    out = registered()["strict"](messages_from_dicts([A]), ConvertContext(placeholder="Let's get started."))
    assert messages_to_dicts(out) == [{"role": "user", "content": "Let's get started."}, A]


def test_aliases_resolve_through_chatpipe_convert():
    import chatpipe

    assert chatpipe.convert([A], "strict_tools") == [PH, A]
    assert chatpipe.convert([A], "strict", placeholder="Go.") == [{"role": "user", "content": "Go."}, A]
