"""Aggregate training throughput of 1, 2, 4 trials packed on one device (bench/throughput.py --packed).

Each trial is its own process (as Ray runs trials with --gpus-per-trial 1, 0.5, 0.25), all
start timing together at a barrier, and aggregate samples/s = trials x steps x batch /
the slowest trial's wall time. On a CPU the cores are split between the trials.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def _trial(rank, trials, objective, input_name, smoke, model, device, steps, barrier, results, precision):
    sys.path[:0] = [str(HERE.parent), str(HERE)]
    from bench_steps import INPUTS, SMOKE_INPUTS, StepRunner

    if device.type == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // trials))
    specs, batch = (SMOKE_INPUTS if smoke else INPUTS)[input_name]
    runner = StepRunner(objective, specs, model, batch, device, reference=False, seed=rank, precision=precision)
    runner.ours_once()  # warm-up
    barrier.wait()
    start = time.perf_counter()
    for _ in range(steps):
        runner.ours_once()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    results.put((time.perf_counter() - start, steps * batch))


def packed_rows(args, model, device: torch.device) -> list[dict]:
    context = mp.get_context("spawn")
    rows = []
    input_name, objective = args.inputs[0], args.objectives[0]
    steps = max(2, args.pairs)
    for trials in args.packed:
        barrier, results = context.Barrier(trials), context.Queue()
        procs = [
            context.Process(
                target=_trial,
                args=(
                    r,
                    trials,
                    objective,
                    input_name,
                    args.smoke_test,
                    model,
                    device,
                    steps,
                    barrier,
                    results,
                    _precision(args),
                ),
            )
            for r in range(trials)
        ]
        for proc in procs:
            proc.start()
        outcomes = [results.get(timeout=3600) for _ in procs]
        for proc in procs:
            proc.join()
        wall = max(seconds for seconds, _ in outcomes)
        samples = sum(n for _, n in outcomes)
        rows.append(
            {
                "trials": trials,
                "input": input_name,
                "objective": objective,
                "steps each": steps,
                "aggregate samples/s (wall)": samples / wall,
                "per trial samples/s": samples / wall / trials,
            }
        )
        print(rows[-1], flush=True)
    return rows


def _precision(args) -> str:
    """bf16 where it was asked for (a GPU trial's precision), else the first one asked."""
    return "bf16" if "bf16" in args.precision else args.precision[0]
