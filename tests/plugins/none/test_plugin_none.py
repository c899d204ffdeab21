"""The chatpipe-none plugin: registration, packaging and the pass-through behaviour (2.2 None)."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import chatpipe_none
from chatpipe.converter import ConvertContext, Converter
from chatpipe.models import FunctionCall, ImagePart, ImageURL, Message, ToolCall

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "plugins" / "none"


def registered() -> list[Converter]:
    found: list[Converter] = []
    chatpipe_none.chatpipe_register_converters(register=found.append)
    return found


def test_registers_none_with_rank_0_keeping_tools():
    [conv] = registered()
    assert (conv.name, conv.aliases, conv.keeps_tools, conv.strictness) == ("none", (), True, 0)
    assert conv.description


def test_entry_points_in_pyproject_and_installed_metadata():
    declared = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())["project"]["entry-points"][
        "chatpipe.converters"
    ]
    assert declared == {"none": "chatpipe_none"}
    installed = {ep.name: ep.value for ep in entry_points(group="chatpipe.converters") if ep.value == "chatpipe_none"}
    assert installed == declared


def test_readme_before_after_example_is_what_the_converter_produces():
    import json
    import re

    import chatpipe

    blocks = re.findall(r"```json\n(.*?)```", (PLUGIN_DIR / "README.md").read_text(), re.S)
    before, after = (json.loads(b) for b in blocks[:2])
    assert chatpipe.convert(before, "none", names=None) == after


def test_messages_come_back_unchanged_as_the_same_objects():
    messages = [
        Message("assistant", None, name="Rook", tool_calls=(ToolCall("c1", FunctionCall("f", "{}")),)),
        Message("assistant", "again", extra={"signature": "s"}),
        Message("user", (ImagePart(ImageURL("https://example.com/i.png")),), name="Alex"),
        Message("tool", "r", tool_call_id="c1"),
    ]
    [conv] = registered()
    out = conv(messages, ConvertContext())
    assert isinstance(out, tuple)
    assert len(out) == len(messages) and all(a is b for a, b in zip(out, messages, strict=True))


def test_empty_list_stays_empty():
    [conv] = registered()
    assert conv([], ConvertContext()) == ()


def test_reference_id_empty_string_maps_to_none_through_chatpipe_convert():
    import chatpipe

    messages = [{"role": "assistant", "content": "hi"}, {"role": "assistant", "content": "there"}]
    assert chatpipe.convert(messages, "") == messages
    assert chatpipe.convert([], "none") == []
