"""Every documented normalisation of profile values (post-processing.md section 3.9)."""

from __future__ import annotations

import pytest
from chatpipe.config import Names, TimeoutConfig


def profile_of(parse, body: str, env=None):
    return parse(f"profiles:\n  p:\n{body}", env=env).profiles["p"]


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ("strict", ("strict",)),
        ("[strict]", ("strict",)),
        ("[merge, strict-tools]", ("merge", "strict-tools")),
        ("[]", ()),
        ("''", ()),
        ("", ()),  # null
    ],
)
def test_converters_string_or_list(parse, yaml_value, expected):
    assert profile_of(parse, f"    provider: x\n    converters: {yaml_value}\n").converters == expected


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ("[frequency_penalty, presence_penalty]", ("frequency_penalty", "presence_penalty")),
        ("{frequency_penalty: 1, top_k: whatever}", ("frequency_penalty", "top_k")),
        ("frequency_penalty", ("frequency_penalty",)),
        ("'[a, b]'", ("a", "b")),  # a YAML text field, as in the reference UI
        ("'a: 1'", ("a",)),
        ("'on'", ("on",)),  # a scalar string is one key name, verbatim
        ("[a, b, a]", ("a", "b")),  # duplicates dropped, order kept
        ("", ()),
        ("[]", ()),
    ],
)
def test_exclude_body_forms(parse, yaml_value, expected):
    assert profile_of(parse, f"    provider: x\n    exclude_body: {yaml_value}\n").exclude_body == expected


@pytest.mark.parametrize(
    ("yaml_value", "expected"),
    [
        ("{min_p: 0.1, top_k: 20}", {"min_p": 0.1, "top_k": 20}),
        ("[{a: 1, b: 1}, {b: 2}]", {"a": 1, "b": 2}),  # merged in order
        ("'{min_p: 0.1}'", {"min_p": 0.1}),  # YAML text holding a mapping
        ("'[{a: 1}, {a: 2, c: [x]}]'", {"a": 2, "c": ["x"]}),  # YAML text holding a list
        ("|\n      nested:\n        deep: true\n", {"nested": {"deep": True}}),
        ("", {}),
        ("''", {}),
    ],
)
def test_include_body_forms(parse, yaml_value, expected):
    assert profile_of(parse, f"    provider: x\n    include_body: {yaml_value}\n").include_body == expected


def test_headers_values_become_strings(parse):
    profile = profile_of(
        parse, "    provider: x\n    headers: {X-Int: 5, X-Float: 1.5, X-True: true, X-False: off, X-Text: a}\n"
    )
    assert profile.headers == {"X-Int": "5", "X-Float": "1.5", "X-True": "true", "X-False": "false", "X-Text": "a"}
    assert all(type(v) is str for v in profile.headers.values())


def test_headers_as_yaml_text(parse):
    assert profile_of(parse, "    provider: x\n    headers: 'X-Team: 7'\n").headers == {"X-Team": "7"}


@pytest.mark.parametrize("key", ["model", "base_url", "api_key"])
def test_empty_optional_text_means_unset(parse, key):
    profile = profile_of(parse, f"    provider: x\n    {key}: '${{UNSET_VAR:-}}'\n")
    assert getattr(profile, key) is None


def test_null_collections_are_empty(parse):
    profile = profile_of(
        parse,
        "    provider: x\n    params:\n    headers:\n    include_body:\n    exclude_body:\n    options:\n"
        "    converters:\n",
    )
    assert (profile.params, profile.headers, profile.include_body, profile.options) == ({}, {}, {}, {})
    assert (profile.exclude_body, profile.converters) == ((), ())


def test_null_top_level_sections_are_defaults(parse):
    config = parse("profiles:\nnames:\ntimeout:\n")
    assert (config.profiles, config.names, config.timeout) == ({}, Names(), TimeoutConfig())


def test_timeout_number_sets_both(parse):
    assert parse("timeout: 30").timeout == TimeoutConfig(connect=30.0, read=30.0)
    assert profile_of(parse, "    provider: x\n    timeout: 2.5\n").timeout == TimeoutConfig(2.5, 2.5)


def test_timeout_partial_mapping_keeps_other_default(parse):
    assert parse("timeout: {read: 60}").timeout == TimeoutConfig(connect=10.0, read=60.0)


def test_group_single_name(parse):
    assert parse("names: {group: Rook}").names == Names(group=("Rook",))


def test_profile_overrides(parse):
    profile = profile_of(
        parse,
        "    provider: x\n    names: {user: Bo}\n    prompt_placeholder: '[go]'\n"
        "    timeout: {connect: 1}\n    max_retries: 0\n    options: {prefix: true}\n",
    )
    assert profile.names == Names(user="Bo")
    assert profile.prompt_placeholder == "[go]"
    assert profile.timeout == TimeoutConfig(connect=1.0, read=600.0)
    assert profile.max_retries == 0
    assert profile.options == {"prefix": True}


def test_params_keep_json_values(parse):
    profile = profile_of(parse, '    provider: x\n    params: {stop: ["\\n", END], temperature: 0.2, seed: null}\n')
    assert profile.params == {"stop": ["\n", "END"], "temperature": 0.2, "seed": None}


def test_numbers_and_booleans_from_environment(parse):
    config = parse(
        "max_retries: ${R}\ntimeout: {read: '${T}'}\nprofiles: {p: {provider: x, bypass_status_check: '${B}'}}",
        env={"R": "5", "T": "12.5", "B": "yes"},
    )
    assert config.max_retries == 5
    assert config.timeout.read == 12.5
    assert config.profiles["p"].bypass_status_check is True


def test_urls_accepted(parse):
    for url in ["http://127.0.0.1:1234/v1", "https://api.example.com", "http://[::1]:8080/v1/", "http://host/v1?x=1"]:
        assert profile_of(parse, f"    provider: x\n    base_url: '{url}'\n").base_url == url


def test_deadlines_are_read_with_their_timeouts(parse):
    timeout = parse("timeout: {deadline: 120, stream_progress: 30, stream_deadline: 3600}").timeout
    assert (timeout.deadline, timeout.stream_progress, timeout.stream_deadline) == (120.0, 30.0, 3600.0)
    assert parse("timeout: {deadline: null}").timeout.deadline is None


def test_limits_take_sizes_top_level_and_per_profile(parse):
    from chatpipe.config import LimitsConfig

    assert parse("").limits == LimitsConfig()
    assert parse("limits: {max_event_bytes: 1MiB}").limits.max_event_bytes == 1024 * 1024
    profile = profile_of(parse, "    provider: x\n    limits: {max_body_bytes: 20MB}\n")
    assert profile.limits == LimitsConfig(max_body_bytes=20_000_000)


def test_bad_deadline_and_limit_values_name_their_key(fail):
    assert fail("timeout: {deadline: 0}").path == "timeout.deadline"
    assert fail("timeout: {stream_progress: nope}").path == "timeout.stream_progress"
    assert fail("limits: {max_body_bytes: -1}").path == "limits.max_body_bytes"
    assert "did you mean 'max_event_bytes'" in str(fail("limits: {max_event_byte: 1}"))
