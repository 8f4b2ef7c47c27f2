"""Split a flat Tune trial config into dabs_lib's PretrainConfig and trial-level settings."""

from __future__ import annotations

import dataclasses
from typing import Any

from dabs_lib.config import PretrainConfig, config_from_dict
from dabs_lib.experiment import TRIAL_KEYS, TrialSettings
from dabs_lib.settings_rules import check_relations


def split_trial_config(config: dict[str, Any], source: str = "trial config") -> tuple[PretrainConfig, TrialSettings]:
    trial = {k: v for k, v in config.items() if k in TRIAL_KEYS}
    rest = {k: v for k, v in config.items() if k not in TRIAL_KEYS}
    try:
        settings = TrialSettings(**{k: (v.item() if hasattr(v, "item") else v) for k, v in trial.items()})
    except ValueError as error:
        raise ValueError(f"{error} in {source}") from None
    pretrain = config_from_dict(rest, source)
    check_relations({**pretrain.to_dict(), **dataclasses.asdict(settings)}, source)
    return pretrain, settings
