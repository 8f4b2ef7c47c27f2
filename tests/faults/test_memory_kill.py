"""Ray's memory monitor killing trial workers (here made to fire at once by a 5% threshold on the
search's own private Ray): the search ends with exit status 1 and one line per trial naming the
memory kill (not the docs link Ray's message ends with), no traceback, and a manifest that says
how it ended. When a kill hits an actor Tune is starting, Tune stops the whole run: that path is
one line with the resume command (tests/trainables/test_engine_parts.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dabs_lib.experiment import MEMORY_KILL, read_manifest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_trials_killed_by_rays_memory_monitor_are_named_in_one_line_each(tmp_path):
    env = {**os.environ, "RAY_memory_usage_threshold": "0.05", "RAY_memory_monitor_refresh_ms": "100"}
    argv = [sys.executable, str(ROOT / "run_search.py"), "search", "--domain", "digits", "--objective", "shed"]
    argv += ["--num-samples", "2", "--no-baseline", "--smoke-test", "--storage-path", str(tmp_path), "--name", "oom"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    errored = [line for line in proc.stdout.splitlines() if line.startswith("errored: ")]
    stopped = [line for line in proc.stderr.splitlines() if MEMORY_KILL in line and "resume" in line]
    assert errored or stopped  # trials killed while training, or Tune stopped as it started one
    assert all(MEMORY_KILL in line and "docs.ray.io" not in line for line in errored)
    assert read_manifest(tmp_path / "oom").status in (("failed",) if errored else ("running",))
