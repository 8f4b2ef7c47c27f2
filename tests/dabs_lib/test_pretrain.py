"""pretrain(config) for every objective, the typed config, and the Lightning system's schedule."""
import math

import pytest
import torch

from dabs_lib.checkpoints import load_encoder
from dabs_lib.config import PretrainConfig, config_from_dict, effective_config
from dabs_lib.domains import get_domain
from dabs_lib.initial import initial_encoder
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.pretrain import pretrain
from dabs_lib.system import warmup_cosine


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_pretrain_smoke_every_objective(objective, tmp_path):
    config = config_from_dict({"domain": "digits", "objective": objective, "smoke_test": True, "max_steps": 3})
    result = pretrain(config, output_dir=tmp_path, logger=False)
    assert result.steps == (0 if objective == "none" else 3)
    encoder = load_encoder(result.checkpoint_path)
    assert encoder.config == result.encoder.config
    if objective != "none":
        assert math.isfinite(result.metrics["train/loss"])


@pytest.mark.parametrize("objective", ["none", "shed"])
def test_initial_encoder_is_where_pretraining_starts(objective, tmp_path):
    """The baseline trial evaluates `initial_encoder` without Lightning: it must be the very
    encoder `pretrain` builds for the same seed (and, for `none`, returns untrained)."""
    config = config_from_dict({"domain": "tabular", "objective": objective, "smoke_test": True, "max_steps": 0,
                               "seed": 3})
    built = pretrain(config, output_dir=tmp_path, logger=False).encoder.state_dict()
    initial = initial_encoder(effective_config(config), get_domain("tabular", smoke=True)).state_dict()
    assert built.keys() == initial.keys() and all(torch.equal(built[k], initial[k]) for k in built)
    other = initial_encoder(effective_config(config_from_dict({"domain": "tabular", "smoke_test": True, "seed": 4})),
                            get_domain("tabular", smoke=True)).state_dict()
    assert not all(torch.equal(other[k], initial[k]) for k in other)


def test_same_seed_same_weights(tmp_path):
    config = config_from_dict({"domain": "tabular", "objective": "shed", "smoke_test": True, "max_steps": 3})
    a = pretrain(config, output_dir=tmp_path / "a", logger=False).encoder.state_dict()
    b = pretrain(config, output_dir=tmp_path / "b", logger=False).encoder.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_config_round_trips_through_the_flat_dict():
    config = config_from_dict({"objective": "capri", "lr": 1e-3, "depth": 2, "temperature": 0.1})
    assert config_from_dict(config.to_dict()) == config
    assert isinstance(config, PretrainConfig) and config.objective_config.temperature == 0.1


def test_unknown_key_names_the_source():
    with pytest.raises(ValueError, match="unknown key 'tempreature' in my.yaml"):
        config_from_dict({"objective": "emix", "tempreature": 0.1}, source="my.yaml")


def test_ints_become_floats_where_floats_are_meant():
    assert config_from_dict({"lr": 1}).lr == 1.0 and isinstance(config_from_dict({"lr": 1}).lr, float)


def test_warmup_then_cosine():
    assert warmup_cosine(0, 10, 100) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 100) == pytest.approx(1.0)
    assert warmup_cosine(55, 10, 100) == pytest.approx(0.5)
    assert warmup_cosine(100, 10, 100) == pytest.approx(0.0)
