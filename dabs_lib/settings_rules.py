"""The one owner of every setting's legal values: bounds, choices and relations between settings.

Each flat setting (`lr`, `depth`, `eval_every`, ...: the names of YAML spaces, Tune configs,
`--set`, exported columns) has at most one `Rule`; its Python type is its dataclass field's
annotation (PretrainConfig, ModelConfig, an objective's Config, TrialSettings). Relations tie
several settings (`eval_every <= max_steps`). Everything that accepts a setting checks it here:
the dataclasses' `__post_init__` (so `pretrain`, `probe`, config files and every trial), the
search/resume preflight, and the search-space loader (a searched range must lie inside the
rule, and every corner of the searched ranges must keep each relation).

Ray-free and torch-free: the CLI refuses bad values before anything heavy is imported.
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass, fields
from typing import Any, Callable, Iterable, Mapping

# Choices owned here; the modules that use them import these names.
PRECISIONS = ("auto", "32-true", "bf16-mixed")  # Lightning precision of pretraining
POOLINGS = ("mean", "cls")  # how the encoder pools tokens into one vector
MASK_TOKENS = ("zeros", "learned")  # what replaces a masked embedding
REGRESSION_LOSSES = ("l2", "mse", "l1")  # masked prediction's loss on continuous inputs
SUPERVISED_KINDS = ("multiclass", "binary", "multilabel", "regression")
# Objectives that contrast each example with others of its batch: one example is no batch.
BATCH_CONTRAST_OBJECTIVES = ("emix",)


@dataclass(frozen=True)
class Rule:
    """Inclusive (or open) numeric bounds, or a set of choices; `why` shows in messages when useful."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself is not allowed (lr > 0)
    high_open: bool = False  # high itself is not allowed (dropout < 1)
    choices: tuple[Any, ...] | None = None

    def holds(self, value: Any) -> bool:
        if self.choices is not None:
            return any(value == c and type(value) is type(c) for c in self.choices)
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            return False
        above = value > self.low if self.low_open else value >= self.low if self.low is not None else True
        below = value < self.high if self.high_open else value <= self.high if self.high is not None else True
        return above and below

    def text(self) -> str:
        """'>= 1', '> 0', 'in [0, 1)', "one of ['mean', 'cls']"."""
        if self.choices is not None:
            return f"one of {list(self.choices)}"
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {self.low:g}"
        return f"{'<' if self.high_open else '<='} {self.high:g}"


POSITIVE = Rule(low=0, low_open=True)
NON_NEGATIVE = Rule(low=0)
AT_LEAST_ONE = Rule(low=1)
FRACTION = Rule(low=0, high=1, high_open=True)  # dropout-like: [0, 1)
OPEN_FRACTION = Rule(low=0, high=1, low_open=True, high_open=True)  # a share that must do something

RULES: dict[str, Rule] = {
    # PretrainConfig
    "seed": NON_NEGATIVE,
    "max_steps": AT_LEAST_ONE,
    "batch_size": NON_NEGATIVE,  # 0 = the domain's default
    "lr": POSITIVE,
    "weight_decay": NON_NEGATIVE,
    "warmup_steps": NON_NEGATIVE,
    "grad_clip": NON_NEGATIVE,  # 0 disables clipping
    "data_seed": NON_NEGATIVE,
    "loader_workers": NON_NEGATIVE,
    "precision": Rule(choices=PRECISIONS),
    # ModelConfig
    "embed_dim": AT_LEAST_ONE,
    "depth": AT_LEAST_ONE,
    "num_heads": AT_LEAST_ONE,
    "head_dim": AT_LEAST_ONE,  # independent of embed_dim: attention's inner width is num_heads x head_dim
    "mlp_dim": AT_LEAST_ONE,
    "dropout": FRACTION,
    "attention_dropout": FRACTION,
    "pooling": Rule(choices=POOLINGS),
    "out_dim": AT_LEAST_ONE,
    # objectives' Configs
    "corruption_rate": OPEN_FRACTION,
    "temperature": POSITIVE,
    "mix_alpha": POSITIVE,
    "mask_token": Rule(choices=MASK_TOKENS),
    "loss": Rule(choices=REGRESSION_LOSSES),
    "head_hidden_dim": NON_NEGATIVE,  # 0 = a linear head
    "num_classes": NON_NEGATIVE,  # 0 = filled in from the domain
    "task_kind": Rule(choices=SUPERVISED_KINDS),
    "label_smoothing": FRACTION,
    # TrialSettings
    "eval_every": AT_LEAST_ONE,
    "l2_min": POSITIVE,
    "l2_max": POSITIVE,
    "l2_steps": AT_LEAST_ONE,
    "finetune_lr": POSITIVE,
    "finetune_weight_decay": NON_NEGATIVE,
    "finetune_epochs": AT_LEAST_ONE,
    "trial_number": NON_NEGATIVE,
}


