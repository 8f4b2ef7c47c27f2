"""Downloading raw dataset files into --data-root: resumable, checksummed, atomic.

A download streams into `<file>.part`; when the server honours HTTP Range requests an
interrupted `.part` is resumed, otherwise restarted. Only a complete file whose checksum
matches (when one is published) is renamed into place with os.replace, so a reader never
sees half a file under the final name. Archives extract into a temporary folder that is
moved into place entry by entry, refusing members that would land outside it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from http.client import HTTPResponse
from pathlib import Path

from dabs_lib.datasets.errors import ChecksumError, DatasetFileError, ManualDownloadError
from dabs_lib.progress import stage

__all__ = [
    "ChecksumError",
    "DatasetFileError",
    "ManualDownloadError",
    "download_url",
    "extract_archive",
    "file_digest",
    "verify_checksum",
]

_CHUNK = 1 << 20


def file_digest(path: Path | str, algorithm: str) -> str:
    """Hex digest of a file, read in 1 MiB chunks (progress: dabs_lib.progress)."""
    digest = hashlib.new(algorithm)
    with (
        open(path, "rb") as handle,
        stage(
            f"checking the {algorithm} of {Path(path).name.removesuffix('.part')}",
            os.fstat(handle.fileno()).st_size,
            "B",
        ) as bar,
    ):
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def verify_checksum(path: Path | str, md5: str | None = None, sha256: str | None = None) -> None:
    """Raise ChecksumError naming `path` when a given checksum does not match."""
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected:
            actual = file_digest(path, algorithm)
            if actual != expected.lower():
                raise ChecksumError(path, algorithm, expected, actual)


def _open(url: str, start: int, timeout: float) -> HTTPResponse:
    request = urllib.request.Request(url, headers={"User-Agent": "dabs-tune"})
    if start:
        request.add_header("Range", f"bytes={start}-")
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http/https only, checked)


def _stream(url: str, part: Path, progress: bool, timeout: float) -> None:
    """Write url into part, resuming from part's size when the server answers 206."""
    start = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, start, timeout)
    except urllib.error.HTTPError as error:
        if error.code == 416 and start:  # range past the end: the .part is already whole
            return
        raise
    with response:
        resumed = start > 0 and response.status == 206
        total: str | int | None = response.headers.get("Content-Length")
        total = int(total) + (start if resumed else 0) if total else None
        mode = "ab" if resumed else "wb"
        name = part.name[: -len(".part")]
        with open(part, mode) as out, stage(f"downloading {name}", total, "B", enabled=progress) as bar:
            bar.update(start if resumed else 0)
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())


def download_url(
    url: str,
    dest: Path | str,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    progress: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download url to dest (a file path) unless dest already exists with the right checksum.

    Resumes a previous `.part` via HTTP Range; verifies md5/sha256 when given; renames into
    place atomically. A checksum mismatch deletes the `.part` and raises ChecksumError.
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"url must start with http:// or https://, but got {url!r}")
    dest = Path(dest)
    if dest.exists():
        verify_checksum(dest, md5, sha256)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    _stream(url, part, progress, timeout)
    try:
        verify_checksum(part, md5, sha256)
    except ChecksumError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return dest


def _safe_members(names: list[str], archive: Path) -> None:
    for name in names:
        target = Path(name)
        if target.is_absolute() or ".." in target.parts:
            raise DatasetFileError(archive, f"archive member {name!r} would be written outside the target folder")


def extract_archive(archive: Path | str, dest_dir: Path | str) -> Path:
    """Extract a .zip/.tar/.tar.gz/.tgz into dest_dir; entries appear only once complete."""
    archive, dest_dir = Path(archive), Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest_dir))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as handle:
                _safe_members(handle.namelist(), archive)
                with stage(f"extracting {archive.name}", len(handle.namelist()), "files") as bar:
                    for member in handle.namelist():
                        handle.extract(member, tmp)
                        bar.update()
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as handle:
                _safe_members(handle.getnames(), archive)
                with stage(f"extracting {archive.name}", len(handle.getmembers()), "files") as bar:
                    for member in handle.getmembers():
                        handle.extract(member, tmp, filter="data")
                        bar.update()
        else:
            raise DatasetFileError(archive, "not a zip or tar archive (truncated or corrupt download?)")
        for entry in tmp.iterdir():
            target = dest_dir / entry.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(entry, target)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise DatasetFileError(archive, f"cannot be extracted ({error})") from error
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest_dir
