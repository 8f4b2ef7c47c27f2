"""PNG plots of a search (matplotlib's Agg canvas: no display, no pyplot state).

Each function takes the tables of analysis.tables / results and writes one PNG with a
title, labelled axes and a legend or colour bar, so it reads without the report around it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.results import METRIC
from analysis.tables import BASELINE, trial_number
from dabs_lib.experiment import SECONDS
from dabs_lib.safe_io import atomic_write
from matplotlib.axes import Axes
from typing import Any

COMPONENTS = ("approximation", "usability", "probe_generalization", "encoder_generalization")
DPI = 110
PANELS_KEY = "Panels"  # PNG text chunk: the number of data panels (axes other than colour bars)
LAYOUT_KEY = "Layout"  # PNG text chunk: texts off the canvas or overlapping (analysis.layout), "ok" if none
MAX_COLUMNS = 3  # grids of per-study panels wrap after this many columns


def _figure(rows: int, cols: int, width: float, height: float) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False))
    return fig, axes


def grid(count: int, width: float, height: float, max_columns: int = MAX_COLUMNS) -> tuple[Figure, list]:
    """`count` panels in rows of at most `max_columns`; the unused cells of the last row removed."""
    cols = max(1, min(max_columns, math.ceil(math.sqrt(count))))  # near square: 4 -> 2 x 2
    fig, axes = _figure(max(1, math.ceil(count / cols)), cols, width, height)
    flat = list(axes.ravel())
    for ax in flat[max(1, count) :]:
        ax.remove()
    return fig, flat[: max(1, count)]


def data_panels(fig: Figure) -> int:
    return sum(1 for ax in fig.axes if ax.get_label() != "<colorbar>")


def _save(fig: Figure, path: str | Path) -> Path:
    """Write the PNG, recording its number of data panels and its layout problems in text chunks (tests read them)."""
    from analysis.layout import text_problems

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.set_dpi(DPI)  # measured at the size it is written
    metadata = {PANELS_KEY: str(data_panels(fig)), LAYOUT_KEY: "; ".join(text_problems(fig)) or "ok"}
    atomic_write(path, lambda handle: fig.savefig(handle, dpi=DPI, format="png", metadata=metadata))
    return path


def legend_outside(ax: Axes, **options: Any) -> None:
    """A legend right of the axes, never over the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small", **options)


def _series(study: pd.DataFrame) -> pd.DataFrame:
    """Trials in number order with the best completed score so far and cumulative seconds."""
    study = study.assign(number=study["trial"].map(trial_number)).sort_values("number")
    score = study[METRIC].where(study["status"] == "completed") if METRIC in study else pd.Series(np.nan, study.index)
    seconds = study[SECONDS].fillna(0.0) if SECONDS in study else pd.Series(0.0, study.index)
    return study.assign(best_so_far=score.cummax().ffill(), compute=seconds.cumsum(), score=score)


def plot_progress(trials: pd.DataFrame, path: str | Path) -> Path:
    return _save(progress_figure(trials), path)


def progress_figure(trials: pd.DataFrame) -> Figure:
    """Best-so-far validation transfer score vs trial number and vs compute, per domain."""
    domains = sorted(trials["domain"].unique())
    fig, axes = _figure(len(domains), 2, 5.5, 3.6)
    many = trials["experiment"].nunique() > 1
    for row, domain in enumerate(domains):
        part = trials[trials["domain"] == domain]
        for (experiment, objective), study in part[part["objective"] != BASELINE].groupby(["experiment", "objective"]):
            series = _series(study)
            label = f"{objective} ({experiment})" if many else objective
            for ax, x in zip(axes[row], ("number", "compute")):
                (line,) = ax.step(series[x], series["best_so_far"], where="post", label=label)
                ax.plot(series[x], series["score"], "o", color=line.get_color(), alpha=0.5, markersize=4)
        base = part[(part["objective"] == BASELINE) & (part["status"] == "completed")]
        for ax, xlabel in zip(
            axes[row], ("trial number (0 = untuned DABS default)", "compute spent (cumulative trial seconds)")
        ):
            if not base.empty and METRIC in base and base[METRIC].notna().any():
                # on top of the data and inside the y range, so it is seen even far below the trials
                level = float(base[METRIC].mean())
                ax.axhline(level, color="black", linestyle="--", linewidth=1.5, zorder=5, label="random init")
                low, high = ax.get_ylim()
                ax.set_ylim(min(low, level - 0.05 * (high - low)), max(high, level + 0.05 * (high - low)))
            ax.set_xlabel(xlabel)
            ax.set_ylabel("best validation transfer score so far")
            ax.set_title(f"{domain}: search progress")
            legend_outside(ax, title="line: best so far\ndots: each completed trial", title_fontsize="x-small")
        axes[row][0].xaxis.set_major_locator(MaxNLocator(integer=True))  # trials are whole numbers
    return fig


