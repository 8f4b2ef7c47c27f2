"""A real full disk under the storage path: the search stops with one line naming the
folder and the space needed; after space is freed, `resume` completes it.

The storage is a real tmpfs smaller than what the search needs (mounted by the test; it
needs root with mount rights, as in this project's containers, and is skipped otherwise,
saying so). Freeing space = growing the same mount (`mount -o remount,size=...`).
"""

from __future__ import annotations

import json
import subprocess

import pytest

import run_search
from tests.faults.test_atomic_io import _mount_tmpfs

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path):
    folder = tmp_path / "disk"
    if not _mount_tmpfs(folder, "4m"):
        pytest.skip("cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN): no real small disk to fill")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_full_disk_stops_the_search_with_one_line_and_resume_completes_it(small_disk, capsys):
    argv = [
        "search",
        "--domain",
        "digits",
        "--objective",
        "emix",
        "--num-samples",
        "2",
        "--scheduler",
        "fifo",
        "--set",
        "max_steps=2",
        "--set",
        "eval_every=1",
        "--no-baseline",
        "--smoke-test",
        "--storage-path",
        str(small_disk),
        "--name",
        "full",
        "--num-cpus",
        "2",
    ]
    code = run_search.main(argv)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("run_search.py")]
    assert code == 1, err
    assert len(err) == 1 and f"no space left on the device of {small_disk}" in err[0], err
    assert "more is needed" in err[0] and "resume" in err[0]
    manifest = json.loads((small_disk / "full" / "search.json").read_text())  # whole, never half-written
    assert any(s["status"] != "finished" for s in manifest["studies"])
    subprocess.run(["mount", "-o", "remount,size=256m", str(small_disk)], check=True)
    assert run_search.main(["resume", str(small_disk / "full"), "--num-cpus", "2"]) == 0
    capsys.readouterr()
    manifest = json.loads((small_disk / "full" / "search.json").read_text())
    assert all(s["status"] == "finished" for s in manifest["studies"])
    finals = []
    for result in sorted((small_disk / "full").glob("digits_emix_*/result.json")):
        rows = [json.loads(line) for line in result.read_text().splitlines() if line.strip()]
        finals.append(bool(rows and rows[-1].get("final")))
    assert finals == [True, True], "every trial completes after resume"
