"""Model folders (dabs_lib.model_folder), load_encoder and featurize (dabs_lib.models), the registry.

Written from a seeded encoder on every embedded domain (no search: the end-to-end path from a
real search lives in tests/cli/test_models_cli.py). Features of the loaded model must equal the
original encoder's bitwise on CPU; damaged folders are refused in one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dabs_lib.domains import EMBEDDED_DOMAINS, get_domain
from dabs_lib.encoder import Encoder
from dabs_lib.model_folder import (
    CONFIG,
    WEIGHTS,
    ModelFolderError,
    describe_inputs,
    write_model_folder,
)
from dabs_lib.model_registry import MODELS_ENV, find_models, resolve
from dabs_lib.models import load_encoder
from dabs_lib.transfer.features import featurize
from tests.dabs_lib.domains.helpers import TINY

ROOT = Path(__file__).resolve().parents[2]


def write_model(
    folder: Path, domain_name: str = "digits", seed: int = 0, experiment: str = "exp", objective: str = "emix"
) -> tuple[Path, Encoder]:
    domain = get_domain(domain_name, smoke=True)
    torch.manual_seed(seed)
    encoder = Encoder(domain.specs, TINY)
    name = f"{domain_name}-{objective}"
    facts = {
        "name": name,
        "domain": domain_name,
        "objective": objective,
        "inputs": describe_inputs(domain.specs, domain.pretrain.inputs),
        "data": {"domain": domain_name, "build": {"seed": 42, "smoke": True}},
        "scores": [{"task": domain.default_task, "score": 0.5, "ci95": 0.01}],
        "provenance": {"experiment": experiment, "trial": f"{domain_name}_{objective}_001"},
    }
    return write_model_folder(folder / experiment / name, encoder, facts, "# card\n"), encoder


@pytest.mark.parametrize("domain_name", sorted(EMBEDDED_DOMAINS))
def test_a_loaded_model_featurizes_bitwise_like_the_encoder_it_was_written_from(tmp_path, domain_name):
    folder, original = write_model(tmp_path, domain_name)
    encoder, featurize_fn = load_encoder(folder, device="cpu")
    assert not encoder.training and encoder.specs == original.specs
    split = get_domain(domain_name, smoke=True).tasks[get_domain(domain_name, smoke=True).default_task].test
    expected = featurize(original, split, device="cpu").features
    from_split = featurize_fn(split).numpy()
    from_raw = featurize_fn(tuple(x.numpy() for x in split.inputs), batch_size=7).numpy()  # arrays, other batches
    assert from_split.shape == (len(split), TINY.embed_dim)
    assert np.array_equal(from_split, expected) and np.array_equal(from_raw, expected)
    config = json.loads((folder / CONFIG).read_text())
    assert [entry["kind"] for entry in config["inputs"]] == [s.kind for s in original.specs]
    assert all("observed" in entry and entry["preprocessing"] for entry in config["inputs"])


def test_featurize_refuses_inputs_of_the_wrong_shape_in_one_line(tmp_path):
    folder, _ = write_model(tmp_path, "digits")
    _, featurize_fn = load_encoder(folder, device="cpu")
    with pytest.raises(ValueError, match=r"input 0 \(2d\) must have shape \(N, 1, 8, 8\)|must have shape") as error:
        featurize_fn(torch.zeros(3, 5))
    assert "\n" not in str(error.value)


def _set(path: Path, **changes) -> None:
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def _resave(folder: Path, change) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(folder / WEIGHTS))
    change(tensors)
    save_file(tensors, str(folder / WEIGHTS))


DAMAGES = {  # what breaks -> (how, words the one line must hold)
    "no config": (lambda f: (f / CONFIG).unlink(), "config.json is missing"),
    "config not JSON": (lambda f: (f / CONFIG).write_text("{not json"), "must be JSON"),
    "not our format": (lambda f: _set(f / CONFIG, format="something-else"), "format"),
    "unknown format version": (lambda f: _set(f / CONFIG, format_version=99), "format_version must be 1"),
    "a key missing": (lambda f: _set(f / CONFIG, inputs=None) or _drop(f / CONFIG, "tensors"), "are missing"),
    "no weights": (lambda f: (f / WEIGHTS).unlink(), "model.safetensors, but it is missing"),
    "weights cut": (lambda f: (f / WEIGHTS).write_bytes((f / WEIGHTS).read_bytes()[:100]), "must be a safetensors"),
    "weights pickled": (lambda f: torch.save({"x": torch.zeros(1)}, f / WEIGHTS), "must be a safetensors"),
    "a tensor missing": (lambda f: _resave(f, lambda t: t.pop("cls")), "missing ['cls']"),
    "an extra tensor": (lambda f: _resave(f, lambda t: t.update(extra=torch.zeros(2))), "extra ['extra']"),
    "a tensor mis-shaped": (lambda f: _resave(f, lambda t: t.update(cls=torch.zeros(1, 1, 7))), "cls is [1, 1, 7]"),
    "a tensor's dtype": (lambda f: _resave(f, lambda t: t.update(cls=t["cls"].double())), "must be torch.float32"),
    "config of another width": (
        lambda f: _set(
            f / CONFIG, model_config={**json.loads((f / CONFIG).read_text())["model_config"], "embed_dim": 64}
        ),
        "the tensors must match",
    ),
    "inputs of another domain": (
        lambda f: _set(f / CONFIG, inputs=[{"spec": {"kind": "tabular", "num_features": 3}}]),
        "the tensors must match",
    ),
}


def _drop(path: Path, key: str) -> None:
    config = json.loads(path.read_text())
    config.pop(key)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_or_mismatched_folder_is_refused_in_one_line(tmp_path, damage):
    folder, _ = write_model(tmp_path)
    how, words = DAMAGES[damage]
    how(folder)
    with pytest.raises(ModelFolderError) as error:
        load_encoder(folder, device="cpu")
    assert words in str(error.value) and "\n" not in str(error.value), str(error.value)
    assert str(folder.name) in str(error.value)


def test_names_resolve_in_the_registry_and_ambiguity_lists_the_candidates(tmp_path, monkeypatch):
    write_model(tmp_path, "digits", experiment="a")
    write_model(tmp_path, "tabular", experiment="a")
    write_model(tmp_path, "digits", experiment="b", seed=1)
    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    assert [e.qualified for e in find_models()] == ["a/digits-emix", "a/tabular-emix", "b/digits-emix"]
    assert resolve("tabular-emix") == tmp_path / "a" / "tabular-emix"
    assert resolve("b/digits-emix") == tmp_path / "b" / "digits-emix"
    with pytest.raises(ModelFolderError, match=r"2 match: \['a/digits-emix', 'b/digits-emix'\]"):
        load_encoder("digits-emix")
    with pytest.raises(ModelFolderError, match="none is called so"):
        load_encoder("sensor-emix")
    encoder, _ = load_encoder("a/digits-emix", device="cpu")
    assert encoder.specs == get_domain("digits", smoke=True).specs
    other = tmp_path / "elsewhere"
    write_model(other, "sensor")
    assert [e.qualified for e in find_models([str(other)])] == ["exp/sensor-emix"]  # --models-dir wins over env


def test_torch_hub_loads_a_model_from_this_checkout(tmp_path, monkeypatch):
    folder, original = write_model(tmp_path, "tabular")
    monkeypatch.setenv(MODELS_ENV, str(tmp_path))
    encoder = torch.hub.load(str(ROOT), "encoder", "tabular-emix", source="local", device="cpu")
    split = get_domain("tabular", smoke=True).pretrain
    assert np.array_equal(encoder.featurize(split).numpy(), featurize(original, split, device="cpu").features)
    _, featurize_fn = torch.hub.load(str(ROOT), "featurizer", str(folder), source="local", device="cpu")
    assert torch.equal(featurize_fn(split), encoder.featurize(split))
