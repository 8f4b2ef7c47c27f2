"""The private Ray listens on loopback only, impossible requests are refused in one line, and a
killed search's processes are found (and stopped) by its session, not by name."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess

import pytest
import ray

from trainables import sessions
from trainables.cluster import LOOPBACK, ClusterError, TrialDemand, check_before_start, check_private, ray_session


def _listening(pids: set[int]) -> list[tuple[str, int]]:
    """(local address, pid) of every TCP socket in LISTEN state owned by one of `pids` (from `ss`)."""
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        for pid in map(int, re.findall(r"pid=(\d+)", line)):
            if pid in pids:
                rows.append((line.split()[3], pid))
    return rows


def _is_loopback(local: str) -> bool:
    host = local.rsplit(":", 1)[0].strip("[]")
    return host in (LOOPBACK, "::1", "::ffff:127.0.0.1")


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs `ss` (iproute2)")
def test_private_ray_listens_on_loopback_only(tmp_path):
    with ray_session(num_cpus=1, record_in=str(tmp_path)):
        record = sessions.read_record(str(tmp_path))
        assert ray.get(ray.remote(lambda: 1).remote()) == 1  # a worker is up and listening too
        pids = set(sessions.session_pids(record["session"]))
        names = {open(f"/proc/{p}/cmdline").read().split("\0")[0].rsplit("/", 1)[-1] for p in pids}
        assert {"gcs_server", "raylet"} <= names, names
        listening = _listening(pids | {__import__("os").getpid()})
        assert len(listening) >= 4, listening  # GCS, raylet (node + object manager), worker, driver
        exposed = [(addr, pid) for addr, pid in listening if not _is_loopback(addr)]
        assert not exposed, exposed
        assert ray.util.get_node_ip_address() == LOOPBACK
    assert not any(sessions._alive(p) for p in pids)  # ray.shutdown stopped every process it started


@pytest.mark.parametrize(
    "demand,num_cpus,pattern",
    [
        (TrialDemand(cpus=64), 2, r"--cpus-per-trial 64 exceeds the private Ray's 2 CPUs \(--num-cpus 2\)"),
        (TrialDemand(cpus=3), 0, r"--cpus-per-trial 3 exceeds the private Ray's \d+ CPUs"),
        (TrialDemand(gpus=1.5), 1, r"--gpus-per-trial must be a fraction below 1 or a whole number"),
        (TrialDemand(cpus=0), 1, r"--cpus-per-trial must be > 0"),
    ],
)
def test_impossible_private_requests_are_refused_before_ray_starts(demand, num_cpus, pattern, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    with pytest.raises(ClusterError, match=pattern):
        with ray_session(num_cpus=num_cpus, demand=demand):
            pass
    assert not ray.is_initialized()


def test_a_gpu_request_needs_a_gpu():
    from trainables.cluster import detected_gpus

    gpus = detected_gpus()
    with pytest.raises(ClusterError, match=rf"--gpus-per-trial {gpus + 0.5:g} exceeds the {gpus} GPU"):
        check_private(TrialDemand(gpus=gpus + 0.5), num_cpus=1)


def test_an_address_nobody_answers_is_one_line_and_fast():
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind((LOOPBACK, 0))
        port = s.getsockname()[1]
    with pytest.raises(ClusterError, match=rf"--address {LOOPBACK}:{port}: no Ray cluster answers there"):
        check_before_start(TrialDemand(), f"{LOOPBACK}:{port}")
    with pytest.raises(ClusterError, match="--address must be HOST:PORT"):
        check_before_start(TrialDemand(), "my-head-node")


def test_cluster_errors_survive_pickling():
    import copy
    import pickle

    error = ClusterError("--cpus-per-trial 64 exceeds the private Ray's 2 CPUs")
    assert str(pickle.loads(pickle.dumps(error))) == str(error) == str(copy.copy(error))


def test_session_record_is_json_with_the_session(tmp_path):
    sessions.write_record(str(tmp_path), "abc", {"session_dir": "/tmp/ray/session_x"})
    record = json.loads((tmp_path / sessions.RECORD).read_text())
    assert record["session"] == "abc" and record["host"] == socket.gethostname()
    (tmp_path / sessions.RECORD).write_text("{")
    with pytest.raises(ValueError, match="ray_session.json is corrupt"):
        sessions.read_record(str(tmp_path))


@pytest.mark.parametrize(
    "flags,message",
    [
        (["--cpus-per-trial", "64", "--num-cpus", "2"], "--cpus-per-trial 64 exceeds the private Ray's 2 CPUs"),
        (["--gpus-per-trial", "1.5"], "--gpus-per-trial must be a fraction below 1 or a whole number"),
        (["--address", f"{LOOPBACK}:1"], f"--address {LOOPBACK}:1: no Ray cluster answers there"),
    ],
)
def test_cli_refuses_in_one_line_and_writes_nothing(tmp_path, capsys, flags, message):
    import run_search

    code = run_search.main(["search", "--storage-path", str(tmp_path), "--name", "x", *flags])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())
    assert not ray.is_initialized()
