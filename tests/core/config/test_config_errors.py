"""Every validation error: the exact key path, a message naming the problem and the fix."""

from __future__ import annotations

import pytest
from chatpipe.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        # wrong types
        (
            "profiles: {local: {provider: x, max_retries: two}}",
            "profiles.local.max_retries",
            "expected an integer, got 'two'",
        ),
        ("max_retries: 1.5", "max_retries", "expected an integer, got 1.5"),
        ("max_retries: true", "max_retries", "expected an integer, got a boolean (true)"),
        ("max_retries: '3'", "max_retries", "expected an integer, got '3'"),
        ("prompt_placeholder: 5", "prompt_placeholder", "expected a string, got 5; quote it"),
        ("prompt_placeholder:", "prompt_placeholder", "expected a string, got null"),
        ("default: [a]", "default", "expected a string, got a list"),
        ("profiles: {a: {provider: x, model: [m]}}", "profiles.a.model", "expected a string, got a list"),
        (
            "profiles: {a: {provider: x, bypass_status_check: 'yes'}}",
            "profiles.a.bypass_status_check",
            "expected true or false, got 'yes'",
        ),
        ("profiles: {a: {provider: x, params: [1]}}", "profiles.a.params", "expected a mapping, got a list"),
        ("profiles: {a: {provider: x, options: 3}}", "profiles.a.options", "expected a mapping, got 3"),
        (
            "profiles: {a: {provider: x, converters: [strict, off]}}",
            "profiles.a.converters[1]",
            "expected a string, got a boolean (false); YAML reads unquoted yes/no/on/off/true/false as booleans",
        ),
        (
            "profiles: {a: {provider: x, converters: {strict: 1}}}",
            "profiles.a.converters",
            "expected a converter name or a list of them, got a mapping",
        ),
        ("profiles: {a: {provider: x, converters: [strict, '']}}", "profiles.a.converters[1]", "must not be empty"),
        ("names: {group: [Rook, 3]}", "names.group[1]", "expected a string, got 3"),
        ("names: [Alex]", "names", "expected a mapping {user, char, group}, got a list"),
        ("profiles: {a: {provider: x, names: {user: [x]}}}", "profiles.a.names.user", "expected a string, got a list"),
        (
            "profiles: {a: {provider: x, params: {when: 2024-01-01}}}",
            "profiles.a.params.when",
            "a date cannot be sent as JSON",
        ),
        ("profiles: {a: {provider: x, params: {t: .nan}}}", "profiles.a.params.t", "cannot be sent as JSON"),
        ("profiles: {a: {provider: x, params: {1: a}}}", "profiles.a.params", "keys must be strings, got 1"),
        (
            "profiles: {a: {provider: x, params: {l: [1, {2: x}]}}}",
            "profiles.a.params.l[1]",
            "keys must be strings, got 2",
        ),
        # unknown keys with did-you-mean
        (
            "profiles: {local: {provider: x, base_ulr: 'http://h'}}",
            "profiles.local.base_ulr",
            "unknown key; did you mean 'base_url'?",
        ),
        ("profile: {}", "profile", "unknown key; did you mean 'profiles'?"),
        ("timeout: {conect: 3}", "timeout.conect", "unknown key; did you mean 'connect'?"),
        ("names: {usr: Alex}", "names.usr", "unknown key; did you mean 'user'?"),
        (
            "zzz: 1",
            "zzz",
            "unknown key; valid keys: profiles, default, prompt_placeholder, names, timeout, limits, max_retries",
        ),
        ("provider: openai", "provider", "unknown key; 'provider' is a profile setting: put it under profiles.<name>"),
        ("source: /x", "source", "unknown key"),
        ("profiles: {a: {provider: x, 7: y}}", "profiles.a", "keys must be strings, got 7"),
        # required provider
        (
            "profiles: {local: {model: m}}",
            "profiles.local.provider",
            "required key is missing; every profile needs one, e.g. provider: openai",
        ),
        ("profiles: {local: {provider: ''}}", "profiles.local.provider", "must not be empty"),
        (
            "profiles: {local: }",
            "profiles.local",
            "expected a mapping of settings with at least 'provider' (or 'route'), got null",
        ),
        ("profiles: {local: openai}", "profiles.local", "expected a mapping of settings with at least 'provider'"),
        ("profiles: [a, b]", "profiles", "expected a mapping of profile name to settings, got a list"),
        # bad URLs
        (
            "profiles: {local: {provider: x, base_url: 'localhost:1234/v1'}}",
            "profiles.local.base_url",
            "not a URL (expected http://host[:port]/path); it must start with http:// or https://",
        ),
        ("profiles: {local: {provider: x, base_url: 'ftp://h/'}}", "profiles.local.base_url", "not a URL"),
        ("profiles: {local: {provider: x, base_url: 'http:///v1'}}", "profiles.local.base_url", "the host is missing"),
        (
            "profiles: {local: {provider: x, base_url: 'http://h:99999/'}}",
            "profiles.local.base_url",
            "the port is not a number",
        ),
        (
            "profiles: {local: {provider: x, base_url: 'http://h /v1'}}",
            "profiles.local.base_url",
            "contains whitespace",
        ),
        ("profiles: {local: {provider: x, base_url: 8080}}", "profiles.local.base_url", "expected a string, got 8080"),
        # default naming a missing profile
        (
            "default: claud\nprofiles: {claude: {provider: claude}, b: {provider: x}}",
            "default",
            "no profile named 'claud'; did you mean 'claude'? (profiles: claude, b)",
        ),
        ("default: a", "default", "no profile named 'a' (no profiles are defined)"),
        # negative timeouts and retries
        ("timeout: {connect: -1}", "timeout.connect", "must be a positive number of seconds, got -1"),
        ("timeout: {read: 0}", "timeout.read", "must be a positive number of seconds, got 0"),
        ("timeout: .inf", "timeout", "must be a positive number of seconds"),
        ("timeout: fast", "timeout", "expected a mapping {connect, read} or a number of seconds, got 'fast'"),
        ("timeout: [1, 2]", "timeout", "expected a mapping {connect, read} or a number of seconds, got a list"),
        ("profiles: {a: {provider: x, timeout: {read: -5}}}", "profiles.a.timeout.read", "must be a positive number"),
        ("max_retries: -1", "max_retries", "must be 0 or more, got -1"),
        ("profiles: {a: {provider: x, max_retries: -2}}", "profiles.a.max_retries", "must be 0 or more, got -2"),
        # empty profile names
        ("profiles: {'': {provider: x}}", "profiles", "a profile name is empty; give every profile a name"),
        ("profiles: {'  ': {provider: x}}", "profiles", "a profile name is empty"),
        ("profiles: {3: {provider: x}}", "profiles", "profile names must be strings, got 3"),
        # additional parameters
        (
            "profiles: {a: {provider: x, include_body: [{a: 1}, min_p]}}",
            "profiles.a.include_body[1]",
            "every item must be a mapping of body keys, got 'min_p'",
        ),
        (
            "profiles: {a: {provider: x, include_body: [{a: 1}, {b: .inf}]}}",
            "profiles.a.include_body[1].b",
            "cannot be sent as JSON",
        ),
        (
            "profiles: {a: {provider: x, include_body: '{min_p: [0.1'}}",
            "profiles.a.include_body",
            "the include_body text is not valid YAML (at the end of the text: did not find expected ',' or ']')",
        ),
        (
            "profiles: {a: {provider: x, include_body: 'just text'}}",
            "profiles.a.include_body",
            "expected a mapping or a list of mappings, got 'just text'",
        ),
        (
            "profiles: {a: {provider: x, include_body: 5}}",
            "profiles.a.include_body",
            "expected a mapping or a list of mappings, got 5",
        ),
        (
            "profiles: {a: {provider: x, exclude_body: '[a, '}}",
            "profiles.a.exclude_body",
            "the exclude_body text is not valid YAML",
        ),
        (
            "profiles: {a: {provider: x, exclude_body: [a, 1]}}",
            "profiles.a.exclude_body[1]",
            "expected a string, got 1",
        ),
        (
            "profiles: {a: {provider: x, exclude_body: 5}}",
            "profiles.a.exclude_body",
            "expected a key name, a list of key names or a mapping, got 5",
        ),
        (
            "profiles: {a: {provider: x, headers: [X-A]}}",
            "profiles.a.headers",
            "expected a mapping of header name to value, got a list",
        ),
        (
            "profiles: {a: {provider: x, headers: {'X A': 1}}}",
            "profiles.a.headers['X A']",
            "not a valid HTTP header name",
        ),
        (
            "profiles: {a: {provider: x, headers: {X-A: [1]}}}",
            "profiles.a.headers.X-A",
            "header values must be text or numbers, got a list",
        ),
        (
            'profiles: {a: {provider: x, headers: {X-A: "a\\nb"}}}',
            "profiles.a.headers.X-A",
            "header values must not contain line breaks",
        ),
        ("profiles: {a: {provider: x, headers: '{X-A: [1'}}", "profiles.a.headers", "the headers text is not valid"),
    ],
)
def test_error_path_and_message(fail, text, path, message):
    error = fail(text, source="chatpipe.yaml")
    assert error.path == path
    assert error.file == "chatpipe.yaml"
    assert str(error).startswith(f"chatpipe.yaml: {path}: ")
    assert message in str(error)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("profiles: [\n  a", "invalid YAML: at the end of the text: did not find expected ',' or ']'"),
        ("a: 1\nb: [\n", "invalid YAML: at the end of the text"),
        ("a: 1\nb: c: d\n", "invalid YAML: line 2, column 5: mapping values are not allowed"),
        ("a:\n  - b\n c: 2\n", "invalid YAML: line 3, column 2"),
        (
            "profiles:\n  a: {provider: x}\n  a: {provider: y}\n",
            "invalid YAML: line 3, column 3: found duplicate key 'a'",
        ),
        ("x: !!python/object:os.system {}", "invalid YAML: line 1"),
        ("x: 2024-13-45", "invalid YAML: invalid value"),
        ("--- 1\n--- 2\n", "invalid YAML"),
        ("\x00", "invalid YAML"),
        ("- a\n- b", "the top level must be a mapping of settings (profiles, default, ...), got a list"),
        ("just a string", "the top level must be a mapping of settings (profiles, default, ...), got 'just a string'"),
        ("42", "got 42"),
    ],
)
def test_file_level_errors(fail, text, message):
    error = fail(text, source="c.yaml")
    assert error.path is None
    assert str(error).startswith("c.yaml: ")
    assert message in str(error)


