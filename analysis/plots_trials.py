"""Per-trial plots: learning curves of every trial, Optuna's own plots of each study, and the
Pareto front of multi-objective searches. PNGs as in analysis.plots (panel count recorded).

Optuna's matplotlib plots draw through pyplot; each figure is closed once saved so a long
report does not pile figures up.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import optuna
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from optuna.trial import TrialState

from analysis.plots import _save, grid
from analysis.results import METRIC
from analysis.tables import BASELINE, trial_number

SCORE_NAME = "validation transfer score"  # the name of study value 0 on every Optuna plot
OPTUNA_MIN_COMPLETE = 2  # below this many completed trials an Optuna plot shows nothing worth a file
MULTI_OBJECTIVE_NAMES = {"seconds": "trial seconds (lower is better)", "params": "encoder parameters (lower is better)"}


def trial_colours(count: int) -> list:
    """One distinct colour per trial: a qualitative map while it has enough colours, then a ramp."""
    from matplotlib import colormaps

    if count <= 10:
        return [colormaps["tab10"](i) for i in range(count)]
    if count <= 20:
        return [colormaps["tab20"](i) for i in range(count)]
    return [colormaps["viridis"](i / max(1, count - 1)) for i in range(count)]


def plot_learning_curves(results: pd.DataFrame, path: str | Path) -> Path:
    """One panel per searched (domain, objective): `transfer/val` of every trial against the
    optimizer step; pruned trials dashed and ended with an x where the scheduler stopped them."""
    searched = results[results["objective"] != BASELINE]
    studies = sorted(searched.groupby(["domain", "objective"]).groups) if METRIC in searched else []
    fig, axes = grid(len(studies), 5.6, 3.3)  # room for each panel's legend of trials
    x_name = "step" if "step" in results else "iteration"
    for ax, (domain, objective) in zip(axes, studies):
        study = searched[(searched["domain"] == domain) & (searched["objective"] == objective)]
        ordered = sorted(study.groupby("trial"), key=lambda item: trial_number(item[0]))
        colours = trial_colours(len(ordered))
        for colour, (trial, rows) in zip(colours, ordered):
            rows = rows.dropna(subset=[METRIC]).sort_values("iteration")
            if rows.empty:
                continue
            pruned = rows["status"].iloc[-1] != "completed"
            ax.plot(
                rows[x_name],
                rows[METRIC],
                linestyle="--" if pruned else "-",
                marker=".",
                color=colour,
                alpha=0.7 if pruned else 0.95,
                linewidth=1.4,
                label=f"#{trial_number(trial)}",
            )
            if pruned:
                ax.plot(
                    rows[x_name].iloc[-1], rows[METRIC].iloc[-1], "x", color=colour, markersize=9, markeredgewidth=2
                )
        if ax.get_lines():  # which line is which trial: its number in the study (0 = DABS default)
            ax.legend(
                title="trial",
                fontsize="x-small",
                title_fontsize="x-small",
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                borderaxespad=0.0,
                ncols=1 if len(ordered) <= 10 else 2,
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
        ax.set_title(f"{domain}/{objective}: every trial")
        ax.set_xlabel("optimizer step" if x_name == "step" else "evaluation")
        ax.set_ylabel(SCORE_NAME)
    if not studies:
        axes[0].set_title("learning curves: no trial reported a validation score")
        axes[0].axis("off")
    else:
        handles = [
            Line2D([], [], color="black", label="completed trial"),
            Line2D([], [], color="black", linestyle="--", marker="x", label="pruned (x: stopped here)"),
        ]
        fig.legend(handles=handles, loc="outside right upper", fontsize="small")
    return _save(fig, path)


def _pyplot_save(draw: Callable[[], object], path: Path, heading: str) -> Path:
    """Run one of Optuna's plot functions, title it with the study, save it, close it.

    Optuna switches pyplot to its grey `ggplot` style for good (plt.style.use): the rc_context
    gives the report's other plots their own style back. Optuna's own title ("Hyperparameter
    Importances", left-aligned) is replaced by the study's, never drawn over it."""
    import matplotlib
    import matplotlib.pyplot as plt

    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.simplefilter("ignore")  # Optuna's ExperimentalWarning on its matplotlib backend
        drawn = np.ravel(draw())
    fig = drawn[0].figure
    for ax in drawn:
        for loc in ("left", "center", "right"):
            ax.set_title("", loc=loc)
    if len(drawn) > 1:
        fig.suptitle(heading)
    else:
        drawn[0].set_title(heading)
    try:
        fig.set_layout_engine("constrained")
        return _save(fig, path)
    finally:
        plt.close(fig)


def optuna_plots(
    studies: dict[tuple[str, str, str], optuna.Study], folder: str | Path, multi_objective: str = ""
) -> dict[str, Path]:
    """Optuna's own plots of each study where they have something to show: optimization
    history, intermediate values (single-objective), parameter importances and slices (params
    that vary), and the Pareto front (multi-objective). Returns title -> PNG."""
    from analysis.importance import MIN_COMPLETED, varying_params
    from optuna.visualization import matplotlib as ovm

    folder = Path(folder)
    written: dict[str, Path] = {}
    several = len({key[0] for key in studies}) > 1  # experiments: name them when there are several
    for (experiment, domain, objective), study in sorted(studies.items()):
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(complete) < OPTUNA_MIN_COMPLETE:
            continue
        multi = len(study.directions) > 1
        target = (lambda t: t.values[0]) if multi else None
        name = f"{domain}/{objective}" + (f" ({experiment})" if several else "")
        stem = folder / ((f"{experiment}-" if several else "") + f"{domain}-{objective}")
        draws = {
            "optimization history": lambda: ovm.plot_optimization_history(study, target=target, target_name=SCORE_NAME)
        }
        if not multi and any(t.intermediate_values for t in study.trials):
            draws["intermediate values"] = lambda: ovm.plot_intermediate_values(study)
        params = varying_params(study)
        if params:
            draws["slices"] = lambda: ovm.plot_slice(study, params=params, target=target, target_name=SCORE_NAME)
        if params and len(complete) >= MIN_COMPLETED:  # importance.md's rule: fewer trials rank noise
            draws["parameter importances"] = lambda: ovm.plot_param_importances(
                study,
                evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0),
                params=params,
                target=target,
                target_name=SCORE_NAME,
            )
        if multi:
            names = [SCORE_NAME, MULTI_OBJECTIVE_NAMES.get(multi_objective, "second objective")]
            draws["Pareto front"] = lambda: ovm.plot_pareto_front(study, target_names=names)
        for title, draw in draws.items():
            path = Path(f"{stem}-{title.replace(' ', '-').lower()}.png")
            try:
                written[f"{name}: {title}"] = _pyplot_save(draw, path, f"{name}: {title}")
            except (ValueError, RuntimeError, ZeroDivisionError):  # an evaluator refusing a tiny study
                continue
    return written


