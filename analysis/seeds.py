"""Re-run chosen configs with k seeds through the search's own trainable (the edge of analysis
that starts Ray; everything else in analysis only reads files).

The best config of every (domain, objective), its study's DABS default (trial 000) and the
domain's random-init baseline each run once per seed as one Tune grid
(`tune.grid_search` over configs and over `seed`) with `trainables.pretrain_transfer`,
in a private Ray, storing under the report folder. Seeds are the search seed + 1 .. + k,
so the estimate is free of the winner's curse of picking the best seed-s trial.
`seed_scores` returns the same long format as `analysis.tables.role_scores`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.exports import trial_config
from analysis.tables import ROLES, SCORE_KEYS, pick_role_trial
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only
    from ray.tune.experiment import Trial

LABEL = "label"
SEED_RETRIES = 1  # a seed run whose worker died (killed, out of memory) is retried once from its checkpoint


def rerun_plan(trials: pd.DataFrame, best: pd.DataFrame) -> tuple[dict[str, dict], dict[str, list[tuple]]]:
    """(label -> trial config, label -> [(domain, objective, role), ...]); one label per trial folder."""
    configs: dict[str, dict] = {}
    uses: dict[str, list[tuple]] = {}
    by_dir: dict[str, str] = {}
    for _, best_row in best.iterrows():
        for role in ROLES:
            trial = pick_role_trial(trials, best_row, role)
            if trial is None:
                continue
            label = by_dir.setdefault(trial["trial_dir"], f"{trial['experiment']}.{trial['trial']}")
            configs[label] = trial_config(trial["trial_dir"])
            uses.setdefault(label, []).append((best_row["domain"], best_row["objective"], role))
    return configs, uses


def _seeded_trial(config: dict[str, Any]) -> None:
    """The search trainable on one (config, seed) cell of the grid."""
    from trainables.pretrain_transfer import pretrain_transfer

    variant = dict(config["variant"])
    variant.pop(LABEL)
    pretrain_transfer({**variant, "seed": config["seed"]})


def _trial_name(trial: Trial) -> str:
    return f"{trial.config['variant'][LABEL]}_seed{trial.config['seed']}"


def run_seeds(
    configs: dict[str, dict],
    seeds: list[int],
    folder: str | Path,
    num_cpus: int = 0,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
) -> tuple[Path, str]:
    """Run every config x seed; returns the Tune experiment folder (one trial folder per cell)
    and why the grid stopped early ("" when it ran to the end)."""
    from ray import tune
    from ray.exceptions import RayError
    from ray.tune.error import TuneError

    from trainables.cluster import TrialDemand, ray_session

    folder = Path(folder).resolve()
    name = f"seeds_{time.strftime('%Y%m%d-%H%M%S')}"
    variants = [{**config, LABEL: label} for label, config in configs.items()]
    trainable = tune.with_resources(_seeded_trial, {"cpu": cpus_per_trial, "gpu": gpus_per_trial})
    tuner = tune.Tuner(
        trainable,
        param_space={"variant": tune.grid_search(variants), "seed": tune.grid_search(list(seeds))},
        tune_config=tune.TuneConfig(trial_name_creator=_trial_name, trial_dirname_creator=_trial_name),
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(folder),
            verbose=0,
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            failure_config=tune.FailureConfig(max_failures=SEED_RETRIES),
        ),
    )
    with ray_session("", num_cpus, TrialDemand(cpus_per_trial, gpus_per_trial)):
        try:
            tuner.fit()
        except (
            RayError,
            TuneError,
        ) as error:  # Tune gives up on some worker deaths (Ray's OOM killer at an actor start)
            return folder / name, f"the fresh-seed re-runs stopped early: {_first_line(error)}"
    return folder / name, ""


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else 'no message'}"


def interrupted_note(note: str, finished: int, cells: int, seeds: int) -> str:
    """What a reader of a report built on a cut-short seed grid must know, in one line."""
    return (
        f"{note} ({finished} of {cells} seed runs finished; the tables count only those in n_seeds); "
        f"free memory or CPUs and run `analyze EXPERIMENT --seeds {seeds}` again"
    )


def read_seed_runs(run_dir: str | Path, uses: dict[str, list[tuple]]) -> pd.DataFrame:
    """Long scores (as role_scores) from the final report of every finished seed trial."""
    rows = []
    for trial_dir in sorted(p for p in Path(run_dir).iterdir() if (p / "params.json").is_file()):
        params = json.loads((trial_dir / "params.json").read_text())
        label, seed = params["variant"][LABEL], params["seed"]
        lines = (
            [ln for ln in (trial_dir / "result.json").read_text().splitlines() if ln.strip()]
            if (trial_dir / "result.json").is_file()
            else []
        )
        final = json.loads(lines[-1]) if lines else {}
        if not final.get("final"):
            continue  # errored or cut short: it does not count as a seed
        tasks = [k[len("test/") :] for k in final if k.startswith("test/")]
        for domain, objective, role in uses.get(label, []):
            for task in tasks:
                rows.append(
                    {
                        "domain": domain,
                        "objective": objective,
                        "role": role,
                        "task": task,
                        "experiment": label.split(".", 1)[0],
                        "trial": label.split(".", 1)[1],
                        "seed": seed,
                        "test": float(final[f"test/{task}"]),
                        "val": float(final.get(f"val/{task}", "nan")),
                    }
                )
    return pd.DataFrame(rows, columns=SCORE_KEYS + ["experiment", "trial", "seed", "test", "val"])


def seed_scores(
    trials: pd.DataFrame,
    best: pd.DataFrame,
    k: int,
    folder: str | Path,
    num_cpus: int = 0,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
    smoke_test: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """Re-run best, default and baseline configs with k fresh seeds; their long scores, and a
    note when the grid stopped early (the scores then hold the runs that finished).
    `smoke_test` re-runs them with the tiny model and a few steps (for tests)."""
    if k < 1:
        raise ValueError(f"--seeds must be >= 1, but got {k}")
    configs, uses = rerun_plan(trials, best)
    if smoke_test:
        configs = {label: {**config, "smoke_test": True} for label, config in configs.items()}
    if not configs:
        return pd.DataFrame(columns=SCORE_KEYS + ["experiment", "trial", "seed", "test", "val"]), []
    first = max(int(c.get("seed", 0)) for c in configs.values()) + 1
    run_dir, stopped = run_seeds(
        configs, list(range(first, first + k)), folder, num_cpus, cpus_per_trial, gpus_per_trial
    )
    scores = read_seed_runs(run_dir, uses)
    if not stopped:
        return scores, []
    finished = len(scores[["experiment", "trial", "seed"]].drop_duplicates())
    return scores, [interrupted_note(stopped, finished, len(configs) * k, k)]


def versus_default(scores: pd.DataFrame, directions: dict[tuple[str, str], bool] | None = None) -> pd.DataFrame:
    """Per (domain, objective, task): is the best trial better than the DABS default beyond
    seed noise? Differences best - default are paired by seed (the same fresh seed trains
    both), with a 95% t-interval; `vs_default` says which of
    better / worse / within seed noise / the best trial is the default / not measured."""
    from analysis.tables import mean_ci

    rows = []
    for (domain, objective, task), group in scores.groupby(["domain", "objective", "task"], sort=False):
        best, default = group[group["role"] == "best"], group[group["role"] == "default"]
        row = {
            "domain": domain,
            "objective": objective,
            "task": task,
            "diff": float("nan"),
            "diff_ci95": float("nan"),
            "n_pairs": 0,
        }
        same = (
            not best.empty
            and not default.empty
            and (best["experiment"].iloc[0], best["trial"].iloc[0])
            == (default["experiment"].iloc[0], default["trial"].iloc[0])
        )
        pairs = best[["seed", "test"]].merge(default[["seed", "test"]], on="seed", suffixes=("", "_default"))
        sign = 1.0 if (directions or {}).get((domain, task), True) else -1.0
        mean, half, n = mean_ci(sign * (pairs["test"] - pairs["test_default"]))
        row.update(diff=mean, diff_ci95=half, n_pairs=n)
        if same:
            verdict = "the best trial is the default"
        elif n < 2:
            verdict = "seed noise not measured (analyze --seeds K, K >= 2)"
        elif mean - half > 0:
            verdict = "better than the default beyond seed noise"
        elif mean + half < 0:
            verdict = "worse than the default beyond seed noise"
        else:
            verdict = "within seed noise of the default"
        rows.append({**row, "vs_default": verdict})
    return pd.DataFrame(rows, columns=["domain", "objective", "task", "diff", "diff_ci95", "n_pairs", "vs_default"])
