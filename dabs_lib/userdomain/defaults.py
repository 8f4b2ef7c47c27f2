"""Search defaults of a user's domain, derived from its size (the role search_spaces/domains/<name>.yaml
plays for a built-in domain): batch size, budget, evaluation interval and a CPU-sized encoder.

With P pretraining rows: batch B = a power of two in [8, 64], about P / 32 (dabs_lib.userdomain.load
.default_batch_size), searched among [B/2, B, 2B]; an epoch is E = ceil(P / B) steps; the budget is
max_steps = 20 epochs clamped to [200, 2000] and eval_every = max_steps / 5 (five probes per full
trial, the rungs ASHA cuts at). The encoder is the embedded domains' CPU size (embed_dim 64,
depth 4); `--set` or `--space model_size` changes any of these.
"""

from __future__ import annotations

import json
import math
from typing import Any

from dabs_lib.userdomain.prepare import REGISTRATION, UNLABELLED, user_folder

SMALL_MODEL = {"embed_dim": 64, "depth": 4, "num_heads": 4, "head_dim": 16, "mlp_dim": 128, "out_dim": 64}
MIN_STEPS, MAX_STEPS, EPOCHS, EVALUATIONS = 200, 2000, 20, 5


def batch_size_for(pretrain_rows: int) -> int:
    """A power of two between 8 and 64, about 1/32 of the pretraining rows (several steps per epoch)."""
    size = 8
    while size < 64 and size * 32 <= pretrain_rows:
        size *= 2
    return size


def derived_defaults(pretrain_rows: int, batch_size: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fixed, search) entries of the derived layer for a domain with `pretrain_rows` rows."""
    batch = batch_size or batch_size_for(pretrain_rows)
    epoch = math.ceil(pretrain_rows / batch)
    max_steps = min(MAX_STEPS, max(MIN_STEPS, EPOCHS * epoch))
    fixed = dict(SMALL_MODEL, max_steps=max_steps, eval_every=max(1, max_steps // EVALUATIONS))
    search = {
        "batch_size": {
            "type": "choice",
            "choices": sorted({max(4, batch // 2), batch, batch * 2}),
            "default": batch,
            "doc": f"pretraining batch size, derived from {pretrain_rows} rows",
        }
    }
    return fixed, search


def prepared_layer(name: str, data_root: str = "") -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The derived (fixed, search) of a registered user domain; None when `name` is not one."""
    folder = user_folder(data_root, name)
    try:
        pointer = json.loads((folder / REGISTRATION).read_text())
        marker = json.loads((folder / "processed" / pointer["processed"] / "COMPLETE.json").read_text())
        import numpy as np

        parts = np.load(folder / "processed" / pointer["processed"] / "parts.npy")
    except (OSError, ValueError, KeyError):
        return None
    rows = int(np.isin(parts, (0, UNLABELLED)).sum())
    return derived_defaults(rows, int(marker["meta"].get("batch_size", 0)))
