"""to_tune gives samplers Ray and Optuna accept, with inclusive bounds; describe reads well."""

from __future__ import annotations

import pytest
from ray import tune
from ray.tune.search.optuna import OptunaSearch

from search_spaces import ParamSpec, SearchSpace, default_point, describe, load_space, to_tune
from search_spaces.convert import to_domain

SPECS = [
    ParamSpec("lr", "loguniform", low=1e-5, high=1e-2, doc="lr", default=1e-4),
    ParamSpec("dropout", "uniform", low=0.0, high=0.3, doc="dropout", default=0.1),
    ParamSpec("corruption_rate", "quniform", low=0.05, high=0.5, step=0.05, doc="rate", default=0.15),
    ParamSpec("depth", "int", low=1, high=3, doc="blocks", default=2),
    ParamSpec("max_steps", "int", low=200, high=600, step=100, doc="steps", default=300),
    ParamSpec("finetune_epochs", "logint", low=1, high=3, doc="epochs", default=3),
    ParamSpec("mask_token", "choice", choices=("zeros", "learned"), doc="mask", default="zeros"),
]


@pytest.mark.parametrize("spec", SPECS, ids=[s.type + ("+step" if s.step else "") for s in SPECS])
def test_tune_samples_cover_exactly_the_inclusive_range(spec):
    samples = to_domain(spec).sample(size=400, random_state=0)
    assert all(spec.contains(value) for value in samples), spec
    if spec.type in ("int", "logint") and spec.step is None:
        assert set(samples) == set(range(spec.low, spec.high + 1))  # high is reachable
    if spec.step is not None:
        assert len({round(v, 9) for v in samples}) == round((spec.high - spec.low) / spec.step) + 1
    if spec.type == "choice":
        assert set(samples) == set(spec.choices)


def test_optuna_sees_the_same_bounds():
    space = SearchSpace("emix", "digits", {"objective": "emix"}, {s.name: s for s in SPECS}, ())
    dists = OptunaSearch.convert_search_space(to_tune(space))
    assert (dists["depth"].low, dists["depth"].high, dists["depth"].step) == (1, 3, 1)
    assert (dists["max_steps"].low, dists["max_steps"].high, dists["max_steps"].step) == (200, 600, 100)
    assert (dists["finetune_epochs"].low, dists["finetune_epochs"].high, dists["finetune_epochs"].log) == (1, 3, True)
    assert dists["corruption_rate"].step == 0.05 and dists["lr"].log
    assert dists["mask_token"].choices == ("zeros", "learned")


def test_to_tune_keeps_fixed_values_constant():
    space = load_space("shed", "sensor")
    param_space = to_tune(space)
    for name, value in space.fixed.items():
        assert param_space[name] == value
    assert isinstance(param_space["lr"], tune.search.sample.Float)
    assert isinstance(param_space["warmup_steps"], tune.search.sample.Integer)
    assert isinstance(param_space["batch_size"], tune.search.sample.Categorical)
    lr = param_space["lr"].sample()
    assert space.search["lr"].low <= lr <= space.search["lr"].high


def test_default_point_is_the_dabs_configuration():
    point = default_point(load_space("capri", "digits"))
    assert point["lr"] == 1e-4 and point["weight_decay"] == 1e-4 and point["warmup_steps"] == 0
    assert point["temperature"] == 0.07 and point["corruption_rate"] == 0.15
    assert point["mask_token"] == "zeros" and point["normalize"] is False


def test_describe_lists_every_key_with_range_and_default():
    space = load_space("emix", "digits", extra_files=["model_size"])
    text = describe(space)
    lines = text.splitlines()
    assert lines[0] == "search space  objective=emix  domain=digits"
    assert "search_spaces/defaults.yaml < search_spaces/emix.yaml" in lines[1]
    row = next(line for line in lines if line.split()[:1] == ["lr"])
    assert row.split()[:5] == ["lr", "loguniform", "[1e-05,", "0.003]", "0.0001"]
    row = next(line for line in lines if line.split()[:1] == ["depth"])
    assert "[2, 12]" in row
    assert any(line.split() == ["max_steps", "600"] for line in lines)  # the domain's fixed budget
    for name in list(space.search) + list(space.fixed):
        assert any(line.split()[:1] == [name] for line in lines), name
    assert any(line.split() == ["grad_clip", "1.0"] for line in lines)
