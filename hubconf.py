"""torch.hub entry points of a dabs-tune checkout: load an exported encoder by folder or name.

    encoder = torch.hub.load("path/to/dabs-tune", "encoder", "digits-emix", source="local")
    features = encoder.featurize(inputs)          # (N, ...) per input -> (N, D) float32
    encoder, featurize = torch.hub.load("path/to/dabs-tune", "featurizer", "models/exp/digits-emix",
                                        source="local", device="cpu")

Names are looked up in $DABS_TUNE_MODELS (or `models_dir=`), as `dabs-tune models list` shows them.
Weights are read from model.safetensors: nothing is unpickled.
"""

from __future__ import annotations

dependencies = ["torch", "numpy", "safetensors"]


def encoder(path_or_name: str, device: str | None = None, models_dir: str | list[str] | None = None):
    """The exported encoder in eval mode; its `featurize` attribute embeds raw inputs or a split."""
    from dabs_lib.models import load_encoder

    loaded = load_encoder(path_or_name, device=device, models_dir=models_dir)
    loaded.encoder.featurize = loaded.featurize  # type: ignore[assignment]  # a plain attribute, not in the state dict
    return loaded.encoder


def featurizer(path_or_name: str, device: str | None = None, models_dir: str | list[str] | None = None):
    """(encoder, featurize), as dabs_lib.load_encoder returns them."""
    from dabs_lib.models import load_encoder

    return load_encoder(path_or_name, device=device, models_dir=models_dir)
