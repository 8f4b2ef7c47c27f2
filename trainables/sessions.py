"""Which processes a search's private Ray started, and how to stop exactly those. No Ray import.

A private Ray marks its processes: the driver sets `DABS_TUNE_RAY_SESSION=<id>` in its
environment just before `ray.init`, so GCS, raylet, agents and every worker inherit it (Ray
renames workers to `ray::...`, and after a SIGKILL of the driver they are re-parented, so
neither the command line nor the process tree identifies them; the environment does). The
experiment folder records the id in `ray_session.json`; `python -m trainables.sessions stop
<experiment>` signals only the processes carrying that id, by PID, never by name.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

MARKER = "DABS_TUNE_RAY_SESSION"
RECORD = "ray_session.json"  # in the experiment folder: the private Ray of its latest run
STOP_GRACE_S = 10.0  # SIGTERM first; gcs_server may ignore it for a while, then SIGKILL


def new_session_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{time.time_ns()}"


def session_pids(session_id: str) -> list[int]:
    """PIDs (of this user, on this machine) whose environment carries the session's marker."""
    needle = f"{MARKER}={session_id}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's process
            continue
        if needle in environ.split(b"\0"):
            pids.append(int(entry.name))
    return sorted(pids)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait() is missing


def stop_session(session_id: str, grace_s: float = STOP_GRACE_S) -> list[int]:
    """SIGTERM every process of the session, SIGKILL those still alive after `grace_s`."""
    pids = session_pids(session_id)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace_s
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not any(_alive(p) for p in pids):
            break
    return pids


def write_record(folder: str, session_id: str, info: dict[str, Any]) -> None:
    """`<experiment>/ray_session.json` (local experiments only: a cloud URI has no local processes)."""
    path = Path(folder)
    if not path.is_dir():
        return
    record = {
        "session": session_id,
        "host": socket.gethostname(),
        "driver_pid": os.getpid(),
        "earlier": [s for s in _earlier_alive(path / RECORD) if s != session_id],
        **info,
    }
    tmp = path / (RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path / RECORD)


def _earlier_alive(path: Path) -> list[str]:
    """Sessions an earlier record names that still have processes: a new run (a resume that fails
    or is interrupted too) must not hide what `stop` has to stop."""
    try:
        old = json.loads(path.read_text())
        ids = [old["session"], *old.get("earlier", [])]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
    return [s for s in ids if isinstance(s, str) and session_pids(s)]


def read_record(folder: str) -> dict[str, Any]:
    path = Path(folder) / RECORD
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: only a search that started a private Ray records one")
    try:
        record = json.loads(path.read_text())
        record["session"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{path} is corrupt: expected JSON with a 'session' key") from None
    return record


def stop_experiment(folder: str) -> str:
    """Stop what the experiment's last private Ray left running; a line saying what was done."""
    record = read_record(folder)
    if record.get("host") != socket.gethostname():
        raise ValueError(f"{folder}: its Ray ran on {record.get('host')}, not on this machine; run this there")
    driver = int(record.get("driver_pid", -1))
    if _alive(driver) and _has_marker_parent(driver, record):
        raise ValueError(f"{folder}: its search is still running (driver pid {driver}); stop it with Ctrl-C")
    pids = [pid for session in [record["session"], *record.get("earlier", [])] for pid in stop_session(session)]
    if not pids:
        return f"no process of Ray session {record['session']} is left"
    return f"stopped {len(pids)} process(es) of Ray session {record['session']}: {' '.join(map(str, pids))}"


def _has_marker_parent(pid: int, record: dict[str, Any]) -> bool:
    """The driver itself carries no marker; it is the live search when its children do."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        kids = {int(k) for k in children.read_text().split()}
    except OSError:
        return False
    return bool(kids & set(session_pids(record["session"])))


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "stop":
        print("usage: python -m trainables.sessions stop <experiment folder>", file=sys.stderr)
        return 2
    try:
        print(stop_experiment(argv[1]))
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
