"""dabs_lib: encoder, objectives, domains, pretraining and transfer evaluation (no Ray).

The entry points are imported lazily so `import dabs_lib` stays cheap for tools that
only need specs or configs.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "pretrain": "dabs_lib.pretrain",
    "PretrainConfig": "dabs_lib.config",
    "config_from_dict": "dabs_lib.config",
    "ModelConfig": "dabs_lib.model_config",
    "Encoder": "dabs_lib.encoder",
    "evaluate_transfer": "dabs_lib.transfer",
    "evaluate_domain": "dabs_lib.transfer",
    "load_encoder": "dabs_lib.models",  # an exported model folder or name (checkpoints.load_encoder reads encoder.pt)
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dabs_lib' has no attribute {name!r}")
