"""The chatpipe-single-user plugin: registration, packaging and reference 2.2 (single)."""

from __future__ import annotations

import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import chatpipe_single_user
from chatpipe.converter import ConvertContext, Converter, Names
from chatpipe.wire import messages_from_dicts, messages_to_dicts

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "plugins" / "single-user"
NAMES = Names(user="Alex", char="Seraphina")


def registered() -> list[Converter]:
    found: list[Converter] = []
    chatpipe_single_user.chatpipe_register_converters(register=found.append)
    return found


def run(dicts: list[dict], names: Names = NAMES) -> list[dict]:
    [conv] = registered()
    return messages_to_dicts(conv(messages_from_dicts(dicts), ConvertContext(names=names)))


def test_registers_single_user():
    [conv] = registered()
    assert (conv.name, conv.aliases, conv.keeps_tools, conv.strictness) == ("single-user", ("single",), False, 4)


def test_entry_points_list_names_and_aliases():
    declared = tomllib.loads((PLUGIN_DIR / "pyproject.toml").read_text())["project"]["entry-points"][
        "chatpipe.converters"
    ]
    assert declared == {"single-user": "chatpipe_single_user", "single": "chatpipe_single_user"}
    installed = {
        ep.name: ep.value for ep in entry_points(group="chatpipe.converters") if ep.value == "chatpipe_single_user"
    }
    assert installed == declared


def test_readme_before_after_example_is_what_the_converter_produces():
    import json
    import re

    import chatpipe

    blocks = re.findall(r"```json\n(.*?)```", (PLUGIN_DIR / "README.md").read_text(), re.S)
    before, after = (json.loads(b) for b in blocks[:2])
    assert chatpipe.convert(before, "single-user", names={"user": "Alex", "char": "Seraphina"}) == after


def test_2_2_everything_becomes_one_user_message_with_speaker_prefixes():
    dicts = [
        {"role": "system", "content": "You are Seraphina."},
        {"role": "system", "content": "Hi there", "name": "example_user"},
        {"role": "assistant", "content": "Welcome!"},
        {"role": "user", "content": "Hello"},
    ]
    assert run(dicts) == [
        {"role": "user", "content": "You are Seraphina.\n\nAlex: Hi there\n\nSeraphina: Welcome!\n\nAlex: Hello"}
    ]


def test_2_2_media_survive_and_the_result_is_a_part_list():
    image = {"type": "image_url", "image_url": {"url": "https://example.com/i.png"}}
    dicts = [
        {"role": "user", "content": [{"type": "text", "text": "look"}, image]},
        {"role": "assistant", "content": "nice"},
    ]
    assert run(dicts) == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Alex: look"}, image, {"type": "text", "text": "Seraphina: nice"}],
        }
    ]


def test_2_2_empty_assistant_turn_becomes_the_bare_prefix():
    assert run([{"role": "assistant", "content": ""}]) == [{"role": "user", "content": "Seraphina: "}]


def test_2_2_decision3_all_empty_without_names_gives_one_empty_message():
    """Reference yields several empty user messages; decision 3 merges them."""
    dicts = [{"role": "user", "content": ""}, {"role": "assistant", "content": None}]
    assert run(dicts, Names()) == [{"role": "user", "content": ""}]


def test_alias_resolves_through_chatpipe_convert():
    import chatpipe

    dicts = [{"role": "assistant", "content": "hello", "name": "Rook"}]
    out = chatpipe.convert(dicts, "single", names={"user": "Alex", "char": "Seraphina"})
    assert out == [{"role": "user", "content": "Seraphina: Rook: hello"}]
