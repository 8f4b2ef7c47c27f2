"""A .csv as spreadsheets in other locales save it: separated by ';' (or a tab, or '|'), with a
byte-order mark and CRLF line ends, quoted fields holding the separator; and a decimal comma is
named as one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dabs_lib.userdomain.prepare import prepare
from dabs_lib.userdomain.rows import DomainDataError

ROWS = 30


def _write(folder: Path, sep: str, decimal: str = ".") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    header = sep.join(['"size, in cm"', "weight", "note", "label"])
    lines = [header] + [
        sep.join(
            [f"{rng.normal() + i % 2:.3f}".replace(".", decimal), f"{rng.normal():.3f}", f'"a{sep}b"', "xy"[i % 2]]
        )
        for i in range(ROWS)
    ]
    (folder / "rows.csv").write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode())
    path = folder / "d.yaml"
    path.write_text(
        "name: dialect\ninputs:\n  - {name: features, kind: tabular, columns: ['size, in cm', weight]}\n"
        "data: {table: rows.csv}\ntasks:\n  - {name: label}\n"
    )
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"])
def test_a_csv_is_split_by_the_separator_its_header_holds(sep, tmp_path):
    processed = prepare(_write(tmp_path / "data", sep), str(tmp_path / "root"))
    stored = np.load(processed.path("input0"))
    assert stored.shape == (ROWS, 2)
    rng = np.random.default_rng(0)
    assert stored[0, 0] == pytest.approx(round(rng.normal(), 3), abs=1e-6)  # the first value of 'size, in cm'


def test_a_decimal_comma_is_named(tmp_path):
    with pytest.raises(
        DomainDataError, match=r"column 'size, in cm' must be a number, but got '.*,.*' \(a decimal comma"
    ):
        prepare(_write(tmp_path / "data", ";", decimal=","), str(tmp_path / "root"))
