"""Shared pieces of the search tests: a tiny real search request and readers for its output."""

from __future__ import annotations

import json
from pathlib import Path

from dabs_lib.experiment import open_storage, study_name, trial_name
from trainables.request import SearchRequest

# 4 steps with a probe after each: ASHA has three rungs to cut at, in seconds per trial.
TINY = {"max_steps": 4, "eval_every": 1}


def tiny_request(tmp_path: Path, **changes) -> SearchRequest:
    fields = dict(
        domains=("digits",),
        objectives=("emix",),
        num_samples=6,
        max_concurrent=2,
        storage_path=str(tmp_path),
        name="exp",
        overrides=dict(TINY),
        smoke_test=True,
        baseline=False,
        seed=0,
    )
    fields.update(changes)
    return SearchRequest(**fields)


def trial_results(experiment: Path, domain: str, objective: str) -> dict[str, list[dict]]:
    """trial folder name -> its reported results, in order, for one study of an experiment."""
    out = {}
    prefix = trial_name(domain, objective, 0)[:-3]
    for trial_dir in sorted(p for p in experiment.glob(prefix + "[0-9][0-9][0-9]") if (p / "params.json").exists()):
        lines = (trial_dir / "result.json").read_text().splitlines() if (trial_dir / "result.json").exists() else []
        out[trial_dir.name] = [json.loads(line) for line in lines if line.strip()]
    return out


def study_states(experiment: Path, domain: str, objective: str) -> dict[int, str]:
    """trial number -> Optuna state name, read from the experiment's journal."""
    storage = open_storage(experiment)
    study_id = storage.get_study_id_from_name(study_name(domain, objective))
    return {t.number: t.state.name for t in storage.get_all_trials(study_id)}
