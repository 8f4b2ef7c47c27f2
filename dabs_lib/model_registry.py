"""The local model registry: model folders a user keeps, found by name.

Folders are searched under the directories given (`--models-dir`), else under the paths of
$DABS_TUNE_MODELS (separated like PATH), else under ./models. A model folder is any folder, at
most MAX_DEPTH levels down, holding a config.json of dabs_lib.model_folder's format. `export-model
--out DIR` writes DIR/<experiment>/<domain>-<objective>/, so a name is `<domain>-<objective>`, or
`<experiment>/<domain>-<objective>` when several experiments export the same pair.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dabs_lib.model_format import CONFIG, FORMAT, WEIGHTS, ModelFolderError

MODELS_ENV = "DABS_TUNE_MODELS"
DEFAULT_MODELS_DIR = "models"
MAX_DEPTH = 3


@dataclass(frozen=True)
class ModelEntry:
    name: str  # `<domain>-<objective>` (exported best trial) or what export named it
    experiment: str
    domain: str
    objective: str
    headline: str  # "<task> <score> [± ci95]" of the model's first task, or ""
    size_bytes: int  # of model.safetensors
    path: Path

    @property
    def qualified(self) -> str:
        return f"{self.experiment}/{self.name}"


def models_dirs(given: list[str] | tuple[str, ...] | str | None = None) -> list[Path]:
    """Where to look: `given`, else $DABS_TUNE_MODELS (os.pathsep-separated), else ./models."""
    if isinstance(given, (str, os.PathLike)):
        given = [str(given)]
    if given:
        return [Path(d).expanduser() for d in given]
    env = os.environ.get(MODELS_ENV, "")
    if env:
        return [Path(d).expanduser() for d in env.split(os.pathsep) if d]
    return [Path(DEFAULT_MODELS_DIR)]


def headline(config: dict[str, Any]) -> str:
    """The first task's test score of the model card, as one short string."""
    scores = config.get("scores") or []
    if not scores:
        return ""
    first = scores[0]
    ci = first.get("ci95")
    text = f"{first.get('task', '')} {first.get('score', float('nan')):.4f}"
    return text + (f" ± {ci:.4f}" if isinstance(ci, (int, float)) and not math.isnan(ci) else "")


def _entry(folder: Path) -> ModelEntry | None:
    try:
        config = json.loads((folder / CONFIG).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        return None
    weights = folder / WEIGHTS
    provenance = config.get("provenance") or {}
    return ModelEntry(
        str(config.get("name", folder.name)),
        str(provenance.get("experiment", folder.parent.name)),
        str(config.get("domain", "")),
        str(config.get("objective", "")),
        headline(config),
        weights.stat().st_size if weights.is_file() else 0,
        folder,
    )


def find_models(dirs: list[str] | tuple[str, ...] | str | None = None) -> list[ModelEntry]:
    """Every model folder under the registry's directories, sorted by qualified name."""
    found: dict[Path, ModelEntry] = {}
    for root in models_dirs(dirs):
        if not root.is_dir():
            continue
        candidates = [root] + [
            p.parent for depth in range(1, MAX_DEPTH + 1) for p in root.glob("/".join(["*"] * depth) + f"/{CONFIG}")
        ]
        for folder in candidates:
            entry = _entry(folder) if (folder / CONFIG).is_file() else None
            if entry is not None:
                found.setdefault(folder.resolve(), entry)
    return sorted(found.values(), key=lambda e: (e.qualified, str(e.path)))


def resolve(name: str, dirs: list[str] | tuple[str, ...] | str | None = None) -> Path:
    """The folder of the model called `name` (`<domain>-<objective>` or `<experiment>/<name>`);
    ModelFolderError when none or several match (naming the candidates)."""
    entries = find_models(dirs)
    matches = [e for e in entries if name in (e.name, e.qualified)]
    where = ", ".join(str(d) for d in models_dirs(dirs))
    if not matches:
        known = sorted({e.qualified for e in entries})
        raise ModelFolderError(
            name,
            f"must name a model folder or a model under {where} (--models-dir or "
            f"${MODELS_ENV}), but none is called so; models there: {known or 'none'}",
        )
    if len(matches) > 1:
        raise ModelFolderError(
            name,
            f"must name one model, but {len(matches)} match: "
            f"{[e.qualified for e in matches]}; use <experiment>/<name> or a path",
        )
    return matches[0].path
