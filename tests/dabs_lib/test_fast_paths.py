"""Speed paths keep outputs equal: the shared online-probe feature, fused AdamW."""

from __future__ import annotations


import pytest
import torch

from dabs_lib.config import PretrainConfig
from dabs_lib.encoder import Encoder
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.system import SSLSystem, make_optimizer
from tests.dabs_lib.objectives.batches import SPEC_SETS, TINY, TRAINABLE, make_batch


@pytest.mark.parametrize("name", TRAINABLE)
def test_every_objective_leaves_its_detached_pooled_feature(name):
    torch.manual_seed(0)
    specs = SPEC_SETS["image+tokens"]
    config = OBJECTIVES[name].Config(num_classes=3) if name == "supervised" else OBJECTIVES[name].Config()
    objective = OBJECTIVES[name](Encoder(specs, TINY), config)
    inputs, labels = make_batch(specs)
    objective(inputs, labels)
    assert objective.pooled.shape == (len(labels), TINY.embed_dim) and not objective.pooled.requires_grad


def test_emix_shares_exactly_the_clean_feature_a_second_forward_would_compute():
    torch.manual_seed(0)
    specs = SPEC_SETS["2d"]
    objective = OBJECTIVES["emix"](Encoder(specs, TINY))  # TINY has dropout 0: forwards are deterministic
    inputs, _ = make_batch(specs)
    objective(inputs)
    with torch.no_grad():
        assert torch.allclose(objective.pooled, objective.encoder(inputs).pooled, atol=1e-6)


@pytest.mark.parametrize("clean_forward", [False, True])
def test_online_probe_encodes_the_batch_again_only_when_asked(clean_forward):
    torch.manual_seed(0)
    specs = SPEC_SETS["2d"]
    objective = OBJECTIVES["shed"](Encoder(specs, TINY))
    config = PretrainConfig(model=TINY, online_clean_forward=clean_forward)
    system = SSLSystem(objective, config, online_classes=3)
    calls = []
    objective.encoder.blocks[0].register_forward_hook(lambda *a: calls.append(1))
    inputs, labels = make_batch(specs)
    objective(inputs)
    loss = system._online_step(inputs, labels)
    assert len(calls) == (2 if clean_forward else 1)
    assert loss.requires_grad and torch.isfinite(loss)


def test_fused_adamw_takes_the_same_steps_as_the_loop():
    torch.manual_seed(0)
    specs = SPEC_SETS["2d"]
    inputs, _ = make_batch(specs)
    objectives = [OBJECTIVES["shed"](Encoder(specs, TINY)) for _ in range(2)]
    objectives[1].load_state_dict(objectives[0].state_dict())
    groups = lambda o: [{"params": list(o.parameters()), "lr": 1e-3, "weight_decay": 1e-4}]  # noqa: E731
    fused = make_optimizer(groups(objectives[0]))
    loop = torch.optim.AdamW(groups(objectives[1]), foreach=False)
    assert fused.defaults["fused"] and not loop.defaults["fused"]
    for step in range(3):
        for objective, optimizer in zip(objectives, (fused, loop)):
            torch.manual_seed(step)
            objective(inputs)[0].backward()
            optimizer.step()
            optimizer.zero_grad()
    for a, b in zip(objectives[0].parameters(), objectives[1].parameters()):
        assert torch.allclose(a, b, atol=1e-5)