def _axis_values(values: pd.Series) -> tuple[np.ndarray, str, str]:
    """Values scaled to [0, 1] for one parallel axis, with the labels of its two ends."""
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and values.map(lambda v: not isinstance(v, bool)).all():
        low, high = float(numeric.min()), float(numeric.max())
        logged = low > 0 and high / low > 10  # spans a decade or more: read it in log
        scaled = np.log10(numeric) if logged else numeric
        lo, hi = float(scaled.min()), float(scaled.max())
        span = hi - lo if hi > lo else 1.0
        return ((scaled - lo) / span).to_numpy(float), f"{low:.3g}", f"{high:.3g}" + (" (log)" if logged else "")
    levels = sorted(values.astype(str).unique())
    position = {v: i / max(1, len(levels) - 1) for i, v in enumerate(levels)}
    return values.astype(str).map(position).to_numpy(float), levels[0], levels[-1]


def plot_parallel(trials: pd.DataFrame, searched: dict[tuple[str, str], list[str]], path: str | Path) -> Path:
    """Parallel coordinates of each study's searched params, lines coloured by validation score:
    one panel per study, two per row, so a whole search reads at a glance."""
    studies = [(k, v) for k, v in sorted(searched.items()) if v]
    fig, axes = grid(len(studies), 6.0, 3.4, max_columns=2)
    if not studies:
        axes[0].set_title("parallel coordinates: no searched parameters")
        axes[0].axis("off")
    for ax, ((domain, objective), params) in zip(axes, studies):
        study = trials[(trials["domain"] == domain) & (trials["objective"] == objective)]
        params = [p for p in params if p in study and study[p].notna().any()]
        _parallel_panel(fig, ax, study, params)
        ax.set_title(f"{domain}/{objective}", fontsize="large")
    fig.suptitle(
        "searched parameters per study: each line a trial, coloured by validation transfer score "
        "(grey dotted: pruned or unfinished)",
        fontsize="medium",
    )
    return _save(fig, path)


def _parallel_panel(fig: Figure, ax: Axes, study: pd.DataFrame, params: list[str]) -> None:
    columns = [_axis_values(study[p]) for p in params]
    score = study[METRIC].where(study["status"] == "completed") if METRIC in study else study["trial"] * np.nan
    norm = Normalize(float(score.min()), float(score.max())) if score.notna().any() else Normalize(0, 1)
    if norm.vmin == norm.vmax:
        norm = Normalize(norm.vmin - 1e-3, norm.vmax + 1e-3)
    cmap = colormaps["viridis"]
    for i, value in enumerate(score.to_numpy()):
        ys = [col[0][i] for col in columns]
        done = not math.isnan(value)
        ax.plot(
            range(len(params)),
            ys,
            color=cmap(norm(value)) if done else "darkgrey",
            marker="o",
            markersize=3,
            linestyle="-" if done else ":",
            linewidth=1.8 if done else 1.0,
            zorder=2 if done else 1,
        )
    for x, (_, low, high) in enumerate(columns):
        ax.axvline(x, color="black", linewidth=0.6)
        ax.annotate(low, (x, -0.06), ha="center", va="top", fontsize="small")
        ax.annotate(high, (x, 1.06), ha="center", va="bottom", fontsize="small")
    ax.set_xticks(
        range(len(params)), params, fontsize="small", rotation=20, ha="right", rotation_mode="anchor"
    )  # long names side by side: slanted, never run together
    ax.set_xlim(-0.3, max(0.3, len(params) - 0.7))
    ax.set_ylim(-0.25, 1.25)
    ax.set_yticks([])
    ax.spines[["left", "right", "top"]].set_visible(False)
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="validation score", fraction=0.05)


def headline_tasks(transfer: pd.DataFrame) -> dict[str, str]:
    """Per domain: its first average (Domain.averages) when it has one, else its first task."""
    out = {}
    for domain, group in transfer.groupby("domain", sort=False):
        averaged = group[group["average"]] if "average" in group else group.iloc[:0]
        out[domain] = (averaged if not averaged.empty else group)["task"].iloc[0]
    return out


