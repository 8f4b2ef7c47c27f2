"""The one LightningModule: an objective (which holds the encoder) plus an online probe.

No class hierarchy: the objective decides the loss, this module decides optimization
(AdamW, linear warmup then cosine decay, gradient clipping on the SSL parameters only)
and logging. The online probe is DABS's online evaluator: Dropout(0.2) -> Linear(D, C)
on detached pooled features, with its own learning rate, so it measures progress without
steering the encoder. It follows the kind of the pretraining labels: softmax cross-entropy
on class ids, or BCE on multi-hot labels (CheXpert). It reads the features of the
objective's own forward pass (`objective.pooled`: the clean view for e-Mix, the corrupted
view otherwise) instead of encoding the batch a second time; with `online_clean_forward`
it re-encodes the clean input.
"""

from __future__ import annotations

import math

import lightning as L
import torch
from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig
import torch.nn.functional as F
from torch import Tensor, nn

from dabs_lib.config import PretrainConfig
from typing import Any

ONLINE_PROBE_LR = 1e-4  # DABS's online evaluator: Adam(1e-4), never scheduled


def make_optimizer(groups: list[dict[str, Any]]) -> torch.optim.AdamW:
    """AdamW over parameter groups, fused into one kernel when every parameter allows it
    (float, on CPU or CUDA): at DABS size on a CPU that is about 8x less optimizer time."""
    params = [p for group in groups for p in group["params"]]
    fused = all(p.is_floating_point() and p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.AdamW(groups, fused=fused)


def warmup_cosine(step: int, warmup_steps: int, max_steps: int) -> float:
    """Learning-rate multiplier: linear 0 -> 1 over warmup, then cosine 1 -> 0 at max_steps."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


ONLINE_KINDS = ("multiclass", "multilabel")  # what a labelled pretraining set's labels can be


def online_loss_and_score(kind: str, metric: str, logits: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """The online probe's loss and its logged score on one batch.

    multiclass: labels (B,) class ids, softmax cross-entropy; multilabel: labels (B, K)
    multi-hot, BCE with logits per label. The score is accuracy (mean per-label accuracy
    for multilabel) or AUROC (macro over classes / labels), as `transfer.metrics` defines them.
    """
    if kind == "multilabel":
        loss = F.binary_cross_entropy_with_logits(logits, labels.float())
        probs = logits.detach().float().sigmoid()
    else:
        loss = F.cross_entropy(logits, labels.long())
        probs = logits.detach().float().softmax(-1)
    if metric == "auroc":
        from dabs_lib.transfer.metrics import compute_metric

        score = compute_metric("auroc", kind, probs.cpu().numpy(), labels.cpu().numpy())
        return loss, torch.tensor(score, dtype=torch.float32)
    if kind == "multilabel":
        return loss, ((probs >= 0.5) == labels.bool()).float().mean()
    return loss, (probs.argmax(-1) == labels).float().mean()


class SSLSystem(L.LightningModule):
    def __init__(
        self,
        objective: nn.Module,
        config: PretrainConfig,
        online_classes: int | None = None,
        online_metric: str = "accuracy",
        online_kind: str = "multiclass",
    ) -> None:
        super().__init__()
        if online_classes and online_kind not in ONLINE_KINDS:
            raise ValueError(f"the pretraining labels' kind must be one of {ONLINE_KINDS}, but got {online_kind!r}")
        self.objective = objective
        self.encoder = objective.encoder
        self.config = config
        self.online_metric = online_metric
        self.online_kind = online_kind
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
        # A fingerprint of the batch: a loader that replays the same rows shows a flat line.
        self.log("data/batch_mean", inputs[0].detach().float().mean())
        if self.online is not None:
            loss = loss + self._online_step(inputs, labels)
        return loss

    def _online_step(self, inputs: list[Tensor], labels: Tensor) -> Tensor:
        pooled = self.objective.pooled
        if pooled is None or self.config.online_clean_forward:
            with torch.no_grad():
                pooled = self.encoder(list(inputs)).pooled
        logits = self.online(pooled.detach().float())
        online_loss, score = online_loss_and_score(self.online_kind, self.online_metric, logits, labels)
        self.log("online/auroc" if self.online_metric == "auroc" else "online/acc", score)
        return online_loss

    # A resumed run must draw the same corruptions, mixes and dropout masks as an
    # uninterrupted one: the checkpoint carries the global RNG states (Lightning's does not).
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["rng_states"] = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            checkpoint["rng_states"]["cuda"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get("rng_states")
        if states:
            torch.set_rng_state(states["cpu"])
            if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(states["cuda"])

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        ssl_params = [p for p in self.objective.parameters() if p.requires_grad]
        groups = [{"params": ssl_params, "lr": self.config.lr, "weight_decay": self.config.weight_decay}]
        lambdas = [lambda s: warmup_cosine(s, self.config.warmup_steps, self.config.max_steps)]
        if self.online is not None:
            groups.append({"params": list(self.online.parameters()), "lr": ONLINE_PROBE_LR, "weight_decay": 0.0})
            lambdas.append(lambda s: 1.0)
        optimizer = make_optimizer(groups)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambdas)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def configure_gradient_clipping(
        self,
        optimizer: torch.optim.Optimizer,
        gradient_clip_val: int | float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        # Clip the SSL parameters only: the online probe must not shrink the encoder's step.
        if self.config.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.objective.parameters(), self.config.grad_clip)
