"""Every registered plug-in satisfies the interface it is registered under (one test per entry).

Adding an objective or a domain = implement the protocol, register it; these tests then run on it.
"""

from __future__ import annotations

import dataclasses
import inspect
from importlib import import_module

import pytest
import torch

from dabs_lib.datasets import _DOMAINS
from dabs_lib.domains import DOMAINS, EMBEDDED_DOMAINS
from dabs_lib.domains.base import Domain, DomainBuilder
from dabs_lib.encoder import Encoder
from dabs_lib.experiment import REPORT_KEYS, Manifest, Study, TrialReport, TrialSettings
from dabs_lib.objectives import OBJECTIVES, Objective
from tests.dabs_lib.objectives.batches import BATCH, SPEC_SETS, TINY, default_config, make_batch

BUILDER_PARAMS = [
    (name, p.default) for name, p in inspect.signature(DomainBuilder.__call__).parameters.items() if name != "self"
]


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_class_has_the_declared_class_attributes(name: str) -> None:
    cls = OBJECTIVES[name]
    assert dataclasses.is_dataclass(cls.Config) and cls.Config.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert isinstance(cls.trains, bool) and isinstance(cls.needs_labels, bool)
    params = list(inspect.signature(cls).parameters)
    assert params[:2] == ["encoder", "config"], params
    assert inspect.signature(cls).parameters["config"].default == cls.Config()  # builds from defaults


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_every_objective_instance_satisfies_the_protocol(name: str) -> None:
    torch.manual_seed(0)
    specs = SPEC_SETS["tabular"]
    encoder = Encoder(specs, TINY)
    objective = OBJECTIVES[name](encoder, default_config(name))
    assert isinstance(objective, Objective)
    assert objective.encoder is encoder
    assert list(inspect.signature(objective.forward).parameters) == ["inputs", "labels"]
    if not OBJECTIVES[name].trains:  # the random-init baseline: its forward refuses to run, by design
        return
    inputs, labels = make_batch(specs)
    loss, metrics = objective(inputs, labels)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert all(isinstance(v, torch.Tensor) and v.numel() == 1 and not v.requires_grad for v in metrics.values())
    assert objective.pooled is None or tuple(objective.pooled.shape) == (BATCH, TINY.embed_dim)


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_every_domain_builder_has_the_declared_signature(name: str) -> None:
    signature = inspect.signature(DOMAINS[name])
    assert [(n, p.default) for n, p in signature.parameters.items()] == BUILDER_PARAMS, signature
    assert signature.return_annotation in (Domain, "Domain"), signature


@pytest.mark.parametrize("name", sorted(_DOMAINS))
def test_every_real_domain_module_builds_with_the_declared_signature(name: str) -> None:
    module, attr = _DOMAINS[name][:2]  # REAL_DOMAINS imports these lazily; check what it will call
    signature = inspect.signature(getattr(import_module(f"dabs_lib.datasets.{module}"), attr))
    assert [(n, p.default) for n, p in signature.parameters.items()] == BUILDER_PARAMS, signature


@pytest.mark.parametrize("name", sorted(EMBEDDED_DOMAINS))
def test_every_embedded_domain_builds_a_domain_by_keyword(name: str) -> None:
    domain = EMBEDDED_DOMAINS[name](seed=0, data_root="", smoke=True)
    assert isinstance(domain, Domain) and domain.name == name
    assert domain.default_task in domain.tasks


def test_the_trial_report_record_spells_the_metric_names_of_the_experiment_module() -> None:
    assert tuple(TrialReport.__annotations__) == REPORT_KEYS
    assert not TrialReport.__total__


@pytest.mark.parametrize("record", [Manifest, Study, TrialSettings])
def test_the_experiment_layout_records_are_frozen_dataclasses(record: type) -> None:
    assert dataclasses.is_dataclass(record) and record.__dataclass_params__.frozen  # type: ignore[attr-defined]