def plot_gain(transfer: pd.DataFrame, path: str | Path) -> Path:
    """Heat map domain x objective of the best trial's test-score gain over random init."""
    heads = headline_tasks(transfer)
    rows = transfer[transfer.apply(lambda r: heads.get(r["domain"]) == r["task"], axis=1)]
    gain = rows.pivot_table(index="domain", columns="objective", values="gain_vs_baseline", aggfunc="first")
    # wide enough for the title and the colour bar's label with a single objective (the quickstart's)
    fig, axes = _figure(1, 1, max(6.0, 1.4 * gain.shape[1] + 3.5), max(3.0, 0.8 * gain.shape[0] + 2.0))
    ax = axes[0, 0]
    if gain.size == 0:  # no study has both a best trial and its domain's random-init baseline
        ax.text(
            0.5,
            0.5,
            "no gain to show: no study has both a completed trial\nand a random-init baseline",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return _save(fig, path)
    limit = float(np.nanmax(np.abs(gain.to_numpy()))) if gain.notna().any().any() else 1.0
    limit = limit or 1.0
    image = ax.imshow(gain.to_numpy(float), cmap="RdBu", norm=TwoSlopeNorm(0.0, -limit, limit), aspect="auto")
    for (i, domain), (j, _objective) in ((a, b) for a in enumerate(gain.index) for b in enumerate(gain.columns)):
        value = gain.iat[i, j]
        dark = not pd.isna(value) and abs(value) > 0.6 * limit
        ax.text(
            j,
            i,
            "n/a" if pd.isna(value) else f"{value:+.3f}\n({heads[domain]})",
            ha="center",
            va="center",
            fontsize="small",
            color="white" if dark else "black",
        )
    ax.set_xticks(range(gain.shape[1]), list(gain.columns))
    ax.set_yticks(range(gain.shape[0]), list(gain.index))
    ax.set_xlabel("objective (best trial)\ncell: gain on the task in brackets")
    ax.set_ylabel("domain")
    ax.set_title("test-score gain over the random-init baseline")
    fig.colorbar(image, ax=ax, label="gain (> 0: beats random init)", fraction=0.08)
    return _save(fig, path)


def plot_risk(risk: pd.DataFrame, path: str | Path) -> Path:
    """Stacked bars of the full-shot risk components (clipped at 0) per checkpoint, per task."""
    full = risk[risk["shots"] == 0] if "shots" in risk else risk
    groups = list(full.groupby(["domain", "task"], sort=False))
    fig, axes = _figure(max(1, len(groups)), 1, 7, 3.5)
    for ax, ((domain, task), part) in zip(axes[:, 0], groups):
        labels = part["checkpoint"].astype(str).tolist()
        bottom = np.zeros(len(part))
        for name in COMPONENTS:
            column = f"{name}_clipped" if f"{name}_clipped" in part else name
            values = part[column].fillna(0.0).clip(lower=0.0).to_numpy(float) if column in part else bottom * 0
            label = name.replace("_", " ")
            no_twin = name not in part or part[name].isna().all()
            if name == "approximation" and no_twin:
                label += " (no supervised twin: in usability)"
            ax.bar(labels, values, bottom=bottom, label=label)
            bottom = bottom + values
        if "aggregate" in part:
            ax.plot(labels, part["aggregate"], "k_", markersize=18, label="aggregate risk (test error)")
        ax.set_ylabel("error (components clipped at 0)")
        ax.set_xlabel("checkpoint: best trial per objective (none = random init)")
        ax.set_title(f"{domain}/{task}: full-shot risk decomposition")
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return _save(fig, path)


def plot_invariance(matrices: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """Heat map per domain: rows objective (and random init), columns corruption family."""
    fig, axes = _figure(max(1, len(matrices)), 1, 7, 3.2)
    for ax, (domain, matrix) in zip(axes[:, 0], matrices.items()):
        image = ax.imshow(matrix.to_numpy(float), cmap="viridis", vmin=-1, vmax=1, aspect="auto")
        for i in range(matrix.shape[0]):
            for j in range(matrix.shape[1]):
                value = matrix.iat[i, j]
                ax.text(
                    j,
                    i,
                    "n/a" if pd.isna(value) else f"{value:.2f}",
                    ha="center",
                    va="center",
                    color="white" if not pd.isna(value) and value < 0.3 else "black",
                    fontsize="small",
                )
        ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=20)
        ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index])
        ax.set_xlabel("corruption family")
        ax.set_ylabel("pretraining objective")
        ax.set_title(f"{domain}: invariance (whitened cosine, clean vs corrupted; 1 = invariant)")
        fig.colorbar(image, ax=ax, label="invariance score")
    return _save(fig, path)