def test_yaml_merge_keys_are_not_duplicates(parse):
    config = parse("profiles:\n  a: &b {provider: x, model: m}\n  b: {<<: *b, model: n}\n")
    assert config.profiles["b"].model == "n"
    assert config.profiles["b"].provider == "x"


def test_recursive_alias_is_an_error(fail):
    error = fail("profiles: {a: {provider: x, params: &p {self: *p}}}")
    assert error.path == "profiles.a.params.self"
    assert "refers to itself" in str(error)


def test_alias_bomb_is_bounded(fail):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    error = fail("\n".join(lines))
    assert "too large" in str(error)


def test_several_problems_are_all_reported(fail):
    error = fail("max_retries: x\ntimeout: {read: -1}\nprofiles: {a: {provider: x, base_ulr: y}}")
    assert error.path == "profiles.a.base_ulr"
    message = str(error)
    assert "also:" in message
    assert "max_retries: expected an integer" in message
    assert "timeout.read: must be a positive" in message


def test_env_values_never_echoed(fail):
    secret = "sk-live-should-not-appear-123"
    error = fail("max_retries: ${KEY}", env={"KEY": secret})
    assert error.path == "max_retries"
    assert secret not in str(error)
    assert "from an environment variable (value not shown)" in str(error)


def test_literal_api_key_of_wrong_type_never_echoed(fail):
    error = fail("profiles: {a: {provider: x, api_key: 1234567890123}}")
    assert error.path == "profiles.a.api_key"
    assert "1234567890123" not in str(error)
    assert "expected a string, got an integer (value not shown)" in str(error)


def test_yaml_error_does_not_quote_the_line(fail):
    error = fail("profiles: {a: {provider: x, api_key: sk-secret-abcdef]}}")
    assert "sk-secret-abcdef" not in str(error)


def test_config_error_is_a_chatpipe_error(fail):
    from chatpipe.errors import ChatpipeError

    assert isinstance(fail("max_retries: x"), ChatpipeError)
    assert issubclass(ConfigError, ChatpipeError)


@pytest.mark.parametrize("depth", [900, 100_000])
def test_a_value_nested_too_deeply_is_a_config_error(fail, depth):
    error = fail("profiles: {p: {provider: custom, params: {a: " + "[" * depth + "]" * depth + "}}}")
    assert "nested too deeply" in str(error) or "nesting depth" in str(error)
