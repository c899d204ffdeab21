"""The documented example parses into the documented classes; Config.profile picks profiles."""

from __future__ import annotations

import pytest
from chatpipe.config import Config, Names, Profile, TimeoutConfig
from chatpipe.converter import DEFAULT_PLACEHOLDER
from chatpipe.converter import Names as ConverterNames
from chatpipe.errors import ConfigError

FULL = """
default: claude
prompt_placeholder: "[Begin]"
names: {user: Alex, char: Seraphina, group: [Rook, Mina]}
timeout: {connect: 5, read: 120}
max_retries: 3
profiles:
  claude:   {provider: claude, model: claude-sonnet-4-5, converters: [strict], params: {max_tokens: 1024}}
  lmstudio: {provider: custom, base_url: "http://127.0.0.1:1234/v1", model: my-model,
             headers: {X-Team: a}, include_body: {min_p: 0.1}, exclude_body: [frequency_penalty],
             bypass_status_check: true, api_key: "${LMSTUDIO_KEY}"}
"""


def test_full_example(parse):
    config = parse(FULL, env={"LMSTUDIO_KEY": "lm-secret-value"}, source="/etc/chatpipe.yaml")
    assert config.source == "/etc/chatpipe.yaml"
    assert config.default == "claude"
    assert config.prompt_placeholder == "[Begin]"
    assert config.names == Names(user="Alex", char="Seraphina", group=("Rook", "Mina"))
    assert config.timeout == TimeoutConfig(connect=5.0, read=120.0)
    assert config.max_retries == 3
    assert config.profiles["claude"] == Profile(
        provider="claude", model="claude-sonnet-4-5", converters=("strict",), params={"max_tokens": 1024}
    )
    lm = config.profiles["lmstudio"]
    assert lm == Profile(
        provider="custom",
        base_url="http://127.0.0.1:1234/v1",
        model="my-model",
        headers={"X-Team": "a"},
        include_body={"min_p": 0.1},
        exclude_body=("frequency_penalty",),
        bypass_status_check=True,
        api_key="lm-secret-value",
    )
    assert type(lm.api_key) is str  # the interpolation marker does not leak out


def test_names_is_the_converter_class():
    assert Names is ConverterNames


def test_defaults(parse):
    config = parse("profiles: {a: {provider: openai}}")
    assert config == Config(profiles={"a": Profile(provider="openai")})
    assert config.prompt_placeholder == DEFAULT_PLACEHOLDER
    assert config.timeout == TimeoutConfig(connect=10.0, read=600.0)
    assert config.max_retries == 2
    assert config.names == Names()
    assert config.source is None


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "---\n"])
def test_empty_file_is_empty_config(parse, text):
    assert parse(text, source="x.yaml") == Config(source="x.yaml")


def test_repr_hides_key_and_header_values(parse):
    config = parse(
        "profiles: {a: {provider: custom, base_url: 'http://h', api_key: sk-visible-1234,"
        " headers: {Authorization: Bearer sk-other-5678}}}"
    )
    text = repr(config)
    assert "sk-visible-1234" not in text
    assert "sk-other-5678" not in text
    assert "Authorization" in text
    assert config.profiles["a"].headers["Authorization"] == "Bearer sk-other-5678"


def test_profile_by_name(parse):
    config = parse("default: b\nprofiles: {a: {provider: x}, b: {provider: y}}")
    assert config.profile("a") == ("a", Profile(provider="x"))
    assert config.profile(None) == ("b", Profile(provider="y"))


def test_profile_single_profile_is_default(parse):
    assert parse("profiles: {only: {provider: x}}").profile(None) == ("only", Profile(provider="x"))


def test_profile_several_without_default_lists_them(parse):
    config = parse("profiles: {alpha: {provider: x}, beta: {provider: y}}", source="c.yaml")
    with pytest.raises(ConfigError) as info:
        config.profile(None)
    assert info.value.path == "default"
    assert "alpha, beta" in str(info.value)
    assert str(info.value).startswith("c.yaml: default: ")


def test_profile_none_configured():
    with pytest.raises(ConfigError, match="no profiles are configured") as info:
        Config().profile(None)
    assert info.value.path == "profiles"


def test_profile_unknown_name_did_you_mean(parse):
    config = parse("profiles: {lmstudio: {provider: custom, base_url: 'http://h'}, claude: {provider: claude}}")
    with pytest.raises(ConfigError) as info:
        config.profile("lmstudo")
    message = str(info.value)
    assert "unknown profile 'lmstudo'" in message
    assert "did you mean 'lmstudio'?" in message
    assert "lmstudio, claude" in message


def test_profile_unknown_name_without_close_match(parse):
    with pytest.raises(ConfigError, match=r"unknown profile 'zzz'\. Profiles: a\.") as info:
        parse("profiles: {a: {provider: x}}").profile("zzz")
    assert "did you mean" not in str(info.value)


def test_classes_are_frozen(parse):
    import attrs

    profile = parse("profiles: {a: {provider: x}}").profiles["a"]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        profile.model = "other"  # type: ignore[misc]
