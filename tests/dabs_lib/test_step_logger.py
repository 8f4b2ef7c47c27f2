"""Lightning's TensorBoard scalars on the optimizer-step axis, every step once, and hparams.yaml filled."""

from __future__ import annotations

import lightning as L
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from dabs_lib.config import config_from_dict
from dabs_lib.pretrain import pretrain
from dabs_lib.step_logger import OptimizerStepLogger


class LogsAtEveryOtherStep(L.Callback):
    """What a search's reporter does every `eval_every` steps: write this step's scalars first."""

    def on_train_batch_end(self, trainer, system, outputs, batch, batch_idx) -> None:
        if trainer.global_step % 2 == 0:
            trainer.logger.log_now({k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1})


def _steps(folder) -> dict[str, list[int]]:
    steps: dict[str, list[int]] = {}
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        accumulator = EventAccumulator(str(path))
        accumulator.Reload()
        for tag in accumulator.Tags()["scalars"]:
            steps.setdefault(tag, []).extend(event.step for event in accumulator.Scalars(tag))
    return steps


def test_scalars_sit_at_the_optimizer_step_from_1_to_the_last_each_once(tmp_path):
    config = config_from_dict({"domain": "digits", "objective": "emix", "smoke_test": True, "max_steps": 4, "lr": 3e-4})
    result = pretrain(config, output_dir=tmp_path, callbacks=[LogsAtEveryOtherStep()], steps_per_epoch=2)
    assert result.steps == 4
    steps = _steps(tmp_path)
    assert steps["train/loss"] == [1, 2, 3, 4], steps  # Lightning alone wrote 0, 1, 2, 3
    settings = yaml.safe_load((tmp_path / OptimizerStepLogger.NAME_HPARAMS_FILE).read_text())
    assert settings["lr"] == 3e-4 and settings["domain"] == "digits" and settings["max_steps"] == 4
