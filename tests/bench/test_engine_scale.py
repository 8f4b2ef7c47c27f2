"""bench/engine_scale.py and bench/gpu_check.py run at smoke size on a CPU and write their tables."""

from __future__ import annotations

import pstats
import subprocess
import sys
from pathlib import Path

import pytest

from dabs_lib.experiment import read_manifest

from tests.bench.test_throughput import _load, _table

pytestmark = pytest.mark.slow


def test_engine_scale_smoke_measures_both_engines(tmp_path):
    out = tmp_path / "scale.md"
    argv = ["--smoke-test", "--out", str(out), "--keep", str(tmp_path / "kept")]
    assert _load("engine_scale").main(argv) == 0
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

    # The kept experiment, as the search left it, resumed again by bench/resume_phases.py (in its own
    # process: it patches Tune's and the engine's functions with clocks): every phase is timed.
    kept = tmp_path / "kept" / "ours"
    assert read_manifest(kept).status == "finished"
    script = Path(__file__).resolve().parents[2] / "bench" / "resume_phases.py"
    done = subprocess.run([sys.executable, str(script), str(kept)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    line = [row for row in done.stdout.splitlines() if row.startswith("resume ")][-1]
    for phase in ("set aside", "Tuner.restore", "searcher restore", "fit", "put back", "finish"):
        assert f"{phase} " in line, line
    assert read_manifest(kept).status == "finished"  # copies are resumed, never the kept experiment


def test_profile_option_writes_the_drivers_cpu_profile(tmp_path):
    """--profile wraps each run in `_profiled` (profiling the smoke run itself cost the suite 25 s)."""
    module = _load("engine_scale")

    def work() -> int:
        return sum(i * i for i in range(20_000))

    with module._profiled(str(tmp_path / "cpu")):
        work()
    assert "work" in {name for _, _, name in pstats.Stats(str(tmp_path / "cpu")).stats}
    with module._profiled(""):  # no path: nothing profiled, nothing written
        work()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cpu"]
    assert module.parse_args(["--profile", "x"]).profile == "x"


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
