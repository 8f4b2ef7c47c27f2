"""search --shared-config and search --warm-start through the CLI (real Ray, real journal, --smoke-test)."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from dabs_lib.experiment import METRIC, TRIAL_NUMBER, WARM_ATTR, open_storage, shared_study_name, trial_name
from dabs_lib.shared import AGGREGATE_ATTR, aggregate
from dabs_lib.status import read_status, status_lines
from tests.cli.test_smoke import run_cli

DOMAINS = ("digits", "tabular")
pytestmark = pytest.mark.slow


def _final(folder: Path) -> dict:
    lines = [line for line in (folder / "result.json").read_text().splitlines() if line.strip()]
    return json.loads(lines[-1])


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("shared")
    run_cli(
        "search",
        "--domain",
        ",".join(DOMAINS),
        "--objective",
        "mae",
        "--shared-config",
        "--num-samples",
        "3",
        "--smoke-test",
        "--num-cpus",
        "2",
        "--storage-path",
        str(root),
        "--name",
        "sh",
        cwd=root,
        timeout=1500,
    )
    return root / "sh"


def test_one_shared_trial_runs_the_same_config_on_every_domain(shared):
    storage = open_storage(shared)
    assert shared_study_name("mae") in {s.study_name for s in storage.get_all_studies()}
    study = optuna.load_study(study_name=shared_study_name("mae"), storage=storage)
    assert len(study.trials) == 3
    for trial in study.trials:
        configs = [
            json.loads((shared / trial_name(d, "mae", trial.number, shared=True) / "params.json").read_text())
            for d in DOMAINS
        ]
        assert [c["domain"] for c in configs] == list(DOMAINS)
        assert all(c[TRIAL_NUMBER] == trial.number for c in configs)
        for name, value in trial.params.items():
            assert all(c[name] == value for c in configs), name


def test_a_completed_shared_trial_is_scored_by_the_declared_aggregate(shared):
    storage = open_storage(shared)
    study = optuna.load_study(study_name=shared_study_name("mae"), storage=storage)
    baselines = {d: _final(shared / trial_name(d, "none", 0))[METRIC] for d in DOMAINS}
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert completed, [t.state for t in study.trials]
    for trial in completed:
        scores = {d: _final(shared / trial_name(d, "mae", trial.number, shared=True))[METRIC] for d in DOMAINS}
        assert trial.user_attrs[AGGREGATE_ATTR] == pytest.approx(scores)
        assert trial.value == pytest.approx(aggregate(scores, baselines))


def test_analyze_writes_the_universal_vs_own_best_table(shared, tmp_path):
    run_cli("analyze", str(shared), "--out", str(tmp_path / "report"), cwd=tmp_path)
    table = json.loads((tmp_path / "report" / "tables" / "shared.json").read_text())
    assert {row["domain"] for row in table} == set(DOMAINS)
    for row in table:
        assert {"universal", "own", "default", "baseline", "cost", "verdict"} <= set(row)
        assert row["own_source"] == "shared study"  # no per-domain study in this experiment
        assert "seed noise not measured" in row["verdict"]  # one run per config without --seeds
    assert "shared" in (tmp_path / "report" / "README.md").read_text()


@pytest.fixture(scope="module")
def warm(shared, tmp_path_factory) -> Path:
    """A per-domain search of tabular (one of the shared study's domains), warm-started from it."""
    root = tmp_path_factory.mktemp("warm")
    run_cli(
        "search",
        "--domain",
        "tabular",
        "--objective",
        "mae",
        "--num-samples",
        "3",
        "--warm-start",
        str(shared),
        "--smoke-test",
        "--num-cpus",
        "2",
        "--storage-path",
        str(root),
        "--name",
        "warm",
        cwd=root,
    )
    return root / "warm"


def test_warm_start_enqueues_the_source_studies_best_configs_after_the_default(shared, warm):
    source = optuna.load_study(study_name=shared_study_name("mae"), storage=open_storage(shared))
    best = sorted((t for t in source.trials if t.state == optuna.trial.TrialState.COMPLETE), key=lambda t: -t.value)
    study = optuna.load_study(study_name="tabular-mae", storage=open_storage(warm))
    trials = sorted(study.trials, key=lambda t: t.number)
    expected = [t.params for t in best[:2] if t.number != 0]  # the default already is trial 0: not repeated
    assert [{k: t.params[k] for k in expected[0]} for t in trials[1 : 1 + len(expected)]] == expected
    assert all(t.state != optuna.trial.TrialState.WAITING for t in trials)
    warm_trials = trials[1 : 1 + len(expected)]
    assert [t.user_attrs.get(WARM_ATTR) for t in trials] == [None] + [True] * len(expected) + [None] * (
        len(trials) - 1 - len(expected)
    )
    # the scheduler never stops a warm configuration (trainables.schedulers.PerStudyScheduler)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in warm_trials), [t.state for t in warm_trials]
    status = "\n".join(status_lines(read_status(warm)))  # what `dabs-tune status` prints
    numbers = ", ".join(str(t.number) for t in warm_trials)
    best = max(t.value for t in warm_trials)
    assert f"tabular-mae: trials {numbers} are --warm-start configurations (best {best:.4f})" in status, status


def test_analyze_of_a_shared_and_a_per_domain_search_uses_the_domains_own_study(shared, warm, tmp_path):
    """The README's path: `analyze runs/shared runs/own` takes a domain's own best from its per-domain study."""
    run_cli("analyze", str(shared), str(warm), "--out", str(tmp_path / "report"), cwd=tmp_path)
    tables = tmp_path / "report" / "tables"
    rows = {row["domain"]: row for row in json.loads((tables / "shared.json").read_text())}
    assert set(rows) == set(DOMAINS)
    assert rows["tabular"]["own_source"] == "per-domain study"
    assert rows["digits"]["own_source"] == "shared study"  # no per-domain study of digits given
    best = json.loads((tables / "best_configs.json").read_text())
    assert {row["domain"] for row in best} == set(DOMAINS)  # no row for the pseudo-domain `shared`
    # the report says which trials the warm start carried over, and whether the best is one of them
    row = next(r for r in best if r["domain"] == "tabular")  # the best of both experiments
    study = optuna.load_study(study_name="tabular-mae", storage=open_storage(warm))
    carried = sorted(t.number for t in study.trials if t.user_attrs.get(WARM_ATTR))
    assert row[WARM_ATTR] == (row["experiment"] == "warm" and int(row["trial"].rsplit("_", 1)[1]) in carried), row
    readme = (tmp_path / "report" / "README.md").read_text()
    assert f"tabular/mae: {len(carried)} configuration(s) carried over by --warm-start (" in readme, readme
    verdict = (
        f"the best trial, {row['trial']}, is one of them" if row[WARM_ATTR] else f"the best trial is {row['trial']}"
    )
    assert verdict in readme, readme
