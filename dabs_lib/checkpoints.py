"""Encoder checkpoints: weights plus the spec and model config they belong to.

Everything is stored as plain tensors, dicts and strings so that loading works with
`torch.load(weights_only=True)` (no pickled code runs). Loading into a different spec or
model config fails with an error naming both, instead of DABS's silent `strict=False`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Any

import torch

from dabs_lib.encoder import Encoder
from dabs_lib.model_config import ModelConfig
from dabs_lib.safe_io import CorruptFileError, atomic_path
from dabs_lib.specs import Spec, spec_from_dict, spec_to_dict

FORMAT_VERSION = 1


class CheckpointMismatch(ValueError):
    """The checkpoint was made for other inputs or another model shape."""


def save_encoder(path: str | os.PathLike[str], encoder: Encoder, meta: dict[str, Any] | None = None) -> Path:
    """Write atomically (dabs_lib.safe_io), so a crash or full disk never leaves half a checkpoint."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "specs": [spec_to_dict(s) for s in encoder.specs],
        "model_config": dataclasses.asdict(encoder.config),
        "state_dict": {k: v.detach().cpu() for k, v in encoder.state_dict().items()},
        "meta": dict(meta or {}),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file {str(path)!r} does not exist")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises RuntimeError, EOFError, UnpicklingError, IndexError, ...
        size = path.stat().st_size
        # weights_only refuses pickled code; a truncated zip (full disk, killed writer) fails to open
        problem = (
            f"it must be a torch checkpoint loadable with weights_only=True, but it has {size} bytes "
            f"and loading failed ({str(error).splitlines()[0][:120] if str(error) else type(error).__name__})"
        )
        raise CorruptFileError(
            path,
            problem,
            "Delete it (or its checkpoint folder) and use an earlier checkpoint, or re-run the training that wrote it.",
        ) from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointMismatch(f"{path} is not a dabs-tune encoder checkpoint (format {FORMAT_VERSION})")
    return payload


# Fields added to ModelConfig after format 1 was fixed, and the value that rebuilds what
# an older checkpoint was trained as (head width D / H, attention dropout = dropout).
LEGACY_MODEL_FIELDS = {
    "head_dim": lambda saved: saved["embed_dim"] // saved["num_heads"],
    "attention_dropout": lambda saved: saved["dropout"],
    "final_norm": lambda saved: True,
    "mean_pool_cls": lambda saved: False,
}


def saved_model_config(saved: dict[str, Any]) -> ModelConfig:
    """The ModelConfig a checkpoint was trained with, older checkpoints included."""
    filled = {name: rule(saved) for name, rule in LEGACY_MODEL_FIELDS.items() if name not in saved}
    return ModelConfig(**saved, **filled)


def load_encoder(
    path: str | os.PathLike[str],
    specs: tuple[Spec, ...] | None = None,
    config: ModelConfig | None = None,
) -> Encoder:
    """Rebuild the encoder saved at `path`; when `specs`/`config` are given they must match."""
    payload = read_checkpoint(path)
    saved_specs = tuple(spec_from_dict(d) for d in payload["specs"])
    saved_config = saved_model_config(payload["model_config"])
    if specs is not None and tuple(specs) != saved_specs:
        raise CheckpointMismatch(
            f"checkpoint {path} was trained for specs {saved_specs}, but the dataset has specs {tuple(specs)}"
        )
    if config is not None and config != saved_config:
        raise CheckpointMismatch(f"checkpoint {path} has model config {saved_config}, but {config} was requested")
    encoder = Encoder(saved_specs, saved_config)
    encoder.load_state_dict(payload["state_dict"], strict=True)
    return encoder


def encoder_fingerprint(encoder: Encoder) -> str:
    """Hash of specs, config and weights: the feature cache keys on it."""
    digest = hashlib.sha256(repr((encoder.specs, encoder.config)).encode())
    for name, tensor in sorted(encoder.state_dict().items()):
        t = tensor.detach().contiguous().cpu()
        digest.update(name.encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]
