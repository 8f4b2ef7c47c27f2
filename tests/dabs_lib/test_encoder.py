"""Encoder: padding never changes what the real tokens produce; shapes; config validation."""

from __future__ import annotations

import pytest
import torch

from dabs_lib.encoder import Encoder, block_parameters
from dabs_lib.model_config import ModelConfig
from dabs_lib.specs import Image2dSpec, Sequence1dSpec, TabularSpec, TokensSpec

TINY = dict(embed_dim=32, depth=2, num_heads=2, mlp_dim=64, out_dim=16)

SPEC_SETS = {
    "tokens": (TokensSpec(seq_len=12, vocab_size=20),),
    "1d": (Sequence1dSpec(seq_len=16, segment_size=4, in_channels=2),),
    "2d": (Image2dSpec(input_size=8, patch_size=4, in_channels=3),),
    "tabular": (TabularSpec(num_features=5),),
    "image+tokens": (Image2dSpec(input_size=8, patch_size=4, in_channels=3), TokensSpec(seq_len=6, vocab_size=20)),
}


def random_input(spec, batch: int):
    if spec.kind == "tokens":
        return torch.randint(1, spec.vocab_size, (batch, spec.seq_len))
    if spec.kind == "1d":
        return torch.randn(batch, spec.seq_len, spec.in_channels)
    if spec.kind == "2d":
        return torch.randn(batch, spec.in_channels, spec.input_size, spec.input_size)
    return torch.randn(batch, spec.num_features)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_trailing_padding_never_changes_the_real_tokens_output(pooling):
    torch.manual_seed(0)
    encoder = Encoder((TokensSpec(seq_len=12, vocab_size=20),), ModelConfig(pooling=pooling, **TINY)).eval()
    real = torch.randint(1, 20, (3, 5))
    outputs = []
    for total in (5, 8, 12):  # same 5 real tokens, then 0, 3 or 7 padding tokens
        ids = torch.cat([real, torch.zeros(3, total - 5, dtype=torch.long)], dim=1)
        tokens, padding_mask = encoder.embed([ids])
        assert padding_mask[:, 5:].all() and not padding_mask[:, :5].any()
        with torch.no_grad():
            outputs.append(encoder.encode(tokens, padding_mask))
    for out in outputs[1:]:
        assert torch.allclose(out.pooled, outputs[0].pooled, atol=1e-5)
        assert torch.allclose(out.tokens[:, :5], outputs[0].tokens, atol=1e-5)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_padding_values_are_never_read(pooling):
    torch.manual_seed(0)
    specs = SPEC_SETS["image+tokens"]
    encoder = Encoder(specs, ModelConfig(pooling=pooling, **TINY)).eval()
    image, ids = random_input(specs[0], 2), random_input(specs[1], 2)
    ids[:, 3:] = 0  # caption padding
    tokens, padding_mask = encoder.embed([image, ids])
    noisy = tokens.clone()
    noisy[padding_mask] = torch.randn(int(padding_mask.sum()), TINY["embed_dim"]) * 100
    with torch.no_grad():
        clean, dirty = encoder.encode(tokens, padding_mask), encoder.encode(noisy, padding_mask)
    assert torch.allclose(clean.pooled, dirty.pooled, atol=1e-5)
    real = ~padding_mask
    assert torch.allclose(clean.tokens[real], dirty.tokens[real], atol=1e-5)


@pytest.mark.parametrize("kind", SPEC_SETS)
def test_output_shapes(kind):
    specs = SPEC_SETS[kind]
    encoder = Encoder(specs, ModelConfig(**TINY))
    out = encoder([random_input(spec, 3) for spec in specs])
    length = sum(spec.num_tokens for spec in specs)
    assert out.tokens.shape == (3, length, 32)
    assert out.pooled.shape == (3, 32)
    assert encoder.project(out.pooled).shape == (3, 16)
    assert encoder.pos.shape == (1, length + 1, 32)


def test_model_config_validation():
    with pytest.raises(ValueError, match="`head_dim` must be >= 1, but got 0"):
        ModelConfig(head_dim=0)
    with pytest.raises(ValueError, match=r"`attention_dropout` must be in \[0, 1\), but got 1.5"):
        ModelConfig(attention_dropout=1.5)
    with pytest.raises(ValueError, match=r"`pooling` must be one of \['mean', 'cls'\], but got 'max'"):
        ModelConfig(pooling="max")
    assert ModelConfig().embed_dim == 256 and ModelConfig().depth == 12  # DABS defaults


