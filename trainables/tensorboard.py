"""Tune's TensorBoard files for a search: scalars on the optimizer-step axis, a clean HPARAMS view.

Replaces Tune's default TBXLoggerCallback (Tune adds its own only when none is given):
- every scalar is written at `timesteps_total`, which the trainable sets to the optimizer
  step, so `ray/tune/transfer/val` and Lightning's `train/loss` share one x-axis;
- bookkeeping (done, final, step, iteration counters, timings, Tune's trial_number/study
  settings) is not written as a scalar, and never as a hyperparameter or HPARAMS metric;
- HPARAMS: every searched parameter (plus domain and objective, so studies can be told
  apart) against `transfer/val` and the final `test/<task>` scores, for every trial,
  including pruned ones and the random-init baselines.
"""
from __future__ import annotations

import math
from numbers import Number

from ray.tune.logger import TBXLoggerCallback
from ray.tune.result import TIMESTEPS_TOTAL, TRAINING_ITERATION
from ray.tune.utils import flatten_dict

from dabs_lib.experiment import FINAL, METRIC, STEP, STUDY, TEST_PREFIX, TRIAL_NUMBER
from ray.tune.experiment import Trial
from typing import Any

PREFIX = "ray/tune/"
HPARAM_METRICS = (METRIC, TEST_PREFIX)  # exact key, or prefix (ending in "/")
BOOKKEEPING_PARAMS = (TRIAL_NUMBER, STUDY)  # set by the searcher to name and route trials
CONTEXT_PARAMS = ("domain", "objective")  # fixed per study, but what tells studies apart
HIDDEN = {  # Tune's own counters and timings, and our bookkeeping: not scalars, not metrics
    "done", FINAL, STEP, TIMESTEPS_TOTAL, TRAINING_ITERATION, "timesteps_since_restore",
    "iterations_since_restore", "time_this_iter_s", "time_since_restore", "time_total_s", "timestamp", "pid",
    "episodes_total", "episodes_this_iter", "config",
}


def _shown(key: str, value) -> bool:
    return (key not in HIDDEN and isinstance(value, Number) and not isinstance(value, bool)
            and math.isfinite(float(value)))


def _is_hparam_metric(key: str) -> bool:
    return any(key == m or (m.endswith("/") and key.startswith(m)) for m in HPARAM_METRICS)


class StepTBXLogger(TBXLoggerCallback):
    def __init__(self, searched: dict[str, tuple[str, ...]] | None = None) -> None:
        """`searched`: study name -> its searched parameters, when a trial's config carries its
        study and more than its searched values (one searcher for several studies)."""
        super().__init__()
        self.searched = dict(searched or {})

    def log_trial_result(self, iteration: int, trial: Trial, result: dict[str, Any]) -> None:
        if trial not in self._trial_writer:
            self.log_trial_start(trial)
        step = int(result.get(TIMESTEPS_TOTAL, result.get(TRAINING_ITERATION, 0)) or 0)
        writer = self._trial_writer[trial]
        shown = {}
        for key, value in flatten_dict(result, delimiter="/").items():
            if _shown(key, value):
                shown[key] = float(value)
                writer.add_scalar(PREFIX + key, value, global_step=step)
        self._trial_result[trial] = shown
        writer.flush()

    def log_trial_end(self, trial: Trial, failed: bool = False) -> None:
        if trial not in self._trial_writer:
            return
        last = self._trial_result.get(trial) or {}
        metrics = {PREFIX + k: v for k, v in last.items() if _is_hparam_metric(k)}
        if metrics:
            self._log_hparams(trial, metrics)
        self._trial_writer[trial].close()
        del self._trial_writer[trial]
        self._trial_result.pop(trial, None)

    def _log_hparams(self, trial: Trial, metrics: dict[str, float]) -> None:
        from tensorboardX.summary import hparams

        study = str(trial.config.get(BOOKKEEPING_PARAMS[1], ""))
        if study in self.searched:
            params = {k: trial.config[k] for k in self.searched[study] if k in trial.config}
        else:  # the searcher suggested exactly the searched values (plus its bookkeeping)
            params = {k: v for k, v in flatten_dict(trial.evaluated_params or {}).items()
                      if k not in BOOKKEEPING_PARAMS}
        params.update({k: trial.config[k] for k in CONTEXT_PARAMS if k in trial.config})
        params = {k: (v if isinstance(v, (bool, str, Number)) else str(v)) for k, v in params.items()}
        writer = self._trial_writer[trial].file_writer
        for summary in hparams(hparam_dict=params, metric_dict=metrics):
            writer.add_summary(summary)
