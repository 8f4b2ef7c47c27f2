"""Every report plot reads at the size it is written: rendered on matplotlib's Agg canvas, no text
leaves the canvas and no two texts overlap (matplotlib's own text extents, analysis.layout)."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis import plots, plots_trials, tables
from analysis.layout import text_problems
from analysis.plots import LAYOUT_KEY
from tests.analysis import test_plots, test_report_plots
from tests.analysis.test_report_plots import png_facts


def _transfer() -> pd.DataFrame:
    trials = test_plots._trials()
    return tables.transfer_table(tables.summarize_scores(tables.role_scores(trials, tables.select_best(trials))))


def _curves() -> pd.DataFrame:
    rows = []
    for objective in ("emix", "shed", "mae"):
        for number, status in enumerate(("completed",) * 6 + ("pruned",) * 3):
            for step in (50, 100)[: 1 if status == "pruned" else 2]:
                rows.append(
                    {
                        "experiment": "e",
                        "domain": "digits",
                        "objective": objective,
                        "trial": f"t_{number:03d}",
                        "iteration": step // 50,
                        "step": step,
                        "status": status,
                        "transfer/val": 0.1 + 0.01 * number + step / 1000,
                    }
                )
    return pd.DataFrame(rows)


def _risk() -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "checkpoint": c,
                "domain": "digits",
                "task": "novel",
                "shots": 0,
                "approximation": np.nan,
                "usability": 0.1,
                "probe_generalization": 0.2,
                "encoder_generalization": -0.01,
                "aggregate": 0.29,
            }
            for c in ("emix", "none")
        ]
    )


def _searched() -> dict:
    return {
        (d, o): ["lr", "batch_size", "weight_decay", "warmup_steps", "corruption_rate"]
        for d in ("digits", "tabular")
        for o in ("emix", "shed", "mae")
    }


def _wide_trials() -> pd.DataFrame:
    frame = test_report_plots._trials()
    return frame.assign(
        weight_decay=1e-5 * (1 + frame.index % 7),
        warmup_steps=10 * (frame.index % 5),
        corruption_rate=0.05 + 0.1 * (frame.index % 4),
    )


PLOTS = {
    "progress": lambda out: plots.plot_progress(test_report_plots._trials(), out),
    "parallel": lambda out: plots.plot_parallel(_wide_trials(), _searched(), out),
    "gain": lambda out: plots.plot_gain(_transfer(), out),
    "gain_one_objective": lambda out: plots.plot_gain(_transfer().query("objective == 'emix'"), out),
    "learning_curves": lambda out: plots_trials.plot_learning_curves(_curves(), out),
    "pareto": lambda out: plots_trials.plot_pareto(test_report_plots._trials(), "seconds", out),
    "risk": lambda out: plots.plot_risk(_risk(), out),
    "invariance": lambda out: plots.plot_invariance(
        {"digits": pd.DataFrame([[0.9, 0.2], [0.3, 0.8]], index=["emix", "random_init"], columns=["mix", "shuffle"])},
        out,
    ),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_report_plot_texts_stay_on_the_canvas_and_apart(tmp_path, name):
    path = PLOTS[name](tmp_path / f"{name}.png")
    assert png_facts(path)[2][LAYOUT_KEY] == "ok", png_facts(path)[2][LAYOUT_KEY]


def _study(trials: int) -> optuna.Study:
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(trials):
        trial = study.ask()
        lr, depth = trial.suggest_float("lr", 1e-4, 1e-1, log=True), trial.suggest_int("depth", 1, 4)
        rate = trial.suggest_float("corruption_rate", 0.05, 0.5)
        score = 0.5 + 0.1 * depth - abs(lr - 0.01) + 0.1 * rate
        for step in (50, 100):
            trial.report(score * step / 100, step)
        study.tell(trial, score)
    return study


def test_report_plots_do_not_inherit_optunas_grey_style(tmp_path):
    plots_trials.optuna_plots({("e", "digits", "emix"): _study(12)}, tmp_path)  # Optuna calls plt.style.use
    fig = Figure()
    assert fig.add_subplot().get_facecolor()[:3] == (1.0, 1.0, 1.0)  # white axes, not ggplot's grey


def test_optuna_plots_stay_on_the_canvas_and_apart(tmp_path):
    written = plots_trials.optuna_plots({("e", "digits", "emix"): _study(12)}, tmp_path)
    assert any("parameter importances" in name for name in written)
    for name, path in written.items():
        assert png_facts(path)[2][LAYOUT_KEY] == "ok", (name, png_facts(path)[2][LAYOUT_KEY])


def test_optuna_does_not_rank_parameters_below_the_importance_tables_threshold(tmp_path):
    from analysis.importance import MIN_COMPLETED

    few = plots_trials.optuna_plots({("e", "digits", "emix"): _study(MIN_COMPLETED - 1)}, tmp_path / "few")
    enough = plots_trials.optuna_plots({("e", "digits", "emix"): _study(MIN_COMPLETED)}, tmp_path / "enough")
    assert not any("importances" in name for name in few) and any("importances" in name for name in enough)


def test_the_layout_check_finds_a_cut_title_and_overlapping_labels():
    fig = Figure(figsize=(2, 2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title("a title far too long for a figure two inches wide")
    ax.text(0.5, 0.5, "one label")
    ax.text(0.52, 0.5, "another label")
    problems = text_problems(fig)
    assert any("leaves the canvas" in p and "a title" in p for p in problems), problems
    assert any("'one label' overlaps 'another label'" in p for p in problems), problems
