"""New data through a model exported from a user's domain: `featurize --domain NEW.yaml` reads it as
the model read its own (the model's z-score statistics; its features and tokenizer, or a one-line
refusal). The model folder is written by the export's own code (`analysis.model_export.data_facts`,
`preprocessing_files`) from a seeded encoder: no search needed."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import run_search
from analysis.model_export import data_facts, preprocessing_files
from cli.feature_files import read_features
from dabs_lib.encoder import Encoder
from dabs_lib.model_folder import CONFIG, describe_inputs, write_model_folder
from dabs_lib.models import load_encoder
from dabs_lib.userdomain import load_domain_file, register
from dabs_lib.userdomain.load import build_user_domain
from dabs_lib.userdomain.prepare import prepare
from tests.dabs_lib.domains.helpers import TINY
from tests.dabs_lib.userdomain import files

COLORS = ("blue", "green", "red")


def _table(folder: Path, name: str, shift: float, colors: tuple[str, ...] = COLORS) -> Path:
    """A table of two numbers and a color; `shift` moves the numbers (new data, another scale)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(int(shift * 10) + len(name))
    with open(folder / f"{name}.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["size", "weight", "color", "label"])
        for i in range(40):
            out.writerow(
                [f"{shift + 3 * rng.normal():.4f}", f"{rng.normal():.4f}", colors[i % len(colors)], "ab"[i % 2]]
            )
    path = folder / f"{name}.yaml"
    path.write_text(
        f"name: {name}\ninputs:\n  - {{name: item, kind: tabular, categorical: [color]}}\n"
        f"data: {{table: {name}.csv}}\ntasks:\n  - {{name: label}}\n"
    )
    return path


def _export(path: Path, root: Path, models: Path) -> Path:
    """A model folder of a seeded encoder for the user domain at `path`, as export-model writes it."""
    prepare(path, str(root))
    register(path)
    name = load_domain_file(path).name
    domain = build_user_domain(name, str(root))
    torch.manual_seed(0)
    encoder = Encoder(domain.specs, TINY)
    data, _ = data_facts(name, {"seed": 42, "data_root": str(root), "smoke": False})
    facts = {
        "name": f"{name}-mae",
        "domain": name,
        "objective": "mae",
        "inputs": describe_inputs(domain.specs),
        "data": data,
        "provenance": {"experiment": "exp", "trial": f"{name}_mae_001"},
    }
    return write_model_folder(models / f"{name}-mae", encoder, facts, "# card\n", preprocessing_files(name, str(root)))


def _featurize(capsys, model: Path, domain: Path, root: Path, out: Path) -> tuple[int, str, str]:
    code = run_search.main(
        ["featurize", str(model), "--domain", str(domain), "--split", "test", "--out", str(out), "--device", "cpu"]
        + ["--data-root", str(root)]
    )
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_new_rows_are_scaled_with_the_models_statistics(tmp_path, capsys):
    root = tmp_path / "root"
    model = _export(_table(tmp_path / "old", "shop", shift=0.0), root, tmp_path / "models")
    config = json.loads((model / CONFIG).read_text())
    recorded = config["data"]["preprocessing"]["inputs"][0]
    assert recorded["features"] == ["size", "weight", "color=blue", "color=green", "color=red"]
    new = _table(tmp_path / "new", "shop_2027", shift=5.0)  # same columns and levels, other numbers
    code, out, err = _featurize(capsys, model, new, root, tmp_path / "f.npz")
    assert code == 0, err
    assert "reading shop_2027 as the model read shop" in out
    features, _, rows = read_features(tmp_path / "f.npz")
    # expected: the new table's raw values, z-scored with the model's (old data's) mean and std
    processed = prepare(new, str(root))
    raw = np.load(processed.path("input0"))
    test_rows = build_user_domain("shop_2027", str(root)).tasks["label"].test.rows
    scaled = (raw[test_rows] - np.float32(recorded["mean"])) / np.float32(recorded["std"])
    _, featurize_fn = load_encoder(model, device="cpu")
    assert np.allclose(features, featurize_fn(scaled.astype(np.float32)).numpy(), atol=1e-5)
    own = np.asarray(processed.meta["stats"][0]["mean"])
    assert abs(own[0] - recorded["mean"][0]) > 3  # the new data's own scale differs: it was not used


def test_new_rows_with_other_categories_are_refused_in_one_line(tmp_path, capsys):
    root = tmp_path / "root"
    model = _export(_table(tmp_path / "old", "shop", shift=0.0), root, tmp_path / "models")
    new = _table(tmp_path / "new", "shop_eu", shift=0.0, colors=("green", "red", "yellow"))
    code, _, err = _featurize(capsys, model, new, root, tmp_path / "f.npz")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "its tabular features must be the model's 5" in err
    assert "the model's features not in it: ['color=blue']; its features the model lacks: ['color=yellow']" in err
    assert not (tmp_path / "f.npz").exists()


def test_text_must_use_the_models_tokenizer_which_the_export_copies(tmp_path, capsys):
    root = tmp_path / "root"
    model = _export(files.write("text", tmp_path / "old"), root, tmp_path / "models")
    assert (model / "input0.tokenizer.json").is_file()
    new = files.write("text", tmp_path / "new")
    lines = new.with_name("reviews.tsv").read_bytes().decode("utf-8-sig").splitlines()
    new.with_name("reviews.tsv").write_text(
        "\n".join([lines[0]] + [f"zebra quokka {line}" for line in lines[1:] if line])
    )
    new.write_text(new.read_text().replace("name: reviews", "name: reviews_new"))
    code, _, err = _featurize(capsys, model, new, root, tmp_path / "f.npz")
    assert code == 2 and "must be tokenized by the model's tokenizer" in err, err
    assert f"set `tokenizer: {model / 'input0.tokenizer.json'}` on input 'sentence'" in err
    text = new.read_text().replace(
        "vocab_size: 100}", f"vocab_size: 100, tokenizer: {model / 'input0.tokenizer.json'}}}"
    )
    new.write_text(text)
    code, out, err = _featurize(capsys, model, new, root, tmp_path / "f.npz")
    assert code == 0, err
    assert read_features(tmp_path / "f.npz")[0].shape[1] == TINY.embed_dim


@pytest.mark.parametrize("kind", ["image", "timeseries"])
def test_the_models_own_domain_reads_as_before(kind, tmp_path, capsys):
    root = tmp_path / "root"
    path = files.write(kind, tmp_path / "data")
    model = _export(path, root, tmp_path / "models")
    code, out, err = _featurize(capsys, model, path, root, tmp_path / "f.npz")
    assert code == 0, err
    encoder, _ = load_encoder(model, device="cpu")
    from dabs_lib.transfer.features import featurize

    domain = build_user_domain(load_domain_file(path).name, str(root))
    expected = featurize(encoder, domain.tasks[domain.default_task].test, device="cpu").features
    assert np.array_equal(read_features(tmp_path / "f.npz")[0], expected)
