"""An exported encoder on disk: the one owner of the model folder's format. No pickle anywhere.

    <folder>/model.safetensors   the encoder's tensors (safetensors: plain tensors, no code)
    <folder>/config.json         what rebuilds and feeds the encoder (below), format FORMAT_VERSION
    <folder>/README.md           the model card (scores, hyperparameters, provenance, intended use)

config.json holds: `format`/`format_version`, the project's version, `name`, `domain`, `objective`,
`model_config` (dabs_lib.encoder.ModelConfig), `inputs` (one per input of the domain: its spec,
shape, dtype and preprocessing, generic over the input kinds of dabs_lib.specs), `feature_dim`,
`data` (how the domain was built and the fingerprints of its splits), `tensors` (name -> shape),
and what the exporter adds (`scores`, `hyperparameters`, `provenance`, ...).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import torch

from dabs_lib.encoder import Encoder
from dabs_lib.model_config import ModelConfig
from dabs_lib.model_format import CARD, CONFIG, FORMAT, FORMAT_VERSION, WEIGHTS, ModelFolderError
from dabs_lib.safe_io import atomic_path, write_json, write_text
from dabs_lib.specs import SPEC_KINDS, Spec, spec_from_dict, spec_to_dict

REQUIRED = ("format_version", "name", "domain", "objective", "model_config", "inputs", "tensors")

# Per input kind: the tensor one example must be (shape from its spec), and what the domain's
# pipeline did to raw data before the encoder saw it (dabs_lib.datasets.transforms, domains/).
INPUT_DTYPES = {"tokens": "int64", "1d": "float32", "2d": "float32", "tabular": "float32"}
PREPROCESSING = {
    "tokens": "integer token ids from the domain's own tokenizer or vocabulary, padded with pad_id to seq_len "
    "(padding is masked in attention and pooling)",
    "1d": "float time series (seq_len, in_channels), scaled as the domain's pipeline scaled its data (`observed` "
    "gives the range); cut into seq_len/segment_size segments, one token each",
    "2d": "float image or spectrogram (in_channels, input_size, input_size), scaled as the domain's pipeline "
    "scaled its data (`observed` gives the range); cut into patch_size x patch_size patches, one token each",
    "tabular": "one float per feature (num_features,), scaled as the domain's pipeline scaled its data "
    "(`observed` gives the range); one token each",
}
assert set(INPUT_DTYPES) == set(PREPROCESSING) == set(SPEC_KINDS)


def input_shape(spec: Spec) -> tuple[int, ...]:
    """The shape of one example of this input (no batch dimension)."""
    shapes = {
        "tokens": lambda s: (s.seq_len,),
        "1d": lambda s: (s.seq_len, s.in_channels),
        "2d": lambda s: (s.in_channels, s.input_size, s.input_size),
        "tabular": lambda s: (s.num_features,),
    }
    return shapes[spec.kind](spec)


def describe_inputs(specs: tuple[Spec, ...], sample: tuple[torch.Tensor, ...] | None = None) -> list[dict[str, Any]]:
    """config.json's `inputs`: per input its spec, shape, dtype, preprocessing, and (given a sample
    of the domain's own inputs) the range of values the encoder was trained on."""
    out = []
    for index, spec in enumerate(specs):
        entry: dict[str, Any] = {
            "index": index,
            "kind": spec.kind,
            "spec": spec_to_dict(spec),
            "shape": list(input_shape(spec)),
            "dtype": INPUT_DTYPES[spec.kind],
            "preprocessing": PREPROCESSING[spec.kind],
        }
        if sample is not None:
            values = sample[index].double()
            entry["observed"] = {
                "rows": len(values),
                "mean": float(values.mean()),
                "std": float(values.std()),
                "min": float(values.min()),
                "max": float(values.max()),
            }
        out.append(entry)
    return out


def tensor_shapes(encoder: Encoder) -> dict[str, list[int]]:
    return {name: list(t.shape) for name, t in encoder.state_dict().items()}


