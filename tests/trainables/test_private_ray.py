"""A search's private Ray is its own, even when another Ray already runs on the machine.

Without `address="local"`, `ray.init()` looks for Ray processes already running (another
user's search, another test) and tries to join them: with `num_cpus` given it fails with
"When connecting to an existing cluster, num_cpus and num_gpus must not be provided".
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import ray

from trainables.runner import ray_session

pytestmark = pytest.mark.slow
OTHER_RAY = """
import sys, time, ray
ray.init(address="local", num_cpus=1, include_dashboard=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def test_a_private_search_ray_starts_beside_a_running_one():
    other = subprocess.Popen(
        [sys.executable, "-c", OTHER_RAY], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        other_address = other.stdout.readline().strip()
        assert other_address, "the other Ray did not start"
        with ray_session(num_cpus=1):
            ours = ray.get_runtime_context().gcs_address
            assert ours != other_address
            assert ray.cluster_resources().get("CPU") == 1
    finally:
        other.stdin.close()  # it shuts its own Ray down on exit
        deadline = time.monotonic() + 60
        while other.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        if other.poll() is None:
            other.kill()
