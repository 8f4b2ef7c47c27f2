"""`tokens`: synthetic text whose classes share every word frequency and differ only in which
words occur together.

Input: TokensSpec(seq_len=32, vocab_size=65, pad_id=0). Ids 1..64 are words, 0 is padding.
Every sequence has a length drawn uniformly from 12..32 and is right-padded with 0 to 32.

Words: 8 categories ("topics") of 8 words each; which ids form a category is drawn by
`seed`. Within a category, word r (r = 0..7) has weight 1 / (r + 1), Zipf-like.

Class (`topic_pair`, 7 classes): a perfect matching of the 8 categories into 4 pairs. The 7
classes are the 7 matchings of a round-robin schedule (a 1-factorization of the complete
graph on 8 categories), so every pair of categories belongs to exactly one class; which
class gets which matching is drawn by `seed`. A sequence of class c
- picks one of its class's 4 pairs uniformly;
- walks a sticky two-state chain over the pair's two categories: the first word's category
  is either (50/50), and each next word keeps its predecessor's category with probability
  STAY (0.8), else switches; so words come in runs of one topic (mean length 1 / 0.2 = 5);
- picks each word within its category by the Zipf weights.
The chain is stationary at 50/50, so every category (and each word) has the same
probability at every position under every class: word counts carry no label (a linear
probe on them stays near chance), and since every category belongs to every class, not
even category counts do linearly. The class is in the co-occurrence: which two categories
a sequence mixes, a conjunction of word groups the encoder must first discover.

Why runs (order carries structure): with words drawn independently given the pair (the
first version), tokens were exchangeable given the class, so a shuffled sequence had the
same distribution as the original and ShED could learn nothing by construction (measured:
loss at the prior's entropy, accuracy exactly 1 - moved fraction). With runs, a word moved
by ShED's shuffle lands, about half the time, inside a run of the pair's other category:
it is detectable exactly by knowing which words share a category, the structure the class
needs. What each objective can find, in principle (tests/dabs_lib/domains/
test_tokens_structure.py checks that each signal is present in the data):
- masked prediction: a hidden word's category from its neighbours' (right with
  probability STAY, against 1/2 without order), and its pair from the rest of the sequence;
- ShED: moved words sit at category changes far more often than unmoved ones;
- Capri: which of the sequence's own words fills a masked slot: the ones of its
  neighbours' category;
- e-Mix: telling two mixed sequences apart by their pair of categories (disjoint halves of
  one sequence share their categories, two sequences of different pairs do not).

What was measured (embed 64, depth 4, 300 steps, lr 1e-3, warmup 20; training seeds 0 / 1):
random init 0.3525 / 0.2975 (chance 0.14; its random embeddings know no categories); masked
prediction 0.5225 / 0.4600; ShED at DABS's rate 0.15 0.3300 / 0.3025, with its loss at the
entropy of the moved fraction: the signal is in the data but ShED did not find the
categories it needs within that budget (its only gradient comes from the 15% moved words).

Why the class is not in word order itself: with this encoder (learned positions
initialised at std 0.02), classes that differ only in order (bigram grammars) were not
learnt within 1,000 steps even by supervised training, so no objective could show anything
within a search's budget; order here carries the categories, not the class.

Sizes (full): pretraining 2,000 sequences (train + 1,000 unlabelled extra), task
`topic_pair` (7 classes, multiclass accuracy) 1,000 train / 200 val / 400 test; balanced.
smoke: pretraining 160 (96 train + 64 extra), 32 val, 48 test.
"""

from __future__ import annotations

import numpy as np
import torch

from dabs_lib.domains.base import Domain
from dabs_lib.domains.splits import SplitSizes, balanced_labels, make_split, make_task, random_split, seeded_rng
from dabs_lib.specs import TokensSpec

SEQ_LEN = 32
MIN_LEN = 12
PAD_ID = 0
NUM_CATEGORIES = 8
WORDS_PER_CATEGORY = 8
NUM_WORDS = NUM_CATEGORIES * WORDS_PER_CATEGORY
SPEC = TokensSpec(seq_len=SEQ_LEN, vocab_size=NUM_WORDS + 1, pad_id=PAD_ID)
NUM_CLASSES = NUM_CATEGORIES - 1  # a round-robin schedule of 8 categories has 7 rounds
STAY = 0.8  # probability that a word keeps its predecessor's category (runs of 5 words on average)
FULL = SplitSizes(train=1000, val=200, test=400, extra=1000)
SMOKE = SplitSizes(train=96, val=32, test=48, extra=64)


def categories(seed: int) -> np.ndarray:
    """(NUM_CATEGORIES, WORDS_PER_CATEGORY) word ids (1..NUM_WORDS); row r = category r, most frequent first."""
    ids = seeded_rng(seed, "tokens/categories").permutation(NUM_WORDS) + 1
    return ids.reshape(NUM_CATEGORIES, WORDS_PER_CATEGORY)


def within_category() -> np.ndarray:
    """(WORDS_PER_CATEGORY,) Zipf-like probabilities of a category's words."""
    weights = 1.0 / np.arange(1, WORDS_PER_CATEGORY + 1)
    return weights / weights.sum()


def pairings(seed: int) -> np.ndarray:
    """(NUM_CLASSES, NUM_CATEGORIES // 2, 2) the category pairs of each class (circle method)."""
    others = NUM_CATEGORIES - 1
    rounds = []
    for r in range(others):  # category 7 stays put; 0..6 rotate, pairing i with -i (mod 7)
        pairs = [(r % others, NUM_CATEGORIES - 1)]
        pairs += [((r + i) % others, (r - i) % others) for i in range(1, NUM_CATEGORIES // 2)]
        rounds.append(pairs)
    order = seeded_rng(seed, "tokens/pairings").permutation(others)
    return np.array(rounds)[order]


def sticky_sides(rng: np.random.Generator, n: int) -> np.ndarray:
    """(N, SEQ_LEN) 0/1: a two-state chain that keeps its state with probability STAY."""
    first = rng.integers(2, size=(n, 1))
    switch = (rng.random((n, SEQ_LEN - 1)) >= STAY).astype(np.int64)  # (N, L-1)
    return (first + np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(switch, axis=1)], axis=1)) % 2


def category_map(seed: int) -> np.ndarray:
    """(vocab_size,) the category of each id; -1 for padding."""
    out = np.full(SPEC.vocab_size, -1, dtype=np.int64)
    for category, ids in enumerate(categories(seed)):
        out[ids] = category
    return out


def generate(labels: np.ndarray, seed: int) -> np.ndarray:
    """(N, SEQ_LEN) int64 ids for sequences of classes `labels`, right-padded with PAD_ID."""
    rng = seeded_rng(seed, "tokens/sequences")
    n = len(labels)
    pair = pairings(seed)[labels, rng.integers(NUM_CATEGORIES // 2, size=n)]  # (N, 2) categories
    side = sticky_sides(rng, n)  # which category of the pair, (N, L)
    category = np.take_along_axis(pair, side, axis=1)  # (N, L)
    rank = rng.choice(WORDS_PER_CATEGORY, size=(n, SEQ_LEN), p=within_category())  # (N, L)
    ids = categories(seed)[category, rank]  # (N, L) word ids
    lengths = rng.integers(MIN_LEN, SEQ_LEN + 1, size=n)
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
        tasks={"topic_pair": make_task("tokens", "topic_pair", "multiclass", NUM_CLASSES, inputs, labels, index)},
        supervised_task="topic_pair",
        batch_size=32 if smoke else 64,  # DABS uses 128 for text; 64 keeps 300 steps within a CPU minute
    )
