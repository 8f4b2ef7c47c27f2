"""The `pretrain_transfer` trainable: pretrain, probe every `eval_every` steps, report to Tune.

Thin by design: the trial config becomes a PretrainConfig, dabs_lib does the work, and
this file only reports. Each report carries a checkpoint (Lightning trainer state +
encoder) so a trial resumes from `ray.tune.get_checkpoint()`. The last report (at
`max_steps`) also carries the test-split scores of every transfer task of the domain
and `final: True`; a trial that ends without it was stopped early by the scheduler.
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning as L
from ray import tune

from dabs_lib.checkpoints import save_encoder
from dabs_lib.config import PretrainConfig
from dabs_lib.domains import get_domain
from dabs_lib.pretrain import effective_config, pretrain
from dabs_lib.transfer import ProbeProtocol, evaluate_domain, probe_val
from trainables.settings import TrialSettings, split_trial_config

TRAINER_CKPT = "trainer.ckpt"
STATE_FILE = "trial_state.json"


def parameter_count(encoder) -> int:
    return sum(p.numel() for p in encoder.parameters())


def probe_protocol(settings: TrialSettings) -> ProbeProtocol:
    return ProbeProtocol(l2_min=settings.l2_min, l2_max=settings.l2_max, l2_steps=settings.l2_steps)


def final_scores(encoder, config: PretrainConfig, protocol: ProbeProtocol) -> dict[str, float]:
    """`test/<task>` and `val/<task>` for every task of the domain (plus domain averages)."""
    domain = get_domain(config.domain, seed=config.data_seed, data_root=config.data_root, smoke=config.smoke_test)
    table = evaluate_domain(encoder, domain, protocol, cache_dir=None)  # in memory: weights change
    scores = {}
    for row in table.to_dict("records"):
        scores[f"test/{row['task']}"] = float(row["test_score"])
        scores[f"val/{row['task']}"] = float(row["val_score"])
    return scores


class TuneReporter(L.Callback):
    """At every epoch end (= every `eval_every` steps): probe the validation task, report."""

    def __init__(self, config: PretrainConfig, settings: TrialSettings, seconds_before: float):
        self.config = effective_config(config)
        self.protocol = probe_protocol(settings)
        self.domain = get_domain(config.domain, seed=config.data_seed, data_root=config.data_root,
                                 smoke=config.smoke_test)
        self.start = time.perf_counter() - seconds_before
        self.last_step = -1

    def on_train_epoch_end(self, trainer: L.Trainer, system: L.LightningModule) -> None:
        self._report(trainer, system)

    def on_train_end(self, trainer: L.Trainer, system: L.LightningModule) -> None:
        # max_steps not a multiple of eval_every: the last, partial epoch still reports.
        if trainer.global_step != self.last_step:
            self._report(trainer, system)

    def _report(self, trainer: L.Trainer, system: L.LightningModule) -> None:
        step = self.last_step = trainer.global_step
        encoder = system.encoder
        was_training = encoder.training
        val = probe_val(encoder, self.domain.tasks[self.domain.default_task], self.protocol).val_score
        metrics: dict[str, Any] = {"transfer/val": float(val), "step": step, "params": parameter_count(encoder)}
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1})
        if step >= self.config.max_steps:
            metrics.update(final_scores(encoder, self.config, self.protocol), final=True)
        encoder.train(was_training)
        metrics["seconds"] = time.perf_counter() - self.start
        with tempfile.TemporaryDirectory() as tmp:
            trainer.save_checkpoint(Path(tmp) / TRAINER_CKPT)
            save_encoder(Path(tmp) / "encoder.pt", encoder, {"step": step})
            (Path(tmp) / STATE_FILE).write_text(json.dumps({"seconds": metrics["seconds"], "step": step}))
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(tmp))


def _restore() -> tuple[Path | None, float, tempfile.TemporaryDirectory | None]:
    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return None, 0.0, None
    holder = tempfile.TemporaryDirectory()
    local = Path(checkpoint.to_directory(holder.name))
    seconds = json.loads((local / STATE_FILE).read_text())["seconds"]
    return local / TRAINER_CKPT, seconds, holder


def pretrain_transfer(trial_config: dict[str, Any]) -> None:
    config, settings = split_trial_config(trial_config)
    resume_from, seconds_before, holder = _restore()
    start = time.perf_counter()
    output_dir = Path.cwd() / "lightning"  # the trial's own folder; synced to storage with artifacts
    reporter = TuneReporter(config, settings, seconds_before)
    result = pretrain(config, output_dir=output_dir, callbacks=[reporter], resume_from=resume_from,
                      steps_per_epoch=settings.eval_every)
    if result.steps == 0:  # `none` (random init) never trains: evaluate it once
        protocol = probe_protocol(settings)
        domain = reporter.domain
        val = probe_val(result.encoder, domain.tasks[domain.default_task], protocol).val_score
        metrics = {"transfer/val": float(val), "step": 0, "final": True, "params": parameter_count(result.encoder),
                   **final_scores(result.encoder, reporter.config, protocol)}
        metrics["seconds"] = time.perf_counter() - start
        tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(result.checkpoint_path.parent))
    if holder is not None:
        holder.cleanup()
