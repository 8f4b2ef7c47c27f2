"""The DABS results table, produced by a search: pure functions, DataFrame in, DataFrame out.

Input is `analysis.results.trial_table` (one row per trial). Three roles per (domain,
objective) are compared on the test split of every transfer task of the domain:
    best      the completed trial with the best validation transfer score (`which`)
    default   trial 000 of the same study: the untuned DABS configuration
    baseline  the random-init encoder (the domain's `none` study)
`role_scores` flattens them into long per-seed scores; `summarize_scores` turns those
into mean, 95% t-interval and `n_seeds`; `transfer_table` puts the roles side by side
with the gain of `best` over each.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from analysis.results import METRIC, STATUSES, param_columns
from dabs_lib import experiment

BASELINE = experiment.BASELINE  # the objective of the random-init study
DEFAULT_NUMBER = 0  # trial 000 of every searched study runs points_to_evaluate (the DABS default)
ROLES = ("best", "default", "baseline")
WHICH = {"last": METRIC, "best-ever": "best_val"}  # selection flag -> trial_table column ranked
KEYS = ["domain", "objective"]
SCORE_KEYS = ["domain", "objective", "role", "task"]


def selection_column(which: str) -> str:
    if which not in WHICH:
        raise ValueError(f"--which must be one of {sorted(WHICH)}, but got {which!r}")
    return WHICH[which]


def trial_number(trial: str) -> int:
    """`digits_emix_007` -> 7 (-1 when the name has no number)."""
    tail = str(trial).rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def tasks_of(trials: pd.DataFrame, split: str = "test") -> list[str]:
    """Task names with a reported `<split>/<task>` column, in column order."""
    prefix = f"{split}/"
    return [c[len(prefix) :] for c in trials.columns if c.startswith(prefix)]


def status_counts(trials: pd.DataFrame, studies: list[tuple[str, str]] = ()) -> pd.DataFrame:
    """Per searched (domain, objective): trials and how many are completed/pruned/errored/running.
    `studies` (from the manifests) adds the pairs that have no trial on disk yet, with zeros; a
    cross-domain study (pseudo-domain `shared`) is not one: its trials count on their domains."""
    searched = trials[trials["objective"] != BASELINE]
    empty = [(d, o) for d, o in studies if o != BASELINE and d != experiment.SHARED]
    pairs = list(dict.fromkeys([*zip(searched["domain"], searched["objective"]), *empty]))
    counts = pd.crosstab([searched["domain"], searched["objective"]], searched["status"])
    index = pd.MultiIndex.from_tuples(sorted(pairs), names=KEYS)
    counts = counts.reindex(index=index, columns=list(STATUSES), fill_value=0)
    counts.insert(0, "trials", counts.sum(axis=1))
    counts.columns.name = None
    return counts.reset_index()


def select_best(trials: pd.DataFrame, which: str = "last") -> pd.DataFrame:
    """One row per searched (domain, objective): its best completed trial.

    `last` ranks by the validation score of the final evaluation (whose checkpoint is
    kept); `best-ever` by the best validation score a trial reported at any evaluation.
    Only completed trials compete (only they report test scores); ties go to the lower
    trial number, so the DABS default wins a tie with a searched config.
    """
    column = selection_column(which)
    done = trials[(trials["objective"] != BASELINE) & (trials["status"] == "completed")]
    done = done.dropna(subset=[column]).assign(number=lambda t: t["trial"].map(trial_number))
    ordered = done.sort_values([column, "number"], ascending=[False, True], kind="stable")
    best = ordered.groupby(KEYS, sort=True).head(1).sort_values(KEYS)
    best = best.assign(which=which, selection_score=best[column])
    if which == "best-ever" and "best_checkpoint" in best:
        best["checkpoint"] = best["best_checkpoint"].fillna("")
    return best.reset_index(drop=True)


def best_config_table(
    trials: pd.DataFrame, which: str = "last", searched: list[str] | None = None, studies: list[tuple[str, str]] = ()
) -> pd.DataFrame:
    """Every searched (domain, objective) with trial counts, its best trial and that trial's
    searched hyperparameters (`searched`; default: the ones that vary within some study)."""
    best = select_best(trials, which)
    params = searched if searched is not None else varying_params(trials)
    front = [
        "experiment",
        "trial",
        experiment.WARM_ATTR,
        "which",
        "selection_score",
        "best_val",
        experiment.SECONDS,
        experiment.PARAMS,
        "checkpoint",
    ]
    cols = [c for c in front if c in best] + [p for p in params if p in best]
    table = status_counts(trials, studies).merge(best[KEYS + cols], on=KEYS, how="left")
    return table.rename(columns={"selection_score": "val_score"})


def varying_params(trials: pd.DataFrame) -> list[str]:
    """Hyperparameters that take more than one value within at least one searched study."""
    searched = trials[trials["objective"] != BASELINE]
    out = []
    for name in param_columns(searched):
        if (searched.groupby(["experiment", *KEYS])[name].nunique(dropna=True) > 1).any():
            out.append(name)
    return out


def pick_role_trial(trials: pd.DataFrame, best_row: pd.Series, role: str) -> pd.Series | None:
    """The trial playing `role` beside `best_row` (a row of select_best), or None."""
    if role == "best":
        return best_row
    same_domain = trials["domain"] == best_row["domain"]
    if role == "default":
        mask = (
            same_domain
            & (trials["objective"] == best_row["objective"])
            & (trials["experiment"] == best_row["experiment"])
            & (trials["trial"].map(trial_number) == DEFAULT_NUMBER)
        )
    else:
        mask = same_domain & (trials["objective"] == BASELINE) & (trials["status"] == "completed")
    found = trials[mask]
    if found.empty:
        return None
    same_exp = found[found["experiment"] == best_row["experiment"]]  # prefer the same search
    return (same_exp if not same_exp.empty else found).iloc[0]


def role_scores(trials: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """Long scores: one row per (domain, objective, role, task) of `best`'s studies, with the
    trial, its seed, and its reported test and validation scores (NaN when not reported)."""
    rows = []
    tasks = tasks_of(trials)
    for _, best_row in best.iterrows():
        for role in ROLES:
            trial = pick_role_trial(trials, best_row, role)
            if trial is None:
                continue
            for task in tasks:
                test = trial.get(f"test/{task}")
                if test is None or pd.isna(test):
                    continue
                rows.append(
                    {
                        "domain": best_row["domain"],
                        "objective": best_row["objective"],
                        "role": role,
                        "task": task,
                        "experiment": trial["experiment"],
                        "trial": trial["trial"],
                        "seed": trial.get("seed", np.nan),
                        "test": float(test),
                        "val": float(trial.get(f"val/{task}", np.nan)),
                    }
                )
    return pd.DataFrame(rows, columns=SCORE_KEYS + ["experiment", "trial", "seed", "test", "val"])


def add_averages(scores: pd.DataFrame, averages: dict[str, dict[str, tuple[str, ...]]]) -> pd.DataFrame:
    """Add a task row `<name>` = mean of its member tasks' scores, per (role, seed), for each
    `averages[domain]` entry (Domain.averages) that is missing and whose members are all present."""
    extra = []
    group_keys = ["domain", "objective", "role", "experiment", "trial", "seed"]
    for keys, group in scores.groupby(group_keys, dropna=False, sort=False):
        domain = keys[0]
        present = set(group["task"])
        for name, members in averages.get(domain, {}).items():
            if name in present or not set(members) <= present:
                continue
            part = group[group["task"].isin(members)]
            extra.append(
                {**dict(zip(group_keys, keys)), "task": name, "test": part["test"].mean(), "val": part["val"].mean()}
            )
    if not extra:
        return scores
    return pd.concat([scores, pd.DataFrame(extra)], ignore_index=True)[scores.columns]


def mean_ci(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float, int]:
    """(mean, half-width of the two-sided t interval, n); half-width NaN when n < 2."""
    from scipy import stats

    data = np.asarray([v for v in values if not pd.isna(v)], dtype=float)
    n = len(data)
    if n == 0:
        return math.nan, math.nan, 0
    if n < 2:
        return float(data[0]), math.nan, 1
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * data.std(ddof=1) / math.sqrt(n)
    return float(data.mean()), float(half), n


def summarize_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Per (domain, objective, role, task): mean test score, its 95% half-width, n_seeds."""
    rows = []
    for keys, group in scores.groupby(SCORE_KEYS, sort=False):
        mean, half, n = mean_ci(group["test"])
        rows.append(
            {
                **dict(zip(SCORE_KEYS, keys)),
                "trial": group["trial"].iloc[0],
                "score": mean,
                "ci95": half,
                "n_seeds": n,
                "val": group["val"].mean(),
            }
        )
    return pd.DataFrame(rows, columns=SCORE_KEYS + ["trial", "score", "ci95", "n_seeds", "val"])


