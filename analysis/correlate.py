"""Rank correlation across trials with a paired percentile bootstrap interval (pure functions).

    rho = spearman(x, y)                                  # average ranks for ties (as scipy)
    low, high = bootstrap_interval(x, y, seed=0)          # 95% percentile interval
    table = correlation_table(measures, scores)           # per (domain, task, measure)

The interval is the *percentile* bootstrap (not BCa): resample the trials (pairs) with
replacement `n_resamples` times, draw d's indices with `np.random.default_rng(seed)` as
one (n_resamples, n) matrix (the draw scipy.stats.bootstrap makes), take each resample's
Spearman rho, and report the 2.5th and 97.5th percentiles. Resamples whose rho is
undefined (a constant resampled column) are left out; with fewer than MIN_TRIALS trials
rho and its interval are NaN.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

N_RESAMPLES = 2000  # bootstrap resamples per interval
CONFIDENCE = 0.95
MIN_TRIALS = 4  # fewer trials: no correlation (a rank correlation of 3 points is +-1 or +-0.5)
METHOD = "percentile"  # the bootstrap interval's method, stated in every table
CORRELATION_COLUMNS = ["domain", "task", "kind", "measure", "n_trials", "rho", "low", "high", "excludes_zero"]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) along the last axis; ties share their mean rank."""
    frame = pd.DataFrame(np.atleast_2d(values))
    return frame.rank(axis=1, method="average").to_numpy()


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of each row of a with the same row of b; NaN where a row is constant."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (a * b).sum(axis=1) / norm
    return np.where(norm > 0, out, np.nan)


def _pairs(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"x and y must be 1-d and of one length, but got shapes {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def spearman(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Spearman's rho of the finite pairs; NaN when fewer than 2 or a side is constant."""
    x, y = _pairs(x, y)
    if len(x) < 2:
        return float("nan")
    return float(_pearson_rows(_ranks(x), _ranks(y))[0])


def bootstrap_interval(
    x: npt.ArrayLike, y: npt.ArrayLike, n_resamples: int = N_RESAMPLES, confidence: float = CONFIDENCE, seed: int = 0
) -> tuple[float, float]:
    """Paired percentile bootstrap interval of Spearman's rho (see the module doc)."""
    if not 0 < confidence < 1:
        raise ValueError(f"0 < confidence < 1 must hold, but got {confidence}")
    x, y = _pairs(x, y)
    n = len(x)
    if n < 2:
        return float("nan"), float("nan")
    index = np.random.default_rng(seed).integers(0, n, (n_resamples, n))  # (B, n)
    rhos = _pearson_rows(_ranks(x[index]), _ranks(y[index]))  # (B,)
    rhos = rhos[np.isfinite(rhos)]
    if len(rhos) == 0:
        return float("nan"), float("nan")
    alpha = (1 - confidence) / 2
    low, high = np.percentile(rhos, [100 * alpha, 100 * (1 - alpha)])
    return float(low), float(high)


def correlate(x: npt.ArrayLike, y: npt.ArrayLike, seed: int = 0, n_resamples: int = N_RESAMPLES) -> dict:
    """{n_trials, rho, low, high, excludes_zero} of the finite pairs of x and y."""
    kept = len(_pairs(x, y)[0])
    if kept < MIN_TRIALS:
        return {
            "n_trials": kept,
            "rho": float("nan"),
            "low": float("nan"),
            "high": float("nan"),
            "excludes_zero": False,
        }
    rho = spearman(x, y)
    low, high = bootstrap_interval(x, y, n_resamples, seed=seed)
    return {
        "n_trials": kept,
        "rho": rho,
        "low": low,
        "high": high,
        "excludes_zero": bool(np.isfinite(low) and (low > 0 or high < 0)),
    }


def correlation_table(
    measures: pd.DataFrame, scores: pd.DataFrame, seed: int = 0, n_resamples: int = N_RESAMPLES
) -> pd.DataFrame:
    """Per (domain, task, measure): Spearman rho of measure vs test score across trials.

    measures: long, one row per (experiment, trial, domain, kind, measure, task, value);
    task "" means the measure holds for every task (invariance is per domain).
    scores: long, one row per (experiment, trial, domain, task, test).
    """
    rows = []
    keys = ["experiment", "trial", "domain"]
    for (domain, task), score in scores.groupby(["domain", "task"], sort=False):
        part = measures[(measures["domain"] == domain) & measures["task"].isin(["", task])]
        for (kind, name), group in part.groupby(["kind", "measure"], sort=False):
            joined = group[keys + ["value"]].merge(score[keys + ["test"]], on=keys)
            found = correlate(joined["value"], joined["test"], seed, n_resamples)
            rows.append({"domain": domain, "task": task, "kind": kind, "measure": name, **found})
    return pd.DataFrame(rows, columns=CORRELATION_COLUMNS)


def _strongest(part: pd.DataFrame) -> pd.Series | None:
    ranked = part.dropna(subset=["rho"])
    return None if ranked.empty else ranked.loc[ranked["rho"].abs().idxmax()]


def _phrase(row: pd.Series | None, what: str) -> str:
    if row is None:
        return f"no {what} (too few trials, or constant values)"
    verdict = "the interval excludes 0" if row["excludes_zero"] else "the interval includes 0"
    return (
        f"{what} `{row['measure']}` (rho {row['rho']:+.2f}, 95% CI [{row['low']:+.2f}, {row['high']:+.2f}] "
        f"on task `{row['task']}`, {row['n_trials']} trials; {verdict})"
    )


def domain_sentences(table: pd.DataFrame) -> dict[str, str]:
    """domain -> one sentence: the invariance and the risk component whose |rho| is largest."""
    out = {}
    for domain, part in table.groupby("domain", sort=False):
        invariance = _phrase(_strongest(part[part["kind"] == "invariance"]), "invariance")
        risk = _phrase(_strongest(part[part["kind"] == "risk"]), "risk component")
        out[domain] = (
            f"On {domain}, the strongest rank correlations with the test score across trials: "
            f"{invariance}; {risk} (a component is an error: rho < 0 means less of it goes with "
            f"better transfer)."
        )
    return out
