"""`pretrain(config)`: one pretraining run, no Ray. Trainables and tests call this."""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import lightning as L
import torch

from dabs_lib.checkpoints import save_encoder
from dabs_lib.config import PretrainConfig, effective_config
from dabs_lib.data import pretrain_loader, step_sampler
from dabs_lib.divergence_guard import DivergenceGuard
from dabs_lib.domains import get_domain
from dabs_lib.domains.base import Domain
from dabs_lib.encoder import Encoder
from dabs_lib.initial import initial_encoder
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.registry import lookup
from dabs_lib.step_logger import OptimizerStepLogger
from dabs_lib.system import SSLSystem
from typing import Any


@dataclass
class PretrainResult:
    encoder: Encoder
    checkpoint_path: Path  # the encoder checkpoint (dabs_lib.checkpoints format)
    steps: int
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)  # last logged value of each metric
    config: PretrainConfig | None = None


def build_system(config: PretrainConfig, domain: Domain) -> tuple[SSLSystem, torch.utils.data.Dataset[Any]]:
    """Encoder + objective + system for `config`, and the split the objective trains on."""
    objective_cls = lookup(OBJECTIVES, config.objective, "objective")
    objective_config = config.objective_config or objective_cls.Config()
    split, online_classes = domain.pretrain, domain.pretrain_num_classes
    if objective_cls.needs_labels:
        task = domain.tasks[domain.supervised_task or domain.default_task]
        split, online_classes = task.train, None
        objective_config = dataclasses.replace(objective_config, num_classes=task.num_classes, task_kind=task.kind)
    if online_classes:
        check_online_labels(domain, split)
    encoder = initial_encoder(config, domain)  # seeds torch: the same init with or without training
    objective = objective_cls(encoder, objective_config)
    system = SSLSystem(objective, config, online_classes, domain.pretrain_metric, domain.pretrain_kind)
    return system, split


def check_online_labels(domain: Domain, split: torch.utils.data.Dataset[Any]) -> None:
    """The first pretraining label must have the shape the domain's `pretrain_kind` says
    (a class id, or K = pretrain_num_classes multi-hot values), before any training."""
    label = torch.as_tensor(split[0][1])
    expected = (domain.pretrain_num_classes,) if domain.pretrain_kind == "multilabel" else ()
    if tuple(label.shape) != expected:
        raise ValueError(
            f"domain {domain.name!r}: pretraining labels of kind {domain.pretrain_kind!r} must have "
            f"shape {expected}, but the first has shape {tuple(label.shape)}"
        )


def _quiet_lightning() -> None:
    """Lightning prints GPU/TPU availability and tips at every fit; keep warnings only."""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)


def trainer_precision(precision: str, cuda: bool) -> str:
    """Lightning's precision for a PretrainConfig.precision ("auto": bf16-mixed on a GPU, else 32-true)."""
    if precision == "auto":
        return "bf16-mixed" if cuda else "32-true"
    return precision


def make_trainer(
    config: PretrainConfig, output_dir: Path, callbacks: Sequence[L.Callback], logger: bool, max_epochs: int
) -> L.Trainer:
    _quiet_lightning()
    cuda = torch.cuda.is_available()
    trainer = L.Trainer(
        accelerator="gpu" if cuda else "cpu",
        devices=1,
        precision=trainer_precision(config.precision, cuda),
        max_steps=config.max_steps,
        max_epochs=max_epochs,
        logger=OptimizerStepLogger(str(output_dir), config.to_dict()) if logger else False,
        callbacks=[DivergenceGuard(), *callbacks],  # first: a NaN loss stops before any report
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
        num_sanity_val_steps=0,
        log_every_n_steps=max(1, min(10, config.max_steps // 10)),
        default_root_dir=str(output_dir),
    )
    if isinstance(trainer.logger, OptimizerStepLogger):
        trainer.logger.step_source = lambda: trainer.global_step  # one x-axis with the search's reports
    return trainer


def pretrain(
    config: PretrainConfig,
    output_dir: str | os.PathLike[str] | None = None,
    callbacks: Sequence[L.Callback] = (),
    resume_from: str | os.PathLike[str] | None = None,
    steps_per_epoch: int = 0,
    logger: bool = True,
) -> PretrainResult:
    """Pretrain one encoder and save it to `output_dir/encoder.pt`.

    `steps_per_epoch` sets where epoch ends (and so callbacks' evaluation points) fall;
    0 means one epoch of `max_steps`. `resume_from` is a Lightning checkpoint written by
    `trainer.save_checkpoint` in `on_train_batch_end` (search trials resume from it; one
    written at an epoch's end makes Lightning run one step too many). The batches, weights
    and random draws after a resume are those of an uninterrupted run.
    """
    config = effective_config(config)
    output_dir = Path(output_dir or tempfile.mkdtemp(prefix="dabs-pretrain-"))
    output_dir.mkdir(parents=True, exist_ok=True)
    L.seed_everything(config.seed, workers=True, verbose=False)
    domain = get_domain(config.domain, seed=config.data_seed, data_root=config.data_root, smoke=config.smoke_test)
    system, split = build_system(config, domain)
    start = time.perf_counter()
    steps, metrics = 0, {}
    if system.objective.trains and config.max_steps > 0:
        per_epoch = steps_per_epoch or config.max_steps
        batch_size = config.batch_size or domain.batch_size
        loader = pretrain_loader(split, batch_size, per_epoch, config.seed, config.loader_workers)
        trainer = make_trainer(config, output_dir, callbacks, logger, -(-config.max_steps // per_epoch))
        # Batches follow the global step, restored ones included (see dabs_lib.data).
        step_sampler(loader).follow(lambda: trainer.global_step)
        trainer.fit(system, loader, ckpt_path=str(resume_from) if resume_from else None)
        steps = trainer.global_step
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
    seconds = time.perf_counter() - start
    meta = {"config": dict(config.to_dict()), "steps": steps}
    path = save_encoder(output_dir / "encoder.pt", system.encoder, meta)
    return PretrainResult(system.encoder.eval(), path, steps, seconds, metrics, config)
