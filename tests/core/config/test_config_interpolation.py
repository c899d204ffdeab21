"""``${ENV}`` interpolation: values, defaults, escapes, nesting, errors with key paths."""

from __future__ import annotations

import pytest


def model_of(parse, value: str, env):
    return parse(f"profiles: {{p: {{provider: x, model: '{value}'}}}}", env=env).profiles["p"].model


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${M}", {"M": "gpt-4o"}, "gpt-4o"),
        ("pre-${M}-post", {"M": "mid"}, "pre-mid-post"),
        ("${A}${B}", {"A": "x", "B": "y"}, "xy"),
        ("${M:-fallback}", {}, "fallback"),
        ("${M:-fallback}", {"M": ""}, "fallback"),  # empty counts as unset for :-
        ("${M:-fallback}", {"M": "set"}, "set"),
        ("${M:-}", {"M": "v"}, "v"),
        ("${M:-a b:c/d}", {}, "a b:c/d"),
        ("${A:-${B}}", {"B": "inner"}, "inner"),  # nested reference in a default
        ("${A:-${B:-deep}}", {}, "deep"),
        ("${A:-${UNSET}}", {"A": "a"}, "a"),  # an unused default is never resolved
        ("$${M}", {"M": "ignored"}, "${M}"),  # escape
        ("$${M} ${M}", {"M": "v"}, "${M} v"),
        ("${A:-$${x}}", {}, "${x}"),  # escape inside a default
        ("cost: $5 and $$", {}, "cost: $5 and $$"),  # a lone $ is kept
        ("${lower_case_9}", {"lower_case_9": "ok"}, "ok"),
    ],
)
def test_expansion(parse, value, env, expected):
    assert model_of(parse, value, env) == expected


def test_empty_variable_without_default_is_empty(parse):
    config = parse("prompt_placeholder: '[${EMPTY}]'", env={"EMPTY": ""})
    assert config.prompt_placeholder == "[]"


def test_nested_inside_lists_and_mappings(parse):
    config = parse(
        "names: {group: ['${A}', 'x-${B:-b}']}\n"
        "profiles:\n"
        "  p:\n"
        "    provider: x\n"
        "    params: {stop: ['${S}', [deep, '${S}']], meta: {k: '${A}'}}\n"
        "    include_body: [{a: '${A}'}]\n"
        "    headers: {X-Token: 'Bearer ${T}'}\n",
        env={"A": "alpha", "S": "STOP", "T": "tok"},
    )
    profile = config.profiles["p"]
    assert config.names.group == ("alpha", "x-b")
    assert profile.params == {"stop": ["STOP", ["deep", "STOP"]], "meta": {"k": "alpha"}}
    assert profile.include_body == {"a": "alpha"}
    assert profile.headers == {"X-Token": "Bearer tok"}
    assert type(profile.params["stop"][0]) is str  # plain strings come out


def test_keys_are_not_interpolated(parse):
    config = parse("profiles: {p: {provider: x, params: {'${K}': 1}}}", env={"K": "x"})
    assert config.profiles["p"].params == {"${K}": 1}


def test_missing_variable_names_key_path_and_variable(fail):
    error = fail("profiles: {lmstudio: {provider: custom, base_url: 'http://h', api_key: '${LMSTUDIO_KEY}'}}")
    assert error.path == "profiles.lmstudio.api_key"
    assert str(error) == (
        "profiles.lmstudio.api_key: environment variable LMSTUDIO_KEY is not set; export it or remove the reference"
    )


def test_missing_variable_inside_a_list(fail):
    error = fail("profiles: {p: {provider: x, converters: [strict, '${CONV}']}}")
    assert error.path == "profiles.p.converters[1]"
    assert "environment variable CONV is not set" in str(error)


def test_missing_variable_in_used_default(fail):
    error = fail("default: '${A:-${B}}'")
    assert error.path == "default"
    assert "environment variable B is not set" in str(error)


def test_every_missing_variable_is_reported(fail):
    error = fail("default: '${A}'\nprompt_placeholder: '${B}'")
    assert error.path == "default"
    assert "A is not set" in str(error)
    assert "prompt_placeholder: environment variable B is not set" in str(error)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("${", "unterminated ${ reference"),
        ("${NAME", "unterminated ${NAME reference"),
        ("${A:-never closed", "unterminated ${ reference"),
        ("${}", "invalid ${...} reference"),
        ("${1ABC}", "invalid ${...} reference"),
        ("${A:?required}", "unsupported syntax in ${A...}"),
        ("${A-x}", "unsupported syntax"),
    ],
)
def test_malformed_references(fail, value, message):
    error = fail(f"profiles: {{p: {{provider: x, model: '{value}'}}}}")
    assert error.path == "profiles.p.model"
    assert message in str(error)
    assert "write $${ for a literal ${" in str(error)


def test_malformed_reference_does_not_echo_the_value(fail):
    error = fail("profiles: {p: {provider: x, api_key: 'sk-abcdefgh${'}}")
    assert "sk-abcdefgh" not in str(error)


def test_uses_os_environ_by_default(monkeypatch):
    from chatpipe.config import parse_config

    monkeypatch.setenv("CHATPIPE_TEST_MODEL", "from-environ")
    config = parse_config("profiles: {p: {provider: x, model: '${CHATPIPE_TEST_MODEL}'}}")
    assert config.profiles["p"].model == "from-environ"
