"""The per-call deadline (``_transport._deadline``): budgets, progress, which limit ended a wait."""

from __future__ import annotations

import time

import pytest
from chatpipe._transport._deadline import PROGRESS, TOTAL, Deadline


def test_a_budget_is_its_timeout_while_the_deadline_is_far() -> None:
    deadline = Deadline(600.0)
    budget = deadline.budget(5.0)
    assert isinstance(budget, float) and budget == 5.0
    assert budget.left() == 5.0
    assert deadline.cut is False and deadline.expired() is None


def test_a_budget_is_cut_to_what_is_left_of_the_deadline() -> None:
    deadline = Deadline(1.0)
    left = deadline.budget(30.0).left()
    assert 0 < left <= 1.0
    assert deadline.cut is True


def test_a_deadline_ending_about_with_the_timeout_leaves_the_timeout_its_error() -> None:
    deadline = Deadline(10.0)
    assert deadline.budget(10.0).left() <= 10.0
    assert deadline.cut is False  # within a quarter of the timeout: a timeout then is the timeout's own


def test_a_passed_deadline_leaves_nothing_and_says_which_limit() -> None:
    total = Deadline(0.01)
    time.sleep(0.02)
    assert total.budget(5.0).left() < 0
    assert total.expired() == TOTAL
    stream = Deadline(None, progress=0.01)
    time.sleep(0.02)
    assert stream.budget(5.0).left() < 0
    assert stream.expired() == PROGRESS


def test_progress_moves_a_stream_deadline_on_but_never_past_its_total() -> None:
    stream = Deadline(None, progress=0.05)
    before = stream.until
    time.sleep(0.01)
    stream.progressed()
    assert stream.until > before
    capped = Deadline(0.02, progress=100.0)
    capped.progressed()
    assert capped.until - time.monotonic() <= 0.02


def test_progress_does_not_move_a_non_streaming_deadline() -> None:
    deadline = Deadline(1.0)
    until = deadline.until
    deadline.progressed()
    assert deadline.until == until


@pytest.mark.parametrize("value", [0.5, 3.0])
def test_a_budget_keeps_its_value_for_the_http_library(value: float) -> None:
    budget = Deadline(600.0).budget(value)
    assert float(budget) == value and min(budget, 100.0) == value
