"""Shared pieces of the warm-start benches (bench/warm_start.py, and the warm method of
bench/search_efficiency.py's planned run): a search that enqueues warm configurations, the
configurations a leave-one-domain-out search is seeded with, and compute-to-reach.
Imports only bench.efficiency_trial (never search_efficiency / efficiency_rerun / efficiency_report).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import optuna

from bench.efficiency_trial import (
    ASHA_REDUCTION,
    METHODS,
    SearchRecord,
    _ReportStep,
    distributions,
    flat_config,
    run_trial,
)
from search_spaces import SearchSpace, default_point

GOAL_RATIO, GOAL_DOMAINS = 1 / 3, 4  # issue 25: warm <= 1/3 of cold's compute on >= 4 of 6 domains


def search_with(
    space: SearchSpace,
    method: str,
    seed: int,
    budget_steps: int,
    enqueue: tuple[dict[str, Any], ...] = (),
    protect: bool = False,
) -> SearchRecord:
    """Ask/tell until `budget_steps` steps are spent: the DABS default first, then `enqueue`
    (as trainables.warm_start orders a warm study), then the sampler's own choices. `protect`: the
    enqueued configurations run their full budget (ASHA's rungs record them but never stop them)."""
    from trainables.schedulers import make_sampler

    sampler_name, asha = METHODS[method]
    pruner = (
        optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=ASHA_REDUCTION)
        if asha
        else optuna.pruners.NopPruner()
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=make_sampler(sampler_name, seed), pruner=pruner)
    study.enqueue_trial(default_point(space))
    for config in enqueue:
        study.enqueue_trial(config, skip_if_exists=True)
    dists = distributions(space)
    record = SearchRecord(space.domain, space.objective, method + ("_warm" if enqueue else ""), seed, budget_steps)
    steps, seconds = 0, 0.0
    while steps < budget_steps:
        trial = study.ask(dists)
        params = dict(trial.params)
        queued = trial.number > 0 and any(all(params.get(k) == v for k, v in c.items()) for c in enqueue)
        step = _ReportStep(trial, int(space.fixed["eval_every"]), keep=protect and queued)
        done = run_trial(flat_config(space, params, seed), step)  # type: ignore[arg-type]
        done.params, done.number = params, trial.number
        steps, seconds = steps + done.steps, seconds + done.seconds
        done.end_steps, done.end_seconds = steps, seconds
        record.trials.append(done)
        if done.state == "pruned":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, done.val)
    return record


def best_configs(record: dict, top: int) -> list[dict[str, Any]]:
    """The `top` completed trials of a search record by validation score (configurations only)."""
    done = [t for t in record["trials"] if t["state"] == "complete" and math.isfinite(float(t["val"]))]
    return [t["params"] for t in sorted(done, key=lambda t: -float(t["val"]))[:top]]


def sources_for(records: list[Path], target: str, objective: str, overrides: dict) -> tuple[dict[str, Any], ...]:
    """The configurations a warm search on `target` starts from: WARM_TOP per finished search record of
    another domain (its file in `records`), fitted to the target's ranges and interleaved as a warm
    study orders them (trainables.warm_start)."""
    from search_spaces import load_space
    from trainables.warm_start import WARM_TOP, fit_config, interleave

    dists = distributions(load_space(objective, target, overrides=overrides))
    ranked = []
    for path in records:
        record = json.loads(path.read_text()) if path.is_file() else None
        if record is not None and record["domain"] != target:
            ranked.append([fit_config(params, dists) for params in best_configs(record, WARM_TOP)])
    return interleave(ranked)


def steps_to_reach(record: dict, target: float) -> tuple[int, bool]:
    """Cumulative steps when a completed trial first scores >= target; (budget spent, False) if never."""
    for trial in record["trials"]:
        if trial["state"] == "complete" and float(trial["val"]) >= target:
            return int(trial["end_steps"]), True
    return int(record["trials"][-1]["end_steps"]) if record["trials"] else 0, False


def reach_rows(out: Path, domains: list[str], seeds: int) -> list[dict]:
    rows = []
    for domain in domains:
        for seed in range(seeds):
            cold_path, warm_path = (out / "searches" / f"{p}-{domain}-s{seed}.json" for p in ("cold", "warm"))
            if not (cold_path.is_file() and warm_path.is_file()):
                continue
            cold, warm = json.loads(cold_path.read_text()), json.loads(warm_path.read_text())
            vals = [float(t["val"]) for t in cold["trials"] if t["state"] == "complete"]
            target = max(vals) if vals else math.nan
            cold_steps, _ = steps_to_reach(cold, target)
            warm_steps, reached = steps_to_reach(warm, target)
            rows.append(
                {
                    "domain": domain,
                    "seed": seed,
                    "target_val": target,
                    "cold_steps": cold_steps,
                    "warm_steps": warm_steps,
                    "reached": reached,
                    "ratio": warm_steps / max(cold_steps, 1),
                    "warm_best_val": max(
                        (float(t["val"]) for t in warm["trials"] if t["state"] == "complete"), default=math.nan
                    ),
                }
            )
    return rows


def write_report(out: Path, domains: list[str], seeds: int, command: str, wall_s: int) -> str:
    """reach.json and a markdown table (per domain: median ratio over seeds; goal met?)."""
    rows = reach_rows(out, domains, seeds)
    lines = [
        "| domain | seeds | cold steps to its best | warm steps to it | warm / cold (median) | reached |",
        "|---|---|---|---|---|---|",
    ]
    met = 0
    for domain in domains:
        mine = sorted((r for r in rows if r["domain"] == domain), key=lambda r: r["ratio"])
        if not mine:
            continue
        median = mine[len(mine) // 2]["ratio"]
        met += median <= GOAL_RATIO
        lines.append(
            f"| {domain} | {len(mine)} | {', '.join(str(r['cold_steps']) for r in mine)} | "
            f"{', '.join(str(r['warm_steps']) for r in mine)} | {median:.2f} | "
            f"{sum(r['reached'] for r in mine)}/{len(mine)} |"
        )
    measured = len({r["domain"] for r in rows})
    lines.append(
        f"\ngoal (warm <= 1/3 of cold on >= {GOAL_DOMAINS} of 6 domains): met on {met} of {measured} "
        f"measured domains. Command: `{command}` ({wall_s} s)"
    )
    (out / "reach.json").write_text(json.dumps({"command": command, "wall_s": wall_s, "rows": rows}, indent=1))
    text = "\n".join(lines) + "\n"
    (out / "warm_start.md").write_text(text)
    return text
