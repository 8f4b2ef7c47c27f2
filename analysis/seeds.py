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

import hashlib
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
SEEDS_DIR = "seeds"  # in the report folder: the --seeds re-runs (analysis.report, analysis.why)
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


def cell_of(params: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """(variant, seed) of a seed run's params.json: {"cell": {variant, seed}} (or, written before
    runs could continue, {variant, seed})."""
    cell = params.get("cell", params)
    return cell["variant"], int(cell["seed"])


def _seeded_trial(config: dict[str, Any]) -> None:
    """The search trainable on one (config, seed) cell of the grid."""
    from trainables.pretrain_transfer import pretrain_transfer

    variant, seed = cell_of(config)
    pretrain_transfer({**{k: v for k, v in variant.items() if k != LABEL}, "seed": seed})


def _trial_name(trial: Trial) -> str:
    variant, seed = cell_of(trial.config)
    return f"{variant[LABEL]}_seed{seed}"


def plan_key(configs: dict[str, dict], seeds: list[int]) -> str:
    """Names a grid by what it runs: the same configs and seeds find the runs an interrupted
    `analyze --seeds` left, and run only the cells still missing."""
    text = json.dumps({"configs": configs, "seeds": list(seeds)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def finished_cells(run_dirs: list[Path]) -> dict[tuple[str, int], Path]:
    """(label, seed) -> the trial folder of its finished run (the first one, if a cell ran twice)."""
    out: dict[tuple[str, int], Path] = {}
    for run_dir in run_dirs:
        for trial_dir in sorted(p for p in run_dir.iterdir() if (p / "params.json").is_file()):
            if _final(trial_dir):
                variant, seed = cell_of(json.loads((trial_dir / "params.json").read_text()))
                out.setdefault((variant[LABEL], seed), trial_dir)
    return out


def _final(trial_dir: Path) -> dict[str, Any]:
    """The final report of a seed run, {} when it errored or was cut short (a kill mid-line included)."""
    path = trial_dir / "result.json"
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()] if path.is_file() else []
    try:
        final = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        return {}
    return final if final.get("final") else {}


class SeedRunsInterrupted(KeyboardInterrupt):
    """A Ctrl-C stopped the fresh-seed re-runs; the finished ones are kept for the next `analyze`."""

    def __init__(self, finished: int, cells: int) -> None:
        super().__init__(finished, cells)
        self.finished, self.cells = finished, cells
        self.hint = (
            f"{finished} of {cells} fresh-seed runs finished and are kept; run the same "
            "`analyze ... --seeds K` again to run the others and write the report"
        )


def run_seeds(
    configs: dict[str, dict],
    seeds: list[int],
    folder: str | Path,
    num_cpus: int = 0,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
) -> tuple[list[Path], str]:
    """Run every config x seed not yet finished in `folder` (by an earlier, interrupted call with
    the same configs and seeds); returns the Tune experiment folders holding the grid's runs (one
    trial folder per cell) and why the grid stopped early ("" when it ran to the end).
    SeedRunsInterrupted when a Ctrl-C stopped it."""
    folder = Path(folder).resolve()
    key = plan_key(configs, seeds)
    runs = sorted(folder.glob(f"seeds_{key}_*")) if folder.is_dir() else []
    done = finished_cells(runs)
    cells = [
        {"variant": {**config, LABEL: label}, "seed": seed}
        for label, config in configs.items()
        for seed in seeds
        if (label, seed) not in done
    ]
    if not cells:
        return runs, ""
    run_dir = folder / f"seeds_{key}_{time.strftime('%Y%m%d-%H%M%S')}"
    stopped, errored = _fit(cells, run_dir, num_cpus, cpus_per_trial, gpus_per_trial)
    finished = len(finished_cells([run_dir]))
    if not stopped and finished + errored < len(cells):  # Tune stopped on a Ctrl-C, cells were left
        raise SeedRunsInterrupted(len(done) + finished, len(configs) * len(seeds))
    return [*runs, run_dir], stopped


def _kill_point_callback() -> Any:
    """Test-only (dabs_lib.safe_io.kill_point): the driver dies right after a seed run ended."""
    from ray.tune import Callback

    from dabs_lib.safe_io import kill_point

    class KillPoint(Callback):
        def on_trial_complete(self, iteration: int, trials: list, trial: Trial, **info: Any) -> None:
            kill_point("seed-run-ended")

    return KillPoint()


def _fit(
    cells: list[dict], run_dir: Path, num_cpus: int, cpus_per_trial: float, gpus_per_trial: float
) -> tuple[str, int]:
    """One Tune grid over `cells` in a private Ray: (why it stopped early or "", errored cells)."""
    from ray import tune
    from ray.exceptions import RayError
    from ray.tune.error import TuneError

    from trainables.cluster import TrialDemand, ray_session

    trainable = tune.with_resources(_seeded_trial, {"cpu": cpus_per_trial, "gpu": gpus_per_trial})
    tuner = tune.Tuner(
        trainable,
        param_space={"cell": tune.grid_search(cells)},
        tune_config=tune.TuneConfig(trial_name_creator=_trial_name, trial_dirname_creator=_trial_name),
        run_config=tune.RunConfig(
            name=run_dir.name,
            storage_path=str(run_dir.parent),
            verbose=0,
            callbacks=[_kill_point_callback()],
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
            failure_config=tune.FailureConfig(max_failures=SEED_RETRIES),
        ),
    )
    run_dir.parent.mkdir(parents=True, exist_ok=True)  # records the private Ray (`sessions stop` after a kill)
    with ray_session("", num_cpus, TrialDemand(cpus_per_trial, gpus_per_trial), record_in=str(run_dir.parent)):
        try:
            grid = tuner.fit()
        except (RayError, TuneError) as error:  # Tune gives up on some worker deaths (OOM killer at an actor start)
            return f"the fresh-seed re-runs stopped early: {_first_line(error)}", 0
    return "", sum(grid[i].error is not None for i in range(len(grid)))


def _first_line(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else 'no message'}"


def interrupted_note(note: str, finished: int, cells: int, seeds: int) -> str:
    """What a reader of a report built on a cut-short seed grid must know, in one line."""
    return (
        f"{note} ({finished} of {cells} seed runs finished; the tables count only those in n_seeds); "
        f"free memory or CPUs and run `analyze EXPERIMENT --seeds {seeds}` again"
    )


def read_seed_runs(run_dirs: list[Path], uses: dict[str, list[tuple]]) -> pd.DataFrame:
    """Long scores (as role_scores) from the final report of every finished seed run (one per cell)."""
    rows = []
    for (label, seed), trial_dir in sorted(finished_cells([Path(d) for d in run_dirs]).items()):
        final = _final(trial_dir)
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
    run_dirs, stopped = run_seeds(
        configs, list(range(first, first + k)), folder, num_cpus, cpus_per_trial, gpus_per_trial
    )
    scores = read_seed_runs(run_dirs, uses)
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
        elif default.empty:  # e.g. a combination of encoders (analyze --combine): nothing to pair with
            verdict = "no DABS default to compare with"
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
