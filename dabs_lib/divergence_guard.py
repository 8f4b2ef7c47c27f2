"""The Lightning callback that stops training at the first non-finite loss."""

from __future__ import annotations

from collections.abc import Mapping

import lightning as L
import torch

from dabs_lib.divergence import Diverged
from typing import Any


class DivergenceGuard(L.Callback):
    """After every training step: a NaN/inf loss raises Diverged ("diverged at step N: loss=nan").

    Raising (rather than `trainer.should_stop`) ends fit before another step or checkpoint
    is made from the diverged weights; the caller decides how to record the reason.
    """

    def on_train_batch_end(
        self, trainer: L.Trainer, module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if isinstance(loss, torch.Tensor) and not bool(torch.isfinite(loss.detach()).all()):
            raise Diverged.at_step(trainer.global_step, "loss", f"{float(loss.detach().float().mean()):g}")
