"""`probe CKPT --search` starts its private Ray as a search does (trainables.cluster.ray_session):
its session is recorded in the experiment (so `python -m trainables.sessions stop` finds it after a
kill) and no dashboard serves anything. Checked on the live processes while the command runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.trainables.test_cluster import _listening
from trainables import sessions

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _watch_session(process: subprocess.Popen, record: Path, timeout_s: float = 600) -> dict[int, list[str]]:
    """pid -> command line of every process of the command's Ray session, read once it is recorded."""
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        # written atomically twice: the session id before Ray starts, its session_dir once ray.init returned
        if record.is_file() and "session_dir" in (found := sessions.read_record(str(record.parent))):
            pids = sessions.session_pids(found["session"])
            commands = {}
            for pid in pids:
                try:
                    commands[pid] = Path(f"/proc/{pid}/cmdline").read_text().split("\0")
                except OSError:
                    pass  # a worker that exited meanwhile
            return commands
        time.sleep(0.2)
    return {}


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs `ss` (iproute2)")
def test_probe_search_records_its_private_ray_and_serves_no_dashboard(tmp_path):
    from dabs_lib.config import config_from_dict
    from dabs_lib.pretrain import pretrain

    pretrained = tmp_path / "pretrained"  # one step is enough: the probe search only needs a checkpoint
    config = config_from_dict({"domain": "digits", "objective": "shed", "max_steps": 1, "smoke_test": True})
    pretrain(config, output_dir=pretrained, logger=False)
    command = [
        sys.executable,
        str(ROOT / "run_search.py"),
        "probe",
        str(pretrained / "encoder.pt"),
        "--search",
        "--num-samples",
        "1",
        "--smoke-test",
        "--storage-path",
        str(tmp_path / "runs"),
        "--name",
        "p",
        "--num-cpus",
        "1",
    ]
    process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        commands = _watch_session(process, tmp_path / "runs" / "p" / sessions.RECORD)
        listening = _listening(set(commands))
    finally:
        out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out[-2000:] + err[-3000:]
    names = {argv[0].rsplit("/", 1)[-1] for argv in commands.values()}
    assert {"gcs_server", "raylet"} <= names, names  # the record named the live session
    # Ray always starts its API server; with the dashboard off it is `--minimal --disable-frontend`
    dashboards = [pid for pid, argv in commands.items() if any(a.endswith("dashboard/dashboard.py") for a in argv)]
    for pid in dashboards:
        assert {"--minimal", "--disable-frontend"} <= set(commands[pid]), commands[pid]
    assert not [row for row in listening if row[1] in dashboards], listening  # it serves no port
    assert not [row for row in listening if row[0].endswith(":8265")], listening
