"""Encoder: padding never changes what the real tokens produce; shapes; config validation."""
from __future__ import annotations

import pytest
import torch

from dabs_lib.encoder import Encoder, ModelConfig
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
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads, but got embed_dim=30, num_heads=4"):
        ModelConfig(embed_dim=30, num_heads=4)
    with pytest.raises(ValueError, match="pooling must be 'mean' or 'cls', but got pooling='max'"):
        ModelConfig(pooling="max")
    assert ModelConfig().embed_dim == 256 and ModelConfig().depth == 12  # DABS defaults