def test_dabs_defaults_have_the_dabs_width_and_parameter_count():
    config = ModelConfig()
    assert (config.num_heads, config.head_dim, config.inner_dim) == (8, 64, 512)
    assert block_parameters(config) == 9_461_760  # DABS: about 9.46M in the 12 blocks
    attention = Encoder((TabularSpec(num_features=3),), ModelConfig(depth=1)).blocks[0].attn
    assert attention.qkv.weight.shape == (3 * 512, 256) and attention.qkv.bias is None
    assert attention.out.weight.shape == (256, 512)


def test_head_dim_is_independent_of_embed_dim():
    encoder = Encoder(SPEC_SETS["tabular"], ModelConfig(**{**TINY, "num_heads": 3, "head_dim": 5}))
    assert encoder.blocks[0].attn.qkv.weight.shape == (45, 32)
    assert encoder([random_input(SPEC_SETS["tabular"][0], 2)]).pooled.shape == (2, 32)


@pytest.mark.parametrize("training", [False, True])
def test_unpadded_fast_path_equals_the_masked_path(training):
    """No padding: attention without a mask (fused kernel) gives what the all-True mask gives."""
    torch.manual_seed(0)
    specs = SPEC_SETS["image+tokens"]
    encoder = Encoder(specs, ModelConfig(**TINY, dropout=0.0)).train(training)
    tokens, padding_mask = encoder.embed([random_input(spec, 4) for spec in specs])
    tokens = tokens.detach()
    assert not padding_mask.any()
    fast = encoder.encode(tokens, padding_mask)
    slow = encoder.encode(tokens, padding_mask, padded=True)  # forces the (all-True) mask
    assert torch.allclose(fast.tokens, slow.tokens, atol=1e-5)
    assert torch.allclose(fast.pooled, slow.pooled, atol=1e-5)
    fast.pooled.sum().backward()
    grad_fast = encoder.blocks[0].attn.qkv.weight.grad.clone()
    encoder.zero_grad()
    slow.pooled.sum().backward()
    assert torch.allclose(grad_fast, encoder.blocks[0].attn.qkv.weight.grad, atol=1e-5)


def test_mean_pool_cls_and_final_norm_options():
    torch.manual_seed(0)
    spec = SPEC_SETS["tokens"][0]
    ids = random_input(spec, 3)
    ids[0, 7:] = 0  # padding in one row
    base = Encoder((spec,), ModelConfig(**TINY)).eval()
    with_cls = Encoder((spec,), ModelConfig(**TINY, mean_pool_cls=True)).eval()
    with_cls.load_state_dict(base.state_dict())
    with torch.no_grad():
        tokens, padding_mask = base.embed([ids])
        x = torch.cat([base.cls.expand(3, -1, -1), tokens], 1) + base.pos
        mask = torch.cat([torch.zeros(3, 1, dtype=torch.bool), padding_mask], 1)
        for block in base.blocks:
            x = block(x, mask.logical_not()[:, None, None, :])
        x = base.norm(x)
        real = mask.logical_not().unsqueeze(-1).float()
        expected = (x * real).sum(1) / real.sum(1)  # CLS and real tokens, as DABS (minus its padding)
        assert torch.allclose(with_cls([ids]).pooled, expected, atol=1e-5)
        assert not torch.allclose(base([ids]).pooled, expected, atol=1e-3)
    no_norm = Encoder((spec,), ModelConfig(**TINY, final_norm=False))
    assert isinstance(no_norm.norm, torch.nn.Identity)
    assert not any(k.startswith("norm.") for k in no_norm.state_dict())


def test_bf16_on_cpu_takes_the_math_kernel_and_matches_fp32():
    import contextlib

    from dabs_lib.encoder import _attention_kernel

    assert isinstance(_attention_kernel(torch.zeros(1)), contextlib.nullcontext)
    assert not isinstance(_attention_kernel(torch.zeros(1, dtype=torch.bfloat16)), contextlib.nullcontext)
    torch.manual_seed(0)
    encoder = Encoder(SPEC_SETS["2d"], ModelConfig(**TINY, dropout=0.0))
    x = [random_input(SPEC_SETS["2d"][0], 4)]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = encoder(x).pooled.float()
    assert torch.allclose(low, encoder(x).pooled, atol=5e-2)