def write_model_folder(
    folder: str | os.PathLike[str],
    encoder: Encoder,
    config: dict[str, Any],
    card: str,
    files: dict[str, Path] | None = None,
) -> Path:
    """Write weights, `files` (name in the folder -> source: what the config names, such as a
    tokenizer), then config and card; `config` gets the format fields, the model config, the inputs'
    specs (unless given) and the tensor shapes the loader checks against."""
    import shutil

    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous().clone() for k, v in encoder.state_dict().items()}
    full = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        **config,
        "model_config": dataclasses.asdict(encoder.config),
        "inputs": config.get("inputs") or describe_inputs(encoder.specs),
        "feature_dim": encoder.config.embed_dim,
        "pooling": encoder.config.pooling,
        "weights": WEIGHTS,
        "tensors": tensor_shapes(encoder),
    }
    with atomic_path(folder / WEIGHTS) as tmp:
        save_file(tensors, str(tmp), metadata={"format": FORMAT, "format_version": str(FORMAT_VERSION)})
    for name, source in (files or {}).items():  # before config.json, which names them
        with atomic_path(folder / name) as tmp:
            shutil.copyfile(source, tmp)
    write_json(folder / CONFIG, full, indent=2, allow_nan=False)
    write_text(folder / CARD, card)
    return folder


def read_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """config.json of a model folder, checked for the format and the fields the loader needs."""
    path = Path(folder) / CONFIG
    if not path.is_file():
        raise ModelFolderError(
            folder, f"a model folder must hold {CONFIG}, {WEIGHTS} and {CARD}, but {CONFIG} is missing"
        )
    try:
        config = json.loads(path.read_text())
    except (ValueError, OSError) as error:
        raise ModelFolderError(
            path, f"must be JSON, but reading it failed ({str(error).splitlines()[0][:100]})"
        ) from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFolderError(path, f'must have "format": "{FORMAT}" (a dabs-tune model), but it does not')
    if config.get("format_version") != FORMAT_VERSION:
        raise ModelFolderError(
            path,
            f"format_version must be {FORMAT_VERSION} (what this dabs-tune reads), but "
            f"got {config.get('format_version')!r}",
        )
    missing = [key for key in REQUIRED if key not in config]
    if missing:
        raise ModelFolderError(path, f"must have the keys {list(REQUIRED)}, but {missing} are missing")
    return config


def build_encoder(config: dict[str, Any], where: str | os.PathLike[str]) -> Encoder:
    """The encoder config.json describes, with fresh weights (the loader fills them)."""
    from dabs_lib.checkpoints import saved_model_config

    try:
        specs = tuple(spec_from_dict(entry["spec"]) for entry in config["inputs"])
        model = saved_model_config(dict(config["model_config"]))
        return Encoder(specs, model)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFolderError(
            Path(where) / CONFIG,
            f"inputs and model_config must describe an encoder, but {type(error).__name__}: {error}",
        ) from None


def _check_tensors(found: dict[str, list[int]], expected: dict[str, list[int]], where: str, against: str) -> None:
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    shaped = sorted(k for k in set(found) & set(expected) if list(found[k]) != list(expected[k]))
    if missing or extra or shaped:
        parts = (
            ([f"missing {missing[:3]}"] if missing else [])
            + ([f"extra {extra[:3]}"] if extra else [])
            + ([f"{k} is {list(found[k])}, not {list(expected[k])}" for k in shaped[:2]])
        )
        raise ModelFolderError(where, f"the tensors must match {against}, but {'; '.join(parts)}")


def read_weights(folder: str | os.PathLike[str], config: dict[str, Any], encoder: Encoder) -> dict[str, torch.Tensor]:
    """The tensors of model.safetensors, after checking them against config.json and the encoder."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(folder) / WEIGHTS
    if not path.is_file():
        raise ModelFolderError(folder, f"a model folder must hold {WEIGHTS}, but it is missing")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise ModelFolderError(
            path,
            f"must be a safetensors file, but loading it failed "
            f"({str(error).splitlines()[0][:100] if str(error) else type(error).__name__})",
        ) from None
    found = {k: list(v.shape) for k, v in tensors.items()}
    _check_tensors(found, config["tensors"], str(path), f'the "tensors" of {CONFIG}')
    _check_tensors(found, tensor_shapes(encoder), str(path), f"the encoder {CONFIG} describes")
    state = encoder.state_dict()
    wrong = [k for k, v in tensors.items() if v.dtype != state[k].dtype]
    if wrong:
        raise ModelFolderError(
            path, f"tensor {wrong[0]} must be {state[wrong[0]].dtype}, but it is {tensors[wrong[0]].dtype}"
        )
    return tensors


def model_config_of(config: dict[str, Any]) -> ModelConfig:
    from dabs_lib.checkpoints import saved_model_config

    return saved_model_config(dict(config["model_config"]))