@dataclass(frozen=True)
class Relation:
    """A rule over several settings; `holds` gets their values by name (defaults filled in)."""

    names: tuple[str, ...]
    rule: str  # what must hold, as the message says it
    holds: Callable[[Mapping[str, Any]], bool]


def _batch_fits(v: Mapping[str, Any]) -> bool:
    return v["objective"] not in BATCH_CONTRAST_OBJECTIVES or v["batch_size"] == 0 or v["batch_size"] >= 2


RELATIONS: tuple[Relation, ...] = (
    Relation(
        ("eval_every", "max_steps"),
        "`eval_every <= max_steps` must hold (a trial is evaluated every eval_every steps: lower both)",
        lambda v: v["eval_every"] <= v["max_steps"],
    ),
    Relation(
        ("l2_min", "l2_max"), "`l2_min <= l2_max` must hold (the probe's L2 path)", lambda v: v["l2_min"] <= v["l2_max"]
    ),
    Relation(
        ("objective", "batch_size"),
        f"`batch_size` must be 0 (the domain's) or >= 2 for objectives "
        f"{list(BATCH_CONTRAST_OBJECTIVES)} (each example is contrasted with others of its batch)",
        _batch_fits,
    ),
)


class SettingError(ValueError):
    """A setting's value breaks its rule or a relation; the message says what, the value and where."""


def _at(where: str) -> str:
    return f" in {where}" if where else ""


def check_value(name: str, value: Any, where: str = "") -> None:
    """`value` obeys `name`'s rule (names without a rule pass)."""
    rule = RULES.get(name)
    if rule is not None and not rule.holds(value):
        raise SettingError(f"`{name}` must be {rule.text()}, but got {value!r}{_at(where)}")


def check_fields(obj: Any) -> None:
    """Every field of a config dataclass obeys its rule: called by the dataclasses' __post_init__."""
    for f in fields(obj):
        check_value(f.name, getattr(obj, f.name))


def check_relations(values: Mapping[str, Any], where: str = "") -> None:
    """Every relation whose settings are all in `values` holds."""
    for relation in RELATIONS:
        if all(name in values for name in relation.names) and not relation.holds(values):
            got = ", ".join(f"{name}={values[name]!r}" for name in relation.names)
            raise SettingError(f"{relation.rule}, but got {got}{_at(where)}")


def check_range(
    name: str, low: Any = None, high: Any = None, choices: Iterable[Any] | None = None, where: str = ""
) -> None:
    """A searched range (bounds or choices) lies inside `name`'s rule."""
    rule = RULES.get(name)
    if rule is None:
        return
    values = list(choices) if choices is not None else [low, high]
    for value in values:
        if not rule.holds(value):
            shown = f"choices={list(choices)}" if choices is not None else f"low={low!r}, high={high!r}"
            raise SettingError(f"every searched value of `{name}` must be {rule.text()}, but got {shown}{_at(where)}")


def check_corners(fixed: Mapping[str, Any], searched: Mapping[str, list[Any]], where: str = "") -> None:
    """Every relation holds at every combination of the searched settings' extreme values
    (`searched`: name -> its bounds or choices), the fixed ones at their value."""
    for relation in RELATIONS:
        if not all(name in fixed or name in searched for name in relation.names):
            continue
        options = [searched[name] if name in searched else [fixed[name]] for name in relation.names]
        for combo in itertools.product(*options):
            values = dict(zip(relation.names, combo))
            if not relation.holds(values):
                got = ", ".join(f"{n}={v!r}" + (" (searched)" if n in searched else "") for n, v in values.items())
                raise SettingError(f"{relation.rule} at every searched value, but got {got}{_at(where)}")
