"""export-model on a hand-made experiment (tests/analysis/fake.py) holding a real encoder checkpoint:
which trial is exported, where the card's scores come from, and the one-line refusals. No Ray
(the end-to-end path from a real search is tests/cli/test_models_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from analysis.model_export import export_models
from analysis.report import load_report
from analysis.tables import select_best
from dabs_lib.checkpoints import save_encoder
from dabs_lib.config import SMOKE_MODEL
from dabs_lib.domains import get_domain
from dabs_lib.encoder import Encoder
from dabs_lib.experiment import ENCODER_FILE, ExperimentError
from dabs_lib.model_folder import CARD, CONFIG
from dabs_lib.models import load_encoder
from dabs_lib.transfer.features import featurize
from tests.analysis.fake import fake_experiment


@pytest.fixture
def experiment(tmp_path) -> tuple[Path, Encoder]:
    exp = fake_experiment(tmp_path)
    torch.manual_seed(3)
    encoder = Encoder(get_domain("digits").specs, SMOKE_MODEL)
    for trial, checkpoint in (("digits_emix_001", 1), ("digits_emix_000", 1)):
        save_encoder(exp / trial / f"checkpoint_{checkpoint:06d}" / ENCODER_FILE, encoder)
    return exp, encoder


def test_the_exported_trial_is_the_reports_best_and_features_match_its_checkpoint(experiment, tmp_path, monkeypatch):
    exp, encoder = experiment
    monkeypatch.chdir(tmp_path)  # no reports/<name> here: the card shows the trial's own scores
    [folder] = export_models(exp, tmp_path / "models", version="9.9")
    best = select_best(load_report([exp]).trials).iloc[0]
    config = json.loads((folder / CONFIG).read_text())
    assert folder == tmp_path / "models" / "fake" / "digits-emix"
    assert config["provenance"]["trial"] == best["trial"] == "digits_emix_001"
    assert config["dabs_tune_version"] == "9.9" and config["hyperparameters"] == {"lr": 1e-3}
    scores = {s["task"]: s for s in config["scores"]}
    assert scores["novel"]["score"] == 0.65 and scores["novel"]["default"] == 0.6 and scores["novel"]["baseline"] == 0.3
    assert scores["novel"]["ci95"] is None and scores["novel"]["n_seeds"] == 1
    card = (folder / CARD).read_text()
    assert "| novel | 0.6500 | 0.6000 | 0.3000 | 1 |" in card and "digits_emix_001" in card
    assert "data_root" not in config["training_config"]
    from dabs_lib.experiment import TrialSettings  # the trial set no L2 path: the defaults scored it

    assert config["probe"] == {
        "l2_min": TrialSettings.l2_min,
        "l2_max": TrialSettings.l2_max,
        "l2_steps": TrialSettings.l2_steps,
    }
    _, featurize_fn = load_encoder(folder, device="cpu")
    split = get_domain("digits").tasks["novel"].test
    assert np.array_equal(featurize_fn(split).numpy(), featurize(encoder, split, device="cpu").features)


def _seed_report(folder: Path, exp: Path, trial: str, val: float) -> None:
    tables = folder / "tables"
    tables.mkdir(parents=True)
    rows = [
        {
            "domain": "digits",
            "objective": "emix",
            "task": "novel",
            "best": 0.66,
            "best_ci95": 0.02,
            "n_seeds": 3,
            "default": 0.61,
            "default_ci95": 0.03,
            "baseline": 0.31,
            "baseline_ci95": 0.01,
            "best_trial": trial,
        }
    ]
    (tables / "transfer.json").write_text(json.dumps(rows))
    chosen = [{"experiment": exp.name, "domain": "digits", "objective": "emix", "trial": trial, "val_score": val}]
    (tables / "best_configs.json").write_text(json.dumps(chosen))


def test_seeded_scores_of_the_matching_report_go_on_the_card(experiment, tmp_path):
    exp, _ = experiment
    _seed_report(tmp_path / "report", exp, "digits_emix_001", 0.7)
    [folder] = export_models(exp, tmp_path / "models", report_dir=tmp_path / "report")
    [score] = json.loads((folder / CONFIG).read_text())["scores"]
    assert (score["score"], score["ci95"], score["n_seeds"]) == (0.66, 0.02, 3)
    assert "| novel | 0.6600 ± 0.0200 | 0.6100 ± 0.0300 | 0.3100 ± 0.0100 | 3 |" in (folder / CARD).read_text()


def test_a_stale_report_is_ignored_by_default_and_refused_when_named(experiment, tmp_path, monkeypatch):
    exp, _ = experiment
    monkeypatch.chdir(tmp_path)
    _seed_report(tmp_path / "reports" / exp.name, exp, "digits_emix_000", 0.6)  # another search's choice
    [folder] = export_models(exp, tmp_path / "models")
    assert {s["n_seeds"] for s in json.loads((folder / CONFIG).read_text())["scores"]} == {1}
    with pytest.raises(ExperimentError, match="--report must be the report of fake"):
        export_models(exp, tmp_path / "again", report_dir=tmp_path / "reports" / exp.name)
    assert not (tmp_path / "again").exists()


@pytest.mark.parametrize(
    "pick, words",
    [
        ({"study": "digits-mae"}, "--study must name a study with a completed trial, one of ['digits-emix']"),
        ({"trial": "digits_emix_002"}, "only a completed trial with a checkpoint can be exported, but it is pruned"),
        ({"trial": "digits_emix_042"}, "--trial must name a trial folder"),
    ],
)
def test_a_bad_pick_is_one_line_before_anything_is_written(experiment, tmp_path, pick, words):
    exp, _ = experiment
    with pytest.raises(ExperimentError, match=words.replace("[", r"\[").replace("]", r"\]")) as error:
        export_models(exp, tmp_path / "models", **pick)
    assert "\n" not in str(error.value) and not (tmp_path / "models").exists()


def test_a_picked_trial_is_named_by_its_number(experiment, tmp_path):
    exp, _ = experiment
    [folder] = export_models(exp, tmp_path / "models", trial="digits_emix_000")
    config = json.loads((folder / CONFIG).read_text())
    assert folder.name == "digits-emix-000" and config["name"] == "digits-emix-000"
    assert config["provenance"]["best_of_study"] is False
    assert [s["score"] for s in config["scores"]] == [0.6, 0.5]  # its own reported test scores


def test_reprobing_the_exported_model_gives_the_test_scores_the_trial_reported(tmp_path, monkeypatch):
    """Ray-free twin of the end-to-end check: the trial's scores are the project's probe on its checkpoint."""
    from dabs_lib.experiment import TrialSettings, probe_protocol
    from dabs_lib.transfer import evaluate_domain

    monkeypatch.chdir(tmp_path)
    exp = fake_experiment(tmp_path)
    torch.manual_seed(5)
    domain = get_domain("digits")
    encoder = Encoder(domain.specs, SMOKE_MODEL)
    save_encoder(exp / "digits_emix_001" / "checkpoint_000001" / ENCODER_FILE, encoder)
    reported = evaluate_domain(encoder, domain, probe_protocol(TrialSettings()), cache_dir=None)
    results = exp / "digits_emix_001" / "result.json"
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    rows[-1].update({f"test/{r.task}": float(r.test_score) for r in reported.itertuples()})
    results.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    [folder] = export_models(exp, tmp_path / "models")
    config = json.loads((folder / CONFIG).read_text())
    loaded, _ = load_encoder(folder, device="cpu")
    again = evaluate_domain(loaded, domain, probe_protocol(TrialSettings(**config["probe"])), cache_dir=None)
    card = {s["task"]: s["score"] for s in config["scores"]}
    for row in again.itertuples():
        assert row.test_score == card[row.task] == rows[-1][f"test/{row.task}"], row.task
