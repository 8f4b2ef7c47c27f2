"""What every trainable reports: the encoder's size and the final test scores of its domain.

Shared by `pretrain_transfer` (random init) and its Lightning reporter, so neither imports the other.
"""

from __future__ import annotations

from dabs_lib.config import PretrainConfig
from dabs_lib.domains import get_domain
from dabs_lib.experiment import TEST_PREFIX, VAL_PREFIX
from dabs_lib.transfer import ProbeProtocol, evaluate_domain
from dabs_lib.encoder import Encoder


def parameter_count(encoder: Encoder) -> int:
    return sum(p.numel() for p in encoder.parameters())


def final_scores(encoder: Encoder, config: PretrainConfig, protocol: ProbeProtocol) -> dict[str, float]:
    """`test/<task>` and `val/<task>` for every task of the domain (plus domain averages)."""
    domain = get_domain(config.domain, seed=config.data_seed, data_root=config.data_root, smoke=config.smoke_test)
    table = evaluate_domain(encoder, domain, protocol, cache_dir=None)  # in memory: weights change
    scores = {}
    for row in table.to_dict("records"):
        scores[f"{TEST_PREFIX}{row['task']}"] = float(row["test_score"])
        scores[f"{VAL_PREFIX}{row['task']}"] = float(row["val_score"])
    return scores
