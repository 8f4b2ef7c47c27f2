"""L2 is chosen on validation, never on test; carved validation never overlaps test."""

import numpy as np
import torch

from dabs_lib.transfer import ProbeProtocol, evaluate_transfer
from dabs_lib.transfer.selection import carve
from tests.dabs_lib.transfer.helpers import tabular_task, tiny_encoder


def _rare_positive(x):
    return (x[:, 0] > 0.84).long()  # ~20% positives: strong L2 collapses to "always 0"


def test_chosen_l2_is_the_validation_optimum_not_the_test_optimum():
    encoder = tiny_encoder()
    task = tabular_task(n_train=300, n_val=150, label_fn=_rare_positive)
    test = task.test
    test.labels = torch.zeros_like(test.labels)  # test labels all 0: the strongest L2 is test-optimal
    protocol = ProbeProtocol()
    result = evaluate_transfer(encoder, task, protocol, cache_dir=None)
    assert result.l2 == result.l2_path[int(np.argmax(result.val_path))]
    assert result.val_score == max(result.val_path)
    # Had the test split been used for the choice, the strongest strength would have won.
    cheat = tabular_task(n_train=300, n_val=150, label_fn=_rare_positive)
    cheat.val = test
    chosen_on_test = evaluate_transfer(encoder, cheat, protocol, cache_dir=None, score_test=False)
    assert chosen_on_test.l2 == protocol.l2_max
    assert result.l2 != chosen_on_test.l2
    assert result.score < chosen_on_test.val_score  # the honest test score is lower


def test_carve_is_disjoint_deterministic_and_seeded():
    fit, val = carve(100, 0.2, seed=0)
    assert len(val) == 20 and len(fit) == 80
    assert set(fit).isdisjoint(val) and set(fit) | set(val) == set(range(100))
    np.testing.assert_array_equal(carve(100, 0.2, seed=0)[1], val)
    assert not np.array_equal(carve(100, 0.2, seed=1)[1], val)


def test_carved_validation_comes_from_train_only():
    encoder = tiny_encoder()
    task = tabular_task(n_train=200, n_val=50, n_test=60)
    protocol = ProbeProtocol(val_source="carve", val_fraction=0.25)
    result = evaluate_transfer(encoder, task, protocol, cache_dir=None)
    assert (result.n_train, result.n_val, result.n_test) == (150, 50, 60)
    task.val = None  # a task without validation split carves too
    assert evaluate_transfer(encoder, task, ProbeProtocol(val_fraction=0.25), cache_dir=None).l2 == result.l2


def test_refit_on_train_and_val_uses_both():
    encoder = tiny_encoder()
    task = tabular_task()
    one = evaluate_transfer(encoder, task, ProbeProtocol(), cache_dir=None)
    both = evaluate_transfer(encoder, task, ProbeProtocol(refit_on="train+val"), cache_dir=None)
    assert one.l2 == both.l2 and one.val_score == both.val_score  # same choice on val
    assert 0.5 < both.score <= 1.0
