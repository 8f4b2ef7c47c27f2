"""Every subcommand with --smoke-test, as a user runs it (real processes, real files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.tables import SINGLE_RUN_TABLE

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*argv: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), *argv], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pretrain")
    done = run_cli("pretrain", "--domain", "digits", "--objective", "shed", "--smoke-test", "--out", str(out), cwd=out)
    (out / "stderr.txt").write_text(done.stderr)
    return out


def test_pretrain_logs_one_line_per_stage_when_not_a_terminal(pretrained):
    log = (pretrained / "stderr.txt").read_text()
    assert "\r" not in log  # no progress bar redraws in a log
    stages = [line for line in log.splitlines() if line.startswith(("pretraining ", "scoring the transfer"))]
    from dabs_lib.config import SMOKE_MAX_STEPS

    assert stages == [f"pretraining shed on digits ({SMOKE_MAX_STEPS} steps)", "scoring the transfer tasks of digits"]


def test_pretrain_writes_encoder_and_scores(pretrained):
    scores = json.loads((pretrained / "scores.json").read_text())
    assert (pretrained / "encoder.pt").stat().st_size > 0
    assert set(scores["test"]) == {"novel", "all"}
    assert all(0.0 <= v <= 1.0 for v in scores["test"].values())


@pytest.mark.parametrize("protocol", ["linear", "finetune"])
def test_probe_scores_a_checkpoint(pretrained, protocol):
    done = run_cli("probe", str(pretrained / "encoder.pt"), "--protocol", protocol, "--smoke-test", cwd=pretrained)
    assert "novel" in done.stdout and "all" in done.stdout


@pytest.mark.parametrize("what", ["domains", "objectives", "spaces", "experiments"])
def test_list(what, tmp_path):
    done = run_cli("list", what, "--smoke-test", cwd=tmp_path)
    expected = {"domains": "digits", "objectives": "emix", "spaces": "emix", "experiments": "no experiments"}
    assert expected[what] in done.stdout


def test_tensorboard_serves_on_loopback(tmp_path):
    (tmp_path / "exp").mkdir()
    (tmp_path / "exp" / "search.json").write_text(json.dumps({"request": {}, "studies": []}))
    done = run_cli("tensorboard", str(tmp_path / "exp"), "--port", "16123", "--smoke-test", cwd=tmp_path)
    # the URL is printed only once TensorBoard answered on it
    assert done.stdout.startswith(f"TensorBoard for {tmp_path / 'exp'} at http://127.0.0.1:16123/")


@pytest.mark.slow
def test_search_smoke(tmp_path):
    done = run_cli(
        "search",
        "--domain",
        "tabular",
        "--objective",
        "mae",
        "--num-samples",
        "2",
        "--set",
        "max_steps=2",
        "--set",
        "eval_every=1",
        "--smoke-test",
        "--storage-path",
        str(tmp_path),
        "--name",
        "s",
        "--num-cpus",
        "2",
        cwd=tmp_path,
    )
    assert "tabular" in done.stdout and "mae" in done.stdout
    manifest = json.loads((tmp_path / "s" / "search.json").read_text())
    assert all(study["status"] == "finished" for study in manifest["studies"])
    # the printed domain x objective table is saved beside the search in every format
    import pandas as pd

    saved = pd.read_csv(tmp_path / "s" / f"{SINGLE_RUN_TABLE}.csv")
    assert list(saved.columns[:3]) == ["domain", "task", "random init"] and "mae" in saved.columns
    assert (saved["domain"] == "tabular").all() and saved["mae"].between(0, 1).all()
    for task, score in zip(saved["task"], saved["mae"]):
        assert f"{score:.4f}" in done.stdout and task in done.stdout
    assert "\\toprule" in (tmp_path / "s" / f"{SINGLE_RUN_TABLE}.tex").read_text()
    assert json.loads((tmp_path / "s" / f"{SINGLE_RUN_TABLE}.json").read_text())[0]["task"] == saved["task"][0]
    assert (tmp_path / "s" / f"{SINGLE_RUN_TABLE}.md").read_text().startswith("| domain | task | random init |")


@pytest.mark.slow
def test_probe_search_over_a_checkpoint(pretrained, tmp_path):
    done = run_cli(
        "probe",
        str(pretrained / "encoder.pt"),
        "--search",
        "--num-samples",
        "2",
        "--smoke-test",
        "--storage-path",
        str(tmp_path),
        "--name",
        "p",
        "--num-cpus",
        "2",
        cwd=tmp_path,
    )
    assert "digits" in done.stdout
    from dabs_lib.experiment import load_study, read_manifest

    experiment = tmp_path / "p"
    trials = sorted(p for p in experiment.glob("digits_probe_*") if (p / "result.json").exists())
    assert [t.name for t in trials] == ["digits_probe_000", "digits_probe_001"]
    first = json.loads((trials[0] / "params.json").read_text())
    assert first["finetune_lr"] == pytest.approx(1e-4)  # the DABS setting runs first
    assert [t.state.name for t in load_study(experiment, "digits", "probe").trials] == ["COMPLETE", "COMPLETE"]
    assert read_manifest(experiment).kind == "probe"
    refused = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), "resume", str(experiment)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "probe experiment; only a search can be resumed" in refused.stderr
