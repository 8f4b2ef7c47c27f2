"""bench/search_efficiency.py at smoke size: every method searches, the chosen configs are
re-run with a fresh seed through the report's `--seeds` path (a private Ray), and the
table, plot and goals are written from what ran."""

import json

import pandas as pd
import pytest

from bench.efficiency_trial import METHODS

pytestmark = pytest.mark.slow


def test_smoke_run_writes_table_plot_and_goals(tmp_path):
    from bench.search_efficiency import main

    out = tmp_path / "eff"
    assert (
        main(
            [
                "--smoke-test",
                "--domains",
                "digits",
                "--objectives",
                "shed",
                "--workers",
                "1",
                "--rerun-via",
                "ray",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    trials = pd.read_csv(out / "trials.csv")
    assert set(trials["method"]) == {"default", *METHODS}
    spent = trials.groupby("method")["end_steps"].max()
    budget = int(trials["budget_steps"].iloc[0])
    for method in METHODS:  # equal compute: each search stops once its step budget is spent
        assert budget <= spent[method] < budget + 4, method
    assert (trials["seconds"] > 0).all() and (trials["steps"] > 0).all()
    assert trials.loc[trials["number"] == 0, "params"].nunique() == 1  # every search starts at the default

    summary = pd.read_csv(out / "summary.csv")
    final = summary[summary["budget"] == 1.0]
    assert set(final["method"]) == {"default", *METHODS}
    assert final["test_fresh"].notna().all() and (final["n_scores"] == 1).all()  # 1 search seed x 1 fresh seed
    table = (out / "efficiency.md").read_text()
    assert "| digits | shed | tpe_asha |" in table and "### Goals" in table and '"search_seeds": 1' in table
    assert (out / "efficiency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    goals = json.loads((out / "goals.json").read_text())["goals"]
    assert set(goals["domains"]) == {"digits"} and "tpe_asha_median_steps_share" in goals
