"""Registry conformance: names, typed configs with shared field names, flags, validation."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from dabs_lib.config import config_from_dict
from dabs_lib.encoder import Encoder
from dabs_lib.objectives import OBJECTIVES
from tests.dabs_lib.objectives.batches import SPEC_SETS, TINY, default_config, make_batch

# Field names are shared with YAML search spaces and CLI flags: renaming one breaks them.
FIELDS = {
    "capri": {"corruption_rate", "temperature", "normalize", "symmetric", "mask_token"},
    "emix": {"mix_alpha", "temperature"},
    "mae": {"corruption_rate", "mask_token", "loss"},
    "none": set(),
    "shed": {"corruption_rate", "head_hidden_dim"},
    "supervised": {"num_classes", "task_kind", "label_smoothing"},
}

BAD_VALUES = [
    ("capri", "corruption_rate", 1.5, r"`corruption_rate` must be in \(0, 1\), but got 1.5"),
    ("capri", "temperature", 0.0, r"`temperature` must be > 0, but got 0.0"),
    ("capri", "mask_token", "noise", r"`mask_token` must be one of \['zeros', 'learned'\], but got 'noise'"),
    ("emix", "mix_alpha", -1.0, r"`mix_alpha` must be > 0, but got -1.0"),
    ("emix", "temperature", 0.0, r"`temperature` must be > 0"),
    ("mae", "corruption_rate", 0.0, r"`corruption_rate` must be in \(0, 1\), but got 0.0"),
    ("mae", "loss", "huber", r"`loss` must be one of \['l2', 'mse', 'l1'\], but got 'huber'"),
    ("mae", "mask_token", "random", r"`mask_token` must be one of"),
    ("shed", "corruption_rate", 1.0, r"`corruption_rate` must be in \(0, 1\), but got 1.0"),
    ("shed", "head_hidden_dim", -4, r"`head_hidden_dim` must be >= 0, but got -4"),
    ("supervised", "task_kind", "per_token", r"`task_kind` must be one of \['multiclass'"),
    ("supervised", "num_classes", -1, r"`num_classes` must be >= 0, but got -1"),
    ("supervised", "label_smoothing", 1.0, r"`label_smoothing` must be in \[0, 1\), but got 1.0"),
]


def test_registry_keys_are_the_file_names():
    assert set(OBJECTIVES) == set(FIELDS)
    for name, cls in OBJECTIVES.items():
        assert cls.__module__ == f"dabs_lib.objectives.{name}"


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_config_is_a_frozen_dataclass_with_shared_names_and_defaults(name):
    config_cls = OBJECTIVES[name].Config
    assert dataclasses.is_dataclass(config_cls) and config_cls.__dataclass_params__.frozen
    fields = dataclasses.fields(config_cls)
    assert {f.name for f in fields} == FIELDS[name]
    assert all(f.default is not dataclasses.MISSING for f in fields)
    config = config_cls()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.anything = 1


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_config_field_says_why(name):
    source = inspect.getsource(OBJECTIVES[name].Config)
    for field in dataclasses.fields(OBJECTIVES[name].Config):
        line = next(line for line in source.splitlines() if line.strip().startswith(f"{field.name}:"))
        assert "#" in line and len(line.split("#", 1)[1].strip()) > 10, line


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_flags(name):
    cls = OBJECTIVES[name]
    assert cls.trains is (name != "none")
    assert cls.needs_labels is (name == "supervised")


@pytest.mark.parametrize("name, field, value, message", BAD_VALUES)
def test_bad_values_are_rejected_with_a_clear_message(name, field, value, message):
    with pytest.raises(ValueError, match=message):
        OBJECTIVES[name].Config(**{field: value})


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_config_round_trips_through_flat_dicts(name):
    config = config_from_dict({"objective": name, **dataclasses.asdict(default_config(name))})
    assert config.objective_config == default_config(name)
    assert config_from_dict(config.to_dict()) == config


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_objective_holds_the_encoder(name):
    encoder = Encoder(SPEC_SETS["tabular"], TINY)
    objective = OBJECTIVES[name](encoder, default_config(name))
    assert objective.encoder is encoder
    assert all(any(p is q for q in objective.parameters()) for p in encoder.parameters())


def test_none_refuses_to_train():
    objective = OBJECTIVES["none"](Encoder(SPEC_SETS["tabular"], TINY), OBJECTIVES["none"].Config())
    inputs, _ = make_batch(SPEC_SETS["tabular"])
    with pytest.raises(RuntimeError, match="never trains"):
        objective(inputs)


def test_the_torch_free_settings_registry_is_the_objectives_own():
    """dabs_lib.objective_configs names every objective and holds its Config, so the search driver
    and the CLI check names and settings without importing torch: the same keys, the same classes."""
    from dabs_lib.objective_configs import OBJECTIVE_CONFIGS

    assert list(OBJECTIVE_CONFIGS) == list(OBJECTIVES)
    for name, cls in OBJECTIVES.items():
        assert cls.Config is OBJECTIVE_CONFIGS[name], name
