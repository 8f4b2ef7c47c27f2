"""The cross-domain table: does one configuration serve every domain, and what does it cost?

For each cross-domain study (`shared-<objective>`, search --shared-config) and each of its domains:
    universal  the shared trial with the best aggregate (dabs_lib.shared.aggregate over the domains'
               final validation scores; the sampler's own score), evaluated on this domain
    own        the domain's own best: the best completed trial of a per-domain study
               `<domain>-<objective>` when an experiment of the report holds one, else the shared
               trial that is best on this domain's validation score alone (`own_source` says which)
    default    trial 000 of the shared study: the untuned DABS configuration
    baseline   the domain's random-init trial
Test scores per role (mean and 95% t-interval over --seeds fresh seeds, or the trials' own score),
and `cost` = own - universal, paired by seed: what forcing one configuration costs on this domain.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from analysis.tables import BASELINE, DEFAULT_NUMBER, SCORE_KEYS, mean_ci, summarize_scores, tasks_of
from dabs_lib.experiment import METRIC, STUDY, TRIAL_NUMBER, is_shared, study_name
from dabs_lib.shared import aggregate

SHARED_ROLES = ("universal", "own", "default", "baseline")
LONG = SCORE_KEYS + ["experiment", "trial", "seed", "test", "val", "trial_dir"]


def shared_trials(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials[STUDY].map(lambda s: is_shared(str(s)))] if STUDY in trials else trials.iloc[0:0]


def universal_numbers(trials: pd.DataFrame) -> dict[tuple[str, str], int]:
    """(experiment, objective) -> number of the shared trial with the best aggregate (ties: lower number)."""
    shared = shared_trials(trials)
    out = {}
    for (experiment, objective), group in shared.groupby(["experiment", "objective"]):
        domains = sorted(group["domain"].unique())
        base = trials[(trials["experiment"] == experiment) & (trials["objective"] == BASELINE)]
        baselines = {d: float(v) for d, v in zip(base["domain"], base[METRIC]) if not pd.isna(v)}
        best, best_value = None, -math.inf
        for number, rows in sorted(group.groupby(TRIAL_NUMBER), key=lambda item: int(item[0])):
            if len(rows) < len(domains) or (rows["status"] != "completed").any():
                continue
            value = aggregate(dict(zip(rows["domain"], rows[METRIC].astype(float))), baselines)
            if value > best_value:
                best, best_value = int(number), value
        if best is not None:
            out[(experiment, objective)] = best
    return out


def role_rows(trials: pd.DataFrame) -> list[tuple[str, str, str, pd.Series, str]]:
    """(domain, objective, role, trial row, own_source) for every domain of every shared study."""
    shared, out = shared_trials(trials), []
    done = trials[trials["status"] == "completed"]
    for (experiment, objective), number in universal_numbers(trials).items():
        mine = shared[(shared["experiment"] == experiment) & (shared["objective"] == objective)]
        for domain in sorted(mine["domain"].unique()):
            on_domain = mine[mine["domain"] == domain]
            picks = {
                "universal": on_domain[on_domain[TRIAL_NUMBER] == number],
                "default": on_domain[on_domain[TRIAL_NUMBER] == DEFAULT_NUMBER],
                "baseline": done[(done["domain"] == domain) & (done["objective"] == BASELINE)],
            }
            own = done[done[STUDY] == study_name(domain, objective)]
            source = "per-domain study" if not own.empty else "shared study"
            own = own if not own.empty else on_domain[on_domain["status"] == "completed"]
            picks["own"] = own.sort_values([METRIC, TRIAL_NUMBER], ascending=[False, True], kind="stable")
            for role in SHARED_ROLES:
                if not picks[role].empty:
                    out.append((domain, objective, role, picks[role].iloc[0], source))
    return out


def own_scores(trials: pd.DataFrame) -> pd.DataFrame:
    """Long scores (analysis.tables.role_scores' format, roles SHARED_ROLES) from the trials' own runs."""
    rows = []
    for domain, objective, role, trial, _ in role_rows(trials):
        for task in tasks_of(trials):
            test = trial.get(f"test/{task}")
            if test is not None and not pd.isna(test):
                rows.append(
                    {
                        "domain": domain,
                        "objective": objective,
                        "role": role,
                        "task": task,
                        "experiment": trial["experiment"],
                        "trial": trial["trial"],
                        "seed": trial.get("seed"),
                        "test": float(test),
                        "val": float(trial.get(f"val/{task}", math.nan)),
                        "trial_dir": trial["trial_dir"],
                    }
                )
    return pd.DataFrame(rows, columns=LONG)


def shared_table(
    scores: pd.DataFrame, sources: dict[tuple[str, str], str], directions: dict[tuple[str, str], bool] | None = None
) -> pd.DataFrame:
    """Per (domain, objective, task): each role's mean and 95% half-width, the cost of one
    configuration (own - universal, paired by seed) and a verdict."""
    summary = summarize_scores(scores[SCORE_KEYS + ["trial", "seed", "test", "val"]])
    rows = []
    for (domain, objective, task), group in summary.groupby(["domain", "objective", "task"], sort=False):
        by_role = group.set_index("role")
        row = {"domain": domain, "objective": objective, "task": task}
        for role in SHARED_ROLES:
            row[role] = by_role.at[role, "score"] if role in by_role.index else math.nan
            row[f"{role}_ci95"] = by_role.at[role, "ci95"] if role in by_role.index else math.nan
        sign = 1.0 if (directions or {}).get((domain, task), True) else -1.0
        part = scores[(scores["domain"] == domain) & (scores["objective"] == objective) & (scores["task"] == task)]
        pairs = part[part["role"] == "own"][["seed", "test"]].merge(
            part[part["role"] == "universal"][["seed", "test"]], on="seed", suffixes=("_own", "_universal")
        )
        cost, half, n = mean_ci(sign * (pairs["test_own"] - pairs["test_universal"]))
        row.update(
            cost=cost,
            cost_ci95=half,
            n_seeds=n,
            own_source=sources.get((domain, objective), ""),
            verdict=verdict(cost, half, n),
        )
        rows.append(row)
    columns = [
        "domain",
        "objective",
        "task",
        *[f"{r}{s}" for r in SHARED_ROLES for s in ("", "_ci95")],
        "cost",
        "cost_ci95",
        "n_seeds",
        "own_source",
        "verdict",
    ]
    return pd.DataFrame(rows, columns=columns)


def verdict(cost: float, half: float, n: int) -> str:
    if n < 2 or math.isnan(half):
        return f"costs {cost:+.3f} (seed noise not measured: analyze --seeds K, K >= 2)" if n else "not measured"
    if cost - half > 0:
        return f"one config costs {cost:.3f} (+-{half:.3f}) beyond seed noise"
    if cost + half < 0:
        return f"one config is better by {-cost:.3f} (+-{half:.3f}) beyond seed noise"
    return f"within seed noise ({cost:+.3f} +-{half:.3f})"


def seeded_scores(
    trials: pd.DataFrame,
    k: int,
    folder: str | Path,
    num_cpus: int = 0,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
    smoke_test: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """Re-run every role's config with k fresh seeds (analysis.seeds.run_seeds); long scores and notes."""
    from analysis.exports import trial_config
    from analysis.seeds import interrupted_note, read_seed_runs, run_seeds

    configs: dict[str, dict] = {}
    uses: dict[str, list[tuple]] = {}
    for domain, objective, role, trial, _ in role_rows(trials):
        label = f"{trial['experiment']}.{trial['trial']}"
        configs[label] = {**trial_config(trial["trial_dir"]), **({"smoke_test": True} if smoke_test else {})}
        uses.setdefault(label, []).append((domain, objective, role))
    if not configs:
        return pd.DataFrame(columns=LONG), []
    first = max(int(c.get("seed", 0)) for c in configs.values()) + 1
    run_dirs, stopped = run_seeds(
        configs, list(range(first, first + k)), folder, num_cpus, cpus_per_trial, gpus_per_trial
    )
    scores = read_seed_runs(run_dirs, uses)
    if not stopped:
        return scores, []
    finished = len(scores[["experiment", "trial", "seed"]].drop_duplicates())
    return scores, [interrupted_note(stopped, finished, len(configs) * k, k)]


def shared_report(
    trials: pd.DataFrame,
    directions: dict,
    seeds: int = 0,
    folder: str | Path | None = None,
    num_cpus: int = 0,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
    smoke_test: bool = False,
) -> tuple[pd.DataFrame, list[str]]:
    """The cross-domain table (empty without a shared study) and one line per domain for the README."""
    if shared_trials(trials).empty:
        return pd.DataFrame(), []
    sources = {(d, o): src for d, o, _, _, src in role_rows(trials)}
    notes: list[str] = []
    if seeds:
        scores, notes = seeded_scores(
            trials, seeds, folder or Path("seeds"), num_cpus, cpus_per_trial, gpus_per_trial, smoke_test
        )
    else:
        scores = own_scores(trials)
    table = shared_table(scores, sources, directions)
    first_task = table.groupby(["domain", "objective"], sort=False).head(1)
    notes += [
        f"one configuration for every domain ({r.objective}), on {r.domain}/{r.task}: {r.verdict} against "
        f"the domain's own best ({r.own_source})"
        for r in first_task.itertuples()
    ]
    return table, notes
