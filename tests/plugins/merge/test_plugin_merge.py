"""The chatpipe-merge plugin: registration, packaging and reference 2.2 (merge / merge_tools)."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import chatpipe_merge
from chatpipe.converter import ConvertContext, Converter
from chatpipe.wire import messages_from_dicts, messages_to_dicts

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "plugins" / "merge"


def registered() -> dict[str, Converter]:
    found: list[Converter] = []
    chatpipe_merge.chatpipe_register_converters(register=found.append)
    return {c.name: c for c in found}


def run(name: str, dicts: list[dict]) -> list[dict]:
    return messages_to_dicts(registered()[name](messages_from_dicts(dicts), ConvertContext()))


def test_registers_merge_and_merge_tools():
    convs = registered()
    assert set(convs) == {"merge", "merge-tools"}
    merge, tools = convs["merge"], convs["merge-tools"]
    assert (merge.aliases, merge.keeps_tools, merge.strictness) == (("claude",), False, 1)
    assert (tools.aliases, tools.keeps_tools, tools.strictness) == (("merge_tools",), True, 1)
    assert merge.description and tools.description


def test_entry_points_list_names_and_aliases():
    declared = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())["project"]["entry-points"][
        "chatpipe.converters"
    ]
    names = {n for c in registered().values() for n in (c.name, *c.aliases)}
    assert declared == dict.fromkeys(names, "chatpipe_merge")
    installed = {ep.name: ep.value for ep in entry_points(group="chatpipe.converters") if ep.value == "chatpipe_merge"}
    assert installed == declared


def test_readme_before_after_example_is_what_the_converter_produces():
    import json
    import re

    import chatpipe

    blocks = re.findall(r"```json\n(.*?)```", (PLUGIN_DIR / "README.md").read_text(), re.S)
    before, after = (json.loads(b) for b in blocks[:2])
    assert chatpipe.convert(before, "merge", names=None) == after


def test_2_2_systems_stay_system_wherever_they_are_and_runs_become_one():
    dicts = [
        {"role": "system", "content": "S1"},
        {"role": "system", "content": "S2"},
        {"role": "user", "content": "hi", "name": "Alex"},
        {"role": "system", "content": "note"},
        {"role": "assistant", "content": "a"},
    ]
    assert run("merge", dicts) == [
        {"role": "system", "content": "S1\n\nS2"},
        {"role": "user", "content": "Alex: hi"},
        {"role": "system", "content": "note"},
        {"role": "assistant", "content": "a"},
    ]


def test_2_2_merge_tools_keeps_tool_fields_and_role():
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    dicts = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "content": "r", "tool_call_id": "c1"},
    ]
    assert run("merge-tools", dicts) == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": "r", "tool_call_id": "c1"},
    ]


def test_2_2_merge_without_tools_folds_calls_and_results_into_text():
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x":1}'}}
    dicts = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "content": "r", "tool_call_id": "c1"},
    ]
    assert run("merge", dicts) == [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": '[Tool call f({"x":1})]'},
        {"role": "user", "content": "r"},
    ]


def test_aliases_resolve_through_chatpipe_convert():
    import chatpipe

    dicts = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    for alias in ("claude", "merge_tools", "merge", "merge-tools"):
        assert chatpipe.convert(dicts, alias) == [{"role": "user", "content": "a\n\nb"}]