def transfer_table(
    summary: pd.DataFrame,
    directions: dict[tuple[str, str], bool] | None = None,
    averages: dict[str, dict[str, tuple[str, ...]]] | None = None,
) -> pd.DataFrame:
    """Per (domain, objective, task): best, default and baseline scores side by side, the gain
    of best over each (positive = better, whatever the metric's direction), and n_seeds."""
    rows = []
    for (domain, objective, task), group in summary.groupby(["domain", "objective", "task"], sort=False):
        by_role = group.set_index("role")
        row = {
            "domain": domain,
            "objective": objective,
            "task": task,
            "average": task in (averages or {}).get(domain, {}),
        }
        for role in ROLES:
            has = role in by_role.index
            row[role] = by_role.at[role, "score"] if has else math.nan
            row[f"{role}_ci95"] = by_role.at[role, "ci95"] if has else math.nan
            row[f"{role}_trial"] = by_role.at[role, "trial"] if has else ""
        sign = 1.0 if (directions or {}).get((domain, task), True) else -1.0
        row["gain_vs_baseline"] = sign * (row["best"] - row["baseline"])
        row["gain_vs_default"] = sign * (row["best"] - row["default"])
        seeds = {r: int(by_role.at[r, "n_seeds"]) if r in by_role.index else 0 for r in ROLES}
        row.update(n_seeds=seeds["best"], default_n_seeds=seeds["default"], baseline_n_seeds=seeds["baseline"])
        rows.append(row)
    columns = [
        "domain",
        "objective",
        "task",
        "average",
        *[f"{r}{s}" for r in ROLES for s in ("", "_ci95")],
        "gain_vs_baseline",
        "gain_vs_default",
        "n_seeds",
        "default_n_seeds",
        "baseline_n_seeds",
        *[f"{r}_trial" for r in ROLES],
    ]
    return pd.DataFrame(rows, columns=columns)


