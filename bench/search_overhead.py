"""Search overhead: time to first trial result, per-trial overhead with and without actor
reuse, and (with --quickstart) the quickstart's total time.

    python bench/search_overhead.py --trials 6 --repeats 2 [--quickstart]

Both reuse settings run side by side in one invocation (alternating), since the machines
here are noisy; the table reports medians and the ratio. Every trial is a real
pretrain_transfer trial with the smoke model and 1 step, so what remains is overhead:
process start, imports, Ray bookkeeping, checkpointing.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^\[\s*([\d.]+)s\]")


def run_search(args: list[str], storage: Path) -> dict:
    """Run the CLI, timestamp its first trial-result line; return timings."""
    start = time.perf_counter()
    command = [sys.executable, "-u", str(ROOT / "run_search.py"), *args, "--storage-path", str(storage)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = None
    for line in process.stdout:
        if first is None and "transfer/val" in line and LINE.match(line):
            first = time.perf_counter() - start
    if process.wait() != 0:
        raise RuntimeError(f"search failed: {' '.join(command)}")
    return {"total": time.perf_counter() - start, "first_result": first}


def trial_seconds(experiment: Path) -> float:
    """What the trials themselves measured (pretraining + probes), summed."""
    total = 0.0
    for result in experiment.glob("*_*_[0-9][0-9][0-9]/result.json"):
        rows = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
        total += rows[-1]["seconds"] if rows else 0.0
    return total


def one_search(reuse: bool, trials: int, workdir: Path, index: int) -> dict:
    name = f"{'reuse' if reuse else 'fresh'}_{index}"
    args = [
        "search",
        "--domain",
        "digits",
        "--objective",
        "emix",
        "--num-samples",
        str(trials),
        "--scheduler",
        "fifo",
        "--no-baseline",
        "--smoke-test",
        "--set",
        "max_steps=1",
        "--set",
        "eval_every=1",
        "--max-concurrent",
        "1",
        "--num-cpus",
        "1",
        "--name",
        name,
    ]
    if not reuse:
        args.append("--no-reuse-actors")
    timing = run_search(args, workdir)
    work = trial_seconds(workdir / name)
    further = (timing["total"] - timing["first_result"]) / max(trials - 1, 1)  # marginal cost once running
    return dict(
        timing,
        overhead_per_trial=(timing["total"] - work) / trials,
        further_trial=further,
        further_overhead=further - work / trials,
    )  # minus what an average trial itself measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quickstart", action="store_true", help="also time the full quickstart")
    args = parser.parse_args()
    rows = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.repeats):
            for reuse in (True, False):
                rows[reuse].append(one_search(reuse, args.trials, Path(tmp), index))
        quick = run_search([], Path(tmp) / "quick")["total"] if args.quickstart else None
    med = {reuse: {k: statistics.median(r[k] for r in rows[reuse]) for k in rows[reuse][0]} for reuse in rows}
    print(
        f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores; "
        f"{args.trials} trials x {args.repeats} repeats, medians\n"
    )
    print(
        "| setting | command -> first trial result (s) | search total (s) | overhead per trial, amortized (s) "
        "| each further trial (s) | its overhead (s) |"
    )
    print("|---|---|---|---|---|---|")
    for reuse, label in ((True, "reuse_actors=True (default)"), (False, "reuse_actors=False")):
        m = med[reuse]
        print(
            f"| {label} | {m['first_result']:.1f} | {m['total']:.1f} | {m['overhead_per_trial']:.2f} "
            f"| {m['further_trial']:.1f} | {m['further_overhead']:.2f} |"
        )
    ratio = med[False]["overhead_per_trial"] / max(med[True]["overhead_per_trial"], 1e-9)
    print(f"\nper-trial overhead ratio, fresh / reused: {ratio:.1f}x")
    if quick is not None:
        print(f"quickstart total: {quick:.0f} s")


if __name__ == "__main__":
    main()
