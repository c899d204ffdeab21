"""``ProviderInfo.params`` / ``extra_params`` and ``param_problems``: what ``chatpipe config check`` reports."""

from __future__ import annotations

import pytest
from chatpipe.config._problems import EnvStr
from chatpipe.plugin import OPENAI_PARAMS, ProviderInfo
from chatpipe.registry import Registry

OPENAI_LIKE = ProviderInfo(name="v", package="chatpipe-v", display_name="V", default_base_url="https://v.example/v1")


def test_an_unknown_name_gets_a_did_you_mean_and_the_way_to_send_it_anyway() -> None:
    [(name, message)] = OPENAI_LIKE.param_problems({"temprature": 0.2, "temperature": 0.2})
    assert name == "temprature"
    assert "did you mean 'temperature'?" in message and "include_body" in message


def test_a_name_close_to_nothing_lists_the_known_ones() -> None:
    [(_, message)] = OPENAI_LIKE.param_problems({"zzzz": 1})
    assert "it knows: audio, frequency_penalty" in message


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("max_tokens", "ten", "expected an integer, got 'ten'"),
        ("max_tokens", 1.5, "expected an integer, got 1.5"),
        ("n", True, "expected an integer, got a boolean (true)"),
        ("temperature", "warm", "expected a number, got 'warm'"),
        ("stop", 7, "expected a string or an array, got 7"),
        ("response_format", "json", "expected an object, got 'json'"),
        ("logprobs", 1, "expected a boolean, got 1"),
        ("user", EnvStr("secret-ish"), None),
    ],
)
def test_a_value_of_another_type_is_a_problem(name: str, value: object, expected: str | None) -> None:
    found = OPENAI_LIKE.param_problems({name: value})
    assert found == ([] if expected is None else [(name, expected)])


def test_right_types_and_null_are_fine_and_a_secret_value_is_never_shown() -> None:
    sound = {"max_tokens": 5, "temperature": 1, "top_p": 0.5, "stop": ["#"], "response_format": {"type": "text"}}
    assert OPENAI_LIKE.param_problems({**sound, "seed": None}) == []
    [(_, message)] = OPENAI_LIKE.param_problems({"max_tokens": EnvStr("sk-PLANTED")})
    assert "sk-PLANTED" not in message and "environment variable" in message


def test_extra_params_allows_unknown_names_but_still_checks_known_types() -> None:
    passing = ProviderInfo(name="p", package="p", display_name="P", default_base_url=None, extra_params=True)
    assert passing.param_problems({"min_p": 0.1, "temprature": 1}) == []
    assert passing.param_problems({"max_tokens": "ten"}) == [("max_tokens", "expected an integer, got 'ten'")]


@pytest.mark.parametrize(
    ("provider", "known", "unknown"),
    [
        ("openai", ["temperature", "max_completion_tokens", "reasoning_effort"], ["top_k", "safe_prompt"]),
        ("claude", ["top_k", "thinking", "cache_control", "seed"], ["random_seed", "temprature"]),
        ("mistral", ["random_seed", "safe_prompt", "prompt_mode", "top_k", "seed"], ["store", "audio"]),
        ("cohere", ["p", "k", "safety_mode", "documents", "top_p"], ["n", "logit_bias"]),
        ("ai21", ["documents", "max_completion_tokens", "stream_options"], ["seed", "top_k"]),
        ("deepseek", ["thinking", "top_k", "logprobs"], ["safe_prompt"]),
        ("openrouter", ["provider", "models", "transforms", "reasoning", "top_k"], ["thinking", "safe_prompt"]),
        ("xai", ["reasoning_effort", "stop", "presence_penalty"], ["top_k", "search_parameters"]),
        ("groq", ["reasoning_format", "include_reasoning", "service_tier", "n"], ["logprobs", "logit_bias"]),
        ("ollama", ["reasoning_effort", "seed"], ["keep_alive", "options"]),
        ("gemini", ["top_k", "reasoning_effort", "thinking_config", "cached_content", "seed"], ["logit_bias", "p"]),
    ],
)
def test_each_vendor_declares_what_its_adapter_takes(provider: str, known: list[str], unknown: list[str]) -> None:
    info = Registry().provider_info(provider)
    assert not info.extra_params
    assert info.param_problems(dict.fromkeys(known)) == []
    assert [name for name, _ in info.param_problems(dict.fromkeys(unknown, 1))] == unknown


@pytest.mark.parametrize("provider", ["custom", "local", "fireworks", "perplexity"])
def test_passing_through_vendors_say_so(provider: str) -> None:
    info = Registry().provider_info(provider)
    assert info.extra_params and info.params == OPENAI_PARAMS
