"""probe_val featurizes a fixed seeded sample of train and val; final scores use whole splits."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dabs_lib.transfer import ProbeProtocol, evaluate_transfer, probe_val
from dabs_lib.transfer.evaluate import sample_rows
from tests.dabs_lib.transfer.helpers import tabular_task, tiny_encoder


def test_sample_is_fixed_by_seed_in_original_order_and_whole_when_small():
    split = tabular_task(n_train=500).train
    a, b, other = sample_rows(split, 100, 0), sample_rows(split, 100, 0), sample_rows(split, 100, 1)
    assert len(a) == 100 and torch.equal(a.inputs[0], b.inputs[0])
    assert not torch.equal(a.inputs[0], other.inputs[0])
    rows = [int(torch.nonzero((split.inputs[0] == r).all(1))[0]) for r in a.inputs[0]]
    assert rows == sorted(rows) and a.fingerprint != split.fingerprint
    assert sample_rows(split, 0, 0) is split and sample_rows(split, 500, 0) is split


def test_search_signal_reads_the_sample_and_the_final_score_the_whole_splits():
    task = tabular_task(n_train=600, n_val=300, n_test=100)
    encoder = tiny_encoder()
    protocol = ProbeProtocol(search_rows=200)
    searched = evaluate_transfer(encoder, task, protocol, None, score_test=False, rows=protocol.search_rows)
    assert (searched.n_train, searched.n_val) == (200, 200)
    final = evaluate_transfer(encoder, task, protocol, None)
    assert (final.n_train, final.n_val, final.n_test) == (600, 300, 100)
    again = probe_val(encoder, task, protocol)
    assert again.val_score == searched.val_score and again.l2 == searched.l2  # the same rows every time
    whole = probe_val(encoder, task, dataclasses.replace(protocol, search_rows=0))
    assert whole.val_score == pytest.approx(final.val_score)


def test_search_rows_must_not_be_negative():
    with pytest.raises(ValueError, match="search_rows >= 0 must hold, but got search_rows=-1"):
        ProbeProtocol(search_rows=-1)
