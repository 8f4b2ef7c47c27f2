"""Take the winner home, end to end: export-model -> models list -> load by name -> featurize -> probe.

On the shared tiny search of two embedded domains (tests/analysis/search_fixture.py, real Ray) and
on a search of a real-format miniature domain (CIFAR-10 files in their release layout). Exactness:
the exported model's features equal the trial checkpoint's bitwise on CPU, and probing them with
the trial's own protocol gives the report's test score. Bad input: one line, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import run_search
from analysis.report import load_report
from cli.feature_files import read_features
from dabs_lib.checkpoints import load_encoder as load_checkpoint
from dabs_lib.domains import get_domain
from dabs_lib.experiment import ENCODER_FILE, TrialSettings, probe_protocol
from dabs_lib.model_folder import CARD, CONFIG, WEIGHTS
from dabs_lib.model_registry import MODELS_ENV
from dabs_lib.models import load_encoder
from dabs_lib.transfer import evaluate_domain
from dabs_lib.transfer.features import featurize
from tests.dabs_lib.test_models import DAMAGES, write_model


def cli(capsys, *args: str) -> tuple[int, str, str]:
    status = run_search.main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line_exit_2(capsys, *args: str) -> str:
    status, out, err = cli(capsys, *args)
    assert status == 2, (status, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def check_round_trip(
    capsys, experiment: Path, models: Path, domain_name: str, objective: str, data_root: str = ""
) -> None:
    """Export (done by the caller) -> list -> load by name -> featurize to both formats -> probe."""
    report = load_report([experiment])
    best = report.best[(report.best["domain"] == domain_name) & (report.best["objective"] == objective)].iloc[0]
    name = f"{domain_name}-{objective}"
    folder = models / experiment.name / name
    config = json.loads((folder / CONFIG).read_text())
    assert config["provenance"]["trial"] == best["trial"] and (folder / WEIGHTS).is_file()
    assert config["data"]["fingerprints"] and config["scores"] and config["dabs_tune_version"]
    card = (folder / CARD).read_text()
    assert best["trial"] in card and "Intended use and limits" in card

    status, out, _ = cli(capsys, "models", "list", "--models-dir", models)
    assert status == 0 and f"{experiment.name}/{name}" in out and str(folder) in out

    checkpoint = load_checkpoint(Path(best["checkpoint"]) / ENCODER_FILE)
    encoder, featurize_fn = load_encoder(name, device="cpu", models_dir=str(models))
    domain = get_domain(
        domain_name, seed=config["data"]["build"]["seed"], data_root=data_root, smoke=config["data"]["build"]["smoke"]
    )
    test = domain.tasks[domain.default_task].test
    expected = featurize(checkpoint, test, device="cpu")
    assert np.array_equal(featurize_fn(test).numpy(), expected.features)  # bitwise, as the trial's checkpoint
    for suffix in (".parquet", ".npz"):
        out_file = models / f"features{suffix}"
        status, out, _ = cli(
            capsys,
            "featurize",
            name,
            "--models-dir",
            models,
            "--domain",
            domain_name,
            "--split",
            "test",
            "--out",
            out_file,
            "--device",
            "cpu",
            "--data-root",
            data_root,
        )
        assert status == 0, out
        features, labels, rows = read_features(out_file)
        assert np.array_equal(features, expected.features) and np.array_equal(rows, np.arange(len(test)))
        assert np.array_equal(labels, expected.labels)

    protocol = probe_protocol(TrialSettings(**config["probe"]))  # the L2 path the trial was scored with
    table = evaluate_domain(encoder, domain, protocol, cache_dir=None).set_index("task")
    transfer = report.transfer[
        (report.transfer["domain"] == domain_name) & (report.transfer["objective"] == objective)
    ].set_index("task")
    for task in domain.tasks:
        assert table.at[task, "test_score"] == pytest.approx(transfer.at[task, "best"], abs=1e-6), task
        assert table.at[task, "test_score"] == pytest.approx(best[f"test/{task}"], abs=1e-6), task


@pytest.mark.slow
def test_export_list_load_featurize_probe_on_embedded_domains(capsys, tmp_path):
    from tests.analysis.search_fixture import tiny_experiment

    experiment = tiny_experiment()
    status, out, _ = cli(capsys, "export-model", experiment, "--out", tmp_path)
    assert status == 0, out
    assert sorted(p.name for p in (tmp_path / experiment.name).iterdir()) == ["digits-emix", "tabular-emix"]
    for domain_name in ("digits", "tabular"):
        check_round_trip(capsys, experiment, tmp_path, domain_name, "emix")

    picked = load_report([experiment]).best.iloc[0]["trial"]  # completed (000 may have been stopped early by ASHA)
    status, out, _ = cli(capsys, "export-model", experiment, "--out", tmp_path / "one", "--trial", picked)
    folder = tmp_path / "one" / experiment.name / f"{picked.rsplit('_', 2)[0]}-emix-{picked[-3:]}"
    assert status == 0 and json.loads((folder / CONFIG).read_text())["provenance"]["trial"] == picked, out
    err = one_line_exit_2(capsys, "export-model", experiment, "--study", "digits-mae", "--out", tmp_path / "x")
    assert "--study must name a study" in err and "digits-emix" in err
    err = one_line_exit_2(capsys, "export-model", experiment, "--trial", "digits_emix_999", "--out", tmp_path / "x")
    assert "--trial must name a trial folder" in err
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_export_list_load_featurize_probe_on_a_real_format_miniature_domain(capsys, tmp_path):
    from tests.dabs_lib.datasets.miniature import write_cifar
    from trainables.runner import run_search
    from trainables.request import SearchRequest

    data = tmp_path / "data"
    write_cifar(data)
    request = SearchRequest(
        domains=("cifar10_small",),
        objectives=("shed",),
        num_samples=2,
        max_concurrent=2,
        scheduler="fifo",
        storage_path=str(tmp_path / "runs"),
        name="real",
        baseline=False,
        smoke_test=True,
        overrides={
            "max_steps": 2,
            "eval_every": 1,
            "batch_size": 4,
            "data_root": str(data),
            "l2_min": 1e-2,
            "l2_max": 1e2,
        },
    )
    run_search(request, num_cpus=2)
    experiment = tmp_path / "runs" / "real"
    status, out, _ = cli(capsys, "export-model", experiment, "--out", tmp_path / "models")
    assert status == 0, out
    check_round_trip(capsys, experiment, tmp_path / "models", "cifar10_small", "shed", data_root=str(data))


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_featurize_refuses_a_damaged_model_folder_in_one_line(capsys, tmp_path, damage):
    folder, _ = write_model(tmp_path)
    DAMAGES[damage][0](folder)
    err = one_line_exit_2(capsys, "featurize", folder, "--out", tmp_path / "f.npz", "--device", "cpu")
    assert DAMAGES[damage][1] in err
    assert not (tmp_path / "f.npz").exists()


BAD = {  # flags after `featurize` -> words of the one line
    "unknown suffix": (["MODEL", "--out", "f.csv"], "--out must end in .parquet or .npz"),
    "ambiguous name": (["digits-emix", "--out", "f.npz"], "2 match"),
    "unknown name": (["sensor-emix", "--out", "f.npz"], "none is called so"),
    "another domain's inputs": (["MODEL", "--domain", "tabular", "--out", "f.npz"], "its inputs must be those"),
    "unknown split": (["MODEL", "--split", "digits/nope", "--out", "f.npz"], "--split must be one of"),
    "unknown domain": (["MODEL", "--domain", "nope", "--out", "f.npz"], "unknown domain 'nope'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_featurize_input_is_one_line_exit_2(capsys, tmp_path, monkeypatch, case):
    folder, _ = write_model(tmp_path, experiment="a")
    write_model(tmp_path, experiment="b")
    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    flags, words = BAD[case]
    err = one_line_exit_2(capsys, "featurize", *[str(folder) if f == "MODEL" else f for f in flags], "--device", "cpu")
    assert words in err, err
    assert not list(tmp_path.glob("f.*"))


def test_export_model_of_a_folder_that_is_no_experiment_is_one_line_exit_2(capsys, tmp_path):
    err = one_line_exit_2(capsys, "export-model", tmp_path, "--out", tmp_path / "models")
    assert "not a dabs-tune experiment folder" in err and not (tmp_path / "models").exists()


def test_models_list_says_where_it_looked_when_empty(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv(MODELS_ENV, str(tmp_path / "none"))
    status, out, _ = cli(capsys, "models", "list")
    assert status == 0 and str(tmp_path / "none") in out and "export-model" in out
    write_model(tmp_path / "none")
    status, out, _ = cli(capsys, "models", "list")
    assert "exp/digits-emix" in out and "novel 0.5000 ± 0.0100" in out
