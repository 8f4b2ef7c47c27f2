"""Feature files `featurize` writes: Parquet or .npz, by the file's suffix.

Both hold `row_id` (the example's index in its split), the label(s) (`label`, or `label_0..K-1`
for multi-label rows) and the features (`.npz`: one (N, D) array `features`; Parquet: columns
`feature_0..D-1`, float32).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dabs_lib.safe_io import atomic_path


def label_columns(labels: np.ndarray) -> dict[str, np.ndarray]:
    if labels.ndim == 1:
        return {"label": labels}
    flat = labels.reshape(len(labels), -1)
    return {f"label_{k}": flat[:, k] for k in range(flat.shape[1])}


def write_features(path: Path, features: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> Path:
    """Atomically: a cut run never leaves half a file under the name asked for."""
    features = np.ascontiguousarray(features, dtype=np.float32)
    if path.suffix == ".npz":
        with atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, features=features, labels=labels, row_id=rows.astype(np.int64))
        return path
    import pandas as pd

    columns = {"row_id": rows.astype(np.int64), **label_columns(labels)}
    columns.update({f"feature_{j}": features[:, j] for j in range(features.shape[1])})
    with atomic_path(path) as tmp:
        pd.DataFrame(columns).to_parquet(tmp, index=False)
    return path


def read_features(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features (N, D), labels, row ids) from either format (what the tests and users read back)."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return data["features"], data["labels"], data["row_id"]
    import pandas as pd

    table = pd.read_parquet(path)
    features = table[[c for c in table.columns if c.startswith("feature_")]].to_numpy(np.float32)
    label_cols = [c for c in table.columns if c == "label" or c.startswith("label_")]
    labels = table[label_cols[0]].to_numpy() if label_cols == ["label"] else table[label_cols].to_numpy()
    return features, labels, table["row_id"].to_numpy()