def winners(transfer: pd.DataFrame) -> pd.DataFrame:
    """Per domain: the objective whose best trial scores highest on the domain's first task
    (or its first average when the domain has averages), with its gains. A combination's
    equal-width control (untrained encoders, analysis.combine) is a reference, never a winner."""
    from analysis.combine import UNTRAINED

    rows = []
    transfer = transfer[~transfer["objective"].astype(str).str.contains(UNTRAINED, regex=False)]
    for _domain, group in transfer.groupby("domain", sort=False):
        averaged = group[group["average"]]
        headline = (averaged if not averaged.empty else group)["task"].iloc[0]
        part = group[group["task"] == headline].dropna(subset=["best"])
        if part.empty:
            continue
        # gain_vs_baseline carries the metric's direction; without a baseline, higher is better
        rank = part["gain_vs_baseline"] if part["gain_vs_baseline"].notna().any() else part["best"]
        top = part.loc[rank.idxmax()]
        tied = part.loc[(rank == rank.max()) & (part["objective"] != top["objective"]), "objective"]
        keep = [
            "domain",
            "objective",
            "task",
            "best",
            "baseline",
            "default",
            "gain_vs_baseline",
            "gain_vs_default",
            "n_seeds",
        ] + (["vs_default"] if "vs_default" in top else [])  # analysis.seeds.versus_default
        rows.append({**top[keep].to_dict(), "tied": list(tied)})
    return pd.DataFrame(rows)


SINGLE_RUN_TABLE = "scores_single_run"  # one run per config: the table a search prints and saves at its end
SEEDS_TABLE = "scores_seeds"  # `analyze --seeds k`: mean, 95% interval and seed count per cell


def seeds_table(transfer: pd.DataFrame) -> pd.DataFrame:
    """The domain x objective table of an analysis that re-ran seeds: per (domain, task) and
    objective (random init first) the mean test score, its 95% half-width and the seed count."""
    if transfer.empty:
        return pd.DataFrame()
    keys = ["domain", "task"]
    out = transfer.groupby(keys, sort=False)[["baseline", "baseline_ci95", "baseline_n_seeds"]].first()
    out.columns = ["random init", "random init ci95", "random init n_seeds"]
    for objective, part in transfer.groupby("objective", sort=False):
        part = part.set_index(keys)
        out[objective], out[f"{objective} ci95"], out[f"{objective} n_seeds"] = (
            part["best"],
            part["best_ci95"],
            part["n_seeds"],
        )
    return out.reset_index()


def seeds_paper(table: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """seeds_table for a reader: `mean ± ci (n)` per cell."""
    if table.empty:
        return table
    shown = table[["domain", "task"]].copy()
    for column in [c for c in table.columns if f"{c} ci95" in table]:
        shown[column] = [
            (
                ""
                if pd.isna(m)
                else f"{m:.{decimals}f}"
                + ("" if pd.isna(c) else f" ± {c:.{decimals}f}")
                + ("" if pd.isna(n) else f" (n={int(n)})")
            )
            for m, c, n in zip(table[column], table[f"{column} ci95"], table[f"{column} n_seeds"])
        ]
    return shown


def summary_table(transfer: pd.DataFrame) -> pd.DataFrame:
    """The domain x objective table a search prints at its end: per (domain, task), the test
    score of each objective's best trial, random init first."""
    if transfer.empty:
        return pd.DataFrame()
    wide = transfer.pivot_table(
        index=["domain", "task"], columns="objective", values="best", aggfunc="first", sort=False
    )
    wide.insert(0, "random init", transfer.groupby(["domain", "task"], sort=False)["baseline"].first())
    wide.columns.name = None
    return wide.reset_index()
