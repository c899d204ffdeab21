"""PipelineSpec: picklable, key-free, built with the environment of the process that builds it."""

from __future__ import annotations

import pickle

import pytest
from chatpipe import Pipeline
from chatpipe.errors import ConfigError
from chatpipe_ray import PipelineSpec

SECRET = "sk-live-secret-0123456789abcdef"


def config(api_key: str = "'${FAKE_KEY}'", extra: str = "") -> str:
    return (
        "profiles:\n"
        f"  fast: {{provider: openai, base_url: 'http://127.0.0.1:9/v1', api_key: {api_key}, model: m}}\n"
        f"{extra}"
    )


def test_a_spec_pickles_without_any_key_and_builds_with_the_workers_environment(monkeypatch):
    spec = PipelineSpec("fast", config())
    data = pickle.dumps(spec)
    monkeypatch.setenv("FAKE_KEY", SECRET)
    assert SECRET.encode() not in data
    restored = pickle.loads(data)
    assert restored == spec
    pipe = restored.build()
    assert isinstance(pipe, Pipeline)
    assert pipe.model == "m"
    assert pipe.adapter.settings.api_key.reveal() == SECRET  # resolved from this process's environment
    assert SECRET not in repr(spec) and "config_text" not in repr(spec)


def test_build_uses_the_env_it_is_given_and_names_an_unset_variable():
    spec = PipelineSpec("fast", config())
    assert spec.build(env={"FAKE_KEY": "sk-from-env-map"}).adapter.settings.api_key.reveal() == "sk-from-env-map"
    with pytest.raises(ConfigError, match="FAKE_KEY"):
        spec.build(env={})


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (config(api_key=SECRET), "profiles.fast.api_key"),
        (config(api_key=f"'${{FAKE_KEY:-{SECRET}}}'"), "profiles.fast.api_key"),  # a literal default
        (config(api_key="'prefix-${FAKE_KEY}'"), "profiles.fast.api_key"),
        (config(api_key="12345"), "profiles.fast.api_key"),
        (config(extra=f"serve: {{api_keys: ['${{A}}', {SECRET}]}}\n"), "serve.api_keys.1"),
        (
            config(extra=f"  other: {{provider: openai, headers: {{Authorization: 'Bearer {SECRET}'}}}}\n"),
            "profiles.other.headers.Authorization",
        ),
        (config(extra=f"state: {{backend: redis, url: 'redis://:{SECRET}@127.0.0.1:6379/0'}}\n"), "state.url"),
    ],
)
def test_a_literal_secret_is_refused_naming_its_key_path_never_its_value(text, path):
    with pytest.raises(ConfigError) as caught:
        PipelineSpec("fast", text)
    message = str(caught.value)
    assert path in message
    assert "${" in message  # the fix: a reference
    assert SECRET not in message and "12345" not in message


@pytest.mark.parametrize(
    "extra",
    [
        "state: {backend: redis, url: 'redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0'}\n",
        "state: {backend: redis, url: '${REDIS_URL}'}\n",
        "  other: {provider: openai, headers: {Authorization: '${AUTH}', X-Title: 'not a secret'}}\n",
        "serve: {api_keys: ['${A}', '${B:-}', '${C:-${D}}']}\n",
    ],
)
def test_references_and_secret_free_values_are_accepted(extra):
    assert PipelineSpec("fast", config(extra=extra)).profile == "fast"


def test_a_config_without_api_key_is_accepted_and_the_worker_finds_its_own(monkeypatch):
    text = "profiles:\n  fast: {provider: openai, model: m}\n"
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert SECRET.encode() not in pickle.dumps(PipelineSpec("fast", text))
    assert PipelineSpec("fast", text).build().adapter.settings.api_key.reveal() == SECRET


def test_an_unknown_profile_and_bad_yaml_are_config_errors():
    with pytest.raises(ConfigError, match=r"no profile 'slow'.*profiles: fast"):
        PipelineSpec("slow", config())
    with pytest.raises(ConfigError, match="invalid YAML"):
        PipelineSpec("fast", "profiles: [unclosed")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        PipelineSpec(None, "- a list\n")


def test_from_file_reads_the_text_on_the_driver(tmp_path):
    path = tmp_path / "chatpipe.yaml"
    path.write_text(config())
    spec = PipelineSpec.from_file(path, "fast")
    assert spec.config_text == config() and spec.source == str(path)
    path.unlink()  # the workers need no file
    assert spec.build(env={"FAKE_KEY": "k"}).model == "m"
    with pytest.raises(ConfigError, match="cannot read the config file"):
        PipelineSpec.from_file(tmp_path / "missing.yaml")
    path.write_text(config(api_key=SECRET))
    with pytest.raises(ConfigError, match=rf"{path.name}.*profiles\.fast\.api_key"):
        PipelineSpec.from_file(path, "fast")
