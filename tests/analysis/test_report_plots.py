"""Report plots: valid PNGs with the expected number of panels, and today's readability fixes."""

from __future__ import annotations

import struct
from pathlib import Path

import optuna
import pandas as pd
import pytest

from analysis import plots, plots_trials
from analysis.plots import PANELS_KEY
from tests.analysis.fake import png_ok, trial, trials_frame


def png_facts(path: Path) -> tuple[int, int, dict[str, str]]:
    """(width, height, text chunks) read from the PNG's own chunks."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    position, text, size = 8, {}, None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            text[key.decode("latin-1")] = value.decode("latin-1")
        position += 12 + length
    png_ok(path)
    return size[0], size[1], text


def panels(path: Path) -> int:
    return int(png_facts(path)[2][PANELS_KEY])


def _trials() -> pd.DataFrame:
    rows = [trial("digits", "none", 0, val=0.2, tests={"novel": 0.2}), trial("tabular", "none", 0, val=0.1)]
    for domain in ("digits", "tabular"):
        for objective in ("emix", "shed", "mae"):
            for number, val in enumerate((0.5, 0.6, 0.55, 0.7)):
                rows.append(
                    trial(
                        domain,
                        objective,
                        number,
                        val=val,
                        lr=10 ** -(number + 2),
                        batch_size=32 * (number + 1),
                        seconds=10.0 * (number + 1),
                        params=1000 * (4 - number),
                    )
                )
            rows.append(trial(domain, objective, 4, status="pruned", val=0.3, lr=1e-2, batch_size=64, seconds=3.0))
    return trials_frame(rows)


def test_progress_has_integer_trial_ticks_legend_off_the_data_and_a_visible_random_init(tmp_path):
    fig = plots.progress_figure(_trials())
    fig.canvas.draw()
    number_axes = [ax for ax in fig.axes if ax.get_xlabel().startswith("trial number")]
    assert len(number_axes) == 2
    for ax in number_axes:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks)
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        assert legend is not None
        assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1  # right of the axes
        level = [line for line in ax.get_lines() if line.get_label() == "random init"]
        assert len(level) == 1 and level[0].get_zorder() > 2
        low, high = ax.get_ylim()
        assert low < level[0].get_ydata()[0] < high
    path = plots.plot_progress(_trials(), tmp_path / "progress.png")
    assert panels(path) == 4  # 2 domains x (by trial, by compute)


def test_parallel_coordinates_read_at_a_glance(tmp_path):
    trials = _trials()
    searched = {(d, o): ["lr", "batch_size"] for d in ("digits", "tabular") for o in ("emix", "shed", "mae")}
    width, height, text = png_facts(plots.plot_parallel(trials, searched, tmp_path / "parallel.png"))
    assert text[PANELS_KEY] == "6"
    assert width <= 1500 and height <= 1400 and width >= height * 0.9  # was 1100 x 2507 for 6 studies


def test_learning_curves_one_panel_per_study_with_pruned_trials_marked(tmp_path):
    rows = []
    for objective in ("emix", "shed"):
        for number, status in enumerate(("completed", "completed", "pruned")):
            for step in (10, 20, 30)[: 1 if status == "pruned" else 3]:
                rows.append(
                    {
                        "experiment": "e",
                        "domain": "digits",
                        "objective": objective,
                        "trial": f"t_{number:03d}",
                        "iteration": step // 10,
                        "step": step,
                        "status": status,
                        "transfer/val": 0.1 * step / 10,
                    }
                )
    results = pd.DataFrame(rows)
    path = plots_trials.plot_learning_curves(results, tmp_path / "curves.png")
    assert panels(path) == 2


def test_pareto_front_is_the_non_dominated_trials(tmp_path):
    points = pd.DataFrame({"transfer/val": [0.5, 0.7, 0.6, 0.4, 0.8], "seconds": [1.0, 3.0, 4.0, 2.0, 9.0]})
    assert list(plots_trials.pareto_front(points, "seconds").index) == [0, 1, 4]
    path = plots_trials.plot_pareto(_trials(), "seconds", tmp_path / "pareto.png")
    assert panels(path) == 6


def _study(multi: bool) -> optuna.Study:
    study = optuna.create_study(
        directions=["maximize", "minimize"] if multi else ["maximize"], sampler=optuna.samplers.RandomSampler(seed=0)
    )
    from analysis.importance import MIN_COMPLETED

    for _ in range(MIN_COMPLETED):  # enough to rank importances
        trial = study.ask()
        lr, depth = trial.suggest_float("lr", 1e-4, 1e-1, log=True), trial.suggest_int("depth", 1, 4)
        score = 0.5 + 0.1 * depth - abs(lr - 0.01)
        if not multi:
            for step in range(3):
                trial.report(score * (step + 1) / 3, step)
        study.tell(trial, [score, 10.0 * depth] if multi else score)
    return study


@pytest.mark.parametrize("multi", [False, True])
def test_optuna_plots_of_real_studies(tmp_path, multi):
    written = plots_trials.optuna_plots({("e", "digits", "emix"): _study(multi)}, tmp_path, "seconds" if multi else "")
    expected = {"optimization history": 1, "slices": 2, "parameter importances": 1}
    expected.update({"Pareto front": 1} if multi else {"intermediate values": 1})
    assert {name.split(": ")[1] for name in written} == set(expected)
    for name, path in written.items():
        assert panels(path) == expected[name.split(": ")[1]], name
