"""`analyze --all-trials --combine` on a real tiny search (real Ray, real checkpoints)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.report import analyze, load_report
from analysis.trial_measures import RISK_MEASURES
from tests.analysis.fake import png_ok
from tests.analysis.search_fixture import reported, two_objectives_experiment

pytestmark = pytest.mark.slow
FAMILIES = {"mask", "shuffle", "mix", "noise", "crop"}


@pytest.fixture(scope="module")
def experiment() -> Path:
    return two_objectives_experiment()


@pytest.fixture(scope="module")
def report_dir(experiment, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("why")
    analyze(load_report([experiment]), out, all_trials=True, combine=True, num_cpus=2, progress=False)
    return out


def _completed(experiment: Path) -> list[str]:
    names = []
    for trial_dir in sorted(experiment.glob("digits_[a-z]*_[0-9][0-9][0-9]")):
        rows = reported(trial_dir)
        if "_none_" not in trial_dir.name and rows and rows[-1].get("final"):
            names.append(trial_dir.name)
    return names


def test_every_finished_trial_gets_its_scores(experiment, report_dir):
    finished = _completed(experiment)
    assert len(finished) >= 4
    files = sorted(p.name for p in (report_dir / "trials").iterdir())
    assert files == sorted(f"{experiment.name}.{name}.json" for name in finished)
    measures = pd.read_csv(report_dir / "tables" / "trial_measures.csv", keep_default_na=False)
    for name in finished:
        mine = measures[measures["trial"] == name]
        assert set(mine.loc[mine["kind"] == "invariance", "measure"]) == FAMILIES
        risk = mine[mine["kind"] == "risk"]
        assert set(risk["task"]) == {"novel", "all"}
        assert set(risk["measure"]) == set(RISK_MEASURES) - {"approximation"}


def test_correlation_table_has_intervals_and_the_report_says_what_goes_with_transfer(experiment, report_dir):
    table = pd.read_csv(report_dir / "tables" / "correlation.csv")
    assert set(table["task"]) == {"novel", "all"} and set(table["kind"]) == {"invariance", "risk"}
    assert (table["n_trials"] == len(_completed(experiment))).all()
    defined = table.dropna(subset=["rho"])
    assert len(defined) > 0
    assert ((defined["low"] <= defined["rho"] + 1e-12) & (defined["rho"] <= defined["high"] + 1e-12)).all()
    assert png_ok(report_dir / "plots" / "correlation-digits.png").shape[0] > 100
    readme = (report_dir / "README.md").read_text()
    assert "On digits, the strongest rank correlations with the test score across trials: invariance `" in readme
    assert "correlation-digits.png" in readme


def test_combined_rows_appear_in_the_transfer_table(experiment, report_dir):
    transfer = pd.read_csv(report_dir / "tables" / "transfer.csv")
    combined = transfer[transfer["objective"] == "emix+shed"]
    assert set(combined["task"]) == {"novel", "all"}
    assert combined["best"].notna().all() and combined["baseline"].notna().all()
    control = "untrained:emix+untrained:shed"  # the equal-width control
    assert transfer[transfer["objective"] == control]["best"].notna().all()
    versus = pd.read_csv(report_dir / "tables" / "combined.csv")
    assert set(versus["combination"]) == {"emix+shed", control}
    singles = transfer[transfer["objective"].isin(["emix", "shed"])]
    for row in versus[versus["combination"] == "emix+shed"].itertuples():
        best_single = singles[(singles["task"] == row.task) & (singles["objective"] == row.best_single)]
        assert row.best_single_test == pytest.approx(best_single["best"].item(), abs=1e-6)  # the trial's own score
        assert row.gain == pytest.approx(row.test - row.best_single_test)
        twin = versus[(versus["combination"] == control) & (versus["task"] == row.task)].iloc[0]
        assert row.width_gain == pytest.approx(twin.gain) and row.gain_over_width == pytest.approx(row.gain - twin.gain)
    assert "combined encoders on digits/novel: emix+shed gains" in (report_dir / "README.md").read_text()


def test_a_rerun_skips_done_trials(experiment, report_dir):
    files = sorted((report_dir / "trials").iterdir())
    stamps = {p: p.stat().st_mtime_ns for p in files}
    removed = files[0]
    first = json.loads(removed.read_text())
    removed.unlink()
    analyze(load_report([experiment]), report_dir, all_trials=True, num_cpus=2, progress=False)
    assert removed.is_file() and json.loads(removed.read_text())["kinds"] == ["invariance", "risk"]
    assert all(p.stat().st_mtime_ns == stamps[p] for p in files[1:])  # untouched: read back, not recomputed
    # the deleted trial measured again: the same measures (float noise aside: another process, other threads)
    again = {(r["kind"], r["measure"], r["task"]): r["value"] for r in json.loads(removed.read_text())["rows"]}
    expected = {(r["kind"], r["measure"], r["task"]): r["value"] for r in first["rows"]}
    assert again.keys() == expected.keys()
    np.testing.assert_allclose([again[k] for k in expected], list(expected.values()), rtol=1e-3, atol=1e-3)
