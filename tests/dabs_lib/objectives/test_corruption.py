"""Corruption primitives: which positions, how they change, and that padding is never touched."""

from __future__ import annotations

import pytest
import torch

from dabs_lib.objectives.corruption import (
    check_rate,
    choose_positions,
    derange,
    make_mask_vector,
    mask_tokens,
    mix_tokens,
    replacement_for,
)
from dabs_lib.specs import ceil_count


def padding_for(lengths: list[int], length: int) -> torch.Tensor:
    return torch.arange(length).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)  # (B, L)


@pytest.mark.parametrize("rate", [0.05, 0.15, 0.5, 0.99])
def test_choose_positions_picks_ceil_of_real_count_and_never_padding(rate):
    lengths = [20, 13, 7, 3, 1, 0]
    padding = padding_for(lengths, 20)
    generator = torch.Generator().manual_seed(0)
    for _ in range(20):
        chosen = choose_positions(padding, rate, generator)
        assert not (chosen & padding).any()
        expected = [ceil_count(n, rate) for n in lengths]
        assert chosen.sum(1).tolist() == expected


def test_choose_positions_agrees_with_ceil_count_on_many_lengths():
    lengths = list(range(201))
    padding = padding_for(lengths, 200)
    for rate in (0.15, 0.1, 0.3, 0.07):
        assert choose_positions(padding, rate).sum(1).tolist() == [ceil_count(n, rate) for n in lengths]


def test_choose_positions_known_counts():
    chosen = choose_positions(padding_for([20, 10, 3], 20), 0.15, torch.Generator().manual_seed(1))
    assert chosen.sum(1).tolist() == [3, 2, 1]  # ceil(3.0), ceil(1.5), at least 1


def test_choose_positions_is_uniform_over_real_positions():
    padding = padding_for([10] * 4000, 14)  # 4 trailing padding positions in every row
    chosen = choose_positions(padding, 0.3, torch.Generator().manual_seed(0))
    frequency = chosen.float().mean(0)  # (L,)
    assert torch.allclose(frequency[:10], torch.full((10,), 0.3), atol=0.03)
    assert frequency[10:].sum() == 0


def test_choose_positions_follows_the_generator():
    padding = padding_for([9, 5], 9)
    a = choose_positions(padding, 0.4, torch.Generator().manual_seed(7))
    b = choose_positions(padding, 0.4, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


def distinct_tokens(b: int, length: int, d: int = 4) -> torch.Tensor:
    return torch.arange(b * length * d, dtype=torch.float).reshape(b, length, d)


def test_derange_moves_every_chosen_distinct_token_and_only_those():
    tokens = distinct_tokens(3, 10)
    chosen = choose_positions(padding_for([10, 6, 4], 10), 0.5, torch.Generator().manual_seed(0))
    shuffled, moved = derange(tokens, chosen, torch.Generator().manual_seed(0))
    assert torch.equal(moved, chosen)  # k >= 2 in every row and tokens distinct
    assert torch.equal(shuffled[~chosen], tokens[~chosen])
    for row in range(3):  # a permutation of the chosen embeddings among themselves
        before = tokens[row][chosen[row]].sum(-1).sort().values
        after = shuffled[row][chosen[row]].sum(-1).sort().values
        assert torch.equal(before, after)


def test_derange_of_identical_tokens_or_a_single_position_moves_nothing():
    tokens = torch.ones(2, 6, 4)
    tokens[1] = distinct_tokens(1, 6)[0]
    chosen = torch.zeros(2, 6, dtype=torch.bool)
    chosen[0, [0, 2, 4]] = True  # three identical embeddings swapped
    chosen[1, 3] = True  # k = 1: nowhere to move to
    shuffled, moved = derange(tokens, chosen)
    assert torch.equal(shuffled, tokens)
    assert not moved.any()


def test_derange_draws_different_cycles_and_passes_gradients():
    tokens = distinct_tokens(1, 3).requires_grad_(True)
    chosen = torch.ones(1, 3, dtype=torch.bool)
    generator = torch.Generator().manual_seed(0)
    seen = {tuple(derange(tokens, chosen, generator)[0][0, :, 0].tolist()) for _ in range(40)}
    assert len(seen) == 2  # both 3-cycles, never the identity or a transposition with a fixed point
    shuffled, _ = derange(tokens, chosen)
    (shuffled * torch.arange(3.0).view(1, 3, 1)).sum().backward()
    assert sorted(tokens.grad[0, :, 0].tolist()) == [0.0, 1.0, 2.0]


def test_mask_tokens_replaces_only_chosen_positions():
    tokens = distinct_tokens(2, 5)
    chosen = torch.tensor([[True, False, False, True, False], [False] * 5])
    replacement = torch.full((4,), -1.0)
    masked = mask_tokens(tokens, chosen, replacement)
    assert torch.equal(masked[chosen], replacement.expand(2, 4))
    assert torch.equal(masked[~chosen], tokens[~chosen])


def test_mix_tokens_weights_each_example_and_stops_the_partner_gradient():
    tokens = torch.randn(3, 4, 2, requires_grad=True)
    lam = torch.tensor([0.5, 0.75, 1.0])
    perm = torch.tensor([2, 0, 1])
    mixed = mix_tokens(tokens, lam, perm)
    expected = lam.view(3, 1, 1) * tokens + (1 - lam.view(3, 1, 1)) * tokens[perm]
    assert torch.allclose(mixed, expected)
    mixed.sum().backward()
    assert torch.allclose(tokens.grad, lam.view(3, 1, 1).expand(3, 4, 2))  # no path through e_perm


def test_mask_vector_choices():
    tokens = torch.randn(1, 2, 5)
    assert make_mask_vector("zeros", 5) is None
    assert torch.equal(replacement_for(None, tokens), torch.zeros(5))
    learned = make_mask_vector("learned", 5)
    assert learned.requires_grad and replacement_for(learned, tokens) is learned
    with pytest.raises(ValueError, match=r"mask_token must be one of \['zeros', 'learned'\], but got 'random'"):
        make_mask_vector("random", 5)


@pytest.mark.parametrize("rate", [0.0, 1.0, 1.5, -0.1])
def test_check_rate_rejects_values_outside_the_open_interval(rate):
    with pytest.raises(ValueError, match=rf"corruption_rate must be in \(0, 1\), but got {rate}"):
        check_rate("corruption_rate", rate)
