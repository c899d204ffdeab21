"""The chatpipe-semi-strict plugin: registration, packaging and reference 2.2 (semi / semi_tools)."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import chatpipe_semi_strict
from chatpipe.converter import ConvertContext, Converter
from chatpipe.wire import messages_from_dicts, messages_to_dicts

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "plugins" / "semi-strict"


def registered() -> dict[str, Converter]:
    found: list[Converter] = []
    chatpipe_semi_strict.chatpipe_register_converters(register=found.append)
    return {c.name: c for c in found}


def run(name: str, dicts: list[dict]) -> list[dict]:
    return messages_to_dicts(registered()[name](messages_from_dicts(dicts), ConvertContext()))


def test_registers_semi_strict_and_semi_strict_tools():
    convs = registered()
    assert set(convs) == {"semi-strict", "semi-strict-tools"}
    semi, tools = convs["semi-strict"], convs["semi-strict-tools"]
    assert (semi.aliases, semi.keeps_tools, semi.strictness) == (("semi",), False, 2)
    assert (tools.aliases, tools.keeps_tools, tools.strictness) == (("semi_tools",), True, 2)


def test_entry_points_list_names_and_aliases():
    declared = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())["project"]["entry-points"][
        "chatpipe.converters"
    ]
    names = {n for c in registered().values() for n in (c.name, *c.aliases)}
    assert declared == dict.fromkeys(names, "chatpipe_semi_strict")
    installed = {
        ep.name: ep.value for ep in entry_points(group="chatpipe.converters") if ep.value == "chatpipe_semi_strict"
    }
    assert installed == declared


def test_readme_before_after_example_is_what_the_converter_produces():
    import json
    import re

    import chatpipe

    blocks = re.findall(r"```json\n(.*?)```", (PLUGIN_DIR / "README.md").read_text(), re.S)
    before, after = (json.loads(b) for b in blocks[:2])
    assert chatpipe.convert(before, "semi-strict", names=None) == after


def test_2_2_non_leading_system_becomes_user_text_merged_with_neighbours():
    dicts = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u"},
        {"role": "system", "content": "note"},
        {"role": "user", "content": "v"},
    ]
    assert run("semi-strict", dicts) == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u\n\nnote\n\nv"},
    ]


def test_2_2_leading_assistant_stays_first_without_placeholder():
    dicts = [{"role": "assistant", "content": "greeting"}, {"role": "user", "content": "u"}]
    assert run("semi-strict", dicts) == dicts


def test_2_2_system_then_assistant_stays_as_it_is():
    dicts = [{"role": "system", "content": "S"}, {"role": "assistant", "content": "a"}]
    assert run("semi-strict-tools", dicts) == dicts


def test_aliases_resolve_through_chatpipe_convert():
    import chatpipe

    dicts = [{"role": "user", "content": "u"}, {"role": "system", "content": "s"}]
    for alias in ("semi", "semi_tools"):
        assert chatpipe.convert(dicts, alias) == [{"role": "user", "content": "u\n\ns"}]
