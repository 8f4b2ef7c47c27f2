"""The structure each objective is expected to find in `tokens` is in the data.

Checked on the real pretraining split with the objectives' own corruption functions, using
the generator's ground truth (which words share a category) as an oracle: if the oracle
cannot see a signal, no encoder can learn it. Each test also shows the signal is absent
once word order is destroyed (the exchangeable first version of the generator), which is
why ShED could learn nothing there.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dabs_lib.domains import get_domain, tokens
from dabs_lib.objectives.corruption import choose_positions, derange


@pytest.fixture(scope="module")
def ids() -> np.ndarray:
    return get_domain("tokens").pretrain.inputs[0].numpy()  # (N, L), 2,000 sequences


def exchangeable(ids: np.ndarray, seed: int = 0) -> np.ndarray:
    """Each sequence's real words in a random order: same words, order carries nothing."""
    rng = np.random.default_rng(seed)
    out = ids.copy()
    for row in out:
        n = int((row != tokens.PAD_ID).sum())
        row[:n] = rng.permutation(row[:n])
    return out


def shed_signal(ids: np.ndarray, rate: float = 0.15) -> tuple[float, float]:
    """ShED's own shuffle; then P(the oracle sees a category change next to a token | moved)
    and the same given not moved. Equal rates = nothing to detect."""
    generator = torch.Generator().manual_seed(0)
    x = torch.from_numpy(ids)
    padding = x == tokens.PAD_ID
    chosen = choose_positions(padding, rate, generator)
    shuffled, moved = derange(x.unsqueeze(-1).double(), chosen, generator)
    cat = tokens.category_map(42)[shuffled.squeeze(-1).long().numpy()]  # (N, L), -1 at padding
    left = np.pad(cat, ((0, 0), (1, 0)), constant_values=-1)[:, :-1]
    right = np.pad(cat, ((0, 0), (0, 1)), constant_values=-1)[:, 1:]
    odd = ((left >= 0) & (left != cat)) | ((right >= 0) & (right != cat))  # differs from a real neighbour
    real, moved = ~padding.numpy(), moved.numpy()
    return float(odd[moved & real].mean()), float(odd[~moved & real].mean())


def test_shed_moved_words_sit_at_category_changes(ids):
    on_moved, on_kept = shed_signal(ids)
    assert on_moved > on_kept + 0.15, (on_moved, on_kept)  # detectable from categories
    on_moved, on_kept = shed_signal(exchangeable(ids))
    assert abs(on_moved - on_kept) < 0.03, (on_moved, on_kept)  # exchangeable: nothing to detect


def neighbour_agreement(ids: np.ndarray) -> float:
    """P(a word's category equals its left neighbour's), over real neighbours."""
    cat = tokens.category_map(42)[ids]
    both = (cat[:, 1:] >= 0) & (cat[:, :-1] >= 0)
    return float((cat[:, 1:] == cat[:, :-1])[both].mean())


def test_masked_prediction_and_capri_can_read_a_hidden_words_category_from_its_neighbour(ids):
    """A masked slot's category (so which of the sequence's own words fill it, Capri's task,
    and which word it was, masked prediction's) follows from its neighbour's."""
    assert neighbour_agreement(ids) == pytest.approx(tokens.STAY, abs=0.02)
    assert neighbour_agreement(exchangeable(ids)) < 0.6  # without order: the pair's 50/50 (plus repeats)


def test_emix_can_tell_sequences_apart_by_their_pair_of_categories(ids):
    """Instance discrimination (e-Mix) is possible from categories: the first half of a
    sequence picks out its own second half among 64 others far above chance (1/64)."""
    cat = tokens.category_map(42)[ids[:640]]
    lengths = (cat >= 0).sum(1)
    hist = np.zeros((2, len(cat), tokens.NUM_CATEGORIES))
    for i, (row, n) in enumerate(zip(cat, lengths)):
        np.add.at(hist[0, i], row[: n // 2], 1)
        np.add.at(hist[1, i], row[n // 2 : n], 1)
    hits = 0
    for start in range(0, len(cat), 64):
        a = (hist[0, start : start + 64] > 0).astype(float)
        b = (hist[1, start : start + 64] > 0).astype(float)
        similarity = a @ b.T - 0.01 * np.abs(hist[0, start : start + 64, None] - hist[1, None, start : start + 64]).sum(
            -1
        )
        hits += int((similarity.argmax(1) == np.arange(len(a))).sum())
    assert hits / len(cat) > 5 / 64
