"""Hyperparameter importance per (domain, objective), from the study in the experiment's journal.

Optuna's own evaluators on the rebuilt study (no Ray, no pickle): fANOVA (a random forest
fitted to the completed trials, seeded) and PED-ANOVA (which params separate the top
trials from the rest). A study qualifies with >= MIN_COMPLETED (10) completed trials and
>= 1 searched param that varies among them; otherwise (and when an evaluator itself
refuses) its row says why it was skipped. Below 10 trials a random forest over several
dimensions and PED-ANOVA's top quantile rank noise: printing that as a ranking would
mislead (the quickstart's 4-trial studies gave confident-looking, seed-dependent orders).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import optuna
import pandas as pd
from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator
from optuna.trial import TrialState

EVALUATORS: dict[str, Callable[[], optuna.importance.BaseImportanceEvaluator]] = {
    "fanova": lambda: FanovaImportanceEvaluator(seed=0),
    "ped_anova": lambda: PedAnovaImportanceEvaluator(),
}
COLUMNS = ["experiment", "domain", "objective", "evaluator", "param", "importance", "completed_trials", "skipped"]
MIN_COMPLETED = 10  # fewer completed trials: skipped with the reason, never printed as a ranking


def varying_params(study: optuna.Study) -> list[str]:
    """Searched params taking more than one value among the completed trials."""
    values: dict[str, set] = {}
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        for name, value in trial.params.items():
            values.setdefault(name, set()).add(value)
    return sorted(name for name, seen in values.items() if len(seen) > 1)


def study_importance(study: optuna.Study, evaluators: dict = EVALUATORS) -> list[dict]:
    """Rows (evaluator, param, importance, completed_trials, skipped) for one study."""
    completed = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    base = {"completed_trials": completed, "param": "", "importance": float("nan")}
    if completed < MIN_COMPLETED:
        return [
            dict(
                base,
                evaluator="",
                skipped=f"needs >= {MIN_COMPLETED} completed trials for a ranking that is not noise, has {completed}",
            )
        ]
    values = {round(t.values[0], 12) for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}
    if len(values) < 2:
        return [dict(base, evaluator="", skipped="every completed trial has the same score: nothing to attribute")]
    params = varying_params(study)
    if not params:
        return [dict(base, evaluator="", skipped="no searched parameter varies among the completed trials")]
    # multi-objective studies: importance for the first objective (the transfer score)
    target = (lambda t: t.values[0]) if len(study.directions) > 1 else None
    rows = []
    for name, make in evaluators.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ExperimentalWarning, small-sample warnings
                scores = optuna.importance.get_param_importances(study, evaluator=make(), params=params, target=target)
        except (ValueError, RuntimeError, ZeroDivisionError) as error:
            rows.append(dict(base, evaluator=name, skipped=f"{name} failed: {str(error).splitlines()[0]}"))
            continue
        rows += [dict(base, evaluator=name, param=p, importance=float(v), skipped="") for p, v in scores.items()]
    return rows


def importance_table(study_files: dict[tuple[str, str, str], str | Path]) -> pd.DataFrame:
    """study_files: (experiment, domain, objective) -> experiment folder (its journal holds the
    study). One row per (study, evaluator, param), or one `skipped` row per study that does not qualify."""
    from dabs_lib.experiment import ExperimentError, load_study  # the one reader of the journal

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    rows = []
    for (experiment, domain, objective), path in study_files.items():
        where = {"experiment": experiment, "domain": domain, "objective": objective}
        try:
            study = load_study(path, domain, objective)
        except ExperimentError as error:
            rows.append(
                {
                    **where,
                    "evaluator": "",
                    "param": "",
                    "importance": float("nan"),
                    "completed_trials": 0,
                    "skipped": str(error),
                }
            )
            continue
        for row in study_importance(study):
            rows.append({**where, **row})
    return pd.DataFrame(rows, columns=COLUMNS)
