"""Warm start, leave one domain out: how much compute does a search seeded from the other
domains' finished searches need to reach the cold search's final best validation score?

    .venv/bin/python bench/warm_start.py --out bench_out/warm_start                   # the planned size
    .venv/bin/python bench/warm_start.py --smoke-test --out /tmp/warm                   # CI size

Phase 1, cold: for every (domain, search seed) one TPE + ASHA search at the domain's own model
size and budget (search_spaces/domains/<domain>.yaml), DABS default first, `--trials` full trials of
optimizer steps (bench/efficiency_trial: Ray-free ask/tell, every trial's steps recorded).
Phase 2, warm: the same search for each domain T, seeded as `search --warm-start` seeds a study
(trainables.warm_start: the DABS default, then the WARM_TOP best configurations of every other
domain's cold search with the same seed; configurations only, never scores).
Compute to reach = the search's cumulative optimizer steps when a completed trial first scores at
least the cold search's final best validation score; ratio = warm / cold. Goal (issue 25): at
most 1/3 on at least 4 of 6 domains. A warm search that never reaches it counts as its whole budget
(`reached: false`), a lower bound on its true ratio.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EMBEDDED = "digits,tabular,sensor,tokens,speech,captions"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domains", default=EMBEDDED)
    parser.add_argument("--objective", default="mae")
    parser.add_argument("--trials", type=float, default=16, help="budget per search, in full trials of steps")
    parser.add_argument("--search-seeds", type=int, default=3)
    parser.add_argument("--method", default="tpe_asha", help="a key of bench.efficiency_trial.METHODS")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override the domains' own settings (stated in the output), e.g. max_steps=200",
    )
    parser.add_argument("--workers", type=int, default=2, help="searches side by side (processes)")
    parser.add_argument("--out", default="bench_out/warm_start")
    parser.add_argument("--smoke-test", action="store_true", help="tiny domains, 2 trials, 1 seed (CI)")
    args = parser.parse_args(argv)
    if args.smoke_test:
        args.trials, args.search_seeds = 2, 1
    return args


def overrides(args: argparse.Namespace) -> dict:
    from cli.errors import parse_set

    return {**parse_set(args.set), **({"smoke_test": True} if args.smoke_test else {})}


def record_file(out: Path, phase: str, domain: str, seed: int) -> Path:
    return out / "searches" / f"{phase}-{domain}-s{seed}.json"


def run_one(payload: tuple) -> str:
    """One search (cold, or warm from `enqueue`) in a worker process, written to JSON."""
    phase, domain, seed, args_dict, enqueue = payload
    import torch

    torch.set_num_threads(1)
    from bench.warm_search import search_with
    from search_spaces import load_space

    args = argparse.Namespace(**args_dict)
    space = load_space(args.objective, domain, overrides=overrides(args))
    steps = int(space.fixed["max_steps"])
    if args.smoke_test:  # smoke trials stop at SMOKE_MAX_STEPS: the budget is counted in steps trials run
        from dabs_lib.config import SMOKE_MAX_STEPS

        steps = min(steps, SMOKE_MAX_STEPS)
    budget = int(round(args.trials * steps))
    start = time.perf_counter()
    record = search_with(space, args.method, seed, budget, enqueue)
    path = record_file(Path(args.out), phase, domain, seed)
    path.write_text(json.dumps(record.to_dict(), default=float))
    return f"{path.name}: {len(record.trials)} trials, {time.perf_counter() - start:.0f} s"


def run_phase(jobs: list[tuple], workers: int) -> None:
    if workers > 1 and len(jobs) > 1:
        with multiprocessing.get_context("spawn").Pool(workers, maxtasksperchild=4) as pool:
            for line in pool.imap_unordered(run_one, jobs):
                print(line, flush=True)
    else:
        for job in jobs:
            print(run_one(job), flush=True)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    args = parse_args(argv)
    out = Path(args.out).resolve()
    (out / "searches").mkdir(parents=True, exist_ok=True)
    args.out = str(out)
    domains = args.domains.split(",")
    started = time.time()
    for seed in range(args.search_seeds):  # seed-major: a cut-short run has whole seeds
        cold = [("cold", d, seed, vars(args), ()) for d in domains if not record_file(out, "cold", d, seed).is_file()]
        run_phase(cold, args.workers)
        from bench.warm_search import sources_for

        colds = [record_file(out, "cold", d, seed) for d in domains]  # leave one out: sources_for skips the target
        warm = [
            ("warm", d, seed, vars(args), sources_for(colds, d, args.objective, overrides(args)))
            for d in domains
            if not record_file(out, "warm", d, seed).is_file()
        ]
        run_phase(warm, args.workers)
    from bench.warm_search import write_report

    command = "python bench/warm_start.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(write_report(out, domains, args.search_seeds, command, round(time.time() - started)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
