"""`tokens`: synthetic text whose classes share every word frequency and differ only in word order.

Input: TokensSpec(seq_len=32, vocab_size=33, pad_id=0). Ids 1..32 are words, 0 is padding.
Every sequence has a length drawn uniformly from 12..32 and is right-padded with 0 to 32.

Words: 4 "parts of speech" (categories) of 8 words each; which ids form a category is drawn
by `seed`. Within a category, word r (r = 0..7) has weight 1 / (r + 1), Zipf-like, so a
few words are frequent and most are rare.

Class ("grammar", 6 classes): a directed cycle through the 4 categories; the 6 classes are
the 3! = 6 distinct directed cycles (e.g. A -> B -> C -> D -> A versus A -> C -> B -> D -> A;
a cycle and its reverse are different classes), assigned to labels by `seed`. A sequence
- starts in a uniformly drawn category;
- moves, at each step, to the next category of its class's cycle with probability
  FOLLOW = 0.7, or otherwise to a uniformly drawn category (noise, possibly the same);
- writes, at each step, a word of the current category drawn by the Zipf weights.
Each class's category chain is doubly stochastic, so every position's category is uniform
under every class and every word has the same expected count in every class: a
bag-of-words (or a mean-pooled random embedding) sees next to nothing. Only which category
follows which carries the class. Masked-token prediction and shuffled-token detection can
solve their pretext task only by learning the categories and the class's category order,
i.e. by reading the syntax of the sequence.

Sizes (full): pretraining 2,000 sequences (train + 1,000 unlabelled extra), task `grammar`
(6 classes, multiclass accuracy) 1,000 train / 200 val / 400 test. Classes are balanced.
smoke: pretraining 160 (96 train + 64 extra), 32 val, 48 test.
"""
from __future__ import annotations

import itertools

import numpy as np
import torch

from dabs_lib.domains.base import Domain
from dabs_lib.domains.splits import SplitSizes, balanced_labels, make_split, make_task, random_split, seeded_rng
from dabs_lib.specs import TokensSpec

SEQ_LEN = 32
MIN_LEN = 12
PAD_ID = 0
NUM_CATEGORIES = 4
WORDS_PER_CATEGORY = 8
NUM_WORDS = NUM_CATEGORIES * WORDS_PER_CATEGORY
SPEC = TokensSpec(seq_len=SEQ_LEN, vocab_size=NUM_WORDS + 1, pad_id=PAD_ID)
NUM_CLASSES = 6  # every directed cycle through the 4 categories: (4 - 1)! = 6
FOLLOW = 0.7  # probability that the next category is the class's next one
FULL = SplitSizes(train=1000, val=200, test=400, extra=1000)
SMOKE = SplitSizes(train=96, val=32, test=48, extra=64)


def categories(seed: int) -> np.ndarray:
    """(NUM_CATEGORIES, WORDS_PER_CATEGORY) word ids (1..NUM_WORDS), row r = category r, most frequent first."""
    ids = seeded_rng(seed, "tokens/categories").permutation(NUM_WORDS) + 1
    return ids.reshape(NUM_CATEGORIES, WORDS_PER_CATEGORY)


def within_category() -> np.ndarray:
    """(WORDS_PER_CATEGORY,) Zipf-like probabilities of a category's words."""
    weights = 1.0 / np.arange(1, WORDS_PER_CATEGORY + 1)
    return weights / weights.sum()


def successors(seed: int) -> np.ndarray:
    """(NUM_CLASSES, NUM_CATEGORIES): the category that follows each category under each class."""
    cycles = [(0, *rest) for rest in itertools.permutations(range(1, NUM_CATEGORIES))]
    order = seeded_rng(seed, "tokens/grammar").permutation(len(cycles))
    maps = np.empty((NUM_CLASSES, NUM_CATEGORIES), dtype=np.int64)
    for label, which in enumerate(order):
        cycle = np.array(cycles[which])
        maps[label, cycle] = np.roll(cycle, -1)
    return maps


def generate(labels: np.ndarray, seed: int) -> np.ndarray:
    """(N, SEQ_LEN) int64 ids for sequences of classes `labels`, right-padded with PAD_ID."""
    rng = seeded_rng(seed, "tokens/sequences")
    n = len(labels)
    maps = successors(seed)
    fresh = rng.integers(NUM_CATEGORIES, size=(n, SEQ_LEN))  # noise categories, (N, L)
    follow = rng.random((n, SEQ_LEN)) < FOLLOW  # (N, L); position 0 never follows
    rank = rng.choice(WORDS_PER_CATEGORY, size=(n, SEQ_LEN), p=within_category())  # (N, L)
    lengths = rng.integers(MIN_LEN, SEQ_LEN + 1, size=n)
    chain = np.empty((n, SEQ_LEN), dtype=np.int64)
    chain[:, 0] = fresh[:, 0]
    for t in range(1, SEQ_LEN):
        chain[:, t] = np.where(follow[:, t], maps[labels, chain[:, t - 1]], fresh[:, t])
    ids = categories(seed)[chain, rank]  # (N, L) word ids
    ids[np.arange(SEQ_LEN)[None, :] >= lengths[:, None]] = PAD_ID
    return ids


def build(seed: int = 42, data_root: str = "", smoke: bool = False) -> Domain:
    """The synthetic text domain; `data_root` is ignored."""
    sizes = SMOKE if smoke else FULL
    labels_np = balanced_labels(sizes.total, NUM_CLASSES, seeded_rng(seed, "tokens/labels"))
    inputs = (torch.from_numpy(generate(labels_np, seed)),)
    labels = torch.from_numpy(labels_np)
    index = random_split(sizes, seed, "tokens")
    return Domain(
        name="tokens",
        specs=(SPEC,),
        pretrain=make_split(inputs, None, index.pretrain, "tokens/pretrain"),
        tasks={"grammar": make_task("tokens", "grammar", "multiclass", NUM_CLASSES, inputs, labels, index)},
        supervised_task="grammar",
        batch_size=32 if smoke else 128,  # DABS's text batch size
    )
