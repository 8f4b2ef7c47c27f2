"""analysis.importance with real Optuna studies (a known objective), read back from an experiment's journal."""

from __future__ import annotations

import optuna
import pytest

from analysis.importance import EVALUATORS, importance_table, study_importance

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(n: int, vary: bool = True) -> optuna.Study:
    """The score depends on `lr` only; `noise` is irrelevant."""
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True) if vary else trial.suggest_float("lr", 1e-3, 1e-3)
        trial.suggest_float("noise", 0.0, 1.0) if vary else trial.suggest_float("noise", 0.5, 0.5)
        return -abs(optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True).to_internal_repr(lr) + 6.9)

    study.optimize(objective, n_trials=n)
    return study


def test_importance_of_a_real_study_finds_the_param_that_matters():
    rows = study_importance(_study(16))
    assert {r["evaluator"] for r in rows} == set(EVALUATORS)
    for name in EVALUATORS:
        scores = {r["param"]: r["importance"] for r in rows if r["evaluator"] == name}
        assert set(scores) == {"lr", "noise"}
        assert sum(scores.values()) == pytest.approx(1.0)
        assert scores["lr"] > scores["noise"], name


@pytest.mark.parametrize("n", [1, 4, 9])
def test_fewer_than_ten_completed_trials_is_a_skipped_row_not_a_ranking(n):
    rows = study_importance(_study(n))
    assert len(rows) == 1 and rows[0]["param"] == "" and rows[0]["importance"] != rows[0]["importance"]  # NaN
    assert f"needs >= 10 completed trials for a ranking that is not noise, has {n}" in rows[0]["skipped"]


def test_ten_completed_trials_give_a_ranking():
    rows = study_importance(_study(10))
    assert {r["param"] for r in rows} == {"lr", "noise"} and all(r["skipped"] == "" for r in rows)


def test_equal_scores_are_a_skipped_row():
    rows = study_importance(_study(12, vary=False))
    assert len(rows) == 1 and "same score" in rows[0]["skipped"]


def test_no_varying_param_is_a_skipped_row():
    study = optuna.create_study(direction="maximize")
    study.optimize(lambda t: t.suggest_float("lr", 1e-3, 1e-3) + t.number, n_trials=12)  # noise, not lr
    rows = study_importance(study)
    assert len(rows) == 1 and "no searched parameter varies" in rows[0]["skipped"]


def test_importance_table_reads_the_journal(tmp_path):
    from dabs_lib.experiment import journal_path, open_storage

    journal_path(tmp_path).touch()
    source = optuna.create_study(study_name="source", storage=open_storage(tmp_path), direction="maximize")
    source.add_trials(_study(12).trials)
    optuna.copy_study(
        from_study_name="source",
        from_storage=open_storage(tmp_path),
        to_storage=open_storage(tmp_path),
        to_study_name="digits-emix",
    )
    table = importance_table({("exp", "digits", "emix"): tmp_path, ("exp", "digits", "shed"): tmp_path})
    found = table[table["objective"] == "emix"]
    assert set(found["param"]) == {"lr", "noise"} and (found["skipped"] == "").all()
    assert (found["completed_trials"] == 12).all()
    missing = table[table["objective"] == "shed"]
    assert len(missing) == 1 and "no study 'digits-shed'" in missing.iloc[0]["skipped"]
