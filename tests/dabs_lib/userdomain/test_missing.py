"""Missing cells in a tabular input, in every source format that can hold one: refused by default
(naming file, row, column and the fix), or, with `missing: mean`, kept out of the z-score statistics
and stored as the feature's mean over the pretraining rows (0 once z-scored)."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from dabs_lib.userdomain import register
from dabs_lib.userdomain.load import build_user_domain
from dabs_lib.userdomain.prepare import prepare
from dabs_lib.userdomain.rows import DomainDataError
from dabs_lib.userdomain.schema import DomainFileError, load_domain_file

ROWS, FEATURES = 40, 3
CSV_HOLES = ("", "NA", "?", "nan", " N/A ", "null", "None")  # as spreadsheets, R and UCI files write them


def _matrix() -> tuple[np.ndarray, np.ndarray]:
    """Features with NaN at known cells (never a whole column), and a yes/no target."""
    rng = np.random.default_rng(7)
    target = np.arange(ROWS) % 2
    x = rng.normal(size=(ROWS, FEATURES)) + target[:, None]
    for row, col in ((1, 0), (4, 1), (9, 2), (13, 0), (20, 1), (27, 2), (33, 0)):
        x[row, col] = np.nan
    return x, target


def _csv(folder: Path, x: np.ndarray, target: np.ndarray) -> str:
    holes = iter(CSV_HOLES * 2)
    with open(folder / "rows.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([f"f{j}" for j in range(FEATURES)] + ["target"])
        for row, t in zip(x, target):
            out.writerow([next(holes) if np.isnan(v) else repr(float(v)) for v in row] + ["ny"[t]])
    return "table: rows.csv"


def _jsonl(folder: Path, x: np.ndarray, target: np.ndarray) -> str:
    records = [
        {**{f"f{j}": None if np.isnan(v) else float(v) for j, v in enumerate(row)}, "target": "ny"[t]}
        for row, t in zip(x, target)
    ]
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return "table: rows.jsonl"


def _parquet(folder: Path, x: np.ndarray, target: np.ndarray) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    # f0: nulls (pandas' None), f1 and f2: float NaN, as pandas writes a frame with NaN
    columns = {"f0": pa.array([None if np.isnan(v) else float(v) for v in x[:, 0]], pa.float64())}
    columns.update({f"f{j}": pa.array(x[:, j]) for j in range(1, FEATURES)})
    columns["target"] = pa.array(["ny"[t] for t in target])
    pq.write_table(pa.table(columns), folder / "rows.parquet")
    return "table: rows.parquet"


def _npz(folder: Path, x: np.ndarray, target: np.ndarray) -> str:
    np.savez(folder / "rows.npz", features=x.astype(np.float32), target=np.array(list("ny"))[target])
    return "array: rows.npz"


SOURCES: dict[str, Callable[[Path, np.ndarray, np.ndarray], str]] = {
    "csv": _csv,
    "jsonl": _jsonl,
    "parquet": _parquet,
    "npz": _npz,
}


def _domain(folder: Path, source: str, missing: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    x, target = _matrix()
    data = SOURCES[source](folder, x, target)
    rule = f", missing: {missing}" if missing else ""
    path = folder / "holes.yaml"
    path.write_text(
        f"name: holes\ninputs:\n  - {{name: features, kind: tabular{rule}}}\ndata: {{{data}}}\n"
        "tasks:\n  - {name: target, kind: binary, label: target, classes: [n, y]}\nsplit: {val: 0.2, test: 0.2}\n"
    )
    return path


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_missing_cells_are_refused_by_default_naming_row_column_and_the_fix(source, tmp_path):
    path = _domain(tmp_path / "data", source)
    with pytest.raises(DomainDataError) as error:
        prepare(path, str(tmp_path / "root"))
    message = str(error.value)
    # the first missing cell: data row 1, feature f0 (tables count lines from 1, a CSV's header is line 1;
    # arrays count rows from 0)
    assert {"csv": "row 3", "jsonl": "row 2", "parquet": "row 2", "npz": "row 1"}[source] + ":" in message, message
    assert "`missing: mean` on input 'features'" in message, message
    if source != "npz":  # an array has no column names: its row is named
        assert "column 'f0'" in message, message
    written = [p for p in (tmp_path / "root").rglob("*") if p.suffix in (".npy", ".json")]
    assert not written, written  # nothing prepared, nothing half-written


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_missing_mean_fills_each_cell_with_its_features_pretraining_mean(source, tmp_path):
    path = _domain(tmp_path / "data", source, missing="mean")
    processed = prepare(path, str(tmp_path / "root"))
    x, _ = _matrix()
    stored = np.load(processed.path("input0"))
    pretrain = np.load(processed.path("parts")) == 0  # train rows: the only pretraining rows here
    expected_mean = np.nanmean(x[pretrain], axis=0)
    stats = processed.meta["stats"][0]
    np.testing.assert_allclose(stats["mean"], expected_mean, rtol=1e-5)
    np.testing.assert_allclose(stats["std"], np.nanstd(x[pretrain], axis=0), rtol=1e-4)
    assert stats["filled"] == np.isnan(x).sum(axis=0).tolist()
    holes = np.isnan(x)
    np.testing.assert_allclose(stored[holes], expected_mean[np.nonzero(holes)[1]], rtol=1e-5)
    np.testing.assert_allclose(stored[~holes], x[~holes], rtol=1e-5)
    # what the encoder reads: z-scored, a filled cell is exactly 0
    register(path)
    domain = build_user_domain("holes", str(tmp_path / "root"))
    task = domain.tasks["target"]
    rows = torch.stack([task.train[i][0][0] for i in range(len(task.train))])
    assert torch.isfinite(rows).all()
    train_holes = torch.from_numpy(holes[pretrain])
    assert torch.all(rows[train_holes] == 0)


def _mean_filled_csv(folder: Path, column_b: Callable[[int], str]) -> Path:
    """Columns a (0..39) and b (`column_b(row)`), a target; `missing: mean`."""
    folder.mkdir()
    lines = ["a,b,target"] + [f"{i},{column_b(i)},{'ny'[i % 2]}" for i in range(40)]
    (folder / "rows.csv").write_text("\n".join(lines) + "\n")
    (folder / "holes.yaml").write_text(
        "name: holes\ninputs:\n  - {name: features, kind: tabular, missing: mean}\ndata: {table: rows.csv}\n"
        "tasks:\n  - {name: target, kind: binary, label: target}\n"
    )
    return folder / "holes.yaml"


def test_a_feature_missing_in_every_pretraining_row_is_refused(tmp_path):
    path = _mean_filled_csv(tmp_path / "data", lambda i: "")
    with pytest.raises(DomainDataError, match="'b' is missing in every pretraining row; no mean can fill it"):
        prepare(path, str(tmp_path / "root"))


def test_infinity_stays_refused_under_missing_mean(tmp_path):
    path = _mean_filled_csv(tmp_path / "data", lambda i: "inf" if i == 5 else str(i % 7))
    with pytest.raises(DomainDataError, match="rows.csv row 7: input 'features' holds infinity"):
        prepare(path, str(tmp_path / "root"))


@pytest.mark.parametrize(
    "inputs, expected",
    [
        ("{name: features, kind: tabular, missing: median}", "inputs[0].missing must be one of ['refuse', 'mean']"),
        ("{name: features, kind: image, missing: mean}", "inputs[0].missing applies to tabular inputs only"),
    ],
)
def test_a_bad_missing_rule_names_the_key(inputs, expected, tmp_path):
    path = _domain(tmp_path, "csv")
    path.write_text(path.read_text().replace("{name: features, kind: tabular}", inputs))
    with pytest.raises(DomainFileError) as error:
        load_domain_file(path)
    assert str(error.value).startswith(expected) and str(path.resolve()) in str(error.value)


def test_domain_check_says_how_many_cells_were_filled(tmp_path, capsys, monkeypatch):
    import run_search

    path = _domain(tmp_path / "data", "csv", missing="mean")
    monkeypatch.setenv("DABS_DATA_ROOT", str(tmp_path / "root"))
    assert run_search.main(["domain", "check", str(path), "--no-cost"]) == 0
    out = capsys.readouterr().out
    counts = np.isnan(_matrix()[0]).sum(axis=0)
    assert f"missing cells filled with their feature's mean: f0 {counts[0]}, f1 {counts[1]}, f2 {counts[2]}" in out
    assert "categories:" not in out
