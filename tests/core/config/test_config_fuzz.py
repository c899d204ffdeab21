"""Property: whatever parse_config is given, the only exception that escapes is ConfigError."""

from __future__ import annotations

import yaml
from chatpipe.config import Config, parse_config
from chatpipe.errors import ConfigError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = [
    "profiles", "default", "prompt_placeholder", "names", "timeout", "max_retries", "provider", "model",
    "base_url", "api_key", "converters", "params", "headers", "include_body", "exclude_body", "options",
    "bypass_status_check", "user", "char", "group", "connect", "read", "p", "",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["${X}", "${MISSING}", "${X:-d}", "$${", "${", "http://h:1/v1", "strict", "", "a: [1", "on"]),
    st.text(max_size=20),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=8), st.integers(-3, 3))
structures = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=30,
)
config_like = st.fixed_dictionaries(
    {},
    optional={
        "profiles": st.dictionaries(
            st.one_of(st.sampled_from(["a", "b", ""]), keys),
            st.one_of(st.dictionaries(st.sampled_from(KEYS), structures, max_size=6), structures),
            max_size=3,
        ),
        "default": structures,
        "names": structures,
        "timeout": structures,
        "max_retries": structures,
    },
)
ENV = {"X": "5"}
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(text: str) -> None:
    try:
        result = parse_config(text, env=ENV)
    except ConfigError as exc:
        assert str(exc)
    else:
        assert isinstance(result, Config)


@FUZZ
@given(structures)
def test_random_structures(data):
    check(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(config_like)
def test_random_config_shaped_structures(data):
    check(yaml.safe_dump(data, allow_unicode=True))


@FUZZ
@given(st.text(max_size=200))
def test_random_text(text):
    check(text)


PUNCTUATION = [
    "{", "}", "[", "]", ":", "-", " ", "\n", "  ", "&a", "*a", "<<", "!!", "a", "1",
    "'", '"', "${", "#", ",", "?", "|", ">", "%",
]  # fmt: skip


@FUZZ
@given(st.lists(st.sampled_from(PUNCTUATION), max_size=40).map("".join))
def test_random_yaml_punctuation(text):
    check(text)
