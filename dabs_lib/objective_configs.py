"""Every objective's typed settings, and the registry of objective names, without torch.

The search-space loader, the CLI's checks and the search driver validate an objective's name
and settings with these; only the processes that train import the objectives themselves
(dabs_lib/objectives: `OBJECTIVES[name].Config is OBJECTIVE_CONFIGS[name]`, checked by
tests/dabs_lib/objectives/test_registry.py). A search's driver imports no torch (about 490 MB
of its memory, BENCHMARKS.md "10k trials").
"""

from __future__ import annotations

from dataclasses import dataclass

from dabs_lib.settings_rules import check_fields


@dataclass(frozen=True)
class CapriConfig:
    corruption_rate: float = 0.15  # share of real tokens masked per example (DABS: 0.15)
    temperature: float = 0.07  # softmax temperature of prediction-target logits (DABS: 0.07)
    normalize: bool = False  # L2-normalize predictions and targets first (cosine logits)
    symmetric: bool = False  # also pick each masked target's prediction among all predictions
    mask_token: str = "zeros"  # "zeros" as DABS, or "learned" (a trained vector, starting at zeros)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class EMixConfig:
    mix_alpha: float = 1.0  # Beta(alpha, alpha) for the mixing weight; DABS uses 1 (uniform)
    temperature: float = 0.2  # softmax temperature of the similarity logits (DABS: 0.2)

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class MaskedPredictionConfig:
    corruption_rate: float = 0.15  # share of real tokens masked per example (DABS: 0.15)
    mask_token: str = "zeros"  # "zeros" as DABS, or "learned" (a trained vector, starting at zeros)
    loss: str = "l2"  # continuous inputs: "l2" un-squared distance as DABS, "mse" or "l1"; tokens use CE

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class NoPretrainingConfig:
    """No settings: the encoder keeps its random initialization."""


@dataclass(frozen=True)
class ShEDConfig:
    corruption_rate: float = 0.15  # share of real tokens shuffled per example (DABS: 0.15)
    head_hidden_dim: int = 0  # 0 = Linear(D, 2) head as DABS; > 0 = one hidden GELU layer of this width

    def __post_init__(self) -> None:
        check_fields(self)


@dataclass(frozen=True)
class SupervisedConfig:
    num_classes: int = 0  # classes (multiclass) or labels (multilabel); 0 = filled in from the domain
    task_kind: str = "multiclass"  # multiclass | binary | multilabel | regression: picks the loss
    label_smoothing: float = 0.0  # soften classification targets (0 = plain cross-entropy)

    def __post_init__(self) -> None:
        check_fields(self)

    @property
    def out_dim(self) -> int:
        """Width of the head's output; raises when the class count was never filled in."""
        if self.task_kind in ("binary", "regression"):
            return 1
        least = 2 if self.task_kind == "multiclass" else 1
        if self.num_classes < least:
            raise ValueError(
                f"num_classes must be >= {least} for task_kind={self.task_kind!r}, but got "
                f"{self.num_classes} (pretraining fills it in from the domain's supervised task)"
            )
        return self.num_classes


# objective name -> its settings (the keys of dabs_lib.objectives.OBJECTIVES, same order)
OBJECTIVE_CONFIGS: dict[str, type] = {
    "capri": CapriConfig,
    "emix": EMixConfig,
    "mae": MaskedPredictionConfig,
    "none": NoPretrainingConfig,
    "shed": ShEDConfig,
    "supervised": SupervisedConfig,
}
