"""A search killed after a trial's first report and resumed through the CLI reports exactly
what an uninterrupted one reports: the same steps, the same scores, the same outcomes.

A trial used to checkpoint at an epoch's end, and Lightning runs one more step when it
restarts from such a checkpoint: the resumed trial reported steps 2, 3, 4, hit ASHA's
iteration limit before its final report and ended PRUNED where the uninterrupted one
finished. eval_every > 1 and ASHA are what make that visible.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.results import live_timeline

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
REPORT_LINE = re.compile(r"step\s+\d+\s+transfer/val")


def _command(storage: Path, name: str) -> list[str]:
    # Trials one at a time: the searcher and ASHA then decide the same way in both runs.
    return [
        sys.executable,
        str(ROOT / "run_search.py"),
        "search",
        "--domain",
        "digits",
        "--objective",
        "shed",
        "--num-samples",
        "2",
        "--max-concurrent",
        "1",
        "--scheduler",
        "asha",
        "--set",
        "max_steps=4",
        "--set",
        "eval_every=2",
        "--no-baseline",
        "--smoke-test",
        "--storage-path",
        str(storage),
        "--name",
        name,
        "--num-cpus",
        "2",
        "--seed",
        "0",
    ]


def _trials(experiment: Path) -> dict[str, tuple[dict, list[dict]]]:
    """trial folder name -> (params, the reports of its surviving run)."""
    out = {}
    for result in experiment.rglob("result.json"):
        rows = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
        out[result.parent.name] = (json.loads((result.parent / "params.json").read_text()), live_timeline(rows))
    return out


def _last_counts(stdout: str) -> str:
    """'2 finished, 0 running, 0 pruned, 0 errored of 2 trials' from the last overall line."""
    lines = [line for line in stdout.splitlines() if "overall: " in line]
    assert lines, stdout[-3000:]
    return lines[-1].split("overall: ", 1)[1].split(";", 1)[0]


def _kill_after_first_report(command: list[str]) -> str:
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if REPORT_LINE.search(line):
                process.kill()  # SIGKILL of the driver right after the first report
                break
        process.wait(timeout=60)
    finally:
        try:  # our own session only: the private Ray this driver started
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    text = "".join(seen)
    assert REPORT_LINE.search(text), text[-3000:]
    return text


def test_a_killed_and_resumed_search_reports_what_an_uninterrupted_one_does(tmp_path):
    whole = subprocess.run(_command(tmp_path, "whole"), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stdout[-3000:] + whole.stderr[-3000:]

    _kill_after_first_report(_command(tmp_path, "killed"))
    resumed = subprocess.run(
        [sys.executable, str(ROOT / "run_search.py"), "resume", str(tmp_path / "killed"), "--num-cpus", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]

    # the resumed run's closing overall line counts what the uninterrupted run's does
    assert _last_counts(resumed.stdout) == _last_counts(whole.stdout)
    expected, got = _trials(tmp_path / "whole"), _trials(tmp_path / "killed")
    assert sorted(got) == sorted(expected) and len(got) == 2
    first = min(expected)
    assert [r["step"] for r in expected[first][1]] == [2, 4] and expected[first][1][-1].get("final")
    for name, (params, rows) in expected.items():
        got_params, got_rows = got[name]
        assert got_params == params, name
        assert [r["step"] for r in got_rows] == [r["step"] for r in rows], (name, got_rows)
        assert [bool(r.get("final")) for r in got_rows] == [bool(r.get("final")) for r in rows], name
        for mine, theirs in zip(got_rows, rows):
            scores = sorted(k for k in theirs if k == "transfer/val" or k.startswith("test/") or k == "train/loss")
            assert sorted(k for k in mine if k in scores) == scores, name
            assert all(abs(mine[k] - theirs[k]) <= 1e-4 for k in scores), (name, mine, theirs)
