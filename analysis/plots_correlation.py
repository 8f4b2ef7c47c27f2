"""One plot per domain: Spearman rho of each invariance score and risk component with the test
score across trials, with its 95% bootstrap interval (analysis.correlate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.plots import _figure, _save

COLORS = {"invariance": "tab:blue", "risk": "tab:red"}


def plot_correlations(table: pd.DataFrame, domain: str, path: str | Path) -> Path:
    """Rows `<kind> <measure> @ <task>`; a dot at rho, a bar over its interval; grey line at 0."""
    part = table[(table["domain"] == domain)].reset_index(drop=True)
    fig, axes = _figure(1, 1, 7, max(2.5, 0.32 * len(part) + 1.2))
    ax = axes[0, 0]
    labels = [f"{r.kind}: {r.measure} @ {r.task}" for r in part.itertuples()]
    y = np.arange(len(part))
    for kind, color in COLORS.items():
        chosen = (part["kind"] == kind).to_numpy()
        if not chosen.any():
            continue
        rho, low, high = (part.loc[chosen, c].to_numpy(float) for c in ("rho", "low", "high"))
        ax.errorbar(
            rho, y[chosen], xerr=[rho - low, high - rho], fmt="o", color=color, capsize=3, label=f"{kind} vs test score"
        )
    ax.axvline(0.0, color="grey", linewidth=0.8)
    ax.set_yticks(y, labels, fontsize="small")
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("Spearman rho across trials (95% percentile bootstrap interval)")
    trials = int(part["n_trials"].max()) if len(part) else 0
    ax.set_title(f"{domain}: what goes with transfer ({trials} trials)")
    ax.invert_yaxis()
    if len(part):
        ax.legend(fontsize="small", loc="lower right")
    return _save(fig, path)
