"""analysis.tables on hand-made trial tables: selection, roles, gains, averages, intervals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import tables
from tests.analysis.fake import trial, trials_frame


def _search():
    return trials_frame(
        [
            trial("digits", "none", 0, val=0.40, tests={"novel": 0.30, "all": 0.20}),
            trial("digits", "emix", 0, val=0.60, best_val=0.60, tests={"novel": 0.55, "all": 0.45}, lr=1e-4),
            trial("digits", "emix", 1, val=0.70, best_val=0.72, tests={"novel": 0.65, "all": 0.50}, lr=1e-3),
            trial("digits", "emix", 2, val=0.65, best_val=0.90, tests={"novel": 0.60, "all": 0.52}, lr=3e-3),
            trial("digits", "emix", 3, status="pruned", val=0.95, best_val=0.95, lr=2e-3),
            trial("digits", "shed", 0, val=0.50, tests={"novel": 0.50, "all": 0.40}, lr=1e-4),
            trial("digits", "shed", 1, val=0.50, tests={"novel": 0.58, "all": 0.41}, lr=5e-4),
        ]
    )


def test_last_ranks_by_final_validation_score_and_ignores_pruned_trials():
    best = tables.select_best(_search(), "last").set_index("objective")
    assert best.at["emix", "trial"] == "digits_emix_001"  # pruned 003 has 0.95 but no test scores
    assert best.at["emix", "selection_score"] == pytest.approx(0.70)
    assert best.at["emix", "checkpoint"] == "/ckpt/digits_emix_001/last"
    assert "none" not in best.index


def test_best_ever_ranks_by_best_validation_score_and_points_at_its_checkpoint():
    best = tables.select_best(_search(), "best-ever").set_index("objective")
    assert best.at["emix", "trial"] == "digits_emix_002"
    assert best.at["emix", "selection_score"] == pytest.approx(0.90)
    assert best.at["emix", "checkpoint"] == "/ckpt/digits_emix_002/best"


def test_a_tie_goes_to_the_lower_trial_number():
    best = tables.select_best(_search(), "last").set_index("objective")
    assert best.at["shed", "trial"] == "digits_shed_000"


def test_unknown_which_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="best-ever"):
        tables.select_best(_search(), "median")


def test_roles_gains_and_seeds_in_the_transfer_table():
    trials = _search()
    scores = tables.role_scores(trials, tables.select_best(trials, "last"))
    emix = scores[scores["objective"] == "emix"].set_index(["role", "task"])
    assert emix.at[("default", "novel"), "trial"] == "digits_emix_000"
    assert emix.at[("baseline", "novel"), "trial"] == "digits_none_000"
    transfer = tables.transfer_table(tables.summarize_scores(scores))
    row = transfer.set_index(["objective", "task"]).loc[("emix", "novel")]
    assert row["best"] == pytest.approx(0.65) and row["baseline"] == pytest.approx(0.30)
    assert row["gain_vs_baseline"] == pytest.approx(0.35)
    assert row["gain_vs_default"] == pytest.approx(0.10)
    assert row["n_seeds"] == 1 and math.isnan(row["best_ci95"])
    assert set(transfer["objective"]) == {"emix", "shed"}


def test_gain_is_positive_when_better_for_a_lower_is_better_metric():
    summary = pd.DataFrame(
        [
            {
                "domain": "d",
                "objective": "o",
                "role": r,
                "task": "t",
                "trial": r,
                "score": s,
                "ci95": np.nan,
                "n_seeds": 1,
                "val": np.nan,
            }
            for r, s in (("best", 0.2), ("default", 0.3), ("baseline", 0.5))
        ]
    )
    higher = tables.transfer_table(summary).iloc[0]
    lower = tables.transfer_table(summary, directions={("d", "t"): False}).iloc[0]
    assert higher["gain_vs_baseline"] == pytest.approx(-0.3)
    assert lower["gain_vs_baseline"] == pytest.approx(0.3)
    assert lower["gain_vs_default"] == pytest.approx(0.1)


def test_baseline_of_the_same_experiment_is_preferred():
    trials = trials_frame(
        [
            trial("digits", "none", 0, tests={"novel": 0.1}, experiment="a"),
            trial("digits", "none", 0, tests={"novel": 0.2}, experiment="b"),
            trial("digits", "emix", 0, val=0.9, tests={"novel": 0.5}, experiment="b"),
        ]
    )
    scores = tables.role_scores(trials, tables.select_best(trials))
    baseline = scores[scores["role"] == "baseline"].iloc[0]
    assert baseline["experiment"] == "b" and baseline["test"] == pytest.approx(0.2)


def test_domain_averages_are_means_of_their_member_tasks():
    rows = [
        {
            "domain": "text",
            "objective": "emix",
            "role": "best",
            "task": t,
            "experiment": "e",
            "trial": "x",
            "seed": s,
            "test": v + s,
            "val": v,
        }
        for s in (0, 1)
        for t, v in (("cola", 0.2), ("sst2", 0.6), ("qnli", 0.1))
    ]
    scores = pd.DataFrame(rows)
    out = tables.add_averages(scores, {"text": {"glue": ("cola", "sst2")}})
    glue = out[out["task"] == "glue"].set_index("seed")["test"]
    assert glue.to_dict() == pytest.approx({0: 0.4, 1: 1.4})
    again = tables.add_averages(out, {"text": {"glue": ("cola", "sst2")}})
    assert len(again) == len(out)  # an average already present is kept, not duplicated
    missing = tables.add_averages(scores, {"text": {"glue": ("cola", "mnli")}})
    assert "glue" not in set(missing["task"])  # a member was not evaluated: no average
    summary = tables.summarize_scores(out)
    averaged = tables.transfer_table(summary, averages={"text": {"glue": ("cola", "sst2")}})
    assert averaged.set_index("task").at["glue", "average"]
    assert averaged.set_index("task").at["glue", "best"] == pytest.approx(0.9)


@pytest.mark.parametrize("values", [[0.5, 0.7], [0.61, 0.64, 0.58], [1.0, 2.0, 3.0, 4.0, 10.0]])
def test_interval_is_the_student_t_95_percent_interval(values):
    mean, half, n = tables.mean_ci(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert n == len(values)
    assert mean == pytest.approx(np.mean(values))
    assert mean - half == pytest.approx(low) and mean + half == pytest.approx(high)


def test_interval_by_hand_and_for_one_seed():
    mean, half, n = tables.mean_ci([1.0, 2.0, 3.0])
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(4.302652729911275 / math.sqrt(3))  # t(0.975, 2) * sd 1 / sqrt(3)
    assert math.isnan(tables.mean_ci([0.7])[1]) and tables.mean_ci([0.7])[2] == 1
    assert tables.mean_ci([np.nan, 0.5, 0.7])[2] == 2  # a missing seed does not count


def test_summary_counts_seeds_per_role():
    scores = pd.DataFrame(
        [
            {
                "domain": "d",
                "objective": "o",
                "role": "best",
                "task": "t",
                "experiment": "e",
                "trial": "x",
                "seed": s,
                "test": v,
                "val": v,
            }
            for s, v in ((1, 0.5), (2, 0.7), (3, 0.6))
        ]
    )
    summary = tables.summarize_scores(scores).iloc[0]
    assert summary["n_seeds"] == 3 and summary["score"] == pytest.approx(0.6)
    assert summary["ci95"] == pytest.approx(stats.t.ppf(0.975, 2) * 0.1 / math.sqrt(3))


def test_status_counts_list_every_searched_study_even_without_trials():
    counts = tables.status_counts(_search(), studies=[("digits", "mae"), ("digits", "none")]).set_index("objective")
    assert list(counts.index) == ["emix", "mae", "shed"]
    assert counts.loc["emix", ["trials", "completed", "pruned"]].tolist() == [4, 3, 1]
    assert counts.loc["mae", "trials"] == 0


def test_a_cross_domain_study_is_no_row_of_its_own():
    """`shared-mae` in a manifest is not a domain: its trials are counted on the domains they ran on."""
    counts = tables.status_counts(_search(), studies=[("shared", "emix")])
    assert "shared" not in set(counts["domain"])
    assert counts.set_index("objective").loc["emix", "trials"] == 4


def test_best_config_table_has_the_searched_params_of_the_best_trial():
    table = tables.best_config_table(_search(), "last").set_index("objective")
    assert table.at["emix", "lr"] == pytest.approx(1e-3)
    assert "seed" not in table  # constant within every study: not a searched param
    assert table.at["emix", "val_score"] == pytest.approx(0.70)


def test_winner_per_domain():
    trials = _search()
    scores = tables.role_scores(trials, tables.select_best(trials))
    win = tables.winners(tables.transfer_table(tables.summarize_scores(scores))).iloc[0]
    assert (win["domain"], win["objective"], win["task"]) == ("digits", "emix", "novel")


def test_winner_names_the_objectives_it_ties_with():
    trials = trials_frame(
        [
            trial("tabular", "none", 0, tests={"diagnosis": 0.80}),
            trial("tabular", "emix", 0, val=0.9, tests={"diagnosis": 0.84}),
            trial("tabular", "shed", 0, val=0.9, tests={"diagnosis": 0.84}),
        ]
    )
    scores = tables.role_scores(trials, tables.select_best(trials))
    win = tables.winners(tables.transfer_table(tables.summarize_scores(scores))).iloc[0]
    assert win["objective"] == "emix" and win["tied"] == ["shed"]


def test_an_untrained_width_control_is_never_the_winner_a_trained_combination_can_be():
    from analysis.combine import as_role_scores
    from analysis.readme import finding_lines

    trials = _search()
    scores = tables.role_scores(trials, tables.select_best(trials))
    long = pd.DataFrame(
        [
            {
                "domain": "digits",
                "combination": combo,
                "members": 2,
                "task": task,
                "test": test,
                "val": test,
                "seed": np.nan,
            }
            for combo, test in (("untrained:emix+untrained:shed", 0.99), ("emix+shed", 0.98))
            for task in scores["task"].unique()
        ]
    )
    both = pd.concat([scores, as_role_scores(long, scores)], ignore_index=True)
    win = tables.winners(tables.transfer_table(tables.summarize_scores(both))).iloc[0]
    assert win["objective"] == "emix+shed" and win["tied"] == []
    assert (
        "DABS default none (a combination has no default)"
        in finding_lines(tables.transfer_table(tables.summarize_scores(both)))[0]
    )


def test_domain_args_follow_the_trial():
    from analysis.extras import domain_args

    smoke = pd.DataFrame([{"smoke_test": True, "data_seed": 7}, {"smoke_test": True, "data_seed": 7}]).iloc[0]
    assert domain_args(smoke) == {"seed": 7, "data_root": "", "smoke": True}  # numpy bool, not Python's
    plain = pd.DataFrame([{"smoke_test": np.nan, "data_root": np.nan}]).iloc[0]
    assert domain_args(plain) == {"seed": 42, "data_root": "", "smoke": False}
