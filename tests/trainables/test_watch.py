"""Watching a real search: worker warnings reach the driver once, the overall progress line, no
Optuna/Ray banners, and TensorBoard files on the optimizer-step axis with a clean HPARAMS view."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from tests.dabs_lib.datasets.miniature import write_cifar
from trainables import progress

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DOMAIN, OBJECTIVE = "cifar10_small", "emix"


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    """A real search from the command line on CIFAR-10 files without the other natural-image
    sets: every trial's domain logs "skipping transfer task ..." inside its Ray worker."""
    root = tmp_path_factory.mktemp("watch")
    write_cifar(root / "data", per_batch=12, test=20)
    argv = [
        sys.executable,
        "run_search.py",
        "search",
        "--domain",
        DOMAIN,
        "--objective",
        OBJECTIVE,
        "--smoke-test",
        "--no-baseline",
        "--num-samples",
        "3",
        "--max-concurrent",
        "2",
        "--set",
        "max_steps=4",
        "--set",
        "eval_every=2",
        "--set",
        f"data_root={root / 'data'}",
        "--storage-path",
        str(root),
        "--name",
        "exp",
        "--num-cpus",
        "2",
    ]
    env = dict(os.environ, **{progress.SUMMARY_EVERY_ENV: "1"})  # the periodic line, even in a short search
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    overrides = {"max_steps": 4, "eval_every": 2, "data_root": str(root / "data"), "smoke_test": True}
    return root, overrides, done.stdout + done.stderr


@pytest.fixture(scope="module")
def output(watched):
    return watched[2]


def test_worker_warnings_reach_the_driver_once_each(output):
    warnings = [line.split("WARNING ", 1)[1] for line in output.splitlines() if " WARNING skipping transfer" in line]
    assert warnings, output[-3000:]
    assert len(warnings) == len(set(warnings)), warnings  # 3 trials built the domain; each line once
    assert any("aircraft" in w for w in warnings), warnings


def test_no_optuna_or_ray_banners(output):
    assert "A new study created" not in output
    assert "Token authentication is enabled" not in output
    assert "Started a local Ray instance" not in output


def test_overall_progress_lines(output):
    lines = [line for line in output.splitlines() if "overall:" in line]
    assert len(lines) >= 2, output[-3000:]  # periodic, and one at the end
    last = lines[-1]
    match = re.search(
        r"overall: (\d+) finished, 0 running, (\d+) pruned, 0 errored of 3 trials; elapsed \S+, ETA", last
    )
    assert match and int(match[1]) + int(match[2]) == 3, last
    assert f"{DOMAIN}/{OBJECTIVE} {match[1]}/0/{match[2]}/0 (finished/running/pruned/errored)" in last


def _trial_dirs(root: Path) -> list[Path]:
    return sorted(p.parent for p in (root / "exp").rglob("params.json"))


def _events(trial_dir: Path) -> list[EventAccumulator]:
    out = []
    for path in trial_dir.rglob("events.out.tfevents.*"):
        accumulator = EventAccumulator(str(path))
        accumulator.Reload()
        out.append(accumulator)
    return out


def test_tune_scalars_share_lightnings_step_axis(watched):
    root = watched[0]
    for trial_dir in _trial_dirs(root):
        reported = [json.loads(line)["step"] for line in (trial_dir / "result.json").read_text().splitlines()]
        scalars = {}
        for acc in _events(trial_dir):
            for tag in acc.Tags()["scalars"]:
                scalars[tag] = [event.step for event in acc.Scalars(tag)]
        assert scalars["ray/tune/transfer/val"] == reported, (trial_dir, scalars)
        assert max(scalars["train/loss"]) <= max(reported) <= 4, scalars["train/loss"]
        hidden = {
            "ray/tune/done",
            "ray/tune/final",
            "ray/tune/step",
            "ray/tune/timesteps_total",
            "ray/tune/trial_number",
            "ray/tune/iterations_since_restore",
        }
        assert not hidden & set(scalars), hidden & set(scalars)


def test_hparams_show_searched_params_against_transfer_and_test_scores(watched):
    from search_spaces import load_space

    root, overrides, _ = watched
    searched = set(load_space(OBJECTIVE, DOMAIN, [], dict(overrides)).search)
    for trial_dir in _trial_dirs(root):
        content = {}
        for acc in _events(trial_dir):
            try:
                content.update(acc.PluginTagToContent("hparams"))
            except KeyError:  # Lightning's file: scalars only
                pass
        start = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
        params = set(start.session_start_info.hparams)
        assert params == searched | {"domain", "objective"}, params ^ (searched | {"domain", "objective"})
        # no per-trial experiment summary: TensorBoard builds one experiment from every trial's session
        # (trainables/tensorboard.py; tests/trainables/test_views*.py read it with the hparams plugin)
        assert "_hparams_/experiment" not in content, trial_dir.name
        assert "_hparams_/session_end_info" in content, trial_dir.name  # the session closed when the trial ended


def test_the_report_lists_the_trials_warnings(watched, tmp_path):
    from analysis.report import analyze_paths

    root, _, output = watched
    live = sorted({line.split("WARNING ", 1)[1] for line in output.splitlines() if " WARNING " in line})
    out, notes = analyze_paths([root / "exp"], tmp_path / "report")
    readme = (out / "README.md").read_text()
    for line in live:
        assert f"warning (from the trials): {line}" in readme
    assert sum("warning (from the trials)" in n for n in notes) == len(live)
