"""bench/probe_speed.py --smoke-test runs and prints the comparison table."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "probe_speed.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("probe_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_test_prints_a_table_with_both_protocols(capsys):
    assert _load_bench().main(["--smoke-test"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("| domain"))
    assert "reference s (as original)" in header and "ours s (featurize + path)" in header
    row = next(line for line in out.splitlines() if line.startswith("| digits"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == len(header.strip("|").split("|")) == 13
    reference_seconds, ours_seconds = float(cells[4]), float(cells[6])
    assert reference_seconds > 0 and ours_seconds > 0
    assert 0 <= float(cells[10]) <= 100 and 0 <= float(cells[11]) <= 100  # both test scores, in points
    assert "Command: `python bench/probe_speed.py --smoke-test`" in out
