"""Load an exported encoder (a model folder, or a name in the local registry) and featurize with it.

    encoder, featurize = load_encoder("digits-emix")           # by name ($DABS_TUNE_MODELS)
    encoder, featurize = load_encoder("models/exp/digits-emix", device="cuda")
    features = featurize(images)             # (N, C, H, W) tensor or array -> (N, D) float32 tensor
    features = featurize(domain.tasks["digits"].test)          # a split -> (N, D)
    featurize.config                          # config.json: inputs, preprocessing, scores, provenance

Only safetensors and JSON are read: nothing is unpickled. A folder whose config and weights
disagree is refused with one ModelFolderError line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from dabs_lib.encoder import Encoder
from dabs_lib.model_folder import (
    CONFIG,
    INPUT_DTYPES,
    ModelFolderError,
    build_encoder,
    input_shape,
    read_config,
    read_weights,
)
from dabs_lib.model_registry import resolve


class Featurizer:
    """Raw inputs of the model's kinds (one array or tensor per input, batched) or a split -> pooled
    features (N, D), float32 on the CPU; eval mode, no grad, batched."""

    def __init__(self, encoder: Encoder, config: dict[str, Any], device: torch.device, path: Path):
        self.encoder, self.config, self.device, self.path = encoder, config, device, path

    def __call__(self, data: Any, batch_size: int = 256, progress: bool | None = None) -> Tensor:
        from dabs_lib.domains.base import TensorSplit
        from dabs_lib.transfer.features import featurize

        if isinstance(data, Dataset):
            split = data
        else:
            inputs = self.inputs(data)
            split = TensorSplit(inputs, None, "inputs")
        features = featurize(
            self.encoder,
            split,
            batch_size=batch_size,
            device=self.device,
            where=f"model {self.path.name}",
            progress=progress,
        )
        return torch.from_numpy(features.features)

    def domain(self, name: str = "", data_root: str = "", say: Callable[[str], None] | None = None) -> Any:
        """Domain `name` (default: the model's own) read as the model read its training data: a user's
        domain must have the model's features and tokenizer (else ValueError, one line) and is z-scored
        with the model's statistics (config.json `data.preprocessing`, dabs_lib.userdomain.portable)."""
        from dabs_lib.domains import get_domain
        from dabs_lib.userdomain.registered import is_registered

        name = name or self.config["domain"]
        build = (self.config.get("data") or {}).get("build", {})
        smoke = bool(build.get("smoke", False))
        record = (self.config.get("data") or {}).get("preprocessing")
        if not record or not is_registered(name, data_root):
            return get_domain(name, seed=int(build.get("seed", 42)), data_root=data_root, smoke=smoke)
        from dabs_lib.userdomain.load import build_user_domain
        from dabs_lib.userdomain.portable import check_against

        stats = check_against(record, name, data_root, self.path)
        if say is not None:
            own = record.get("domain", "its domain")
            say(f"reading {name} as the model read {own} (config.json data.preprocessing)")
        return build_user_domain(name, data_root, smoke, stats=stats)

    def inputs(self, data: Any) -> tuple[Tensor, ...]:
        """One tensor per input, checked against the model's input shapes."""
        parts = tuple(data) if isinstance(data, (tuple, list)) else (data,)
        specs = self.encoder.specs
        if len(parts) != len(specs):
            raise ValueError(f"featurize takes {len(specs)} input(s) ({[s.kind for s in specs]}), but got {len(parts)}")
        out = []
        for index, (part, spec) in enumerate(zip(parts, specs)):
            tensor = torch.as_tensor(np.asarray(part) if not isinstance(part, Tensor) else part)
            want = input_shape(spec)
            if tuple(tensor.shape[1:]) != want:
                raise ValueError(
                    f"input {index} ({spec.kind}) must have shape (N, {', '.join(map(str, want))}), "
                    f"but got {tuple(tensor.shape)}"
                )
            out.append(tensor.long() if INPUT_DTYPES[spec.kind] == "int64" else tensor.float())
        return tuple(out)


class LoadedEncoder(NamedTuple):
    encoder: Encoder  # in eval mode, on the device asked for
    featurize: Featurizer


def model_path(path_or_name: str | os.PathLike[str], models_dir: list[str] | str | None = None) -> Path:
    """A model folder as given, or the registry's folder for a name."""
    path = Path(path_or_name).expanduser()
    if path.is_dir():
        return path
    if path.name == CONFIG and path.is_file():
        return path.parent
    if str(path_or_name).count("/") <= 1 and not path.exists():
        return resolve(str(path_or_name), models_dir)
    raise ModelFolderError(
        path_or_name, "must be a model folder (config.json + model.safetensors) or a model name, but it is neither"
    )


def load_encoder(
    path_or_name: str | os.PathLike[str],
    device: str | torch.device | None = None,
    models_dir: list[str] | str | None = None,
) -> LoadedEncoder:
    """The exported encoder in eval mode on `device` (default: CUDA when present, else CPU) and
    its `featurize`; ModelFolderError when the folder is not a consistent dabs-tune model."""
    from dabs_lib.transfer.features import resolve_device

    folder = model_path(path_or_name, models_dir)
    config = read_config(folder)
    encoder = build_encoder(config, folder)
    encoder.load_state_dict(read_weights(folder, config, encoder), strict=True)
    target = resolve_device(device)
    encoder = encoder.eval().to(target)
    return LoadedEncoder(encoder, Featurizer(encoder, config, target, folder))
