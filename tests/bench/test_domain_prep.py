"""bench/domain_prep.py at smoke size: each kind prepares in its child process and gets a row."""

from __future__ import annotations

import pytest

from tests.bench.test_throughput import _load, _table

pytestmark = pytest.mark.slow


def test_domain_prep_smoke_measures_every_kind(tmp_path):
    out = tmp_path / "prep.md"
    argv = ["--sizes", "60", "--kinds", "image,cifar10_small,table", "--libri-sizes", "12", "--out", str(out)]
    assert _load("domain_prep").main(argv) == 0
    text = out.read_text()
    table = _table("\n" + text, "\n")
    header, rows = table[0], table[2:]
    kinds = [row[0] for row in rows]
    assert kinds == ["image", "cifar10_small", "table", "audio_libri", "librispeech"]
    for row in rows:
        assert float(row[header.index("rows/s")]) > 0
        assert 0 <= float(row[header.index("peak extra anon MB")]) < 2048
    assert "`domain check --no-cost` on the prepared 60-row image domain" in text
