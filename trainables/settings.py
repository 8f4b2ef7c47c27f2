"""Split a flat Tune trial config into dabs_lib's PretrainConfig and trial-level settings."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from dabs_lib.config import PretrainConfig, config_from_dict


@dataclass(frozen=True)
class TrialSettings:
    eval_every: int = 100  # optimizer steps between validation probes (= Tune iterations)
    l2_min: float = 1e-4  # smallest L2 strength on the probe's regularization path
    l2_max: float = 1e2  # largest L2 strength on the path
    l2_steps: int = 8  # strengths on the path (log-spaced, warm-started from the largest)
    finetune_lr: float = 1e-4  # probe trainable: fine-tuning learning rate
    finetune_weight_decay: float = 1e-4  # probe trainable: fine-tuning weight decay
    finetune_epochs: int = 5  # probe trainable: fine-tuning epochs
    checkpoint: str = ""  # probe trainable: the encoder checkpoint to evaluate
    trial_number: int = 0  # the Optuna trial number, set by the searcher; names the trial folder


TRIAL_KEYS = tuple(f.name for f in fields(TrialSettings))


def split_trial_config(config: dict[str, Any], source: str = "trial config") -> tuple[PretrainConfig, TrialSettings]:
    trial = {k: v for k, v in config.items() if k in TRIAL_KEYS}
    rest = {k: v for k, v in config.items() if k not in TRIAL_KEYS}
    settings = TrialSettings(**{k: (v.item() if hasattr(v, "item") else v) for k, v in trial.items()})
    return config_from_dict(rest, source), settings
