"""`summarize` (printed after every search); `analyze` and `export` live in analysis."""
from __future__ import annotations

import pandas as pd

from analysis.results import load_experiment, trial_table


def best_table(uri: str) -> pd.DataFrame:
    """Best trial (by last validation score) per (domain, objective) beside the baseline."""
    trials = trial_table(load_experiment(uri))
    done = trials[trials["status"] == "completed"]
    rows = []
    for (domain, objective), group in done.groupby(["domain", "objective"]):
        best = group.loc[group["transfer/val"].idxmax()]
        test_cols = sorted(c for c in group.columns if c.startswith("test/") and pd.notna(best.get(c)))
        rows.append({"domain": domain, "objective": objective, "trial": best["trial"],
                     "transfer/val": best["transfer/val"],
                     **{c: best[c] for c in test_cols}})
    return pd.DataFrame(rows)


def summarize(uri: str) -> None:
    table = best_table(uri)
    if table.empty:
        print("no completed trials")
        return
    with pd.option_context("display.max_columns", 20, "display.width", 160, "display.float_format", "{:.4f}".format):
        print(table.to_string(index=False))
    print(f"\nTensorBoard: python run_search.py tensorboard {uri}")
