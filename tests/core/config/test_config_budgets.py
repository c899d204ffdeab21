"""``budgets:`` and named gateway keys (``serve.keys`` as a mapping of label to key)."""

from __future__ import annotations

import pytest
from chatpipe.config import BudgetConfig

KEY_A = "gw-key-aaaaaaaaaaaaaaaa"
KEY_B = "gw-key-bbbbbbbbbbbbbbbb"
PROFILES = "profiles: {fast: {provider: openai}}\n"


def test_keys_as_a_mapping_are_labelled_and_never_shown(parse):
    serve = parse("serve: {keys: {team-a: '${A}', ci: '${B}', spare: '${C:-}'}}", env={"A": KEY_A, "B": KEY_B}).serve
    assert serve.keys == (KEY_A, KEY_B)
    assert serve.labelled_keys() == (("team-a", KEY_A), ("ci", KEY_B))  # the empty one is dropped with its label
    assert KEY_A not in repr(serve) and KEY_B not in repr(serve)


def test_keys_of_a_list_are_labelled_by_their_place(parse):
    serve = parse(f"serve: {{keys: [{KEY_A}, {KEY_B}]}}").serve
    assert [label for label, _ in serve.labelled_keys()] == ["key-1", "key-2"]


def test_bad_named_keys_name_their_label_and_never_the_key(fail):
    short = fail("serve: {keys: {team-a: short-key}}")
    assert short.path == "serve.keys.team-a" and "16 characters" in str(short) and "short-key" not in str(short)
    twice = fail(f"serve: {{keys: {{a: {KEY_A}, b: {KEY_A}}}}}")
    assert twice.path == "serve.keys.b" and "'a'" in str(twice) and KEY_A not in str(twice)
    assert fail("serve: {key_labels: [a]}").path == "serve.key_labels"


@pytest.mark.parametrize(
    ("period", "seconds"), [("30s", 30.0), ("15m", 900.0), ("1h", 3600.0), ("1d", 86400.0), ("7d", 604800.0), (2, 2.0)]
)
def test_budgets_by_label_or_profile_with_periods(parse, period: object, seconds: float):
    config = parse(
        PROFILES + f"serve: {{keys: {{team-a: {KEY_A}}}}}\n"
        f"budgets: {{team-a: {{usd: 50, period: {period}}}, fast: {{tokens: 1000}}}}"
    )
    assert config.budgets == {
        "team-a": BudgetConfig(usd=50.0, period=seconds),
        "fast": BudgetConfig(tokens=1000, period=86400.0),
    }


def test_a_budget_must_name_a_label_or_a_profile(fail):
    error = fail(PROFILES + f"serve: {{keys: {{team-a: {KEY_A}}}}}\nbudgets: {{team-b: {{usd: 1}}}}")
    assert error.path == "budgets.team-b"
    assert (
        "did you mean 'team-a'" in str(error) and "key labels: team-a" in str(error) and "profiles: fast" in str(error)
    )


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ("{}", "budgets.fast", "tokens or usd"),
        ("{tokens: 0}", "budgets.fast.tokens", ""),
        ("{usd: -1}", "budgets.fast.usd", "positive"),
        ("{usd: 1, period: 1x}", "budgets.fast.period", "like 30s"),
        ("{usd: 1, spend: 2}", "budgets.fast.spend", "unknown key"),
    ],
)
def test_bad_budgets_name_their_key_path(fail, body: str, path: str, words: str):
    error = fail(PROFILES + f"budgets: {{fast: {body}}}")
    assert error.path == path and words in str(error)
