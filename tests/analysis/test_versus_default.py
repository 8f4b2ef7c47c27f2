"""analysis.seeds.versus_default: does the best trial differ from the default beyond seed noise?"""

from __future__ import annotations

import pandas as pd

from analysis.seeds import versus_default


def scores(best: list[float], default: list[float], best_trial: str = "007") -> pd.DataFrame:
    rows = []
    for role, values, trial in (("best", best, best_trial), ("default", default, "000")):
        for seed, test in enumerate(values, start=1):
            rows.append(
                {
                    "domain": "digits",
                    "objective": "shed",
                    "role": role,
                    "task": "novel",
                    "experiment": "exp",
                    "trial": trial,
                    "seed": seed,
                    "test": test,
                    "val": test,
                }
            )
    return pd.DataFrame(rows)


def verdict(frame: pd.DataFrame, directions=None) -> pd.Series:
    return versus_default(frame, directions).iloc[0]


def test_a_gain_larger_than_the_seed_noise_is_reported_as_better():
    row = verdict(scores([0.90, 0.91, 0.89], [0.80, 0.82, 0.79]))
    assert row["vs_default"] == "better than the default beyond seed noise"
    assert row["n_pairs"] == 3 and 0.09 < row["diff"] < 0.11 and row["diff"] - row["diff_ci95"] > 0


def test_a_gain_inside_the_seed_noise_is_not_a_gain():
    row = verdict(scores([0.85, 0.80, 0.90], [0.84, 0.86, 0.83]))
    assert row["vs_default"] == "within seed noise of the default"


def test_a_loss_beyond_noise_and_a_lower_is_better_metric():
    assert (
        verdict(scores([0.70, 0.71, 0.69], [0.80, 0.82, 0.79]))["vs_default"]
        == "worse than the default beyond seed noise"
    )
    flipped = verdict(scores([0.70, 0.71, 0.69], [0.80, 0.82, 0.79]), {("digits", "novel"): False})
    assert flipped["vs_default"] == "better than the default beyond seed noise"


def test_single_runs_and_the_default_itself_say_so():
    assert verdict(scores([0.9], [0.8]))["vs_default"] == "seed noise not measured (analyze --seeds K, K >= 2)"
    assert verdict(scores([0.9, 0.8], [0.9, 0.8], best_trial="000"))["vs_default"] == "the best trial is the default"


def test_differences_are_paired_by_seed():
    """Seed 2 is hard for both: pairing removes it, so the small constant gain is beyond noise."""
    row = verdict(scores([0.91, 0.61, 0.90], [0.89, 0.59, 0.88]))
    assert row["vs_default"] == "better than the default beyond seed noise"


def test_a_row_without_a_default_says_so_not_that_seeds_are_missing():
    """Combined encoders (analyze --combine) have 3 seeds but no default: not 'seed noise not measured'."""
    only_best = scores([0.90, 0.91, 0.89], [])
    assert verdict(only_best)["vs_default"] == "no DABS default to compare with"
