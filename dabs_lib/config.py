"""Typed configuration of one pretraining run, built from a flat dict (YAML or a Tune trial).

The same flat names appear in YAML search spaces, Tune configs, CLI flags, TensorBoard
tags and exported columns: `lr`, `embed_dim`, `corruption_rate`, ... One function,
`config_from_dict`, routes each name to its dataclass and rejects unknown names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from dabs_lib.model_config import ModelConfig
from dabs_lib.registry import lookup
from dabs_lib.settings_rules import check_fields

# The tiny model every --smoke-test uses: seconds on a CPU, still a real transformer.
SMOKE_MODEL = ModelConfig(embed_dim=32, depth=2, num_heads=2, head_dim=16, mlp_dim=64, out_dim=32)
SMOKE_MAX_STEPS = 4
# Lightning precision of pretraining (PRECISIONS: dabs_lib.settings_rules). "auto": bf16-mixed on a GPU,
# 32-true on a CPU (CPU bf16 is
# fast only where the CPU has bf16 matrix units, e.g. AMX; BENCHMARKS.md "Training step").


@dataclass(frozen=True)
class PretrainConfig:
    domain: str = "digits"  # key of DOMAINS
    objective: str = "emix"  # key of OBJECTIVES
    seed: int = 0  # seeds model init, data order and corruption sampling
    max_steps: int = 300  # optimizer steps; DABS ran 100k on GPUs, embedded domains need hundreds
    batch_size: int = 0  # 0 = the domain's default batch size
    lr: float = 1e-4  # AdamW peak learning rate (DABS default)
    weight_decay: float = 1e-4  # AdamW decoupled weight decay (DABS default)
    warmup_steps: int = 0  # linear warmup, then cosine decay to 0 (DABS: constant lr)
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    data_seed: int = 42  # seeds the splits (DABS seeds splits with 42, training with 0)
    data_root: str = ""  # where real datasets live; embedded domains ignore it
    loader_workers: int = 0  # DataLoader processes for sets decoded on read (ImageNet); 0 = in-process
    online_clean_forward: bool = False  # online probe re-encodes the clean batch (one more forward per step)
    precision: str = "auto"  # one of PRECISIONS
    smoke_test: bool = False  # tiny domain and model, a few steps: for tests and --smoke-test
    model: ModelConfig = field(default_factory=ModelConfig)
    objective_config: Any = None  # the objective's own typed Config; built by config_from_dict

    def __post_init__(self) -> None:
        check_fields(self)  # dabs_lib.settings_rules owns every bound (precision among PRECISIONS, ...)

    def to_dict(self) -> dict[str, Any]:
        """The flat dict `config_from_dict` reads back (what YAML and Tune see)."""
        flat = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("model", "objective_config")}
        flat.update(dataclasses.asdict(self.model))
        if self.objective_config is not None:
            flat.update(dataclasses.asdict(self.objective_config))
        return flat


def _names(cls: type[Any]) -> set[str]:
    return {f.name for f in fields(cls)}


def _coerce(cls: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """YAML and Tune hand over ints where floats are meant (and numpy scalars): normalize."""
    out = {}
    types = {f.name: f.type for f in fields(cls)}
    for key, value in values.items():
        kind = types[key] if isinstance(types[key], str) else getattr(types[key], "__name__", "")
        if hasattr(value, "item"):
            value = value.item()
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        want = _SIMPLE_TYPES.get(kind)
        if want is not None and (not isinstance(value, want) or (want is not bool and isinstance(value, bool))):
            raise ValueError(f"`{key}` must be of type {kind}, but got {value!r} ({type(value).__name__})")
        out[key] = value
    return out


_SIMPLE_TYPES = {"int": int, "float": float, "bool": bool, "str": str}  # others (unions, tuples) unchecked


def config_from_dict(flat: dict[str, Any], source: str = "config") -> PretrainConfig:
    """Route flat keys to PretrainConfig, ModelConfig and the objective's Config.

    Raises ValueError naming the unknown key and `source` (a file or flag) when a key fits
    none of them.
    """
    from dabs_lib.objective_configs import OBJECTIVE_CONFIGS  # no torch: the search driver calls this

    for key, value in flat.items():
        if not isinstance(value, (int, float, str, bool)) and not hasattr(value, "item"):  # numpy scalars pass
            raise ValueError(
                f"`{key}` must be a number, string or bool, but got {value!r} ({type(value).__name__}) in {source}"
            )
    objective = flat.get("objective", PretrainConfig.objective)
    objective_config = lookup(OBJECTIVE_CONFIGS, objective, "objective")
    top_names = _names(PretrainConfig) - {"model", "objective_config"}
    model_names = _names(ModelConfig)
    objective_names = _names(objective_config)
    top, model, objective_params = {}, {}, {}
    for key, value in flat.items():
        if key in top_names:
            top[key] = value
        elif key in model_names:
            model[key] = value
        elif key in objective_names:
            objective_params[key] = value
        else:
            known = sorted(top_names | model_names | objective_names)
            raise ValueError(f"unknown key {key!r} in {source} for objective {objective!r}; known keys: {known}")
    try:
        return PretrainConfig(
            **_coerce(PretrainConfig, top),
            model=ModelConfig(**_coerce(ModelConfig, model)),
            objective_config=objective_config(**_coerce(objective_config, objective_params)),
        )
    except (TypeError, ValueError) as error:
        raise ValueError(f"{error} in {source}") from None


def effective_config(config: PretrainConfig) -> PretrainConfig:
    """Apply --smoke-test: the tiny model and a handful of steps."""
    if not config.smoke_test:
        return config
    return dataclasses.replace(config, model=SMOKE_MODEL, max_steps=min(config.max_steps, SMOKE_MAX_STEPS))


def smoke_conflicts(given: dict[str, Any]) -> list[str]:
    """The settings in `given` that --smoke-test would replace (a model field that differs from the
    tiny model's, max_steps above its cap), as 'name=given (smoke test: used)'."""
    model = dataclasses.asdict(SMOKE_MODEL)
    out = [f"{k}={v!r} (--smoke-test uses {model[k]!r})" for k, v in given.items() if k in model and v != model[k]]
    steps = given.get("max_steps")
    if isinstance(steps, (int, float)) and steps > SMOKE_MAX_STEPS:
        out.append(f"max_steps={steps!r} (--smoke-test runs at most {SMOKE_MAX_STEPS})")
    return out


def _absolute_path(value: str) -> str:
    return value if not value or "://" in value else str(Path(value).expanduser().resolve())


def _absolute_data_root(value: str) -> str:
    from dabs_lib.datasets.source import absolute_root  # torch-free; resolves "" as the datasets do

    return absolute_root(value)


# Config keys (PretrainConfig and trial settings) that hold a local path, and how each is made
# absolute. Ray runs every trial in its own working folder, so a relative path (the README's
# `--set data_root=data`, the default ./data) must be resolved in the driver, before trials start.
PATH_KEYS = {"data_root": _absolute_data_root, "checkpoint": _absolute_path}


def absolute_paths(flat: dict[str, Any]) -> dict[str, Any]:
    """`flat` with every path key made absolute against the current folder. A real domain's
    data root is filled in even when not given ($DABS_DATA_ROOT, else ./data, as its loader reads it)."""
    from dabs_lib.datasets import REAL_DOMAINS

    out = dict(flat)
    if out.get("domain") in REAL_DOMAINS:
        out.setdefault("data_root", "")
    for key, absolute in PATH_KEYS.items():
        if isinstance(out.get(key), str):
            out[key] = absolute(out[key])
    return out
