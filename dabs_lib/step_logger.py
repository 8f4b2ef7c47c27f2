"""Lightning's TensorBoard logger on the optimizer-step axis, with the run's settings in hparams.yaml.

Lightning logs a training step's scalars with the number of optimizer steps taken *before*
that batch (9, 19, ..., 99 for 100 steps), one behind the step a search reports its probe at
(`trainer.global_step` after the batch: 50, 100). This logger writes every scalar at the
trainer's `global_step` instead, so the two share one axis, and it ignores a second write of
the same step: a search's reporter logs and flushes the current step's scalars itself before
reporting to Tune (`log_now`), because a trial the scheduler stops at that report never reaches
Lightning's own logging of that step.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from lightning.pytorch.loggers import TensorBoardLogger


class OptimizerStepLogger(TensorBoardLogger):
    def __init__(self, save_dir: str, settings: Mapping[str, Any]):
        super().__init__(save_dir, name="", version="", default_hp_metric=False)
        self.step_source: Callable[[], int] | None = None  # the trainer's global_step, once it exists
        self._last_step = -1
        self.log_hyperparams(dict(settings))  # hparams.yaml; no HPARAMS session (default_hp_metric=False)

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        step = self.step_source() if self.step_source is not None else step
        if step is None or step > self._last_step:  # each step once: the reporter may have written it
            super().log_metrics(dict(metrics), step)
            self._last_step = step if step is not None else self._last_step

    def log_now(self, metrics: Mapping[str, float]) -> None:
        """Write the current step's scalars and flush them to disk (before the trial may be stopped)."""
        self.log_metrics(metrics)
        self.save()
        self.experiment.flush()
