"""Pieces of bench/engine_scale.py: the light trial, the simulated cluster, and the driver-side clocks.

The light trial stands in for `pretrain_transfer` only: its work is a controlled wait and
`max_steps / eval_every` reports (the last `final`), its score a smooth function of the
searched numbers (so TPE has something to model). It imports neither torch nor Lightning, so a
worker costs what Ray's own worker costs and only the engine's cost is left to measure.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import optuna
from ray import tune

from dabs_lib.experiment import FINAL, METRIC, SECONDS, STEP

WAIT_ENV = "DABS_BENCH_WAIT_S"  # the light trial's wait per report (workers inherit it from the raylets)


ATTEMPTS = 5  # cluster starts; a loaded 2-core machine misses Ray's fixed 30 s raylet registration


def light_trial(config: dict[str, Any]) -> None:
    """`reports` reports, `wait_s` apart; the score peaks where every searched number is mid-range."""
    reports = max(1, math.ceil(float(config.get("max_steps", 3)) / max(1.0, float(config.get("eval_every", 1)))))
    wait = float(os.environ.get(WAIT_ENV, "0"))
    numbers = [float(v) for _, v in sorted(config.items()) if isinstance(v, float)]
    score = 1.0 / (1.0 + sum(math.log1p(abs(v)) for v in numbers))
    start = time.perf_counter()
    for step in range(1, reports + 1):
        time.sleep(wait)
        tune.report(
            {METRIC: score * step / reports, STEP: step, SECONDS: time.perf_counter() - start, FINAL: step == reports}
        )


class Clock:
    """CPU seconds of the calling thread in every call to a method, patched on its class in this (the
    driver's) process: thread time, so neither other processes on a shared machine nor the driver's
    other threads count."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}

    def wrap(self, owner: type, name: str) -> None:
        original: Callable[..., Any] = getattr(owner, name)
        times = self.seconds.setdefault(name, [])

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                times.append(time.thread_time() - start)

        setattr(owner, name, timed)

    def percentiles_ms(self, name: str) -> tuple[float, float]:
        """(p50, p99) in ms of one method's calls, NaN when it was never called."""
        times = sorted(self.seconds.get(name, []))
        if not times:
            return float("nan"), float("nan")
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        return 1000 * statistics.median(times), 1000 * p99


def optuna_clock() -> Clock:
    """Times optuna.Study.ask and .tell, which both engines call (ours per study, OptunaSearch on one)."""
    clock = Clock()
    clock.wrap(optuna.Study, "ask")
    clock.wrap(optuna.Study, "tell")
    return clock


def peak_rss_mb() -> float:
    """This process's resident high-water mark (VmHWM) in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulated_cluster(nodes: int, cpus_per_node: int, gpus_per_node: int):
    """A ray.cluster_utils.Cluster of `nodes` raylets on this machine, each declaring CPUs and GPUs."""
    from ray.cluster_utils import Cluster

    for attempt in range(ATTEMPTS):  # Ray gives a raylet a fixed 30 s to register: a busy machine may miss it
        cluster = Cluster()
        try:
            for _ in range(nodes):
                cluster.add_node(num_cpus=cpus_per_node, num_gpus=gpus_per_node, include_dashboard=False)
            cluster.wait_for_nodes()
            return cluster
        except Exception:
            cluster.shutdown()
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(10 * (attempt + 1))  # let the machine's load pass
    raise AssertionError("unreachable")
