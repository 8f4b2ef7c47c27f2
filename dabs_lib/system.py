"""The one LightningModule: an objective (which holds the encoder) plus an online probe.

No class hierarchy: the objective decides the loss, this module decides optimization
(AdamW, linear warmup then cosine decay, gradient clipping on the SSL parameters only)
and logging. The online probe is DABS's online evaluator: Dropout(0.2) -> Linear(D, C)
on detached pooled features of the clean input, with its own learning rate, so it
measures progress without steering the encoder.
"""
from __future__ import annotations

import math

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.config import PretrainConfig

ONLINE_PROBE_LR = 1e-4  # DABS's online evaluator: Adam(1e-4), never scheduled


def warmup_cosine(step: int, warmup_steps: int, max_steps: int) -> float:
    """Learning-rate multiplier: linear 0 -> 1 over warmup, then cosine 1 -> 0 at max_steps."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class SSLSystem(L.LightningModule):
    def __init__(self, objective: nn.Module, config: PretrainConfig, online_classes: int | None = None,
                 online_metric: str = "accuracy"):
        super().__init__()
        self.objective = objective
        self.encoder = objective.encoder
        self.config = config
        self.online_metric = online_metric
        self.online = None
        if online_classes:
            self.online = nn.Sequential(nn.Dropout(0.2), nn.Linear(config.model.embed_dim, online_classes))

    def training_step(self, batch: tuple[list[Tensor], Tensor], batch_idx: int) -> Tensor:
        inputs, labels = batch
        loss, metrics = self.objective(list(inputs), labels if self.objective.needs_labels else None)
        name = self.config.objective
        self.log("train/loss", loss.detach(), prog_bar=True)
        for key, value in metrics.items():
            self.log(f"{name}/{key}", value)
        self.log("lr", self.optimizers().param_groups[0]["lr"])
        if self.online is not None:
            loss = loss + self._online_step(inputs, labels)
        return loss

    def _online_step(self, inputs: list[Tensor], labels: Tensor) -> Tensor:
        with torch.no_grad():
            pooled = self.encoder(list(inputs)).pooled.float()
        logits = self.online(pooled)
        online_loss = F.cross_entropy(logits, labels)
        if self.online_metric == "auroc":
            from dabs_lib.transfer.metrics import compute_metric

            probs = logits.detach().float().softmax(-1).cpu().numpy()
            score = compute_metric("auroc", "multiclass", probs, labels.cpu().numpy())
            self.log("online/auroc", torch.tensor(score, dtype=torch.float32))
        else:
            self.log("online/acc", (logits.argmax(-1) == labels).float().mean())
        return online_loss

    def configure_optimizers(self):
        ssl_params = [p for p in self.objective.parameters() if p.requires_grad]
        groups = [{"params": ssl_params, "lr": self.config.lr, "weight_decay": self.config.weight_decay}]
        lambdas = [lambda s: warmup_cosine(s, self.config.warmup_steps, self.config.max_steps)]
        if self.online is not None:
            groups.append({"params": list(self.online.parameters()), "lr": ONLINE_PROBE_LR, "weight_decay": 0.0})
            lambdas.append(lambda s: 1.0)
        optimizer = torch.optim.AdamW(groups)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        # Clip the SSL parameters only: the online probe must not shrink the encoder's step.
        if self.config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.objective.parameters(), self.config.grad_clip)
