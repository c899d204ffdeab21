"""One concrete example per rule of reference section 2 (MERGE steps A–E, 2.2, 2.3).

Where a chatpipe decision (listed at the top of reference/post-processing.md) changes the
reference outcome, the test asserts chatpipe's outcome and names the decision.
"""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe.postprocess import TOOL_CALL_TEMPLATE

PH = "[Start a new chat]"
IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}}
VIDEO = {"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}}
FILE = {"type": "file", "file": {"file_id": "file-1"}}
CACHED_TEXT = {"type": "text", "text": "cached", "cache_control": {"type": "ephemeral"}}
NO_TOOLS = ["merge", "semi-strict", "strict", "single-user"]
TOOLS = ["merge-tools", "semi-strict-tools", "strict-tools"]
ALL_MERGING = NO_TOOLS + TOOLS


def msg(role: str, content: Any = "", **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": content, **extra}


def call(call_id: str, name: str = "get_weather", arguments: str = '{"city":"Paris"}') -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


# --- A1: falsy content becomes "" ---------------------------------------------------------


@pytest.mark.parametrize("mode", ["merge", "merge-tools", "semi-strict", "semi-strict-tools", "strict", "strict-tools"])
def test_a1_null_content_becomes_empty_string(run, mode):
    assert run(mode, [msg("user", "hi"), msg("assistant", None)]) == [msg("user", "hi"), msg("assistant", "")]


def test_a1_single_mode_empty_assistant_turn_becomes_the_bare_char_prefix(run):
    assert run("single-user", [msg("assistant", None)], char="Seraphina") == [msg("user", "Seraphina: ")]


def test_a1_assistant_tool_call_with_null_content_keeps_calls_and_gets_empty_string(run):
    out = run("merge-tools", [msg("user", "q"), msg("assistant", None, tool_calls=[call("c1")])])
    assert out[1] == {"role": "assistant", "content": "", "tool_calls": [call("c1")]}


# --- A2: part lists ---------------------------------------------------------------------------


def test_a2_all_text_parts_collapse_to_a_plain_string(run):
    assert run("merge", [msg("user", [text("a"), text("b")])]) == [msg("user", "a\n\nb")]


def test_a2_media_parts_are_kept_in_place_with_their_fields(run):
    out = run("merge", [msg("user", [text("see"), IMAGE, text("this")])])
    assert out == [msg("user", [text("see"), IMAGE, text("this")])]


def test_a2_decision1_unknown_parts_are_kept_not_dropped(run):
    """Reference: [text "see", file] gives "see\\n\\n"; decision 1 keeps the file part."""
    out = run("merge", [msg("user", [text("see"), FILE, VIDEO])])
    assert out == [msg("user", [text("see"), FILE, VIDEO])]


def test_a2_text_part_with_extra_keys_is_kept_as_a_part(run):
    out = run("merge", [msg("user", [CACHED_TEXT]), msg("user", "more")])
    assert out == [msg("user", [CACHED_TEXT, text("more")])]


# --- A3: example-prefixing --------------------------------------------------------------------


def test_a3_example_user_gets_user_prefix_and_loses_name(run):
    out = run("merge", [msg("system", "hi", name="example_user")], user="Alex")
    assert out == [msg("system", "Alex: hi")]


def test_a3_example_user_already_prefixed_is_not_prefixed_again(run):
    out = run("merge", [msg("system", "Alex: hi", name="example_user")], user="Alex")
    assert out == [msg("system", "Alex: hi")]


def test_a3_example_user_without_user_name_gets_no_prefix(run):
    assert run("merge", [msg("system", "hi", name="example_user")]) == [msg("system", "hi")]


def test_a3_example_assistant_gets_char_prefix(run):
    out = run("merge", [msg("system", "hello", name="example_assistant")], char="Seraphina")
    assert out == [msg("system", "Seraphina: hello")]


def test_a3_example_assistant_starting_with_a_group_member_is_not_prefixed(run):
    out = run("merge", [msg("system", "Rook: yo", name="example_assistant")], char="Seraphina", group=("Rook",))
    assert out == [msg("system", "Rook: yo")]


# --- A4: name prefixes --------------------------------------------------------------------------


def test_a4_named_user_message_gets_prefix(run):
    assert run("merge", [msg("user", "hi", name="Alex")]) == [msg("user", "Alex: hi")]


def test_a4_prefix_only_if_missing(run):
    assert run("merge", [msg("assistant", "Rook: hi", name="Rook")]) == [msg("assistant", "Rook: hi")]


def test_a4_prefix_test_is_exact_name_colon_space(run):
    assert run("merge", [msg("user", "Rook:hi", name="Rook")]) == [msg("user", "Rook: Rook:hi")]


def test_a4_named_system_message_loses_name_without_prefix(run):
    assert run("merge", [msg("system", "rain", name="narrator")]) == [msg("system", "rain")]


def test_a4_empty_content_with_name_becomes_the_bare_prefix(run):
    assert run("merge", [msg("user", None, name="Alex")]) == [msg("user", "Alex: ")]


def test_a4_decision1_prefix_before_a_leading_image_keeps_the_image(run):
    """Reference: "Alex: <token>" leaks a token and loses the image; decision 1 keeps it."""
    out = run("merge", [msg("user", [IMAGE, text("look")], name="Alex")])
    assert out == [msg("user", [text("Alex: "), IMAGE, text("look")])]


def test_a4_prefix_check_looks_at_a_leading_text_part_with_extra_keys(run):
    part = {**CACHED_TEXT, "text": "Alex: cached"}
    assert run("merge", [msg("user", [part], name="Alex")]) == [msg("user", [part])]


# --- A5: tool role ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["merge", "semi-strict", "strict"])
def test_a5_without_tools_tool_results_become_user_text(run, mode):
    out = run(mode, [msg("user", "q"), msg("tool", "sunny", tool_call_id="c1")])
    assert out == [msg("user", "q\n\nsunny")]


@pytest.mark.parametrize("mode", TOOLS)
def test_a5_with_tools_tool_role_is_kept(run, mode):
    out = run(
        mode, [msg("user", "q"), msg("assistant", "", tool_calls=[call("c1")]), msg("tool", "sunny", tool_call_id="c1")]
    )
    assert out[-1] == msg("tool", "sunny", tool_call_id="c1")


# --- A6: single mode ----------------------------------------------------------------------------


def test_a6_single_double_prefixes_a_named_assistant(run):
    out = run("single-user", [msg("user", "hi"), msg("assistant", "hello", name="Rook")], user="Alex", char="Seraphina")
    assert out == [msg("user", "Alex: hi\n\nSeraphina: Rook: hello")]


def test_a6_single_group_member_prefix_blocks_char_prefix(run):
    out = run("single-user", [msg("assistant", "hello", name="Rook")], char="Seraphina", group=("Rook",))
    assert out == [msg("user", "Rook: hello")]


def test_a6_single_former_tool_result_gets_user_prefix(run):
    out = run("single-user", [msg("tool", "sunny", tool_call_id="c1")], user="Alex")
    assert out == [msg("user", "Alex: sunny")]


def test_a6_single_system_text_is_not_prefixed(run):
    out = run("single-user", [msg("system", "rules"), msg("user", "hi")], user="Alex", char="Seraphina")
    assert out == [msg("user", "rules\n\nAlex: hi")]


def test_a6_single_unknown_role_becomes_user_without_prefix(run):
    out = run("single-user", [msg("developer", "dev"), msg("assistant", "a")], user="Alex", char="Seraphina")
    assert out == [msg("user", "dev\n\nSeraphina: a")]


# --- A7: fields removed or folded ---------------------------------------------------------------


def test_a7_tool_call_template_is_documented_text():
    assert TOOL_CALL_TEMPLATE == "[Tool call {name}({arguments})]"


@pytest.mark.parametrize("mode", ["merge", "semi-strict", "strict"])
def test_a7_without_tools_calls_are_folded_into_text_not_deleted(run, mode):
    """chatpipe decision (nothing lost): the reference deletes tool_calls and leaves an empty turn."""
    out = run(
        mode,
        [msg("user", "weather?"), msg("assistant", "", tool_calls=[call("c1"), call("c2", "search", "{}")])],
    )
    assert out == [
        msg("user", "weather?"),
        msg("assistant", '[Tool call get_weather({"city":"Paris"})]\n\n[Tool call search({})]'),
    ]


def test_a7_folded_call_text_follows_the_message_text(run):
    out = run("merge", [msg("assistant", "Let me check.", tool_calls=[call("c1")])])
    assert out == [msg("assistant", 'Let me check.\n\n[Tool call get_weather({"city":"Paris"})]')]


def test_a7_name_prefix_lands_before_folded_call_text(run):
    out = run("merge", [msg("assistant", None, name="Rook", tool_calls=[call("c1")])])
    assert out == [msg("assistant", 'Rook: [Tool call get_weather({"city":"Paris"})]')]


def test_a7_with_tools_name_goes_and_tool_fields_stay(run):
    out = run("merge-tools", [msg("assistant", "x", name="Rook", tool_calls=[call("c1")])])
    assert out == [msg("assistant", "Rook: x", tool_calls=[call("c1")])]


# --- B: squashing neighbours -------------------------------------------------------------------


def test_b_same_role_neighbours_join_with_a_blank_line(run):
    assert run("merge", [msg("user", "a"), msg("user", "b")]) == [msg("user", "a\n\nb")]


def test_b_decision3_empty_messages_merge_without_blank_lines(run):
    """Reference: ["a", "\\n\\nb\\n\\nc"]; decision 3: one message, no stray blank line."""
    out = run("merge", [msg("user", "a"), msg("user", ""), msg("user", "b"), msg("user", "c")])
    assert out == [msg("user", "a\n\nb\n\nc")]


def test_b_decision3_leading_empty_message_adds_no_leading_blank_line(run):
    assert run("merge", [msg("user", None), msg("user", "after empty")]) == [msg("user", "after empty")]


def test_b_tool_messages_never_merge(run):
    out = run(
        "merge-tools",
        [
            msg("assistant", "", tool_calls=[call("c1"), call("c2")]),
            msg("tool", "r1", tool_call_id="c1"),
            msg("tool", "r2", tool_call_id="c2"),
        ],
    )
    assert [m["role"] for m in out] == ["assistant", "tool", "tool"]


def test_b_decision2_merged_assistants_keep_every_tool_call(run):
    """Reference drops the absorbed message's tool_calls; decision 2 concatenates them."""
    out = run(
        "merge-tools",
        [msg("assistant", "a", tool_calls=[call("c1")]), msg("assistant", "b", tool_calls=[call("c2")])],
    )
    assert out == [msg("assistant", "a\n\nb", tool_calls=[call("c1"), call("c2")])]


def test_b_decision2_calls_of_an_absorbed_message_survive_when_first_has_none(run):
    out = run("merge-tools", [msg("assistant", "thinking"), msg("assistant", None, tool_calls=[call("c9")])])
    assert out == [msg("assistant", "thinking", tool_calls=[call("c9")])]


def test_b_first_message_of_a_run_keeps_its_extra_keys_absorbed_ones_lose_theirs(run):
    out = run("merge", [msg("user", "a", cache_control={"type": "ephemeral"}), msg("user", "b", signature="s")])
    assert out == [msg("user", "a\n\nb", cache_control={"type": "ephemeral"})]


def test_b_unknown_roles_merge_with_same_role_neighbours(run):
    assert run("merge", [msg("developer", "a"), msg("developer", "b")]) == [msg("developer", "a\n\nb")]


# --- C: empty fallback -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ALL_MERGING)
def test_c_empty_input_becomes_one_user_placeholder(run, mode):
    assert run(mode, []) == [msg("user", PH)]


def test_c_placeholder_comes_from_the_context(run):
    assert run("merge", [], placeholder="Let's get started.") == [msg("user", "Let's get started.")]


def test_c_none_keeps_an_empty_list_empty(run):
    assert run("none", []) == []


# --- D: restoring media --------------------------------------------------------------------------


def test_d_parts_merge_with_following_text_as_in_the_reference_example(run):
    out = run("merge", [msg("user", [text("A"), IMAGE, text("B")]), msg("user", "C")])
    assert out == [msg("user", [text("A"), IMAGE, text("B\n\nC")])]


def test_d_text_before_parts_joins_the_first_text_run(run):
    out = run("merge", [msg("user", "intro"), msg("user", [text("A"), IMAGE])])
    assert out == [msg("user", [text("intro\n\nA"), IMAGE])]


def test_d_messages_without_parts_stay_plain_strings(run):
    out = run("merge", [msg("user", "a"), msg("assistant", [text("b")])])
    assert out == [msg("user", "a"), msg("assistant", "b")]


# --- E: strict pass -------------------------------------------------------------------------------


def test_e1_non_leading_system_becomes_user_in_semi_strict(run):
    out = run("semi-strict", [msg("system", "S"), msg("user", "u"), msg("system", "note"), msg("assistant", "a")])
    assert out == [msg("system", "S"), msg("user", "u\n\nnote"), msg("assistant", "a")]


def test_e1_merge_keeps_mid_prompt_system_as_system(run):
    out = run("merge", [msg("user", "u"), msg("system", "note"), msg("assistant", "a")])
    assert out == [msg("user", "u"), msg("system", "note"), msg("assistant", "a")]


def test_e2_leading_assistant_gets_placeholder_before_it(run):
    out = run("strict", [msg("assistant", "greeting"), msg("user", "u")])
    assert out == [msg("user", PH), msg("assistant", "greeting"), msg("user", "u")]


def test_e2_system_then_assistant_gets_placeholder_after_system(run):
    out = run("strict", [msg("system", "S"), msg("assistant", "greeting"), msg("user", "u")])
    assert out == [msg("system", "S"), msg("user", PH), msg("assistant", "greeting"), msg("user", "u")]


def test_e2_lone_system_gets_placeholder_after_it(run):
    assert run("strict", [msg("system", "S")]) == [msg("system", "S"), msg("user", PH)]


def test_e2_two_leading_systems_merge_first(run):
    out = run("strict", [msg("system", "S1"), msg("system", "S2")])
    assert out == [msg("system", "S1\n\nS2"), msg("user", PH)]


def test_e2_only_positions_0_and_1_are_looked_at(run):
    dicts = [msg("user", "u"), msg("assistant", "a"), msg("system", "s"), msg("assistant", "b")]
    out = run("strict", dicts)
    assert out == [msg("user", "u"), msg("assistant", "a"), msg("user", "s"), msg("assistant", "b")]


def test_e2_leading_unknown_role_gets_placeholder_at_index_0(run):
    out = run("strict", [msg("developer", "d"), msg("user", "u")])
    assert out == [msg("user", PH), msg("developer", "d"), msg("user", "u")]


def test_e2_leading_tool_in_strict_tools_gets_placeholder_at_index_0(run):
    out = run("strict-tools", [msg("tool", "r", tool_call_id="c1"), msg("user", "u")])
    assert out == [msg("user", PH), msg("tool", "r", tool_call_id="c1"), msg("user", "u")]


def test_e2_leading_tool_in_strict_has_already_become_user(run):
    assert run("strict", [msg("tool", "r", tool_call_id="c1")]) == [msg("user", "r")]


def test_e2_system_then_tool_in_strict_tools_gets_placeholder_at_index_1(run):
    out = run("strict-tools", [msg("system", "S"), msg("tool", "r", tool_call_id="c1")])
    assert out == [msg("system", "S"), msg("user", PH), msg("tool", "r", tool_call_id="c1")]


def test_e3_converted_system_merges_into_neighbouring_user_turns(run):
    out = run("semi-strict", [msg("user", "a"), msg("system", "s"), msg("user", "b")])
    assert out == [msg("user", "a\n\ns\n\nb")]


def test_e3_strict_second_merge_keeps_media(run):
    out = run("strict", [msg("user", [IMAGE]), msg("system", "s")])
    assert out == [msg("user", [IMAGE, text("s")])]


# --- 2.3 role and field details ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["semi-strict", "strict", "single-user"])
def test_2_3_mid_prompt_system_becomes_user(run, mode):
    out = run(mode, [msg("user", "u"), msg("assistant", "a"), msg("system", "note")])
    assert out[-1]["role"] == "user"


def test_2_3_unknown_roles_are_not_touched_by_the_strict_pass(run):
    out = run("strict", [msg("user", "u"), msg("developer", "d")])
    assert out == [msg("user", "u"), msg("developer", "d")]


# --- input checking ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["none", *ALL_MERGING])
def test_dicts_instead_of_messages_raise_a_clear_error(converters, mode):
    from chatpipe.converter import ConvertContext
    from chatpipe.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match=r"messages\[0\].*messages_from_dicts"):
        converters[mode]([{"role": "user", "content": "hi"}], ConvertContext())  # type: ignore[list-item]


def test_bad_content_raises_a_clear_error(converters):
    from chatpipe.converter import ConvertContext
    from chatpipe.errors import InvalidRequestError
    from chatpipe.models import Message

    bad = Message(role="user", content=({"type": "text", "text": "raw dict"},))  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match=r"messages\[0\]\.content\[0\]"):
        converters["merge"]([bad], ConvertContext())
