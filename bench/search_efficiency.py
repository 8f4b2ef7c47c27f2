"""Search efficiency: does searching beat the DABS default, and how fast does each method get there?

    .venv/bin/python bench/search_efficiency.py --out bench_out/efficiency          # the measured size
    .venv/bin/python bench/search_efficiency.py --smoke-test --out /tmp/eff               # CI size (seconds)

For every (domain, objective, method, search seed) it runs one search at an equal budget of
optimizer steps (`--budget-trials` x `--max-steps`; every trial's steps and wall seconds are
recorded), through an Optuna ask/tell loop over Ray-free `dabs_lib.pretrain` + the project's
validation probe (bench/efficiency_trial.py says why not through Tune). Methods: `default`
(the DABS default alone), `random`, `tpe`, `tpe_asha` (TPE + Optuna's asynchronous successive
halving), `gp`; every search evaluates the default first, as the product's searches do.
Trial seed = search seed, so search seeds are independent replicates.

Then the best trial (by validation score) of every search at each budget checkpoint, the
default config and the random-init encoder are re-run with `--fresh-seeds` new seeds through
the `--seeds` path of the report (analysis.seeds.run_seeds: a private Ray, the search's own
trainable), and bench/efficiency_report.py writes the table, the plot and the goals.
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

from bench.efficiency_common import ALL_METHODS, TINY_MODEL  # noqa: E402 (after the sys.path line)

WARM = "tpe_asha_warm"  # TPE + ASHA seeded (bench/warm_search.py) from the other domains' tpe_asha searches, same seed
WARM_FULL = "tpe_asha_warm_full"  # the same, its enqueued configurations exempt from ASHA (run to their full budget)
WARM_METHODS = (WARM, WARM_FULL)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--domains", default="digits,tabular,sensor,tokens")
    parser.add_argument("--objectives", default="shed,mae")
    parser.add_argument("--methods", default=",".join(ALL_METHODS))
    parser.add_argument("--search-seeds", type=int, default=3, help="independent searches per method")
    parser.add_argument("--max-steps", type=int, default=90, help="optimizer steps of a full trial")
    parser.add_argument("--evals", type=int, default=3, help="probes per full trial (ASHA rungs at 1 and 3)")
    parser.add_argument("--budget-trials", type=float, default=6, help="budget per search, in full trials")
    parser.add_argument("--fresh-seeds", type=int, default=2, help="re-runs of each chosen config")
    parser.add_argument("--rerun-budgets", default="1.0", help="budget fractions whose best configs are re-run")
    parser.add_argument(
        "--rerun-via",
        choices=("ray", "local"),
        default="ray",
        help="fresh-seed re-runs through analysis.seeds (ray) or the same cells without Ray",
    )
    parser.add_argument("--workers", type=int, default=2, help="searches run side by side (processes)")
    parser.add_argument("--out", default="bench_out/efficiency")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run no new searches: re-run and report the searches already under --out",
    )
    parser.add_argument("--smoke-test", action="store_true", help="tiny domains and budgets, 1 seed (CI)")
    parser.add_argument(
        "--own-size",
        action="store_true",
        help="each domain's own encoder and budget (search_spaces/domains/<domain>.yaml): the budget "
        "is --budget-trials x its max_steps; --max-steps and --evals are ignored",
    )
    args = parser.parse_args(argv)
    if args.smoke_test:
        args.search_seeds, args.max_steps, args.evals, args.budget_trials, args.fresh_seeds = 1, 4, 2, 2, 1
    if args.max_steps % args.evals:
        parser.error(f"--max-steps must divide by --evals, but got {args.max_steps} and {args.evals}")
    return args


def bench_overrides(args) -> dict:
    if getattr(args, "own_size", False):
        return {"smoke_test": True} if args.smoke_test else {}
    overrides = {**TINY_MODEL, "max_steps": args.max_steps, "eval_every": args.max_steps // args.evals}
    return {**overrides, "smoke_test": True} if args.smoke_test else overrides


def jobs(args) -> list[tuple[str, str, str, int]]:
    """Seed-major order: if the run is cut short, every method has the same seeds done."""
    return [
        (d, o, m, s)
        for s in range(args.search_seeds)
        for d in args.domains.split(",")
        for o in args.objectives.split(",")
        for m in args.methods.split(",")
    ]


def job_file(out: Path, job) -> Path:
    return out / "searches" / ("{}-{}-{}-s{}.json".format(*job))


def run_job(payload) -> str:
    """One search in a worker process; its record is written to JSON (a rerun skips it)."""
    job, overrides, budget, out, extra = payload
    import torch

    torch.set_num_threads(1)  # tiny matmuls: threads only add contention with the other worker
    from bench.efficiency_trial import SearchRecord, flat_config, run_search, run_trial
    from search_spaces import default_point, load_space

    domain, objective, method, seed = job
    space = load_space(objective, domain, overrides=overrides)
    budget = budget or int(round(extra["budget_trials"] * int(space.fixed["max_steps"])))  # 0: the domain's own
    start = time.perf_counter()
    if method in WARM_METHODS:
        from bench.warm_search import search_with, sources_for

        sources = [job_file(Path(out), (d, objective, "tpe_asha", seed)) for d in extra["domains"]]
        warm = sources_for(sources, domain, objective, overrides)
        record = search_with(space, "tpe_asha", seed, budget, warm, protect=method == WARM_FULL)
        record.method = method
    elif method == "default":
        record = SearchRecord(domain, objective, method, seed, budget)
        trial = run_trial(flat_config(space, {}, seed))
        trial.params, trial.end_steps, trial.end_seconds = default_point(space), trial.steps, trial.seconds
        record.trials.append(trial)
    else:
        record = run_search(space, method, seed, budget)
    path = job_file(Path(out), job)
    path.write_text(json.dumps(record.to_dict(), default=float))
    return f"{path.name}: {len(record.trials)} trials, {time.perf_counter() - start:.0f} s"


def run_searches(args, out: Path) -> list[dict]:
    (out / "searches").mkdir(parents=True, exist_ok=True)
    budget = 0 if args.own_size else int(round(args.budget_trials * args.max_steps))
    extra = {"budget_trials": args.budget_trials, "domains": args.domains.split(",")}
    todo = [
        (job, bench_overrides(args), budget, str(out), extra)
        for job in jobs(args)
        if not job_file(out, job).is_file() and not args.report_only
    ]
    # warm searches read the other domains' finished tpe_asha searches: they run after every other one
    for batch in ([p for p in todo if p[0][2] not in WARM_METHODS], [p for p in todo if p[0][2] in WARM_METHODS]):
        run_batch(batch, args.workers)
    return [json.loads(job_file(out, job).read_text()) for job in jobs(args) if job_file(out, job).is_file()]


def run_batch(todo: list, workers: int) -> None:
    print(f"{len(todo)} searches to run", flush=True)
    if workers > 1 and len(todo) > 1:
        with multiprocessing.get_context("spawn").Pool(workers, maxtasksperchild=8) as pool:
            for line in pool.imap_unordered(run_job, todo):
                print(line, flush=True)
    else:
        for payload in todo:
            print(run_job(payload), flush=True)


def main(argv=None) -> int:
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    args = parse_args(argv)
    out = Path(args.out).resolve()
    started = time.time()
    load = os.getloadavg()
    searches = run_searches(args, out)
    search_seconds = time.time() - started
    from bench.efficiency_rerun import rerun_best

    scores = rerun_best(searches, args, bench_overrides(args), out)
    from bench.efficiency_report import write_outputs

    run = {
        "command": "python bench/search_efficiency.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "domains": args.domains,
        "objectives": args.objectives,
        "methods": args.methods,
        "search_seeds": args.search_seeds,
        "max_steps": args.max_steps,
        "evals": args.evals,
        "budget_steps": sorted({s["budget_steps"] for s in searches}),
        "fresh_seeds": args.fresh_seeds,
        "workers": args.workers,
        "cores": os.cpu_count(),
        "smoke_test": args.smoke_test,
        "model": "each domain's own" if args.own_size else TINY_MODEL,
        "search_wall_s": round(search_seconds),
        "total_wall_s": round(time.time() - started),
        "load_at_start": [round(x, 1) for x in load],
        "load_at_end": [round(x, 1) for x in os.getloadavg()],
        "started_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime(started)),
    }
    paths = write_outputs(searches, scores, run, out)
    print("\n".join(f"wrote {p}" for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
