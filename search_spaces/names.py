"""Which flat names a search space may set, and the Python type each one must take.

A name is either a field of dabs_lib's typed config (PretrainConfig, ModelConfig, the
objective's own Config) or a trial-level key that only the trainable reads. The same
spelling is used in YAML, Tune configs, CLI flags and exported columns.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from dataclasses import MISSING, fields
from typing import Any

from dabs_lib.config import PretrainConfig
from dabs_lib.model_config import ModelConfig
from dabs_lib.registry import lookup
from dabs_lib.experiment import TrialSettings

# Keys the trainable reads and dabs_lib never sees (it strips them before config_from_dict);
# dabs_lib.experiment.TrialSettings is their one typed definition.
TRIAL_KEYS: dict[str, type] = {
    f.name: {"int": int, "float": float, "str": str, "bool": bool}[
        f.type if isinstance(f.type, str) else f.type.__name__
    ]
    for f in fields(TrialSettings)
}

# Chosen by load_space's arguments, never by a file: a space belongs to one pair.
RESERVED_KEYS = ("objective", "domain")

# The linear probe's L2 path: model selection on validation inside every evaluation, not a
# pretraining hyperparameter. dabs_lib.probe_path owns its (wide) default; a
# space may fix these keys but never search them (a searched bound only adds noise).
PROBE_PATH_KEYS = ("l2_min", "l2_max", "l2_steps")

_NESTED = ("model", "objective_config")  # PretrainConfig fields that hold sub-configs
_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


def _field_types(cls: type[Any], skip: Collection[str] = ()) -> dict[str, type | None]:
    """name -> int/float/str/bool from the dataclass annotations (None when not a scalar)."""
    out = {}
    for f in fields(cls):
        if f.name not in skip:
            kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
            out[f.name] = _TYPES.get(kind)
    return out


def objective_config_class(objective: str) -> type[Any]:
    """The objective's typed Config (raises KeyError with the registry's message); no torch."""
    from dabs_lib.objective_configs import OBJECTIVE_CONFIGS

    return lookup(OBJECTIVE_CONFIGS, objective, "objective")


def known_names(objective: str) -> dict[str, type | None]:
    """Every name a space for `objective` may set, with the type its value must have."""
    names = _field_types(PretrainConfig, skip=_NESTED)
    names.update(_field_types(ModelConfig))
    names.update(_field_types(objective_config_class(objective)))
    names.update(TRIAL_KEYS)
    return names


def dabs_default(objective: str, name: str) -> Any:
    """The dataclass default of a dabs_lib field (the untuned DABS setting), or MISSING."""
    for cls in (PretrainConfig, ModelConfig, objective_config_class(objective)):
        for f in fields(cls):
            if f.name == name and f.name not in _NESTED:
                return f.default
    return MISSING


def suggest(name: str, known: Collection[str]) -> str:
    """' (did you mean 'lr'?)' when a known name is close, else the sorted known names."""
    close = difflib.get_close_matches(name, list(known), n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; known names: {sorted(known)}"
