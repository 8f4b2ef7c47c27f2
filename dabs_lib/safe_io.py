"""Atomic writes and checked reads: the one place that says how dabs-tune files hit the disk.

Every file a later run trusts (checkpoints, manifests, study exports, cache entries,
reports) is written to a unique temporary name in the same folder, flushed and fsynced,
then renamed over the target with `os.replace`. A crash, a kill or a full disk in the
middle leaves the old file (or none) plus at most a `.*.tmp` file that no reader looks
at, never a half-written file under the real name.

Reads that find a file present but unusable (0 bytes after a full disk, truncated, not
JSON) raise `CorruptFileError`, whose one-line message names the file and says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import uuid
from collections import Counter
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from dabs_lib.invocation import command

TMP_SUFFIX = ".tmp"
LOW_SPACE = 2**20  # a failed write with less free than this is taken for a full disk
SPACE_MARGIN = 8 * 2**20  # free space a search keeps beyond its next checkpoints (manifest, state, events)
# TEST-ONLY fault injection (tests/faults/test_kill_points.py): "POINT" or "POINT:N" makes the
# process that reaches kill_point(POINT) for the Nth time SIGKILL itself there. Unset, it costs
# one dict lookup; never set it outside tests.
KILL_ENV = "DABS_TUNE_TEST_KILL_AT"
_reached: Counter[str] = Counter()


class CorruptFileError(ValueError):
    """A file exists but cannot be used (empty, truncated, not the expected format)."""

    def __init__(self, path: str | os.PathLike[str], problem: str, fix: str = "") -> None:
        self.path, self.problem, self.fix = str(path), problem, fix
        super().__init__(f"{path} is corrupt: {problem}." + (f" {fix}" if fix else ""))

    def __reduce__(self) -> tuple[type[CorruptFileError], tuple[str, str, str]]:
        # crosses Ray workers: rebuild from the same arguments
        return type(self), (self.path, self.problem, self.fix)


class DiskFullError(OSError):
    """No space left under a storage path: names the path, the free and the needed space."""

    def __init__(self, path: str | os.PathLike[str], needed: int = 0, free: int | None = None) -> None:
        self.path, self.needed = str(path), int(needed)
        self.free = free_bytes(path) if free is None else int(free)
        need = f"; about {_mb(needed)} more is needed" if needed else ""
        super().__init__(
            errno.ENOSPC,
            f"no space left on the device of {path} "
            f"({_mb(self.free)} free{need}); free space there and run again "
            f"(`{command('resume EXPERIMENT')}` continues a search)",
        )

    def __reduce__(self) -> tuple[type[DiskFullError], tuple[str, int, int]]:
        return type(self), (self.path, self.needed, self.free)

    def __str__(self) -> str:
        return self.strerror


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def kill_point(name: str) -> None:
    """A named point where a test may kill this process (KILL_ENV): a real SIGKILL at a real
    place (mid-write, between trials, before the end-of-search writes), not a sleep and a guess."""
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    point, _, rest = spec.partition(":")
    nth, _, sig = rest.partition(":")  # `point[:nth][:INT]`: INT sends SIGINT (a Ctrl-C) instead of SIGKILL
    if point == name:
        _reached[name] += 1
        if _reached[name] >= int(nth or 1):
            os.kill(os.getpid(), signal.SIGINT if sig == "INT" else signal.SIGKILL)


def free_bytes(path: str | os.PathLike[str]) -> int:
    """Free bytes on the filesystem holding `path` (its nearest existing parent)."""
    p = Path(path).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free
    except OSError:
        return 0


def disk_full_cause(error: BaseException | None) -> BaseException | None:
    """The DiskFullError in the chain of causes (Ray wraps what callbacks raise), else the
    first ENOSPC/EDQUOT error, else None."""
    seen, first = set(), None
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, DiskFullError):
            return error
        full = getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in str(error)
        first = first or (error if full else None)
        error = error.__cause__ or error.__context__
    return first


def is_disk_full(error: BaseException) -> bool:
    """ENOSPC or EDQUOT anywhere in the chain of causes (Ray and pyarrow wrap OSErrors)."""
    return disk_full_cause(error) is not None


def temporary_name(path: Path) -> Path:
    """A unique hidden sibling: concurrent writers never share a temporary file."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `path`, on any error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        full = is_disk_full(error) or (
            isinstance(error, (OSError, RuntimeError)) and free_bytes(path.parent) < LOW_SPACE
        )  # torch: "iostream error"
        if full and not isinstance(error, DiskFullError):
            raise DiskFullError(path.parent) from error
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """`write(handle)` fills a binary file that then atomically becomes `path`."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        write(handle)
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(path, lambda handle: handle.write(data))


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes(path, text.encode())


def write_json(path: str | os.PathLike[str], data: Any, **dumps_kwargs: Any) -> Path:
    dumps_kwargs.setdefault("indent", 1)
    return write_text(path, json.dumps(data, **dumps_kwargs))


def read_json(path: str | os.PathLike[str], fix: str = "", what: str = "JSON") -> Any:
    """Parse a JSON file; a present but unreadable one raises CorruptFileError naming it."""
    return parse_json(Path(path).read_bytes(), path, fix, what)


def parse_json(data: bytes, path: str | os.PathLike[str], fix: str = "", what: str = "JSON") -> Any:
    """Parse the bytes of the JSON file `path` (local or a storage URI), naming it when corrupt."""
    try:
        text = data.decode()
    except UnicodeDecodeError as error:
        raise CorruptFileError(
            path, f"it must be UTF-8 {what}, but {error.reason} at byte {error.start}", fix
        ) from None
    if not text.strip():
        raise CorruptFileError(
            path,
            f"it must hold {what}, but it is empty ({len(data)} bytes; "
            "a full disk or a killed writer leaves such files)",
            fix,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CorruptFileError(
            path, f"it must hold {what}, but line {error.lineno} column {error.colno}: {error.msg} (truncated?)", fix
        ) from None


def check_zip(path: str | os.PathLike[str], shown: str = "", fix: str = "") -> None:
    """A `torch.save` file is a zip archive: its directory and every member's CRC must check,
    else CorruptFileError naming `shown` (the stored file, when `path` is a local copy of it)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError) as error:
        raise CorruptFileError(
            shown or path, f"it must be a whole torch checkpoint (a zip archive), but {error}", fix
        ) from None
    if bad is not None:
        raise CorruptFileError(shown or path, f"its member {bad!r} fails its CRC check", fix)


def remove_empty(root: str | os.PathLike[str], names: tuple[str, ...]) -> list[Path]:
    """Delete 0-byte files called one of `names` under `root` (what a full disk leaves, e.g.
    Tune's error.pkl, which kills the driver that unpickles it); returns what was deleted."""
    removed = []
    for name in names:
        for path in sorted(Path(root).rglob(name)):
            if path.is_file() and path.stat().st_size == 0:
                path.unlink()
                removed.append(path)
    return removed
