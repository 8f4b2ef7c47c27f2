"""analysis.plots on hand-made tables: every plot is a valid PNG that matplotlib reads back."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import plots, tables
from tests.analysis.fake import png_ok, trial, trials_frame


def _trials() -> pd.DataFrame:
    rows = [trial("digits", "none", 0, val=0.4, tests={"novel": 0.3})]
    for objective in ("emix", "shed"):
        for number, (val, lr, batch) in enumerate(((0.5, 1e-4, 64), (0.6, 1e-3, 128), (0.55, 3e-5, 32))):
            rows.append(
                trial(
                    "digits",
                    objective,
                    number,
                    val=val,
                    tests={"novel": val - 0.1},
                    lr=lr,
                    batch_size=batch,
                    pooling="mean" if number else "cls",
                )
            )
        rows.append(trial("digits", objective, 3, status="pruned", val=0.3, lr=1e-2, batch_size=64, pooling="mean"))
    rows.append(trial("tabular", "none", 0, val=0.8, tests={"diagnosis": 0.7}))
    rows.append(trial("tabular", "emix", 0, val=0.9, tests={"diagnosis": 0.75}, lr=1e-4, batch_size=64, pooling="mean"))
    return trials_frame(rows)


def test_progress_parallel_and_gain_plots(tmp_path):
    trials = _trials()
    scores = tables.role_scores(trials, tables.select_best(trials))
    transfer = tables.transfer_table(tables.summarize_scores(scores))
    searched = {
        ("digits", "emix"): ["lr", "batch_size", "pooling"],
        ("digits", "shed"): ["lr", "batch_size"],
        ("tabular", "emix"): ["lr"],
    }
    for path in (
        plots.plot_progress(trials, tmp_path / "progress.png"),
        plots.plot_parallel(trials, searched, tmp_path / "parallel.png"),
        plots.plot_gain(transfer, tmp_path / "gain.png"),
    ):
        png_ok(path)
    assert plots.headline_tasks(transfer) == {"digits": "novel", "tabular": "diagnosis"}


def test_risk_bars_and_invariance_heat_map(tmp_path):
    risk = pd.DataFrame(
        [
            {
                "checkpoint": c,
                "domain": "digits",
                "task": "novel",
                "shots": s,
                "approximation": np.nan,
                "usability": 0.1,
                "probe_generalization": 0.2,
                "encoder_generalization": -0.01,
                "aggregate": 0.29,
            }
            for c in ("emix", "none")
            for s in (0, 5)
        ]
    )
    png_ok(plots.plot_risk(risk, tmp_path / "risk.png"))
    matrix = pd.DataFrame(
        [[0.9, 0.2], [0.3, 0.8], [0.1, 0.1]], index=["emix", "shed", "random_init"], columns=["mix", "shuffle"]
    )
    png_ok(plots.plot_invariance({"digits": matrix}, tmp_path / "invariance.png"))


def test_parallel_plot_without_searched_params_still_writes_a_png(tmp_path):
    png_ok(plots.plot_parallel(_trials(), {}, tmp_path / "parallel.png"))


def test_gain_plot_without_any_baseline_pair_says_so_without_warnings(tmp_path, recwarn):
    rows = [trial("digits", "emix", n, val=0.5, tests={"novel": 0.4}, lr=1e-4) for n in range(2)]  # no baseline
    trials = trials_frame(rows)
    transfer = tables.transfer_table(tables.summarize_scores(tables.role_scores(trials, tables.select_best(trials))))
    png_ok(plots.plot_gain(transfer, tmp_path / "gain.png"))
    assert not [w for w in recwarn if "singular" in str(w.message)], [str(w.message) for w in recwarn]
