"""evaluate_domain: every transfer task of a domain as one tidy table.

One row per task (shots = 0: the full training split), one per few-shot size when the
protocol asks for few-shot (task "<task>@<n>shot", so a dict keyed by task never mixes them
up; test_score = mean over draws, test_std = their spread, l2 = median chosen strength), and
one per entry of `domain.averages` (mean of its tasks' full-shot scores).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from dabs_lib.checkpoints import encoder_fingerprint
from dabs_lib.domains.base import Domain
from dabs_lib.encoder import Encoder
from dabs_lib.transfer.cache import DEFAULT_CACHE_DIR, FeatureCache
from dabs_lib.transfer.evaluate import as_encoder, evaluate_transfer
from dabs_lib.transfer.protocol import ProbeProtocol, TransferResult
from typing import Any

COLUMNS = (
    "domain",
    "task",
    "metric",
    "higher_is_better",
    "val_score",
    "test_score",
    "l2",
    "seconds",
    "cache_hit",
    "kind",
    "shots",
    "test_std",
)
SPLITS = ("val", "test")


def _rows(domain: str, result: TransferResult) -> list[dict[str, Any]]:
    base = {
        "domain": domain,
        "task": result.task,
        "metric": result.metric,
        "higher_is_better": result.higher_is_better,
        "cache_hit": result.cache_hit,
        "kind": result.kind,
    }
    rows = [
        {
            **base,
            "val_score": result.val_score,
            "test_score": result.score,
            "l2": result.l2,
            "seconds": result.seconds,
            "shots": 0,
            "test_std": float("nan"),
        }
    ]
    for few in result.fewshot:
        rows.append(
            {
                **base,
                "task": f"{result.task}@{few.shots}shot",
                "val_score": float("nan"),
                "test_score": few.mean,
                "l2": float(np.median(few.l2s)),
                "seconds": float("nan"),
                "shots": few.shots,
                "test_std": few.std,
            }
        )
    return rows


def _average_rows(domain: Domain, table: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    full = table[table["shots"] == 0].set_index("task")
    for name, members in domain.averages.items():
        missing = [m for m in members if m not in full.index]
        if missing:
            raise ValueError(f"domain {domain.name!r}: average {name!r} names tasks {missing} that were not evaluated")
        part = full.loc[list(members)]
        metrics = sorted(set(part["metric"]))
        rows.append(
            {
                "domain": domain.name,
                "task": name,
                "metric": metrics[0] if len(metrics) == 1 else "mean",
                "higher_is_better": bool(part["higher_is_better"].all()),
                "val_score": part["val_score"].mean(),
                "test_score": part["test_score"].mean(),
                "l2": float("nan"),
                "seconds": part["seconds"].sum(),
                "cache_hit": bool(part["cache_hit"].all()),
                "kind": "average",
                "shots": 0,
                "test_std": float("nan"),
            }
        )
    return rows


def evaluate_domain(
    checkpoint_or_encoder: str | os.PathLike[str] | Encoder,
    domain: Domain,
    protocol: ProbeProtocol = ProbeProtocol(),
    splits: tuple[str, ...] = ("test",),
    cache_dir: str | os.PathLike[str] | FeatureCache | None = DEFAULT_CACHE_DIR,
    tasks: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Tidy table of `domain`'s tasks (all, or `tasks`). splits: ("val",) never touches test."""
    unknown = [s for s in splits if s not in SPLITS]
    if unknown or not splits:
        raise ValueError(f"splits must be a non-empty subset of {SPLITS}, but got {splits}")
    names = tuple(domain.tasks) if tasks is None else tuple(tasks)
    missing = [n for n in names if n not in domain.tasks]
    if missing:
        raise KeyError(f"unknown task {missing[0]!r}; choose from {sorted(domain.tasks)}")
    encoder = as_encoder(checkpoint_or_encoder)
    fingerprint = encoder_fingerprint(encoder)
    rows = []
    for name in names:
        result = evaluate_transfer(
            encoder, domain.tasks[name], protocol, cache_dir, score_test="test" in splits, fingerprint=fingerprint
        )
        rows.extend(_rows(domain.name, result))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    if tasks is None and domain.averages:
        table = pd.concat([table, pd.DataFrame(_average_rows(domain, table), columns=list(COLUMNS))], ignore_index=True)
    return table
