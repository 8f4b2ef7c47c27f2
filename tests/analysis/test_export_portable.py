"""An exported best config runs on another machine: it holds settings, not the searching machine's
data folder (named in its header instead), and `pretrain --config` finds the data where it runs."""

from __future__ import annotations

import json

import pytest
import yaml

import run_search
from dabs_lib.experiment import Manifest, Study
from tests.analysis.fake import write_journal, write_trial

ELSEWHERE = "/srv/cluster-node-7/datasets"  # the data root of the machine that ran the search


def _real_domain_experiment(root):
    """One finished cifar10_small/mae trial whose params carry the searching machine's data root,
    in the layout a search writes (manifest, journal, trial folder)."""
    exp = root / "exp"
    exp.mkdir()
    manifest = Manifest(
        "search", {"domains": ["cifar10_small"]}, (Study("cifar10_small", "mae", "finished", 1),), "finished"
    )
    (exp / "search.json").write_text(json.dumps(manifest.to_dict()))
    params = {
        "domain": "cifar10_small",
        "objective": "mae",
        "seed": 3,
        "trial_number": 0,
        "study": "cifar10_small-mae",
        "data_root": ELSEWHERE,
        "lr": 2e-4,
        "max_steps": 2,
        "eval_every": 1,
        "smoke_test": True,
    }
    final = {"final": True, "test/cifar10": 0.2, "val/cifar10": 0.3, "seconds": 2.0, "step": 2}
    write_trial(exp, "cifar10_small_mae_000", params, [{"transfer/val": 0.3, **final}], checkpoints=(0,))
    write_journal(exp, {"cifar10_small-mae": [("COMPLETE", {"lr": 2e-4}, 0.3, "")]})
    return exp


@pytest.fixture
def exported(tmp_path, monkeypatch):
    monkeypatch.delenv("DABS_DATA_ROOT", raising=False)
    exp = _real_domain_experiment(tmp_path)
    assert run_search.main(["export", str(exp), "--out", str(tmp_path / "report")]) == 0
    return tmp_path / "report" / "configs" / "cifar10_small-mae.yaml"


def test_exported_config_holds_no_machine_path_and_names_it_in_its_header(exported):
    text = exported.read_text()
    config = yaml.safe_load(text)
    assert "data_root" not in config
    assert config["lr"] == 2e-4 and config["seed"] == 3 and config["domain"] == "cifar10_small"
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any(ELSEWHERE in line and "--set data_root=" in line for line in header), header


def test_exported_config_runs_where_the_data_are_on_this_machine(exported, tmp_path, monkeypatch, capsys):
    from tests.dabs_lib.datasets.miniature import write_cifar

    other = tmp_path / "other-machine"
    write_cifar(other / "data")
    monkeypatch.chdir(other)  # this machine keeps its data in ./data, not where the search ran
    code = run_search.main(["pretrain", "--config", str(exported), "--out", str(other / "out")])
    assert code == 0, capsys.readouterr().err[-2000:]
    scores = json.loads((other / "out" / "scores.json").read_text())
    assert scores["config"]["seed"] == 3 and scores["test"]
