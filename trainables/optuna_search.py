"""OptunaSearch that tells Optuna the truth about early-stopped and errored trials.

Ray's OptunaSearch tells a trial stopped by ASHA to Optuna as COMPLETE with its
low-budget value, so TPE mixes fidelities. Here a trial is COMPLETE only when its last
result says `final: True` (the trainable reached its full budget); otherwise it is
PRUNED, keeping the intermediate values Ray already reported. An errored trial is left
RUNNING in the study until the search ends, so one that `resume_errored` later finishes
is told once, with its real outcome, instead of staying FAIL.

After every snapshot the study is exported as JSON (`study.json`) beside the searcher
state, so analysis can rebuild it without Ray or pickle.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import optuna
from optuna.distributions import distribution_to_json
from optuna.trial import TrialState
from ray.tune.search.optuna import OptunaSearch

FINAL_KEY = "final"
TRIAL_NUMBER = "trial_number"
STUDY_FILE = "study.json"


class BudgetAwareOptunaSearch(OptunaSearch):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._errored: set[str] = set()

    def suggest(self, trial_id: str) -> dict | None:
        config = super().suggest(trial_id)
        if config is not None:
            # The study's trial number names the trial folder (TrialNamer) and survives resume.
            config[TRIAL_NUMBER] = self._ot_trials[trial_id].number
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id in self._completed_trials:
            return
        if error:
            self._errored.add(trial_id)  # told later: resume_errored may still finish it
            return
        self._errored.discard(trial_id)
        ot_trial = self._ot_trials[trial_id]
        values = self._values(result)
        if result and result.get(FINAL_KEY) and values is not None:
            self._ot_study.tell(ot_trial, values, state=TrialState.COMPLETE)
        else:
            self._report_last(ot_trial, result)
            self._ot_study.tell(ot_trial, None, state=TrialState.PRUNED)
        self._completed_trials.add(trial_id)

    def _report_last(self, ot_trial, result: dict | None) -> None:
        """Tune skips on_trial_result for the result that made the scheduler stop a trial."""
        if not result or isinstance(self.metric, list) or result.get(self.metric) is None:
            return
        step = result.get("training_iteration", 0)
        if step not in self._ot_study.get_trials(deepcopy=False)[ot_trial.number].intermediate_values:
            ot_trial.report(float(result[self.metric]), step)

    def _values(self, result: dict | None):
        if not result:
            return None
        metrics = self.metric if isinstance(self.metric, list) else [self.metric]
        values = [result.get(m) for m in metrics]
        if any(v is None or not math.isfinite(float(v)) for v in values):
            return None
        return [float(v) for v in values] if isinstance(self.metric, list) else float(values[0])

    def finish(self) -> None:
        """At the end of a search: trials that errored and never finished become FAIL."""
        for trial_id in sorted(self._errored):
            self._ot_study.tell(self._ot_trials[trial_id], None, state=TrialState.FAIL)
            self._completed_trials.add(trial_id)
        self._errored.clear()

    @property
    def study(self) -> optuna.Study:
        return self._ot_study

    def save(self, checkpoint_path: str) -> None:
        super().save(checkpoint_path)
        export_study(self._ot_study, Path(checkpoint_path).parent / STUDY_FILE, self._ot_trials)


def export_study(study: optuna.Study, path: Path, trial_ids: dict | None = None) -> None:
    """Write the study's trials as JSON (atomic), with Tune trial ids where known."""
    tune_ids = {t.number: tid for tid, t in (trial_ids or {}).items()}
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append({
            "number": t.number,
            "tune_trial_id": tune_ids.get(t.number),
            "state": t.state.name,
            "params": t.params,
            "distributions": {k: distribution_to_json(d) for k, d in t.distributions.items()},
            "values": t.values,
            "intermediate_values": {str(k): v for k, v in t.intermediate_values.items()},
        })
    payload = {"directions": [d.name for d in study.directions], "trials": rows}
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    os.replace(tmp, path)


def load_study(path: str | os.PathLike) -> optuna.Study:
    """Rebuild an in-memory study from `study.json` (for importance and plots)."""
    from optuna.distributions import json_to_distribution

    payload = json.loads(Path(path).read_text())
    study = optuna.create_study(directions=[d.lower() for d in payload["directions"]])
    for row in payload["trials"]:
        state = TrialState[row["state"]]
        if state == TrialState.RUNNING:
            state = TrialState.FAIL  # a snapshot taken mid-run: not finished
        study.add_trial(optuna.trial.create_trial(
            state=state,
            params=row["params"],
            distributions={k: json_to_distribution(d) for k, d in row["distributions"].items()},
            values=row["values"] if state == TrialState.COMPLETE else None,
            intermediate_values={int(k): v for k, v in row["intermediate_values"].items()},
        ))
    return study
