"""Spearman rho and its paired percentile bootstrap interval, against scipy; tables and sentences."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.correlate import (
    MIN_TRIALS,
    bootstrap_interval,
    correlate,
    correlation_table,
    domain_sentences,
    spearman,
)


def sample(n, seed, ties=False):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 0.6 * x + rng.normal(size=n)
    if ties:
        x, y = np.round(x), np.round(y * 2) / 2
    return x, y


@pytest.mark.parametrize("n,ties", [(5, False), (12, False), (40, True), (200, True)])
def test_spearman_equals_scipy(n, ties):
    x, y = sample(n, n, ties)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


def test_spearman_drops_non_finite_pairs_and_constant_is_nan():
    x, y = sample(20, 1)
    x[3], y[7] = np.nan, np.inf
    keep = np.isfinite(x) & np.isfinite(y)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x[keep], y[keep]).statistic, abs=1e-12)
    assert np.isnan(spearman(np.ones(10), y[:10]))


@pytest.mark.parametrize("n,ties,seed", [(12, False, 0), (30, True, 5), (80, False, 11)])
def test_bootstrap_interval_equals_scipy_percentile(n, ties, seed):
    x, y = sample(n, seed + 100, ties)

    def rho(a, b, axis=-1):
        return stats.spearmanr(a, b).statistic

    expected = stats.bootstrap(
        (x, y),
        rho,
        paired=True,
        vectorized=False,
        n_resamples=999,
        confidence_level=0.95,
        method="percentile",
        rng=np.random.default_rng(seed),
    ).confidence_interval
    low, high = bootstrap_interval(x, y, n_resamples=999, seed=seed)
    # scipy's resamples: the same (n_resamples, n) index draw; a constant resample (NaN) we drop, scipy keeps
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


def test_interval_is_seeded_and_excludes_zero_only_for_a_real_link():
    x, y = sample(60, 3)
    assert bootstrap_interval(x, y, seed=4) == bootstrap_interval(x, y, seed=4)
    assert bootstrap_interval(x, y, seed=4) != bootstrap_interval(x, y, seed=5)
    strong = correlate(x, y)
    assert strong["excludes_zero"] and strong["low"] < strong["rho"] < strong["high"]
    unrelated = correlate(x, np.random.default_rng(1).normal(size=60))  # (1 in 20 unrelated draws excludes 0)
    assert unrelated["low"] < 0 < unrelated["high"] and not unrelated["excludes_zero"]
    few = correlate(x[: MIN_TRIALS - 1], y[: MIN_TRIALS - 1])
    assert np.isnan(few["rho"]) and few["n_trials"] == MIN_TRIALS - 1


def test_correlation_table_joins_per_domain_and_task_and_names_the_strongest():
    x = np.random.default_rng(7).normal(size=30)
    y = x + 0.3 * np.random.default_rng(8).normal(size=30)  # a strong link: the interval excludes 0
    trials = [f"t{i}" for i in range(30)]
    scores = pd.DataFrame(
        {
            "experiment": "e",
            "trial": trials * 2,
            "domain": "d",
            "task": ["a"] * 30 + ["b"] * 30,
            "test": np.concatenate([y, -y]),
        }
    )
    measures = pd.concat(
        [
            pd.DataFrame(
                {
                    "experiment": "e",
                    "trial": trials,
                    "domain": "d",
                    "objective": "emix",
                    "kind": "invariance",
                    "measure": "mask",
                    "task": "",
                    "value": x,
                }
            ),
            pd.DataFrame(
                {
                    "experiment": "e",
                    "trial": trials,
                    "domain": "d",
                    "objective": "emix",
                    "kind": "risk",
                    "measure": "usability",
                    "task": "a",
                    "value": -x,
                }
            ),
        ]
    )
    table = correlation_table(measures, scores)
    assert len(table) == 3  # mask on a and b, usability on a only
    mask_a = table[(table["measure"] == "mask") & (table["task"] == "a")].iloc[0]
    assert mask_a["rho"] == pytest.approx(stats.spearmanr(x, y).statistic)
    mask_b = table[(table["measure"] == "mask") & (table["task"] == "b")].iloc[0]
    assert mask_b["rho"] == pytest.approx(-mask_a["rho"])
    sentence = domain_sentences(table)["d"]
    assert "invariance `mask`" in sentence and "risk component `usability`" in sentence
    assert "excludes 0" in sentence
