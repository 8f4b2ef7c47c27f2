"""A real two-node Ray cluster on this machine (head + one worker node, separate raylets, one CPU
each): a search joins it with `address=`, its trials land on both nodes, and a trial that no
node can hold ends in one line after the schedule timeout."""

from __future__ import annotations

import json

import pytest
import ray

from tests.trainables.helpers import tiny_request
from trainables.cluster import ClusterError, TrialDemand, ray_session
from trainables.runner import run_search
from trainables.worker import NODE_ID

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def two_nodes():
    from ray.cluster_utils import Cluster

    for attempt in range(3):  # Ray gives a raylet 30 s (fixed) to register: a busy machine may miss it
        cluster = Cluster()
        try:
            cluster.add_node(num_cpus=1)  # the head
            cluster.add_node(num_cpus=1)
            cluster.wait_for_nodes()
            break
        except Exception:
            cluster.shutdown()
            if attempt == 2:
                raise
    yield cluster
    cluster.shutdown()  # stops exactly the processes this cluster started


def test_trials_run_on_both_nodes(two_nodes, tmp_path):
    request = tiny_request(
        tmp_path, num_samples=2, max_concurrent=2, scheduler="fifo", overrides={"max_steps": 2, "eval_every": 1}
    )
    run_search(request, address=two_nodes.address)
    assert not ray.is_initialized()  # the driver disconnected; the cluster itself stays up
    nodes = {node.node_id for node in two_nodes.list_all_nodes()}
    assert len(nodes) == 2
    seen = set()
    for params in (tmp_path / "exp").rglob("params.json"):  # shared local storage: every trial's folder
        rows = [json.loads(line) for line in (params.parent / "result.json").read_text().splitlines()]
        assert rows and rows[-1].get("final"), params.parent
        seen |= {row[NODE_ID] for row in rows}
    assert seen == nodes, (seen, nodes)


def test_a_trial_no_node_can_hold_ends_in_one_line(two_nodes):
    # 2 CPUs exist in the cluster, but one trial must fit on one node, and each node has 1.
    with pytest.raises(
        ClusterError,
        match=r"no node could start one trial \(--cpus-per-trial 2 --gpus-per-trial 0\) "
        r"within 3 s; the largest node has 1 CPUs and 0 GPUs",
    ):
        with ray_session(address=two_nodes.address, demand=TrialDemand(cpus=2), schedule_timeout_s=3):
            pytest.fail("the session must not start")
    assert not ray.is_initialized()
    with ray_session(address=two_nodes.address, demand=TrialDemand(cpus=1)):  # the cluster is unharmed
        assert ray.cluster_resources()["CPU"] == 2


def test_the_schedule_timeout_flag_reaches_the_cluster_and_nothing_is_left_behind(two_nodes, tmp_path, capsys):
    import time

    import run_search

    start = time.monotonic()
    code = run_search.main(
        [
            "search",
            "--address",
            two_nodes.address,
            "--cpus-per-trial",
            "2",
            "--schedule-timeout",
            "2",
            "--storage-path",
            str(tmp_path),
            "--name",
            "x",
            "--smoke-test",
        ]
    )
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and "no node could start one trial" in lines[0], lines
    assert "within 2 s" in lines[0] and "--schedule-timeout SECONDS" in lines[0]
    assert time.monotonic() - start < 60  # not the 120 s default
    assert not any(tmp_path.iterdir()), "a refused search leaves no experiment folder"
    assert not ray.is_initialized()
