"""bench/engine_scale.py and bench/gpu_check.py run at smoke size on a CPU and write their tables."""

from __future__ import annotations

import pytest

from tests.bench.test_throughput import _load, _table

pytestmark = pytest.mark.slow


def test_engine_scale_smoke_measures_both_engines(tmp_path):
    out = tmp_path / "scale.md"
    assert _load("engine_scale").main(["--smoke-test", "--out", str(out)]) == 0
    table = _table(out.read_text(), "reports per trial")
    header, rows = table[0], table[2:]

    def cell(row: list[str], name: str) -> float:
        return float(row[header.index(name)])

    assert [row[0] for row in rows] == ["ours", "plain"]
    ours, plain = rows
    assert cell(ours, "trials") == 8 == cell(plain, "trials")  # 2 x 2 studies x 2 trials; one study x 8
    for row in rows:
        assert cell(row, "driver CPU ms/trial") > 0 and cell(row, "ask p50 ms") > 0 and cell(row, "tell p99 ms") > 0
        assert 0 < cell(row, "driver peak RSS MB") < 4096 and cell(row, "trials/min") > 0
    assert cell(ours, "journal MB") > 0 and cell(ours, "reload s") > 0 and cell(ours, "resume s") > 0


def test_gpu_check_smoke_writes_every_section(tmp_path):
    out = tmp_path / "gpu_check.md"
    assert _load("gpu_check").main(["--smoke-test", "--device", "cpu", "--out", str(out)]) == 0
    text = out.read_text()
    steps = _table(text, "## Training step")
    header, rows = steps[0], steps[2:]
    assert len(rows) == 2 * 4 * 2  # inputs x objectives x precisions
    assert [r[header.index("reference")] for r in rows] == [r[header.index("ours")] for r in rows]
    assert all(float(r[header.index("TFLOP/s")]) > 0 for r in rows)
    assert 0 < float(_table(text, "## In-trial probe share")[2][-1]) < 100
    assert [r[0] for r in _table(text, "## Trials packed")[2:]] == ["1", "2"]  # 4 too on a GPU
    search = _table(text, "## Real search")
    assert int(search[2][search[0].index("trials finished")]) >= 1
    assert search[2][search[0].index("reports without a usable GPU")] == "0"  # no GPU share asked on a CPU


def test_searcher_scale_smoke_reads_back_every_trial(tmp_path):
    out = tmp_path / "searcher.md"
    argv = [
        "--trials",
        "12",
        "--slots",
        "3",
        "--domains",
        "digits,tabular",
        "--objectives",
        "emix,shed",
        "--out",
        str(out),
    ]
    assert _load("searcher_scale").main(argv) == 0
    table = _table("start\n" + out.read_text(), "start")
    header, rows = table[0], table[2:]
    row = dict(zip(header, rows[0]))
    assert int(row["trials"]) == 12 and int(row["studies"]) == 4  # 3 per study, every one in the journal
    assert float(row["searcher ms/trial"]) > 0 and float(row["ask p50 ms"]) > 0 and float(row["reload s"]) > 0
    assert float(row["journal MB"]) > 0
