"""Fresh-seed test scores for the efficiency bench, through the report's `--seeds` path.

The configs re-run: the best completed trial (by validation score) of every search at
each re-run budget, each (domain, objective)'s DABS default and each domain's random-init
encoder. Identical configs are run once. `analysis.seeds.run_seeds` runs them as one Tune
grid (config x seed) with the search's own trainable in a private Ray; the probe runs once,
at the end of training (eval_every = max_steps: the intermediate probes would not change
the weights).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from bench.efficiency_common import FRESH_SEED_BASE, best_at

SCORE_COLUMNS = ["label", "fresh_seed", "test", "val"]


def config_key(flat: dict) -> str:
    return json.dumps({k: v for k, v in sorted(flat.items()) if k != "seed"}, default=str)


def plan(searches: list[dict], args, overrides: dict) -> tuple[dict[str, dict], list[dict]]:
    """(label -> flat config, rows naming which label scores which search x budget or level)."""
    from search_spaces import default_config, load_space

    configs: dict[str, dict] = {}
    labels: dict[str, str] = {}
    rows = []

    def add(flat: dict, **where) -> None:
        flat = {**flat, "eval_every": flat["max_steps"]}
        label = labels.setdefault(config_key(flat), f"bench.c{len(labels):04d}")
        configs[label] = flat
        rows.append({**where, "label": label})

    budgets = [float(b) for b in str(args.rerun_budgets).split(",")]
    pairs = sorted({(s["domain"], s["objective"]) for s in searches})
    for domain, objective in pairs:
        add(
            default_config(load_space(objective, domain, overrides=overrides)),
            domain=domain,
            objective=objective,
            role="default",
            method="",
            seed=-1,
            budget=1.0,
        )
    for domain in sorted({d for d, _ in pairs}):
        add(
            default_config(load_space("none", domain, overrides=overrides)),
            domain=domain,
            objective="none",
            role="random_init",
            method="",
            seed=-1,
            budget=1.0,
        )
    for search in searches:
        if search["method"] == "default":
            continue
        space = load_space(search["objective"], search["domain"], overrides=overrides)
        for fraction in budgets:
            best = best_at(search["trials"], fraction * search["budget_steps"])
            if best is not None:
                add(
                    {**default_config(space), **best["params"]},
                    domain=search["domain"],
                    objective=search["objective"],
                    role="best",
                    method=search["method"],
                    seed=search["seed"],
                    budget=fraction,
                )
    return configs, rows


def via_ray(configs: dict[str, dict], seeds: list[int], args, out: Path) -> pd.DataFrame:
    """The report's `--seeds` path itself: a private Ray, the search trainable, one Tune grid."""
    from analysis.seeds import read_seed_runs, run_seeds

    run_dirs, stopped = run_seeds(configs, seeds, out / "fresh", num_cpus=args.workers)
    if stopped:
        print(f"{stopped}; the cells that finished are kept (--rerun-via local runs them without Ray)", flush=True)
    long = read_seed_runs(run_dirs, {label: [("", "", label)] for label in configs})
    scores = long.rename(columns={"role": "label", "seed": "fresh_seed"})
    return scores[scores["task"] == _default_tasks(configs, scores)][SCORE_COLUMNS]


def _local_cell(cell) -> dict:
    import torch

    torch.set_num_threads(1)
    from bench.efficiency_trial import run_trial

    label, flat, seed = cell
    done = run_trial({**flat, "seed": seed})
    return {"label": label, "fresh_seed": seed, "test": done.test, "val": done.val}


def via_local(configs: dict[str, dict], seeds: list[int], args, out: Path) -> pd.DataFrame:
    """The same cells without Ray (pretrain, then the same probe on the test split), in the
    bench's own worker processes: on a heavily shared machine Ray's start-up can time out."""
    import multiprocessing

    cells = [(label, flat, seed) for label, flat in configs.items() for seed in seeds]
    with multiprocessing.get_context("spawn").Pool(max(1, args.workers), maxtasksperchild=16) as pool:
        rows = list(pool.imap_unordered(_local_cell, cells))
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def rerun_best(searches: list[dict], args, overrides: dict, out: Path) -> pd.DataFrame:
    """Long table: one row per (plan row, fresh seed) with the default task's test score."""
    configs, rows = plan(searches, args, overrides)
    cached = out / "fresh_scores.csv"
    if cached.is_file():
        scores = pd.read_csv(cached)
    else:
        seeds = list(range(FRESH_SEED_BASE, FRESH_SEED_BASE + args.fresh_seeds))
        print(f"re-running {len(configs)} distinct configs x {len(seeds)} fresh seeds via {args.rerun_via}", flush=True)
        scores = (via_ray if args.rerun_via == "ray" else via_local)(configs, seeds, args, out)
        scores.to_csv(cached, index=False)
    plan_rows = pd.DataFrame(rows)
    (out / "fresh_plan.csv").write_text(plan_rows.to_csv(index=False))
    return plan_rows.merge(scores, on="label", how="left")


def _default_tasks(configs: dict[str, dict], long: pd.DataFrame) -> pd.Series:
    """Per row, the default (searched) task of the row's domain."""
    from dabs_lib.domains import get_domain

    task_of = {}
    for label, flat in configs.items():
        domain = get_domain(flat["domain"], smoke=bool(flat.get("smoke_test", False)))
        task_of[label] = domain.default_task
    return long["label"].map(task_of)
