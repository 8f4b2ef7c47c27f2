"""Every trainable objective on every input kind: finite loss, gradients everywhere, learning."""

from __future__ import annotations

import pytest
import torch

from dabs_lib.encoder import Encoder
from dabs_lib.objectives import OBJECTIVES
from tests.dabs_lib.objectives.batches import SPEC_SETS, TINY, TRAINABLE, default_config, make_batch

STEPS = 30
EVAL_SEED = 1234  # same corruption draw before and after training, so the losses compare
EVAL_DRAWS = 4  # average a few draws: one e-Mix draw (lam, perm) is too noisy to compare


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run faster on one thread, and the test machine's cores are shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(name: str, kind: str, config=None):
    torch.manual_seed(0)
    encoder = Encoder(SPEC_SETS[kind], TINY)
    return OBJECTIVES[name](encoder, config if config is not None else default_config(name))


def loss_at(objective, inputs, labels, seed: int):
    torch.manual_seed(seed)
    return objective(inputs, labels)


def mean_loss(objective, inputs, labels) -> float:
    with torch.no_grad():
        draws = [loss_at(objective, inputs, labels, EVAL_SEED + i)[0].item() for i in range(EVAL_DRAWS)]
    return sum(draws) / EVAL_DRAWS


def grad_norm(module: torch.nn.Module) -> float:
    return sum(p.grad.abs().sum().item() for p in module.parameters() if p.grad is not None)


@pytest.mark.parametrize("kind", SPEC_SETS)
@pytest.mark.parametrize("name", TRAINABLE)
def test_loss_is_finite_and_gradients_reach_embedding_and_blocks(name, kind):
    objective = build(name, kind)
    inputs, labels = make_batch(SPEC_SETS[kind])
    loss, metrics = loss_at(objective, inputs, labels, EVAL_SEED)
    assert loss.dim() == 0 and torch.isfinite(loss)
    for key, value in metrics.items():
        assert value.dim() == 0 and not value.requires_grad and torch.isfinite(value), key
    loss.backward()
    encoder = objective.encoder
    for index, part in enumerate(encoder.embedding.parts):
        assert grad_norm(part) > 0, f"no gradient reaches the embedding of input {index}"
    for index, block in enumerate(encoder.blocks):
        assert grad_norm(block.attn) > 0 and grad_norm(block.mlp) > 0, f"no gradient in block {index}"
    assert all(torch.isfinite(p.grad).all() for p in objective.parameters() if p.grad is not None)


@pytest.mark.parametrize("kind", SPEC_SETS)
@pytest.mark.parametrize("name", TRAINABLE)
def test_loss_falls_on_a_fixed_batch(name, kind):
    objective = build(name, kind)
    inputs, labels = make_batch(SPEC_SETS[kind])
    before = mean_loss(objective, inputs, labels)
    optimizer = torch.optim.AdamW(objective.parameters(), lr=2e-3, weight_decay=1e-4)
    for step in range(STEPS):
        loss, _ = loss_at(objective, inputs, labels, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = mean_loss(objective, inputs, labels)
    assert after < 0.92 * before, f"{name} on {kind}: loss {before:.4f} -> {after:.4f}"


VARIANTS = [
    ("shed", {"head_hidden_dim": 16}),
    ("mae", {"mask_token": "learned", "loss": "mse"}),
    ("mae", {"loss": "l1", "corruption_rate": 0.5}),
    ("capri", {"normalize": True, "symmetric": True, "mask_token": "learned"}),
    ("emix", {"mix_alpha": 0.3, "temperature": 0.5}),
    ("supervised", {"num_classes": 3, "label_smoothing": 0.1}),
]


@pytest.mark.parametrize("name, fields", VARIANTS)
def test_non_default_settings_train(name, fields):
    objective = build(name, "image+tokens", OBJECTIVES[name].Config(**fields))
    inputs, labels = make_batch(SPEC_SETS["image+tokens"])
    loss, _ = loss_at(objective, inputs, labels, EVAL_SEED)
    loss.backward()
    assert torch.isfinite(loss)
    assert grad_norm(objective.encoder.blocks[0]) > 0
    if fields.get("mask_token") == "learned":
        assert objective.mask_vector.grad is not None and objective.mask_vector.grad.abs().sum() > 0


@pytest.mark.parametrize("name", TRAINABLE)
def test_bfloat16_autocast_gives_a_finite_loss(name):
    # pretraining runs bf16-mixed on GPUs; CPU autocast exercises the same dtype paths
    objective = build(name, "image+tokens")
    inputs, labels = make_batch(SPEC_SETS["image+tokens"])
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        loss, metrics = loss_at(objective, inputs, labels, EVAL_SEED)
    loss.backward()
    assert torch.isfinite(loss) and all(torch.isfinite(v) for v in metrics.values())
    assert grad_norm(objective.encoder.blocks[0]) > 0
    with torch.no_grad():
        reference = loss_at(objective, inputs, labels, EVAL_SEED)[0]
    assert torch.allclose(loss.float(), reference, rtol=0.1)
