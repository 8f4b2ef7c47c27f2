"""Preprocess a raw dataset once into memory-mapped .npy arrays that every worker shares.

Layout: `<data_root>/<dataset>/processed/<name>-<key>/` holds `<array>.npy` files (and
any other file a build writes, e.g. a trained tokenizer.json) and `COMPLETE.json`, where
`key` hashes the preprocessing parameters (so changing them
preprocesses again instead of reusing stale arrays). A build writes into a temporary
folder, writes the marker last, and renames the folder into place, all under a file lock:
concurrent trials wait for one build, and an interrupted build leaves only a temporary
folder that the next build deletes. A folder whose marker is missing, unreadable, or
lists a file of another size is deleted and rebuilt: nothing half-written is ever reused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import numpy.typing as npt
from filelock import FileLock

from dabs_lib.datasets.errors import DatasetFileError
from dabs_lib.progress import stage
from dabs_lib.safe_io import write_json
from typing import Any

MARKER = "COMPLETE.json"

# "<dataset>/<name>" -> how many preprocessing builds ran in this process (tests assert on it).
PREPROCESS_COUNT: Counter[str] = Counter()

_log = logging.getLogger(__name__)


class ArrayWriter:
    """What a preprocessing function writes into: .npy arrays plus JSON-able `meta`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.meta: dict[str, Any] = {}
        self._open: list[np.memmap] = []

    def save(self, name: str, array: np.ndarray) -> None:
        np.save(self.folder / f"{name}.npy", np.ascontiguousarray(array))

    def create(self, name: str, shape: tuple[int, ...], dtype: npt.DTypeLike) -> np.memmap:
        """A writable memory-mapped .npy to fill row by row (for arrays larger than memory)."""
        array = np.lib.format.open_memmap(self.folder / f"{name}.npy", mode="w+", dtype=dtype, shape=shape)
        self._open.append(array)
        return array

    def finish(self) -> None:
        for array in self._open:
            array.flush()
        self._open.clear()


@dataclass(frozen=True)
class Processed:
    """A completed processed folder and its marker."""

    folder: Path
    marker: dict[str, Any]

    def path(self, name: str) -> Path:
        """The array `name` (a .npy file); other files are at `folder / filename`."""
        return self.folder / f"{name}.npy"

    def load(self, name: str, mmap: bool = True) -> np.ndarray:
        path = self.path(name)
        try:
            return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise DatasetFileError(
                path, f"cannot be read as .npy ({error})", f"Delete {self.folder} to preprocess again."
            ) from error

    @property
    def meta(self) -> dict[str, Any]:
        return self.marker["meta"]

    @property
    def fingerprint(self) -> str:
        """Identity of this build: changes whenever the folder is rebuilt."""
        return hashlib.sha256(json.dumps(self.marker, sort_keys=True).encode()).hexdigest()[:16]


def params_key(params: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:10]


def _read_complete(folder: Path) -> Processed | None:
    """The folder as Processed if its marker is whole and every listed file has its size."""
    marker_path = folder / MARKER
    if not marker_path.is_file():
        return None
    try:
        marker = json.loads(marker_path.read_text())
        arrays = marker["files"]
    except (ValueError, KeyError, OSError):
        _log.warning("%s is unreadable; preprocessing again", marker_path)
        return None
    for name, info in arrays.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != info["bytes"]:
            _log.warning("%s is missing or has the wrong size; preprocessing again", path)
            return None
    return Processed(folder, marker)


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (os.umask both sets and gets)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_marker(
    folder: Path, dataset: str, name: str, params: dict[str, Any], meta: dict[str, Any]
) -> dict[str, Any]:
    files = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        files[path.name] = {"bytes": path.stat().st_size}
        if path.suffix == ".npy":
            header = np.load(path, mmap_mode="r")
            files[path.name].update(shape=list(header.shape), dtype=str(header.dtype))
            del header
    marker = {
        "dataset": dataset,
        "name": name,
        "params": params,
        "meta": meta,
        "files": files,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "nonce": uuid.uuid4().hex,
    }
    write_json(folder / MARKER, marker, default=str)  # fsynced, then renamed into place
    return json.loads((folder / MARKER).read_text())


def ensure_processed(
    data_root: Path | str,
    dataset: str,
    name: str,
    params: dict[str, Any],
    build: Callable[[ArrayWriter], None],
) -> Processed:
    """Return the processed folder for (dataset, name, params), building it once if needed.

    `build(writer)` reads the raw files and writes arrays with writer.save/create and
    JSON-able extras into writer.meta. Raw-file errors it raises propagate unchanged.
    """
    root = Path(data_root) / dataset / "processed"
    folder = root / f"{name}-{params_key(params)}"
    done = _read_complete(folder)
    if done is not None:
        return done
    root.mkdir(parents=True, exist_ok=True)
    # filelock: flock on POSIX, msvcrt on Windows; the OS drops it when a holder dies
    with FileLock(root / f".{folder.name}.lock"):
        done = _read_complete(folder)  # another worker may have finished while we waited
        if done is not None:
            return done
        if folder.exists():
            shutil.rmtree(folder)
        for stale in root.glob(f".{folder.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=root))
        # mkdtemp makes 0700 folders; the renamed folder must follow the umask like every other
        # file, or a data root shared by a team is unreadable to all but its builder.
        os.chmod(tmp, 0o777 & ~_umask())
        try:
            writer = ArrayWriter(tmp)
            with stage(f"preprocessing {dataset}/{name} into {root} (once; later runs reuse it)"):
                build(writer)
            writer.finish()
            _write_marker(tmp, dataset, name, params, writer.meta)
            os.replace(tmp, folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        PREPROCESS_COUNT[f"{dataset}/{name}"] += 1
    done = _read_complete(folder)
    assert done is not None, f"{folder} was just written but is incomplete"
    return done


def source_signature(paths: list[Path]) -> list[tuple[str, int, int]]:
    """(name, size, mtime_ns) per raw file: part of `params`, so replaced raw files rebuild."""
    signature = []
    for path in paths:
        stat = path.stat()
        signature.append((path.name, stat.st_size, stat.st_mtime_ns))
    return signature
