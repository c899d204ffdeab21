"""Reference section 5 ("surprising behaviour"), items about the post-processing modes:
2, 3, 4, 5, 6, 7, 8, 9, 10 and 21. Chatpipe decisions that change an outcome are named."""

from __future__ import annotations

from typing import Any

import pytest

PH = "[Start a new chat]"
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}}
AUDIO_URL = {"type": "audio_url", "audio_url": {"url": "https://example.com/a.mp3"}}
UNKNOWN = {"type": "x_vendor_block", "payload": {"k": 1}}


def msg(role: str, content: Any = "", **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": content, **extra}


def call(call_id: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "lookup", "arguments": '{"q":"x"}'}}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def test_5_2_decision3_empty_message_does_not_stay_apart(run):
    """Reference keeps the empty message apart and yields "\\n\\nafter empty"; decision 3 merges."""
    out = run("merge", [msg("user", "before"), msg("assistant", ""), msg("assistant", "after empty")])
    assert out == [msg("user", "before"), msg("assistant", "after empty")]


@pytest.mark.parametrize("mode", ["merge", "semi-strict"])
def test_5_3_placeholder_applies_to_merge_and_semi_when_output_is_empty(run, mode):
    assert run(mode, []) == [msg("user", PH)]


def test_5_3_none_leaves_an_empty_list_empty(run):
    assert run("none", []) == []


def test_5_4_a_user_message_later_does_not_stop_the_index_0_placeholder(run):
    out = run("strict", [msg("assistant", "a"), msg("assistant", "b"), msg("user", "u")])
    assert out == [msg("user", PH), msg("assistant", "a\n\nb"), msg("user", "u")]


def test_5_4_leading_developer_message_triggers_the_placeholder(run):
    assert run("strict-tools", [msg("developer", "d")]) == [msg("user", PH), msg("developer", "d")]


def test_5_5_semi_never_inserts_a_placeholder(run):
    assert run("semi-strict", [msg("system", "S"), msg("assistant", "a")]) == [
        msg("system", "S"),
        msg("assistant", "a"),
    ]


@pytest.mark.parametrize("mode", ["merge", "single-user"])
def test_5_6_named_system_messages_just_lose_their_name(run, mode):
    out = run(mode, [msg("system", "weather report", name="narrator")], user="Alex", char="Seraphina")
    assert out == [msg("system" if mode == "merge" else "user", "weather report")]


def test_5_6_existing_prefix_is_not_doubled(run):
    assert run("strict", [msg("user", "Alex: hi", name="Alex")]) == [msg("user", "Alex: hi")]


def test_5_7_single_double_prefix_and_tool_result_gets_user_name(run):
    out = run(
        "single-user",
        [msg("assistant", "hm", name="Rook", tool_calls=[call("c1")]), msg("tool", "42", tool_call_id="c1")],
        user="Alex",
        char="Seraphina",
    )
    assert out == [msg("user", 'Seraphina: Rook: hm\n\n[Tool call lookup({"q":"x"})]\n\nAlex: 42')]


def test_5_7_single_empty_turns_become_bare_prefixes(run):
    out = run("single-user", [msg("user", ""), msg("assistant", None)], user="Alex", char="Seraphina")
    assert out == [msg("user", "Alex: \n\nSeraphina: ")]


def test_5_7_decision3_single_with_all_empty_messages_gives_one_message(run):
    """Reference yields several empty user messages; decision 3 merges them into one."""
    assert run("single-user", [msg("user", ""), msg("assistant", None), msg("system", "")]) == [msg("user", "")]


@pytest.mark.parametrize("mode", ["merge-tools", "semi-strict-tools", "strict-tools"])
def test_5_8_decision2_absorbed_assistant_keeps_its_tool_calls(run, mode):
    """Reference drops the absorbed calls and orphans the result; decision 2 keeps them."""
    dicts = [
        msg("user", "q"),
        msg("assistant", "thinking"),
        msg("assistant", None, name="Rook", tool_calls=[call("c1")]),
        msg("tool", "r", tool_call_id="c1"),
    ]
    out = run(mode, dicts)
    assert out == [
        msg("user", "q"),
        msg("assistant", "thinking\n\nRook: ", tool_calls=[call("c1")]),
        msg("tool", "r", tool_call_id="c1"),
    ]


def test_5_9_with_tools_consecutive_tool_results_stay_apart(run):
    dicts = [
        msg("assistant", "", tool_calls=[call("a"), call("b")]),
        msg("tool", "1", tool_call_id="a"),
        msg("tool", "2", tool_call_id="b"),
    ]
    assert run("merge-tools", dicts) == [
        msg("assistant", "", tool_calls=[call("a"), call("b")]),
        msg("tool", "1", tool_call_id="a"),
        msg("tool", "2", tool_call_id="b"),
    ]


def test_5_9_without_tools_results_are_user_text_and_the_call_turn_holds_the_folded_call(run):
    """Reference leaves an empty assistant turn; chatpipe folds the call into its text."""
    dicts = [
        msg("user", "q"),
        msg("assistant", None, tool_calls=[call("a")]),
        msg("tool", "1", tool_call_id="a"),
        msg("tool", "2", tool_call_id="a"),
    ]
    assert run("merge", dicts) == [
        msg("user", "q"),
        msg("assistant", '[Tool call lookup({"q":"x"})]'),
        msg("user", "1\n\n2"),
    ]


def test_5_10_decision1_prefix_before_a_leading_image_keeps_it(run):
    """Reference loses the image and leaks a random token; decision 1 keeps the image."""
    out = run("strict", [msg("user", [IMAGE], name="Alex")])
    assert out == [msg("user", [text("Alex: "), IMAGE])]


def test_5_10_decision1_unknown_and_audio_url_parts_survive(run):
    """Reference: unknown parts vanish leaving "\\n\\n"; decision 1 keeps them."""
    out = run("merge", [msg("user", [text("a"), UNKNOWN, AUDIO_URL]), msg("user", "b")])
    assert out == [msg("user", [text("a"), UNKNOWN, AUDIO_URL, text("b")])]


def test_5_10_all_text_parts_collapse_to_a_string(run):
    assert run("semi-strict", [msg("user", [text("a")]), msg("user", [text("b")])]) == [msg("user", "a\n\nb")]


def test_5_21_extra_keys_survive_only_on_the_first_message_of_a_run(run):
    dicts = [msg("assistant", "a", signature="first"), msg("assistant", "b", cache_control={"type": "ephemeral"})]
    assert run("merge", dicts) == [msg("assistant", "a\n\nb", signature="first")]
