"""What each embedded domain promises beyond the shared contract."""

from __future__ import annotations

import numpy as np
import torch

from dabs_lib.domains import captions, get_domain, sensor, tokens
from dabs_lib.domains.splits import random_split, seeded_rng, stratified_split
from tests.dabs_lib.domains.helpers import row_keys


def _labels_by_row(task) -> dict[bytes, int]:
    out = {}
    for part in ("train", "val", "test"):
        split = getattr(task, part)
        for i in range(len(split)):
            out[split.inputs[0][i].numpy().tobytes()] = int(split.labels[i])
    return out


def test_digits_pretrains_on_train_images_of_classes_0_to_4_only():
    domain = get_domain("digits", smoke=True)
    all_labels = _labels_by_row(domain.tasks["all"])
    train = row_keys(domain.tasks["all"].train)
    for key in row_keys(domain.pretrain):
        assert key in train and all_labels[key] < 5
    # every train image of classes 0-4 is pretrained on
    assert sum(label < 5 for key, label in all_labels.items() if key in train) == len(domain.pretrain)


def test_digits_novel_task_is_classes_5_to_9_relabelled():
    domain = get_domain("digits", smoke=True)
    all_labels = _labels_by_row(domain.tasks["all"])
    novel = _labels_by_row(domain.tasks["novel"])
    assert novel and all(all_labels[key] == label + 5 for key, label in novel.items())
    assert len(novel) == sum(label >= 5 for label in all_labels.values())
    assert domain.default_task == "novel" and domain.tasks["novel"].num_classes == 5


def test_tabular_pretrains_on_exactly_the_task_train_rows_unlabelled():
    domain = get_domain("tabular", smoke=True)
    task = domain.tasks["diagnosis"]
    assert row_keys(domain.pretrain) == row_keys(task.train)
    assert task.kind == "binary" and task.num_classes == 1


def test_stratified_split_keeps_class_proportions_and_is_disjoint():
    labels = np.repeat([0, 1, 2], [100, 60, 40])
    index = stratified_split(labels, 0.3, 0.15, seed=5, purpose="test")
    parts = [index.train, index.val, index.test]
    assert sum(len(p) for p in parts) == len(labels)
    assert len(np.unique(np.concatenate(parts))) == len(labels)
    assert np.bincount(labels[index.test]).tolist() == [30, 18, 12]


def test_tokens_are_right_padded_with_lengths_12_to_32():
    ids = get_domain("tokens", smoke=True).pretrain.inputs[0]
    real = ids != tokens.PAD_ID
    lengths = real.sum(1)
    assert int(lengths.min()) >= tokens.MIN_LEN and int(lengths.max()) <= tokens.SEQ_LEN
    assert (lengths < tokens.SEQ_LEN).any(), "no sequence carries padding"
    assert torch.equal(real, torch.arange(tokens.SEQ_LEN)[None, :] < lengths[:, None])  # padding trails


def test_tokens_pairings_are_a_round_robin_over_disjoint_categories():
    words = tokens.categories(42)
    assert sorted(words.ravel().tolist()) == list(range(1, tokens.NUM_WORDS + 1))
    pairs = tokens.pairings(42)  # (classes, 4, 2)
    assert pairs.shape == (tokens.NUM_CLASSES, tokens.NUM_CATEGORIES // 2, 2)
    for matching in pairs:  # each class pairs up every category exactly once
        assert sorted(matching.ravel().tolist()) == list(range(tokens.NUM_CATEGORIES))
    every = [frozenset(p) for matching in pairs for p in matching.tolist()]
    assert len(set(every)) == len(every) == tokens.NUM_CATEGORIES * (tokens.NUM_CATEGORIES - 1) // 2


def test_sensor_classes_are_pairwise_separated_in_phase():
    offsets = sensor.phase_offsets(42)
    assert (offsets[:, 0] == 0).all()
    gaps = 1 - np.cos(offsets[:, None] - offsets[None]).mean(-1)
    assert gaps[~np.eye(sensor.NUM_CLASSES, dtype=bool)].min() >= sensor.MIN_SEPARATION


def test_speech_tasks_share_rows_and_every_word_is_said_by_every_speaker():
    domain = get_domain("speech")
    word, speaker = domain.tasks["word"], domain.tasks["speaker"]
    for part in ("train", "val", "test"):
        assert torch.equal(getattr(word, part).inputs[0], getattr(speaker, part).inputs[0])
    pairs = word.train.labels * speaker.num_classes + speaker.train.labels
    assert len(pairs.unique()) == word.num_classes * speaker.num_classes


def test_captions_mismatch_label_says_whether_the_caption_was_replaced():
    domain = get_domain("captions", smoke=True)
    index = random_split(captions.SMOKE, 42, "captions")
    _, own = captions.generate(captions.SMOKE.total, 42)
    for part in ("train", "val", "test"):
        split = getattr(domain.tasks["mismatched"], part)
        rows = torch.as_tensor(getattr(index, part))
        replaced = (split.inputs[1] != own[rows]).any(1)
        assert torch.equal(replaced.long(), split.labels), part
        assert int(split.labels.sum()) == len(split) // 2, part
    assert torch.equal(domain.pretrain.inputs[1], own[torch.as_tensor(index.pretrain)])  # matched pairs


def test_captions_describe_their_scene_with_known_words():
    _, own = captions.generate(64, 7)
    lengths = (own != 0).sum(1)
    assert set(lengths.tolist()) <= {3, 7, 8}
    assert (own[:, 0] == captions.WORD_ID["a"]).all()
    colour_ids = {captions.WORD_ID[c] for c in captions.COLOURS}
    assert all(int(row[1]) in colour_ids for row in own)


def test_seeded_rng_depends_on_seed_and_purpose_only():
    draw = lambda seed, purpose: seeded_rng(seed, purpose).integers(1 << 30, size=4).tolist()  # noqa: E731
    assert draw(1, "a") == draw(1, "a")
    assert draw(1, "a") != draw(1, "b") and draw(1, "a") != draw(2, "a")
