"""The encoder's speed paths give what the plain reference path gives: the plain CPU attention
against SDPA, and a torch.compile'd training step against the eager one (loss and gradients)."""
from __future__ import annotations

import copy

import pytest
import torch

from dabs_lib.encoder import CPU_PLAIN_ATTENTION_MAX_LEN, Encoder, ModelConfig, plain_attention_fits
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


def test_plain_attention_is_chosen_only_where_it_is_exact_and_faster():
    q = torch.zeros(1, 2, 17, 8)
    assert plain_attention_fits(q, None, 0.0)
    assert not plain_attention_fits(q, torch.ones(1, 1, 1, 17, dtype=torch.bool), 0.0)  # masked: SDPA
    assert not plain_attention_fits(q, None, 0.1)  # attention dropout: SDPA
    long = torch.zeros(1, 2, CPU_PLAIN_ATTENTION_MAX_LEN + 1, 8)
    assert not plain_attention_fits(long, None, 0.0)  # fp32, long: the fused kernel is faster
    assert plain_attention_fits(long.bfloat16(), None, 0.0)


@pytest.mark.parametrize("objective", ["shed", "mae"])
def test_plain_attention_step_equals_the_sdpa_step(objective):
    """Same weights, same inputs, same corruption: loss and every gradient agree to float tolerance."""
    torch.manual_seed(0)
    plain = OBJECTIVES[objective](Encoder(SPECS, TINY)).train()
    sdpa = copy.deepcopy(plain)
    sdpa.encoder = _sdpa_only(plain.encoder)
    x = _inputs()
    torch.manual_seed(5)
    loss_plain = plain(x)[0]
    torch.manual_seed(5)
    loss_sdpa = sdpa(x)[0]
    assert torch.allclose(loss_plain, loss_sdpa, atol=1e-5)
    loss_plain.backward()
    loss_sdpa.backward()
    grads_plain, grads_sdpa = _grads(plain), _grads(sdpa)
    assert grads_plain.keys() == grads_sdpa.keys() and len(grads_plain) > 10
    for name, grad in grads_plain.items():
        assert torch.allclose(grad, grads_sdpa[name], atol=1e-5, rtol=1e-4), name


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
    eager = OBJECTIVES["shed"](Encoder(SPECS, TINY)).train()
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
