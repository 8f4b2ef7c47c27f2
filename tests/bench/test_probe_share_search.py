"""bench/probe_share_search.py at smoke size: a real one-trial search per domain, its table."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
pytestmark = pytest.mark.slow


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_smoke_run_prints_each_domains_share_from_real_trials(capsys):
    assert _load("probe_share_search").main(["--domains", "digits,tabular", "--smoke-test"]) == 0
    out = capsys.readouterr().out
    rows = [
        [c.strip() for c in line.strip("|").split("|")]
        for line in out.splitlines()
        if line.startswith(("| digits", "| tabular"))
    ]
    assert [r[0] for r in rows] == ["digits", "tabular"], out
    for row in rows:
        evaluations, share = int(row[2]), float(row[-1])
        assert evaluations == 2 and 0 < share < 100, row  # max_steps 4, eval_every 2
    assert "Search wall time" in out
