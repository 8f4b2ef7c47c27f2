"""Atomic writes: a write interrupted midway leaves the old file (or none), never a half one.

Interruptions are real: an exception raised by the serializer itself, a file-size limit
(RLIMIT_FSIZE, in a child process) that makes the kernel refuse the write midway, and a
real full filesystem (a small tmpfs, when this machine lets us mount one).
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dabs_lib.safe_io import CorruptFileError, DiskFullError, atomic_write, read_json, write_json, write_text

ROOT = Path(__file__).resolve().parents[2]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_serializer_failure_keeps_the_old_file(tmp_path):
    path = write_json(tmp_path / "m.json", {"version": 1})

    def half_then_fail(handle):
        handle.write(b'{"version": 2, "cut')
        raise RuntimeError("serializer died")

    with pytest.raises(RuntimeError, match="serializer died"):
        atomic_write(path, half_then_fail)
    assert read_json(path) == {"version": 1}
    assert _leftovers(tmp_path) == []


def test_a_new_file_interrupted_midway_does_not_exist(tmp_path):
    with pytest.raises(ValueError):
        atomic_write(tmp_path / "new.bin", lambda handle: (handle.write(b"x" * 100), int("boom")))
    assert list(tmp_path.iterdir()) == []


CHILD = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    folder = Path(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead of killing us
    import torch, pandas as pd
    from dabs_lib.checkpoints import save_encoder
    from dabs_lib.encoder import Encoder
    from dabs_lib.model_config import ModelConfig
    from dabs_lib.specs import Image2dSpec
    from analysis.exports import write_table
    from dabs_lib.transfer.cache import FeatureCache
    from dabs_lib.transfer.features import FeatureSet
    import numpy as np
    big = Encoder((Image2dSpec(8, 2, 1),), ModelConfig(embed_dim=64, depth=4, num_heads=2, mlp_dim=256, out_dim=16))
    table = pd.DataFrame({"x": np.arange(20000.0)})
    features = FeatureSet(np.ones((4000, 64), np.float32), np.zeros(4000, np.int64), np.arange(4000))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
    failed = []
    for name, write in [("checkpoint", lambda: save_encoder(folder / "encoder.pt", big)),
                        ("table", lambda: write_table(table, folder, "best")),
                        ("cache", lambda: FeatureCache(folder / "cache").put("k", features))]:
        try:
            write()
        except Exception:  # torch reports EFBIG/ENOSPC as RuntimeError("iostream error")
            failed.append(name)
    print(",".join(failed))
""")


def test_a_file_size_limit_midway_leaves_old_files_intact(tmp_path):
    from analysis.exports import write_table
    from dabs_lib.checkpoints import load_encoder, save_encoder
    from dabs_lib.encoder import Encoder
    from dabs_lib.model_config import ModelConfig
    from dabs_lib.specs import Image2dSpec
    from dabs_lib.transfer.cache import FeatureCache

    import pandas as pd

    small = Encoder((Image2dSpec(8, 2, 1),), ModelConfig(embed_dim=8, depth=1, num_heads=2, mlp_dim=16, out_dim=4))
    save_encoder(tmp_path / "encoder.pt", small)
    write_table(pd.DataFrame({"x": [1.0]}), tmp_path, "best")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().split(",") == ["checkpoint", "table", "cache"], "each write must hit the limit"
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before, "an interrupted write changed or left a file"
    assert _leftovers(tmp_path) == []
    load_encoder(tmp_path / "encoder.pt")  # the old checkpoint still loads
    assert FeatureCache(tmp_path / "cache").get("k") is None, "no half cache entry is ever read"


def test_corrupt_json_is_named_with_what_to_do(tmp_path):
    for text, _fragment in (("", "it is empty"), ('{"a": [1, 2', "truncated?"), ("\xff\xfe", "must hold")):
        path = tmp_path / "f.json"
        path.write_text(text, errors="surrogateescape") if text != "\xff\xfe" else path.write_bytes(b"\xff\xfe")
        with pytest.raises(CorruptFileError) as error:
            read_json(path, "Delete it.")
        message = str(error.value)
        assert str(path) in message and "Delete it." in message and len(message.splitlines()) == 1
        copy = pickle.loads(pickle.dumps(error.value))
        assert str(copy) == message


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0:
        return False
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KiB filesystem (tmpfs; needs root and mount rights, as in this project's CI
    containers), else the test is skipped with the reason: RLIMIT_FSIZE covers the same writes above."""
    folder = tmp_path / "disk"
    if not _mount_tmpfs(folder, "256k"):
        pytest.skip("cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN); RLIMIT_FSIZE test covers writes")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_keeps_the_old_file_and_names_path_and_space(tiny_disk):
    path = write_text(tiny_disk / "report.md", "old report\n")
    with pytest.raises(DiskFullError) as error:
        write_text(path, "x" * 400_000)
    assert error.value.errno == errno.ENOSPC
    message = str(error.value)
    assert str(tiny_disk) in message and "free" in message and "resume" in message
    assert path.read_text() == "old report\n"
    assert _leftovers(tiny_disk) == []
    write_text(path, "new report\n")  # the temporary file was removed: the space is back
    assert json.dumps(path.read_text())


def test_resume_drops_only_empty_error_pickles(tmp_path):
    """Tune unpickles a trial's error.pkl on restore; a 0-byte one (full disk) would kill the driver."""
    from dabs_lib.safe_io import remove_empty

    (tmp_path / "t1").mkdir()
    (tmp_path / "t2").mkdir()
    (tmp_path / "t1" / "error.pkl").write_bytes(b"")
    (tmp_path / "t2" / "error.pkl").write_bytes(b"\x80\x04N.")
    (tmp_path / "t1" / "params.json").write_bytes(b"")
    assert remove_empty(tmp_path, ("error.pkl",)) == [tmp_path / "t1" / "error.pkl"]
    assert (tmp_path / "t2" / "error.pkl").exists() and (tmp_path / "t1" / "params.json").exists()
