"""The report of a real (tiny) search: tables, configs that reproduce, plots, importance, seeds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch

from analysis.report import analyze, load_report
from analysis.tables import SINGLE_RUN_TABLE
from tests.analysis.fake import png_ok, write_journal
from tests.analysis.search_fixture import best_by_hand, reported, tiny_experiment, tiny_request

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def experiment() -> Path:
    return tiny_experiment()


@pytest.fixture(scope="module")
def report_dir(experiment, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    analyze(load_report([experiment]), out)
    return out


def _pairs():
    request = tiny_request(Path("."))
    return [(d, o) for d in request.domains for o in request.objectives]


def test_tables_list_every_searched_study_with_its_baseline(report_dir):
    best = pd.read_csv(report_dir / "tables" / "best_configs.csv")
    assert sorted(zip(best["domain"], best["objective"])) == sorted(_pairs())
    assert (best["trials"] == 3).all()
    transfer = pd.read_csv(report_dir / "tables" / "transfer.csv")
    assert sorted(set(zip(transfer["domain"], transfer["objective"]))) == sorted(_pairs())
    assert transfer["baseline"].notna().all() and transfer["default"].notna().all()
    assert set(transfer["baseline_trial"]) == {"digits_none_000", "tabular_none_000"}
    assert set(transfer["default_trial"]) == {"digits_emix_000", "tabular_emix_000"}
    assert (transfer["n_seeds"] == 1).all()
    assert set(transfer.loc[transfer["domain"] == "digits", "task"]) == {"novel", "all"}


def test_best_trial_scores_equal_what_the_trial_reported(experiment, report_dir):
    transfer = pd.DataFrame(json.loads((report_dir / "tables" / "transfer.json").read_text()))  # exact floats
    for domain, objective in _pairs():
        name, final = best_by_hand(experiment, domain, objective)
        rows = transfer[(transfer["domain"] == domain) & (transfer["objective"] == objective)]
        assert set(rows["best_trial"]) == {name}
        for row in rows.itertuples():
            assert row.best == final[f"test/{row.task}"]
        baseline = reported(experiment / f"{domain}_none_000")[-1]
        for row in rows.itertuples():
            assert row.baseline == baseline[f"test/{row.task}"]
            assert row.gain_vs_baseline == pytest.approx(row.best - row.baseline)


def test_exports_parse_back(report_dir):
    for stem in ("best_configs", "transfer", "importance"):
        csv = pd.read_csv(report_dir / "tables" / f"{stem}.csv")
        records = json.loads((report_dir / "tables" / f"{stem}.json").read_text())
        assert len(records) == len(csv) > 0
        assert "\\begin{tabular}" in (report_dir / "tables" / f"{stem}.tex").read_text()
        markdown = (report_dir / "tables" / f"{stem}.md").read_text().splitlines()
        assert len(markdown) == len(csv) + 2
    transfer = json.loads((report_dir / "tables" / "transfer.json").read_text())
    assert {"best", "baseline", "default", "gain_vs_baseline", "gain_vs_default", "n_seeds"} <= set(transfer[0])


def test_every_plot_is_a_valid_png_with_its_panels(report_dir):
    from tests.analysis.test_report_plots import panels

    expected = {"progress": 4, "learning_curves": 2, "parallel": 2, "gain": 1}  # 2 domains x emix
    for name, count in expected.items():
        assert panels(report_dir / "plots" / f"{name}.png") == count, name
    optuna_plots = sorted((report_dir / "plots" / "optuna").glob("*.png"))
    assert {p.name.split("-")[0] for p in optuna_plots} == {"digits", "tabular"}
    assert any(p.name.endswith("-optimization-history.png") for p in optuna_plots)
    for path in optuna_plots:
        assert panels(path) >= 1


def test_readme_says_how_to_read_every_table_and_plot(report_dir):
    text = (report_dir / "README.md").read_text()
    for stem in (SINGLE_RUN_TABLE, "best_configs", "transfer", "importance"):
        line = next(line for line in text.splitlines() if f"tables/{stem}.tex" in line)
        assert line.count("](") == 4 and line.rstrip().endswith(tuple("abcdefghijklmnopqrstuvwxyz)")), line
    blocks = text.split("\n### ")[1:]
    assert len(blocks) == len(list((report_dir / "plots").rglob("*.png")))
    for block in blocks:
        title, _, body = block.partition("\n\n")
        note, _, image = body.partition("\n\n")
        assert image.startswith("![") and len(note) > 30, block[:200]


def test_importance_rows_for_every_study(report_dir):
    table = pd.read_csv(report_dir / "tables" / "importance.csv", keep_default_na=False)
    assert sorted(set(zip(table["domain"], table["objective"]))) == sorted(_pairs())
    for _, part in table.groupby(["domain", "objective"]):
        skipped = part["skipped"].astype(str).str.len() > 0
        if skipped.all():
            assert len(part) == 1  # one row saying why
        else:
            scores = part[~skipped]
            assert set(scores["evaluator"]) <= {"fanova", "ped_anova"}
            assert (pd.to_numeric(scores["importance"]) >= 0).all()


def test_readme_summarizes_and_every_link_exists(report_dir):
    text = (report_dir / "README.md").read_text()
    assert "6 searched trials" in text and "random-init baseline" in text
    assert "**digits**: emix transfers best" in text
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert len(links) >= 15
    for link in links:
        assert (report_dir / link).is_file(), link


def test_exported_config_reproduces_the_trial_to_the_seed(experiment, report_dir, tmp_path):
    """`pretrain --config` (no Ray) on an exported config: same weights and same test scores."""
    config = report_dir / "configs" / "digits-emix.yaml"
    name, final = best_by_hand(experiment, "digits", "emix")
    # A trial with cpus_per_trial=1 runs with one intra-op thread; so does the re-run, so
    # floating-point reductions happen in the same order.
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(REPO))
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "run_search.py"),
            "pretrain",
            "--config",
            str(config),
            "--out",
            str(tmp_path / "rerun"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scores = json.loads((tmp_path / "rerun" / "scores.json").read_text())
    assert scores["steps"] == final["step"]
    for task, score in scores["test"].items():
        assert abs(score - final[f"test/{task}"]) <= 1e-6, (task, score, final[f"test/{task}"])
    trial_checkpoint = experiment / name / final["checkpoint_dir_name"] / "encoder.pt"
    trial_weights = torch.load(trial_checkpoint, weights_only=True)["state_dict"]
    rerun_weights = torch.load(tmp_path / "rerun" / "encoder.pt", weights_only=True)["state_dict"]
    assert trial_weights.keys() == rerun_weights.keys()
    for key, value in trial_weights.items():
        assert torch.allclose(value, rerun_weights[key], rtol=0, atol=1e-6), key


def test_seeds_rerun_best_default_and_baseline(experiment, tmp_path):
    from analysis import tables
    from analysis.seeds import rerun_plan, seed_scores

    report = load_report([experiment])
    trials = report.trials
    # Make the DABS default the "best" of digits: one config plays two roles and runs once.
    best = trials[trials["trial"] == "digits_emix_000"].assign(which="last", selection_score=0.0)
    configs, uses = rerun_plan(trials, best)
    assert sorted(uses.values()) == [
        [("digits", "emix", "baseline")],
        [("digits", "emix", "best"), ("digits", "emix", "default")],
    ]
    scores, notes = seed_scores(trials, best, 2, tmp_path / "seeds", num_cpus=2)
    assert notes == []  # the grid ran to its end
    assert set(scores["role"]) == set(tables.ROLES)
    assert set(scores["seed"]) == {1, 2}  # fresh seeds: the search ran seed 0
    assert len(list((tmp_path / "seeds").glob("seeds_*/*_seed*"))) == 4  # 2 configs x 2 seeds
    transfer = tables.transfer_table(tables.summarize_scores(scores))
    assert (transfer[["n_seeds", "default_n_seeds", "baseline_n_seeds"]] == 2).all().all()
    assert transfer["best_ci95"].notna().all() and transfer["baseline_ci95"].notna().all()
    assert (transfer["best"] == transfer["default"]).all()  # the same runs behind both


def _cut_final_report(trial_dir: Path) -> None:
    """As if the trial never reached its budget: drop its last report."""
    lines = (trial_dir / "result.json").read_text().splitlines()
    (trial_dir / "result.json").write_text("".join(line + "\n" for line in lines[:-1]))


def test_errored_pruned_and_running_trials_are_reported(experiment, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(experiment, copy)
    manifest = json.loads((copy / "search.json").read_text())
    manifest["status"] = "running"  # the search goes on
    manifest["studies"][-1]["status"] = "running"
    (copy / "search.json").write_text(json.dumps(manifest))
    _cut_final_report(copy / "digits_emix_001")  # stopped by the scheduler
    _cut_final_report(copy / "digits_emix_002")
    (copy / "digits_emix_002" / "error.txt").write_text("Failure # 1 (occurred at x)\nRuntimeError: worker died\n")
    _cut_final_report(copy / "tabular_emix_002")  # still training
    (copy / "optuna.journal").unlink()  # the journal of that moment: states as the searcher told them
    told = {
        "digits_emix_001": ("PRUNED", ""),
        "digits_emix_002": ("FAIL", "RuntimeError: worker died"),
        "tabular_emix_002": ("RUNNING", ""),
    }
    studies: dict[str, list] = {}
    for trial_dir in sorted(copy.glob("*_*_[0-9][0-9][0-9]")):
        rows = reported(trial_dir)
        done = ("COMPLETE", "") if rows and rows[-1].get("final") else ("PRUNED", "")
        state, error = told.get(trial_dir.name, done)
        study = json.loads((trial_dir / "params.json").read_text())["study"]
        value = rows[-1]["transfer/val"] if state == "COMPLETE" else None
        studies.setdefault(study, []).append((state, {}, value, error))
    write_journal(copy, studies)
    report = load_report([copy])
    status = report.trials.set_index("trial")["status"]
    assert status["digits_emix_001"] == "pruned"
    assert status["digits_emix_002"] == "errored"
    assert status["tabular_emix_002"] == "running"
    out, notes = analyze(report, tmp_path / "report")
    text = (out / "README.md").read_text()
    for line in (
        "errored: digits_emix_002: RuntimeError: worker died",
        "not finished (still running or interrupted): tabular-emix",
    ):
        assert line in notes[1:] or any(line in n for n in notes), notes
        assert line in text
    counts = status[status.index.str.contains("emix")].value_counts()
    assert f"{counts['pruned']} pruned" in text and f"{counts['running']} running" in text
    best = pd.read_csv(out / "tables" / "best_configs.csv").set_index("domain")
    assert best.at["digits", "errored"] == 1 and best.at["tabular", "running"] == counts["running"]


def test_risk_and_invariance_run_on_the_best_checkpoints(experiment, tmp_path):
    from analysis import plots
    from analysis.extras import domain_checkpoints, run_extras

    report = load_report([experiment])
    found = domain_checkpoints(report.trials, report.best)
    assert set(found) == {"digits", "tabular"}
    name, final = best_by_hand(experiment, "digits", "emix")
    assert found["digits"]["emix"] == str(experiment / name / final["checkpoint_dir_name"] / "encoder.pt")
    assert Path(found["digits"]["none"]).is_file()
    extras = run_extras(report.trials, report.best[report.best["domain"] == "digits"], risk=True, invariance=True)
    assert set(extras["risk"]["checkpoint"]) == {"emix", "none"}
    assert set(extras["risk"]["task"]) == {"novel", "all"}
    assert list(extras["invariance"]) == ["digits"]
    assert {"emix", "random_init"} <= set(extras["invariance"]["digits"].index)
    png_ok(plots.plot_risk(extras["risk"], tmp_path / "risk.png"))
    png_ok(plots.plot_invariance(extras["invariance"], tmp_path / "invariance.png"))


def test_probe_seconds_are_reported_and_their_share_summed_per_trial(experiment, report_dir):
    """Every evaluation reports how long its in-search probe took; the trial table sums them
    against the trial's wall time, and the report's README gives each study's median share."""
    from analysis.results import load_experiment, trial_table

    trials = trial_table(load_experiment(experiment)).set_index("trial")
    for trial_dir in sorted(experiment.glob("*_emix_[0-9][0-9][0-9]")):
        rows = reported(trial_dir)
        assert rows and all(0 < r["probe_seconds"] < r["seconds"] for r in rows), rows
        share = sum(r["probe_seconds"] for r in rows) / rows[-1]["seconds"]
        assert trials.loc[trial_dir.name, "probe_share"] == pytest.approx(share)
        assert 0 < share < 1
    readme = (report_dir / "README.md").read_text()
    line = next(ln for ln in readme.splitlines() if "in-search probe" in ln)
    assert "digits/emix" in line and "tabular/emix" in line and "%" in line, line
