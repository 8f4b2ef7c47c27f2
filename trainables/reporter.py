"""The Lightning callback that probes and reports a training trial to Tune."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

import lightning as L
from ray import tune
from ray.tune.result import TIMESTEPS_TOTAL

from dabs_lib.checkpoints import save_encoder
from dabs_lib.config import PretrainConfig, effective_config
from dabs_lib.divergence import Diverged, NonFiniteFeatures, check_finite
from dabs_lib.domains import get_domain
from dabs_lib.experiment import (
    ENCODER_FILE,
    FINAL,
    METRIC,
    PARAMS,
    PROBE_SECONDS,
    SECONDS,
    STATE_FILE,
    STEP,
    TRAINER_CKPT,
)
from dabs_lib.experiment import TrialSettings, probe_protocol
from dabs_lib.transfer import probe_val
from trainables.scores import final_scores, parameter_count
from trainables.worker import report_extras

T = TypeVar("T")


class TuneReporter(L.Callback):
    """Every `eval_every` steps (an epoch's last batch): probe the validation task, report.

    It reports and checkpoints in `on_train_batch_end`, not `on_train_epoch_end`: Lightning
    resumes a checkpoint written at an epoch's end by running one more step (a resumed
    trial reported steps 50, 51, 101), while one written after a batch is the restart
    point Lightning supports exactly."""

    def __init__(self, config: PretrainConfig, settings: TrialSettings, seconds_before: float) -> None:
        self.config = effective_config(config)
        self.protocol = probe_protocol(settings)
        self.domain = get_domain(
            config.domain, seed=config.data_seed, data_root=config.data_root, smoke=config.smoke_test
        )
        self.start = time.perf_counter() - seconds_before
        self.eval_every = max(1, settings.eval_every)
        self.last_step = -1

    def on_train_batch_end(
        self, trainer: L.Trainer, system: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        step = trainer.global_step
        if step % self.eval_every == 0 or step >= self.config.max_steps:
            self._report(trainer, system)

    def on_train_end(self, trainer: L.Trainer, system: L.LightningModule) -> None:
        # Training stopped another way (should_stop): the last step still reports.
        if trainer.global_step != self.last_step:
            self._report(trainer, system)

    def _report(self, trainer: L.Trainer, system: L.LightningModule) -> None:
        step = self.last_step = trainer.global_step
        encoder = system.encoder
        was_training = encoder.training
        probe = _probe(lambda: probe_val(encoder, self.domain.tasks[self.domain.default_task], self.protocol), step)
        check_finite(step, **{METRIC: probe.val_score})
        metrics: dict[str, Any] = {
            METRIC: float(probe.val_score),
            STEP: step,
            PARAMS: parameter_count(encoder),
            PROBE_SECONDS: probe.seconds,
            TIMESTEPS_TOTAL: step,
        }  # Tune's TensorBoard x-axis = Lightning's step
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1})
        if step >= self.config.max_steps:
            metrics.update(_probe(lambda: final_scores(encoder, self.config, self.protocol), step), **{FINAL: True})
        encoder.train(was_training)
        log_step(trainer)
        metrics[SECONDS] = time.perf_counter() - self.start
        metrics.update(report_extras())
        with tempfile.TemporaryDirectory() as tmp:
            trainer.save_checkpoint(Path(tmp) / TRAINER_CKPT)
            save_encoder(Path(tmp) / ENCODER_FILE, encoder, {"step": step})
            (Path(tmp) / STATE_FILE).write_text(json.dumps({SECONDS: metrics[SECONDS], "step": step}))
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))


def _probe(score: Callable[[], T], step: int) -> T:
    """Run a probe; non-finite features mean the encoder diverged at this step."""
    try:
        return score()
    except NonFiniteFeatures as error:
        raise Diverged(f"diverged at step {step}: {error.reason}", step) from None


def log_step(trainer: L.Trainer) -> None:
    """Lightning's scalars of this step, on disk before Tune sees the report (which may stop the trial)."""
    from dabs_lib.step_logger import OptimizerStepLogger

    if isinstance(trainer.logger, OptimizerStepLogger):
        trainer.logger.log_now({k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1})
