"""Tune's TensorBoard files for a search: scalars on the optimizer-step axis, one HPARAMS view for every study.

Replaces Tune's default TBXLoggerCallback (Tune adds its own only when none is given):
- every scalar is written at `timesteps_total`, which the trainable sets to the optimizer
  step (0 for a random-init baseline, which never steps), so `ray/tune/transfer/val` and
  Lightning's `train/loss` share one x-axis;
- bookkeeping (done, final, step, iteration counters, timings, the trial's `config/*`) is
  not written as a scalar, and never as a hyperparameter;
- HPARAMS: each trial is one session whose hyperparameters are its study's searched
  parameters plus `domain` and `objective` (what tells studies apart), written when the trial
  starts (running trials show up) and closed when it ends. No trial writes an experiment
  summary: TensorBoard then builds ONE experiment from every session of every study (the
  union of their hyperparameters) and takes as metrics every scalar of those sessions
  (`ray/tune/transfer/val`, each domain's `ray/tune/test/<task>`, Lightning's curves under
  the `lightning` group), so trials of all studies sort and filter in one table; a metric a
  domain does not have stays empty for its trials. (An experiment summary written by one
  trial would hide every other study's parameters and tasks: TensorBoard keeps the first.)
"""

from __future__ import annotations

import math
import sys
from numbers import Number
from typing import Any

from ray.tune.experiment import Trial
from ray.tune.logger import TBXLoggerCallback
from ray.tune.result import DONE, TIMESTEPS_TOTAL, TRAINING_ITERATION
from ray.tune.utils import flatten_dict

from dabs_lib.experiment import BOOKKEEPING_PARAMS, FINAL, STEP, STUDY


def import_tensorboardx_without_torch() -> None:
    """Import tensorboardX, in a process that has not imported torch, without torch. tensorboardX
    imports torch whenever it is installed, only to also accept torch tensors; the search driver
    logs plain numbers and otherwise never imports torch (about 490 MB of its memory,
    BENCHMARKS.md "10k trials"). `sys.modules["torch"] = None` makes its guarded `import torch`
    fail for that one import; torch imports normally afterwards. A process that already has
    torch (a trial, a test) imports tensorboardX as usual."""
    if "tensorboardX" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        import tensorboardX  # noqa: F401
    finally:
        del sys.modules["torch"]


import_tensorboardx_without_torch()  # before Tune's TBXLoggerCallback (and tuner.pkl's copy) imports it
PREFIX = "ray/tune/"
CONTEXT_PARAMS = ("domain", "objective")  # fixed per study, but what tells studies apart
HIDDEN = {  # Tune's own counters and timings, and our bookkeeping: not scalars, not metrics
    DONE,
    FINAL,
    STEP,
    TIMESTEPS_TOTAL,
    TRAINING_ITERATION,
    "timesteps_since_restore",
    "iterations_since_restore",
    "time_this_iter_s",
    "time_since_restore",
    "time_total_s",
    "timestamp",
    "pid",
    "episodes_total",
    "episodes_this_iter",
    "config",
}
HIDDEN_PREFIXES = ("config/",)  # the trial's config, flattened: its hyperparameters are in HPARAMS


def shown(key: str, value: Any) -> bool:
    """Whether a flattened result key is written as a scalar."""
    return (
        key not in HIDDEN
        and not key.startswith(HIDDEN_PREFIXES)
        and isinstance(value, Number)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def trial_step(result: dict[str, Any]) -> int:
    """The x-axis value of a result: the optimizer step (`timesteps_total`), else Tune's iteration."""
    step = result.get(TIMESTEPS_TOTAL)
    return int(step if step is not None else result.get(TRAINING_ITERATION, 0) or 0)


class StepTBXLogger(TBXLoggerCallback):
    def __init__(self, searched: dict[str, tuple[str, ...]] | None = None) -> None:
        """`searched`: study name -> its searched parameters, when a trial's config carries its
        study and more than its searched values (one searcher for several studies)."""
        super().__init__()
        self.searched = dict(searched or {})

    def log_trial_start(self, trial: Trial) -> None:
        super().log_trial_start(trial)
        self._write_session(trial, start=True)

    def log_trial_result(self, iteration: int, trial: Trial, result: dict[str, Any]) -> None:
        if trial not in self._trial_writer:
            self.log_trial_start(trial)
        step = trial_step(result)
        writer = self._trial_writer[trial]
        for key, value in flatten_dict(result, delimiter="/").items():
            if shown(key, value):
                writer.add_scalar(PREFIX + key, value, global_step=step)
        writer.flush()

    def log_trial_end(self, trial: Trial, failed: bool = False) -> None:
        if trial not in self._trial_writer:
            return
        self._write_session(trial, start=False, failed=failed)
        self._trial_writer[trial].close()
        del self._trial_writer[trial]
        self._trial_result.pop(trial, None)

    def hparams(self, trial: Trial) -> dict[str, bool | str | float]:
        """The trial's HPARAMS row: its study's searched parameters, plus domain and objective."""
        study = str(trial.config.get(STUDY, ""))
        if study in self.searched:
            params = {k: trial.config[k] for k in self.searched[study] if k in trial.config}
        else:  # the searcher suggested exactly the searched values (plus its bookkeeping)
            params = {
                k: v for k, v in flatten_dict(trial.evaluated_params or {}).items() if k not in BOOKKEEPING_PARAMS
            }
        params.update({k: trial.config[k] for k in CONTEXT_PARAMS if k in trial.config})
        return {k: (v if isinstance(v, (bool, str, Number)) else str(v)) for k, v in params.items()}

    def _write_session(self, trial: Trial, start: bool, failed: bool = False) -> None:
        from tensorboard.plugins.hparams import api_pb2
        from tensorboardX.summary import hparams

        _, session_start, session_end = hparams(hparam_dict=self.hparams(trial), metric_dict={})
        if not start and failed:
            status = api_pb2.Status.Value("STATUS_FAILURE")
            session_end.value[0].metadata.plugin_data.content = _end_content(status)
        writer = self._trial_writer[trial].file_writer
        writer.add_summary(session_start if start else session_end)
        writer.flush()


def _end_content(status: int) -> bytes:
    from tensorboard.plugins.hparams import plugin_data_pb2

    return plugin_data_pb2.HParamsPluginData(
        session_end_info=plugin_data_pb2.SessionEndInfo(status=status), version=0
    ).SerializeToString()