def pareto_front(points: pd.DataFrame, cost: str) -> pd.DataFrame:
    """The trials no other trial beats on both score (higher) and `cost` (lower), by cost."""
    ordered = points.sort_values([cost, METRIC], ascending=[True, False])
    front, best = [], -np.inf
    for index, row in ordered.iterrows():
        if row[METRIC] > best:
            front.append(index)
            best = row[METRIC]
    return ordered.loc[front]


def plot_pareto(trials: pd.DataFrame, cost: str, path: str | Path) -> Path:
    """--multi-objective searches: validation score against the cost (seconds or params) of
    every completed trial, one panel per study, the Pareto front joined and ringed."""
    done = trials[(trials["objective"] != BASELINE) & (trials["status"] == "completed")]
    done = done.dropna(subset=[METRIC, cost]) if cost in done and METRIC in done else done.iloc[:0]
    studies = sorted(done.groupby(["domain", "objective"]).groups)
    fig, axes = grid(len(studies), 4.6, 3.3)
    for ax, (domain, objective) in zip(axes, studies):
        points = done[(done["domain"] == domain) & (done["objective"] == objective)]
        front = pareto_front(points, cost)
        ax.scatter(points[cost], points[METRIC], color="tab:blue", alpha=0.6, label="completed trial")
        ax.step(front[cost], front[METRIC], where="post", color="tab:red", label="Pareto front")
        ax.scatter(front[cost], front[METRIC], facecolors="none", edgecolors="tab:red", s=90)
        ax.set_xlabel(MULTI_OBJECTIVE_NAMES.get(cost, cost))
        ax.set_ylabel(SCORE_NAME)
        ax.set_title(f"{domain}/{objective}: score vs {cost}")
    if studies:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    else:
        axes[0].set_title(f"Pareto front: no completed trial reported {cost}")
        axes[0].axis("off")
    return _save(fig, path)
