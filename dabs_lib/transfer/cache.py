"""The feature cache: featurize once per (checkpoint, dataset, split, pooling, per-token).

On disk every entry is a folder `<root>/<key>/` holding `labels.npy`, `rows.npy`,
`meta.json` and, written last, `features.npy`; each file is written to a unique temp
name and renamed (os.replace), so concurrent trials and crashes never leave a
half-written entry that looks complete. Reads memory-map the features. With no root,
entries live in a small in-process LRU (for in-trial probes whose encoder keeps changing).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from dabs_lib.encoder import Encoder
from dabs_lib.safe_io import atomic_write
from dabs_lib.transfer.features import FeatureSet, featurize
import torch
from typing import Any

CACHE_FORMAT = 1  # bump when what is stored changes, so old entries stop matching
CACHE_ENV = "DABS_TUNE_CACHE"
ARRAYS = ("features", "labels", "rows")

_log = logging.getLogger(__name__)


class _DefaultCacheDir:
    """Sentinel default: $DABS_TUNE_CACHE, else ~/.cache/dabs-tune/features (resolved per call)."""

    def __repr__(self) -> str:
        return "DEFAULT_CACHE_DIR"


DEFAULT_CACHE_DIR = _DefaultCacheDir()


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "dabs-tune" / "features")


def cache_key(encoder_fp: str, dataset_fp: str, split: str, pooling: str, per_token: bool, ignore_index: int) -> str:
    """Changes whenever the weights, the data, the split, the pooling or the feature kind change."""
    unit = f"per_token:{ignore_index}" if per_token else "pooled"
    text = f"v{CACHE_FORMAT}|{encoder_fp}|{dataset_fp}|{split}|{pooling}|{unit}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _load_entry(folder: Path) -> FeatureSet | None:
    """The entry's arrays, or None (and the entry deleted, with a warning) when one is corrupt:
    a damaged cache file costs one re-featurization, never a wrong score."""
    try:
        arrays = {
            name: np.load(folder / f"{name}.npy", mmap_mode="r" if name == "features" else None, allow_pickle=False)
            for name in ARRAYS
        }
        if not len(arrays["features"]) == len(arrays["labels"]) == len(arrays["rows"]):
            raise ValueError(f"row counts differ: {[len(a) for a in arrays.values()]}")
    except (OSError, ValueError, EOFError) as error:
        _log.warning("feature cache entry %s is corrupt (%s); deleting it and featurizing again", folder, error)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return FeatureSet(arrays["features"], arrays["labels"], arrays["rows"])


class FeatureCache:
    """get/put FeatureSets by key; `root=None` keeps up to `max_entries` sets in memory."""

    def __init__(self, root: str | os.PathLike[str] | None, max_entries: int = 8) -> None:
        self.root = Path(root).expanduser() if root is not None else None
        self.max_entries = max_entries
        self._memory: OrderedDict[str, FeatureSet] = OrderedDict()

    def get(self, key: str) -> FeatureSet | None:
        if self.root is None:
            if key in self._memory:
                self._memory.move_to_end(key)
            return self._memory.get(key)
        folder = self.root / key
        if not (folder / "features.npy").is_file():
            return None
        return _load_entry(folder)

    def put(self, key: str, features: FeatureSet, meta: dict[str, Any] | None = None) -> None:
        if self.root is None:
            self._memory[key] = features
            while len(self._memory) > self.max_entries:
                self._memory.popitem(last=False)
            return
        folder = self.root / key
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "meta.json", lambda h: h.write(json.dumps(meta or {}, indent=1).encode()))
        atomic_write(folder / "labels.npy", lambda h: np.save(h, np.ascontiguousarray(features.labels)))
        atomic_write(folder / "rows.npy", lambda h: np.save(h, np.ascontiguousarray(features.rows)))
        atomic_write(folder / "features.npy", lambda h: np.save(h, np.ascontiguousarray(features.features)))


MEMORY_CACHE = FeatureCache(None)  # shared by every call that passes cache_dir=None


def resolve_cache(cache_dir: str | os.PathLike[str] | FeatureCache | _DefaultCacheDir | None) -> FeatureCache:
    """A FeatureCache from a path, None (in-memory), DEFAULT_CACHE_DIR or a FeatureCache."""
    if isinstance(cache_dir, FeatureCache):
        return cache_dir
    if cache_dir is None:
        return MEMORY_CACHE
    if isinstance(cache_dir, _DefaultCacheDir):
        return FeatureCache(default_cache_dir())
    return FeatureCache(cache_dir)


def cached_features(
    encoder: Encoder,
    encoder_fp: str,
    dataset: Dataset[Any],
    split: str,
    *,
    cache: FeatureCache,
    pooling: str,
    per_token: bool = False,
    ignore_index: int = -100,
    batch_size: int = 256,
    device: torch.device | str | None = None,
    where: str = "dataset",
) -> tuple[FeatureSet, bool, float]:
    """(features, cache_hit, featurize seconds); a hit never runs the encoder."""
    dataset_fp = getattr(dataset, "fingerprint", None)
    if dataset_fp is None and cache.root is not None:
        raise ValueError(
            f"the on-disk feature cache needs a `fingerprint` on every split, but {where} "
            f"({type(dataset).__name__}) has none; give it one or pass cache_dir=None"
        )
    key = cache_key(encoder_fp, dataset_fp, split, pooling, per_token, ignore_index) if dataset_fp else None
    found = cache.get(key) if key else None
    if found is not None:
        return found, True, 0.0
    start = time.perf_counter()
    features = featurize(
        encoder,
        dataset,
        pooling=None if per_token else pooling,
        per_token=per_token,
        ignore_index=ignore_index,
        batch_size=batch_size,
        device=device,
        where=where,
    )
    seconds = time.perf_counter() - start
    if key:
        meta = {
            "encoder": encoder_fp,
            "dataset": dataset_fp,
            "split": split,
            "pooling": pooling,
            "per_token": per_token,
            "shape": list(features.features.shape),
        }
        cache.put(key, features, meta)
    return features, False, seconds
