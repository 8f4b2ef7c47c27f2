"""Embeddings: shapes per kind, and targets that line up with the tokens they produce."""

from __future__ import annotations

import pytest
import torch

from dabs_lib.embeddings import EMBEDDINGS, MultiEmbedding, build_embedding
from dabs_lib.specs import Image2dSpec, Sequence1dSpec, TabularSpec, TokensSpec

D = 8
SPECS = {
    "tokens": TokensSpec(seq_len=7, vocab_size=11),
    "1d": Sequence1dSpec(seq_len=12, segment_size=3, in_channels=2),
    "2d": Image2dSpec(input_size=6, patch_size=2, in_channels=3),
    "tabular": TabularSpec(num_features=4),
}


def sample(spec, batch: int = 2) -> torch.Tensor:
    if spec.kind == "tokens":
        ids = torch.randint(1, spec.vocab_size, (batch, spec.seq_len))
        ids[0, -2:] = spec.pad_id
        return ids
    if spec.kind == "1d":
        return torch.randn(batch, spec.seq_len, spec.in_channels)
    if spec.kind == "2d":
        return torch.randn(batch, spec.in_channels, spec.input_size, spec.input_size)
    return torch.randn(batch, spec.num_features)


def test_every_kind_has_an_embedding():
    assert set(EMBEDDINGS) == set(SPECS)


@pytest.mark.parametrize("kind", SPECS)
def test_shapes_and_padding(kind):
    spec = SPECS[kind]
    x = sample(spec)
    tokens, padding_mask = build_embedding(spec, D)(x)
    assert tokens.shape == (2, spec.num_tokens, D)
    assert padding_mask.shape == (2, spec.num_tokens) and padding_mask.dtype == torch.bool
    if kind == "tokens":
        assert torch.equal(padding_mask, x == spec.pad_id) and padding_mask[0, -2:].all()
    else:
        assert not padding_mask.any()


@pytest.mark.parametrize("kind", ["1d", "2d", "tabular"])
def test_each_token_is_the_projection_of_its_target(kind):
    embedding = build_embedding(SPECS[kind], D)
    x = sample(SPECS[kind])
    tokens, _ = embedding(x)
    targets = embedding.targets(x)
    assert targets.shape == (2, SPECS[kind].num_tokens, SPECS[kind].token_size)
    assert torch.allclose(tokens, embedding.proj(targets))


def test_image_targets_are_row_major_patches_with_their_pixels():
    spec = SPECS["2d"]
    x = torch.randn(2, spec.in_channels, spec.input_size, spec.input_size)
    targets = build_embedding(spec, D).targets(x)  # (B, 9, 2*2*3)
    p, per_row = spec.patch_size, spec.input_size // spec.patch_size
    for n in range(spec.num_tokens):
        row, col = divmod(n, per_row)
        patch = x[:, :, row * p : (row + 1) * p, col * p : (col + 1) * p]  # (B, C, p, p)
        assert torch.equal(targets[:, n], patch.permute(0, 2, 3, 1).reshape(2, -1))


def test_sequence_targets_are_consecutive_segments():
    spec = SPECS["1d"]
    x = torch.randn(2, spec.seq_len, spec.in_channels)
    targets = build_embedding(spec, D).targets(x)
    s = spec.segment_size
    for n in range(spec.num_tokens):
        assert torch.equal(targets[:, n], x[:, n * s : (n + 1) * s].reshape(2, -1))


def test_token_and_tabular_targets():
    ids = sample(SPECS["tokens"])
    assert torch.equal(build_embedding(SPECS["tokens"], D).targets(ids), ids)
    row = sample(SPECS["tabular"])
    assert torch.equal(build_embedding(SPECS["tabular"], D).targets(row)[..., 0], row)


def test_multi_embedding_concatenates_in_spec_order():
    specs = (SPECS["2d"], SPECS["tokens"], SPECS["tabular"])
    multi = MultiEmbedding(specs, D)
    inputs = [sample(spec) for spec in specs]
    tokens, padding_mask = multi(inputs)
    assert multi.segments == ((0, 9), (9, 16), (16, 20))
    assert tokens.shape == (2, 20, D) and padding_mask.shape == (2, 20)
    for part, (start, end), x in zip(multi.parts, multi.segments, inputs):
        own_tokens, own_mask = part(x)
        assert torch.equal(tokens[:, start:end], own_tokens)
        assert torch.equal(padding_mask[:, start:end], own_mask)
    targets = multi.targets(inputs)
    assert [t.shape[1] for t in targets] == [9, 7, 4]
    with pytest.raises(ValueError, match="expected 3 inputs"):
        multi(inputs[:2])
