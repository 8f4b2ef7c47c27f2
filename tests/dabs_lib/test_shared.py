"""The cross-domain study's score (dabs_lib.shared): formula and the per-domain book."""

from __future__ import annotations

import math

import pytest

from dabs_lib.experiment import SHARED, is_shared, parse_trial_name, shared_study_name, study_name, trial_name
from dabs_lib.shared import HEADROOM_FLOOR, SharedBook, aggregate, normalized_gain


@pytest.mark.parametrize(
    "score, random_init, gain",
    [
        (0.5, 0.5, 0.0),  # no better than random init
        (1.0, 0.2, 1.0),  # the whole headroom won
        (0.6, 0.2, 0.5),  # half of it
        (0.1, 0.2, -0.125),  # worse than random init
    ],
)
def test_normalized_gain_is_the_share_of_the_headroom_won(score, random_init, gain):
    assert normalized_gain(score, random_init) == pytest.approx(gain)


def test_a_saturated_domain_divides_by_the_floor_not_by_zero():
    assert normalized_gain(1.0, 1.0) == 0.0
    assert normalized_gain(0.99, 1.0) == pytest.approx(-0.01 / HEADROOM_FLOOR)


def test_aggregate_weighs_domains_by_headroom_not_by_raw_spread():
    # digits gains 0.1 of raw accuracy from 0.8 (half its headroom), tokens 0.1 from 0.2 (1/8 of it)
    assert aggregate({"digits": 0.9, "tokens": 0.3}, {"digits": 0.8, "tokens": 0.2}) == pytest.approx((0.5 + 0.125) / 2)


def test_aggregate_is_nan_when_a_domain_diverged():
    assert math.isnan(aggregate({"digits": 0.9, "tokens": math.nan}, {"digits": 0.8, "tokens": 0.2}))


def test_book_knows_the_aggregate_only_once_every_domain_reached_the_step():
    book = SharedBook(("a", "b"), {"a": 0.0, "b": 0.5})
    book.record(3, "a", 1, 0.4)
    assert book.aggregate_at(3, 1) is None
    book.record(3, "b", 1, 0.75)
    assert book.aggregate_at(3, 1) == pytest.approx((0.4 + 0.5) / 2)


def test_book_carries_a_finished_domains_last_score_to_later_steps():
    book = SharedBook(("a", "b"), {"a": 0.0, "b": 0.0})
    book.record(0, "a", 1, 0.2)  # a's budget is one evaluation
    book.record(0, "b", 1, 0.4)
    book.record(0, "b", 2, 0.6)
    assert book.aggregate_at(0, 2) is None  # a might still report step 2
    book.end(0, "a")
    assert book.aggregate_at(0, 2) == pytest.approx(0.4)
    assert book.last_scores(0) == {"a": 0.2, "b": 0.6}


def test_shared_trial_names_round_trip_and_stay_apart_from_per_domain_ones():
    assert shared_study_name("mae") == study_name(SHARED, "mae") == "shared-mae"
    assert is_shared("shared-mae") and not is_shared("digits-mae")
    shared, own = trial_name("digits", "mae", 7, shared=True), trial_name("digits", "mae", 7)
    assert shared != own
    assert parse_trial_name(shared) == ("digits", "shared-mae", 7)
    assert parse_trial_name(own) == ("digits", "digits-mae", 7)
