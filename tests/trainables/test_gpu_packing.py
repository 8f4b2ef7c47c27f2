"""GPU packing proven without a GPU: two simulated nodes declare 4 GPUs each; `--gpus-per-trial
0.25` runs 32 trials at once, each told its GPU ids, none oversubscribed; and a trial given a GPU
its process cannot use says so in its results (a field and a warning) instead of training on the
CPU in silence. The packing trials are light (no torch: 32 workers at once on a shared machine)."""

from __future__ import annotations

import collections
import json
import time

import pytest
from ray import tune

from dabs_lib.trial_warnings import WARNINGS
from tests.trainables.helpers import tiny_request
from tests.trainables.packed_trial import TRIALS, packed_trial
from trainables.cluster import TrialDemand, ray_session
from trainables.runner import run_search
from trainables.search import TrialResources
from trainables.worker import CUDA_VISIBLE, GPU_IDS, GPU_UNUSABLE, NODE_ID

pytestmark = pytest.mark.slow

NODES, GPUS_PER_NODE, SHARE = 2, 4, 0.25
assert int(NODES * GPUS_PER_NODE / SHARE) == TRIALS  # 32: every slot filled at once


@pytest.fixture(scope="module")
def gpu_nodes():
    from ray.cluster_utils import Cluster

    for attempt in range(ATTEMPTS):  # Ray gives a raylet 30 s (fixed) to register: a busy machine may miss it
        cluster = Cluster()
        try:
            for _ in range(NODES):  # the first is the head
                cluster.add_node(num_cpus=TRIALS // NODES, num_gpus=GPUS_PER_NODE, include_dashboard=False)
            cluster.wait_for_nodes()
            break
        except Exception:
            cluster.shutdown()
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(10 * (attempt + 1))  # let the machine's load pass
    yield cluster
    cluster.shutdown()  # stops exactly the processes this cluster started


ATTEMPTS = 5  # cluster starts; a loaded 2-core machine misses Ray's fixed 30 s raylet registration


def test_a_quarter_gpu_each_packs_32_trials_on_8_gpus_none_oversubscribed(gpu_nodes, tmp_path):
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    space = {"index": tune.grid_search(list(range(TRIALS))), "barrier": str(barrier), "timeout_s": 300}
    trainable = tune.with_resources(packed_trial, TrialResources(cpus=1, gpus=SHARE))  # the engine's resources
    with ray_session(address=gpu_nodes.address, demand=TrialDemand(cpus=1, gpus=SHARE)):
        results = tune.Tuner(
            trainable,
            param_space=space,
            run_config=tune.RunConfig(storage_path=str(tmp_path), name="packed", verbose=0),
        ).fit()
    rows = [r.metrics for r in results]
    assert len(rows) == TRIALS and not results.errors
    assert all(row["all_started"] for row in rows)  # all 32 ran at once
    per_gpu = collections.Counter((row[NODE_ID], row[GPU_IDS]) for row in rows)
    assert all("," not in gpu for _, gpu in per_gpu)  # a fraction: exactly one GPU each
    assert all(row[CUDA_VISIBLE] == row[GPU_IDS] for row in rows)  # the process sees only its GPU
    assert len(per_gpu) == NODES * GPUS_PER_NODE and set(per_gpu.values()) == {int(1 / SHARE)}  # 4 x 0.25 = 1


def test_a_trial_given_a_gpu_it_cannot_use_says_so(gpu_nodes, tmp_path):
    """A real search trial on a node that declares GPUs but has none CUDA can use (this machine)."""
    request = tiny_request(
        tmp_path,
        num_samples=1,
        max_concurrent=1,
        scheduler="fifo",
        gpus_per_trial=SHARE,
        overrides={"max_steps": 1, "eval_every": 1},
    )
    run_search(request, address=gpu_nodes.address)
    rows = [
        json.loads(line)
        for path in (tmp_path / "exp").rglob("result.json")
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert rows and all(row[GPU_IDS] and GPU_UNUSABLE in row for row in rows)
    assert "no usable CUDA device" in rows[0][GPU_UNUSABLE]
    assert rows[0][GPU_UNUSABLE] in rows[0][WARNINGS].splitlines()  # the driver prints trial warnings once
