"""bench/precision.py at smoke size: pretrain() in 32-true and bf16-mixed, side by side."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_smoke_run_times_both_precisions(capsys):
    spec = importlib.util.spec_from_file_location("precision_bench", BENCH / "precision.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--smoke-test", "--domains", "tabular", "--sizes", "domain"]) == 0
    out = capsys.readouterr().out
    row = next(
        [c.strip() for c in line.strip("|").split("|")] for line in out.splitlines() if line.startswith("| tabular")
    )
    fp32, bf16, ratio, timed = float(row[3]), float(row[4]), float(row[5]), int(row[6])
    assert fp32 > 0 and bf16 > 0 and ratio > 0 and timed == 2 + 3  # 2 rounds of 3 steps, warm-up dropped
    assert "CPU has AMX bf16" in out
