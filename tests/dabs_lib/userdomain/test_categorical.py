"""Columns of categories in a tabular input (`categorical:`): one feature per level of the pretraining
rows, one-hot; in CSV, JSONL and Parquet tables. And a feature constant over the pretraining rows is
centred, not divided by ~0."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from dabs_lib.userdomain.prepare import prepare
from dabs_lib.userdomain.rows import DomainDataError
from dabs_lib.userdomain.schema import DomainFileError, load_domain_file
from dabs_lib.userdomain.tabular import MAX_LEVELS

ROWS = 40
COLORS = ("red", "green", "blue")


def _records() -> list[dict]:
    """Train rows 0-27, val 28-33, test 34-39; `zone` (a number used as a category) takes 7 only in a test row."""
    rng = np.random.default_rng(3)
    out = []
    for i in range(ROWS):
        part = "train" if i < 28 else "val" if i < 34 else "test"
        out.append(
            {
                "size": round(float(rng.normal() + i % 2), 4),
                "color": COLORS[i % 3],
                "zone": 7 if i == 38 else 1 + i % 2,
                "label": "ab"[i % 2],
                "part": part,
            }
        )
    return out


def _csv(folder: Path, records: list[dict]) -> str:
    with open(folder / "rows.csv", "w", newline="") as handle:
        out = csv.DictWriter(handle, fieldnames=list(records[0]))
        out.writeheader()
        out.writerows(records)
    return "rows.csv"


def _jsonl(folder: Path, records: list[dict]) -> str:
    (folder / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return "rows.jsonl"


def _parquet(folder: Path, records: list[dict]) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), folder / "rows.parquet")
    return "rows.parquet"


TABLES: dict[str, Callable[[Path, list[dict]], str]] = {"csv": _csv, "jsonl": _jsonl, "parquet": _parquet}


def _domain(folder: Path, table: str, records: list[dict], extra: str = ", categorical: [color, zone]") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = TABLES[table](folder, records)
    path = folder / "cats.yaml"
    path.write_text(
        f"name: cats\ninputs:\n  - {{name: features, kind: tabular{extra}}}\ndata: {{table: {name}}}\n"
        "tasks:\n  - {name: label}\nsplit: {column: part}\n"
    )
    return path


@pytest.mark.parametrize("table", sorted(TABLES))
def test_categories_become_one_feature_per_pretraining_level(table, tmp_path):
    records = _records()
    processed = prepare(_domain(tmp_path / "data", table, records), str(tmp_path / "root"))
    stats = processed.meta["stats"][0]
    assert stats["features"] == ["size", "color=blue", "color=green", "color=red", "zone=1", "zone=2"]
    assert processed.meta["specs"][0]["num_features"] == 6
    assert stats["levels"] == {"color": ["blue", "green", "red"], "zone": ["1", "2"]}
    stored = np.load(processed.path("input0"))
    for i, record in enumerate(records):
        assert stored[i, 0] == pytest.approx(record["size"], rel=1e-5)
        assert stored[i, 1:4].tolist() == [float(record["color"] == c) for c in ("blue", "green", "red")]
        assert stored[i, 4:].tolist() == [float(record["zone"] == 1), float(record["zone"] == 2)]  # zone 7: zeros
    assert stored[38, 4:].tolist() == [0.0, 0.0]


def test_typed_cells_json_numbers_are_one_level_and_a_bool_is_not_a_number(tmp_path):
    """JSON's 3 and 3.0 are one level, its true another; true in a number column is refused."""
    records = _records()
    for i, record in enumerate(records):
        record["zone"] = [3, 3.0, True][i % 3]
    processed = prepare(_domain(tmp_path / "levels", "jsonl", records), str(tmp_path / "root"))
    assert processed.meta["stats"][0]["levels"]["zone"] == ["3", "True"]
    stored = np.load(processed.path("input0"))
    assert stored[:3, 4:].tolist() == [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    records[4]["size"] = True
    with pytest.raises(DomainDataError, match=r"rows.jsonl row 5: column 'size' must be a number, but got True"):
        prepare(_domain(tmp_path / "bool", "jsonl", records), str(tmp_path / "root"))
    records[4]["size"] = 10**400  # JSON integers have no bound; a float has
    with pytest.raises(DomainDataError, match=r"row 5: column 'size' must be a number a float32 holds, but got a 401-"):
        prepare(_domain(tmp_path / "huge", "jsonl", records), str(tmp_path / "root"))


def test_a_missing_category_is_refused_or_filled_with_the_levels_shares(tmp_path):
    records = _records()
    records[5]["color"] = ""  # a train row
    with pytest.raises(DomainDataError, match="row 7: column 'color' must be a category, but got '', a missing value"):
        prepare(_domain(tmp_path / "refuse", "csv", records), str(tmp_path / "root"))
    processed = prepare(
        _domain(tmp_path / "fill", "csv", records, ", categorical: [color], missing: mean"), str(tmp_path / "root")
    )
    stored = np.load(processed.path("input0"))
    train = [r["color"] for r in records[:28] if r["color"]]
    shares = [train.count(c) / len(train) for c in ("blue", "green", "red")]
    np.testing.assert_allclose(stored[5, 1:4], shares, rtol=1e-5)
    assert processed.meta["stats"][0]["filled"] == [0, 1, 1, 1, 0]
    assert processed.meta["stats"][0]["missing_cells"] == {"color": 1}  # one cell, three features


@pytest.mark.parametrize(
    "change, extra, expected",
    [
        (
            lambda r: [dict(x, color=f"c{i}") for i, x in enumerate(r)],
            ", categorical: [color]",
            f"categorical column 'color' has 28 distinct values in the pretraining rows, more than {MAX_LEVELS}",
        ),
        (lambda r: r, ", categorical: [colour]", "categorical names ['colour'], which are not its feature columns"),
        (lambda r: r, "", "column 'color' must be a number, but got 'red' (a column of categories? list it under"),
    ],
    ids=["too many levels", "not a column", "text in a number column"],
)
def test_categorical_mistakes_name_the_column(change, extra, expected, tmp_path, monkeypatch):
    monkeypatch.setattr("dabs_lib.userdomain.tabular.MAX_LEVELS", 20)
    expected = expected.replace(f"than {MAX_LEVELS}", "than 20")
    with pytest.raises(DomainDataError) as error:
        prepare(_domain(tmp_path / "data", "csv", change(_records()), extra), str(tmp_path / "root"))
    assert expected in str(error.value), str(error.value)


def test_categorical_is_for_tables_and_tabular_inputs(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    np.savez(folder / "rows.npz", features=np.random.default_rng(0).normal(size=(30, 3)), label=np.arange(30) % 2)
    path = folder / "arr.yaml"
    path.write_text(
        "name: arr\ninputs:\n  - {name: features, kind: tabular, categorical: [a]}\ndata: {array: rows.npz}\n"
        "tasks:\n  - {name: label}\n"
    )
    with pytest.raises(DomainDataError, match="categorical applies to tables"):
        prepare(path, str(tmp_path / "root"))
    path.write_text(path.read_text().replace("kind: tabular", "kind: image"))
    with pytest.raises(DomainFileError, match=r"inputs\[0\].categorical applies to tabular inputs only"):
        load_domain_file(path)


def test_a_feature_constant_over_the_pretraining_rows_is_centred_not_blown_up(tmp_path):
    records = [dict(r, size=1.5 if r["part"] == "train" else 2.5) for r in _records()]
    processed = prepare(_domain(tmp_path / "data", "csv", records, ", columns: [size, zone]"), str(tmp_path / "root"))
    stats = processed.meta["stats"][0]
    assert stats["mean"][0] == pytest.approx(1.5) and stats["std"][0] == 1.0  # (2.5 - 1.5) / 1 in val and test


def test_domain_check_lists_the_levels_of_each_categorical_column(tmp_path, capsys, monkeypatch):
    import run_search

    monkeypatch.setenv("DABS_DATA_ROOT", str(tmp_path / "root"))
    path = _domain(tmp_path / "data", "jsonl", _records())
    assert run_search.main(["domain", "check", str(path), "--no-cost"]) == 0
    assert "-> 6 tokens; categories: color 3 levels, zone 2 levels" in capsys.readouterr().out
