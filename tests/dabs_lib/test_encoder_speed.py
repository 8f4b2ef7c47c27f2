"""The encoder's speed paths give what the slower paths give: the plain bf16 CPU attention
against SDPA, and a torch.compile'd training step against the eager one (loss and gradients)."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch

from dabs_lib.encoder import (
    CPU_PLAIN_ATTENTION_MAX_LEN,
    Encoder,
    ModelConfig,
    cpu_has_bf16_matmul,
    plain_attention,
    plain_attention_fits,
)
from dabs_lib.objectives import OBJECTIVES
from dabs_lib.specs import Image2dSpec, TokensSpec

TINY = ModelConfig(embed_dim=32, depth=2, num_heads=2, head_dim=16, mlp_dim=64, out_dim=16, dropout=0.0)
SPECS = (Image2dSpec(input_size=8, patch_size=2, in_channels=3), TokensSpec(seq_len=6, vocab_size=20))


def _inputs(batch: int = 4) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return [torch.randn(batch, 3, 8, 8, generator=g), torch.randint(1, 20, (batch, 6), generator=g)]


def _sdpa_only(encoder: Encoder) -> Encoder:
    twin = copy.deepcopy(encoder)
    for block in twin.blocks:
        block.attn.plain = False
    return twin


def _grads(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in module.named_parameters() if p.grad is not None}


def test_plain_attention_is_chosen_only_for_unmasked_bf16_on_a_cpu_with_bf16_matmuls():
    q = torch.zeros(1, 2, 17, 8, dtype=torch.bfloat16)
    assert plain_attention_fits(q, None, 0.0) == cpu_has_bf16_matmul()  # emulated bf16 GEMMs: SDPA's math kernel
    assert not plain_attention_fits(q, torch.ones(1, 1, 1, 17, dtype=torch.bool), 0.0)  # masked: SDPA
    assert not plain_attention_fits(q, None, 0.1)  # attention dropout: SDPA
    assert not plain_attention_fits(q.float(), None, 0.0)  # fp32: SDPA (plain was not faster on whole steps)


def test_plain_attention_equals_sdpa_with_its_gradients():
    """fp32, where both are exact: outputs and the gradients of q, k and v agree."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(3, 2, 9, 8, generator=g, requires_grad=True) for _ in range(3))
    grad = torch.randn(3, 2, 9, 8, generator=g)
    plain = plain_attention(q, k, v)
    plain.backward(grad)
    grads = [t.grad.clone() for t in (q, k, v)]
    for t in (q, k, v):
        t.grad = None
    sdpa = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    sdpa.backward(grad)
    assert torch.allclose(plain, sdpa, atol=1e-6)
    for mine, theirs in zip(grads, (q.grad, k.grad, v.grad)):
        assert torch.allclose(mine, theirs, atol=1e-5)


@pytest.mark.parametrize("length", [9, CPU_PLAIN_ATTENTION_MAX_LEN + 1])
def test_plain_attention_in_bf16_agrees_with_sdpa_at_every_length(length):
    """Short sequences softmax in float32, long ones in bf16 (as DABS under autocast): both stay
    within bf16 tolerance of SDPA's float32 result, outputs and the gradients of q, k and v."""
    g = torch.Generator().manual_seed(1)
    exact = [torch.randn(2, 2, length, 8, generator=g, requires_grad=True) for _ in range(3)]
    low = [t.detach().bfloat16().requires_grad_() for t in exact]
    grad = torch.randn(2, 2, length, 8, generator=g)
    want = torch.nn.functional.scaled_dot_product_attention(*exact)
    want.backward(grad)
    got = plain_attention(*low)
    assert got.dtype == torch.bfloat16
    got.backward(grad.bfloat16())
    assert torch.allclose(got.float(), want, atol=3e-2)
    for mine, theirs in zip(low, exact):
        cosine = torch.nn.functional.cosine_similarity(mine.grad.float().flatten(), theirs.grad.flatten(), dim=0)
        assert cosine > 0.99


@pytest.mark.parametrize("objective", ["shed", "mae"])
def test_bf16_step_with_plain_attention_matches_the_sdpa_step(objective):
    """bf16 autocast on a CPU, same weights, inputs and corruption: the loss agrees to bf16
    tolerance and every gradient points the same way (cosine > 0.99)."""
    torch.manual_seed(0)
    plain = OBJECTIVES[objective](Encoder(SPECS, TINY)).train()
    sdpa = copy.deepcopy(plain)
    sdpa.encoder = _sdpa_only(plain.encoder)
    x = _inputs()
    losses = []
    for model in (plain, sdpa):
        torch.manual_seed(5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = model(x)[0]
        loss.backward()
        losses.append(loss.float())
    assert torch.allclose(losses[0], losses[1], rtol=2e-2)
    grads_plain, grads_sdpa = _grads(plain), _grads(sdpa)
    assert grads_plain.keys() == grads_sdpa.keys() and len(grads_plain) > 10
    for name, grad in grads_plain.items():
        other = grads_sdpa[name]
        if grad.norm() > 1e-6:
            assert torch.nn.functional.cosine_similarity(grad.flatten(), other.flatten(), dim=0) > 0.99, name


def test_plain_attention_under_bf16_autocast_stays_near_fp32():
    torch.manual_seed(0)
    encoder = Encoder(SPECS, TINY).eval()
    x = _inputs()
    with torch.no_grad():
        exact = _sdpa_only(encoder)(x).pooled
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = encoder(x).pooled.float()
    assert torch.allclose(low, exact, atol=5e-2)
    assert not torch.equal(low, exact)  # it did run in bf16


@pytest.mark.slow
def test_compiled_training_step_equals_the_eager_step():
    """torch.compile on the blocks (as bench/throughput.py --compile on): the same loss and grads."""
    torch.manual_seed(0)
    one_block = dataclasses.replace(TINY, depth=1)  # one graph to compile: the test's cost is inductor's
    eager = OBJECTIVES["shed"](Encoder(SPECS, one_block)).train()
    compiled = copy.deepcopy(eager)
    for block in compiled.encoder.blocks:
        block.compile()
    x = _inputs()
    torch.manual_seed(3)
    loss_eager = eager(x)[0]
    torch.manual_seed(3)
    loss_compiled = compiled(x)[0]  # compiles here (inductor, C++ on a CPU)
    assert torch.allclose(loss_eager, loss_compiled, atol=1e-5)
    loss_eager.backward()
    loss_compiled.backward()
    grads_eager, grads_compiled = _grads(eager), _grads(compiled)
    assert grads_eager.keys() == grads_compiled.keys()
    for name, grad in grads_eager.items():
        assert torch.allclose(grad, grads_compiled[name], atol=1e-5, rtol=1e-4), name
