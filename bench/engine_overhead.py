"""Engine overhead: the same trial configs run (a) by `run_search.py search` (one Tune run,
MultiStudySearcher, per-study scheduler, journal) and (b) by one plain `ray.tune.Tuner` over the
same trainable with Tune's default searcher and FIFO; total wall time of each, from command to
exit, side by side in one invocation. With --quickstart, also the quickstart end to end.

    python bench/engine_overhead.py [--samples 3] [--repeats 1] [--quickstart]

(a) searches 2 domains x 2 objectives (FIFO, so no trial is stopped early and both run the
same work); (b) then replays exactly the configs (a) ran, read back from its params.json files.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = [
    "--domain",
    "digits,tabular",
    "--objective",
    "emix,shed",
    "--scheduler",
    "fifo",
    "--no-baseline",
    "--smoke-test",
    "--set",
    "max_steps=4",
    "--set",
    "eval_every=2",
    "--max-concurrent",
    "2",
    "--num-cpus",
    "2",
]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.perf_counter() - start


def engine(samples: int, storage: Path, name: str) -> float:
    return timed(
        [
            sys.executable,
            str(ROOT / "run_search.py"),
            "search",
            *ARGS,
            "--num-samples",
            str(samples),
            "--storage-path",
            str(storage),
            "--name",
            name,
        ]
    )


def plain(configs: Path, storage: Path, name: str) -> float:
    return timed(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--plain",
            str(configs),
            "--storage",
            str(storage),
            "--name",
            name,
        ]
    )


def replay(config: dict) -> None:
    """The search's trainable on one recorded config (grid_search cannot hold the flat dicts)."""
    from trainables.pretrain_transfer import pretrain_transfer

    pretrain_transfer(config["recorded"])


def run_plain(configs_file: str, storage: str, name: str) -> None:
    """(b): one plain Tuner, the same trainable, resources, reuse, concurrency, checkpoints."""
    from ray import tune

    from trainables.cluster import ray_session

    configs = json.loads(Path(configs_file).read_text())
    with ray_session("", 2):
        tune.Tuner(
            tune.with_resources(replay, {"cpu": 1, "gpu": 0}),
            param_space={"recorded": tune.grid_search(configs)},
            tune_config=tune.TuneConfig(max_concurrent_trials=2, reuse_actors=True),
            run_config=tune.RunConfig(
                name=name,
                storage_path=storage,
                verbose=0,
                checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
                sync_config=tune.SyncConfig(sync_artifacts=True),
                failure_config=tune.FailureConfig(max_failures=1),
            ),
        ).fit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=3, help="trials per study (4 studies)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--quickstart", action="store_true")
    parser.add_argument("--plain", help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain:
        return run_plain(args.plain, args.storage, args.name)
    load = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.repeats):
            storage = Path(tmp) / f"r{index}"
            a = engine(args.samples, storage, "engine")
            configs = [
                json.loads(p.read_text()) for p in sorted((storage / "engine").glob("*_*_[0-9][0-9][0-9]/params.json"))
            ]
            (storage / "configs.json").write_text(json.dumps(configs))
            b = plain(storage / "configs.json", storage, "plain")
            rows.append((len(configs), a, b))
        quick = (
            timed([sys.executable, str(ROOT / "run_search.py"), "--storage-path", str(Path(tmp) / "quick")])
            if args.quickstart
            else None
        )
    print(
        f"{os.cpu_count()} cores; load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, "
        f"after: {os.getloadavg()[0]:.1f}\n"
    )
    print("| repeat | trials | (a) run_search.py search (s) | (b) plain Tuner (s) | a / b |")
    print("|---|---|---|---|---|")
    for index, (trials, a, b) in enumerate(rows):
        print(f"| {index} | {trials} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
    if quick is not None:
        print(f"\nquickstart (`python run_search.py`), command to report: {quick:.0f} s")


if __name__ == "__main__":
    main()
