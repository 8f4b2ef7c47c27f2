"""Commands that only read files stay light: `status` (and every command's --help) never imports
torch, Ray or Lightning. torch alone took 4 of status's 5 s on 1,000 trials (BENCHMARKS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "ray", "lightning")
PROBE = """
import sys
sys.argv = ["run_search.py", *sys.argv[1:]]
import run_search
try:
    code = run_search.main(sys.argv[1:])
except SystemExit as done:  # --help exits
    code = done.code
print("LOADED", *[name for name in {heavy} if name in sys.modules], "CODE", code)
"""


def _loaded(*argv: str) -> tuple[list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    line = [row for row in done.stdout.splitlines() if row.startswith("LOADED")]
    assert line, done.stdout[-2000:] + done.stderr[-2000:]
    loaded, code = line[-1].removeprefix("LOADED").split("CODE")
    return loaded.split(), code.strip()


def test_status_reads_an_experiment_without_torch_ray_or_lightning(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from status_scale import synthesize
    finally:
        sys.path.remove(str(ROOT / "bench"))
    experiment = synthesize(tmp_path, 40)
    loaded, code = _loaded("status", str(experiment))
    assert code == "0" and loaded == [], loaded


@pytest.mark.parametrize("command", ["search", "status", "list", "models"])
def test_help_imports_no_heavy_package(command):
    loaded, code = _loaded(command, "--help")
    assert code == "0" and loaded == [], (command, loaded)


@pytest.mark.parametrize(
    "flag, value",
    [("--num-samples", "0"), ("--max-concurrent", "-1"), ("--grace-period", "0"), ("--reduction-factor", "1")],
)
def test_a_wrong_search_flag_is_answered_before_anything_heavy_is_imported(flag, value):
    loaded, code = _loaded("search", "--domain", "digits", flag, value)
    assert code == "2" and loaded == [], (flag, loaded)
