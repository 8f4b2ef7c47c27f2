"""The packing test's trial, in a module of its own: each of its 32 Ray workers imports only
this (Ray and trainables.worker, about 2 s), not the test module (torch, the engine: 10-15 s
each on a 2-core machine)."""

from __future__ import annotations

import time
from pathlib import Path

import ray
from ray import tune

from trainables.worker import NODE_ID, assigned_gpus

TRIALS = 32  # 2 nodes x 4 GPUs / 0.25 GPU per trial: every slot filled at once


def packed_trial(config: dict) -> None:
    """Says where it runs, then waits until every trial has started (a file each): only trials
    that run at the same time can all see all TRIALS files."""
    folder = Path(config["barrier"])
    (folder / f"{config['index']}").write_text("")
    deadline = time.monotonic() + config["timeout_s"]
    while len(list(folder.iterdir())) < TRIALS and time.monotonic() < deadline:
        time.sleep(0.2)
    tune.report(
        {
            "all_started": len(list(folder.iterdir())) >= TRIALS,
            NODE_ID: ray.get_runtime_context().get_node_id(),
            **assigned_gpus(),
        }
    )
