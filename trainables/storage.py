"""Reading and writing small files under a storage path that may be local or a cloud URI.

Ray resolves `storage_path` with pyarrow filesystems; the search manifest uses the same
mechanism so `s3://...` or `gs://...` works the way it does for Ray itself.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pyarrow.fs as pafs


def resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    if "://" not in uri:
        uri = os.path.abspath(os.path.expanduser(uri))
    return pafs.FileSystem.from_uri(uri)


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def exists(uri: str) -> bool:
    fs, path = resolve(uri)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def write_json(uri: str, data: Any) -> None:
    """Write then rename, so a reader never sees half a manifest (local filesystems)."""
    fs, path = resolve(uri)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    tmp = path + ".tmp"
    with fs.open_output_stream(tmp) as out:
        out.write(json.dumps(data, indent=1, default=str).encode())
    fs.move(tmp, path)


def read_bytes(uri: str) -> bytes:
    fs, path = resolve(uri)
    with fs.open_input_stream(path) as stream:
        return stream.read()


def read_json(uri: str, fix: str = "Restore it from a copy of the experiment.") -> Any:
    """The JSON at `uri`; an empty, cut or garbled file raises CorruptFileError naming it."""
    from dabs_lib.safe_io import parse_json

    return parse_json(read_bytes(uri), uri, fix)


def local_path(uri: str) -> str | None:
    """The local path of `uri`, or None for remote storage."""
    fs, path = resolve(uri)
    return path if isinstance(fs, pafs.LocalFileSystem) else None


def upload(local: str, uri: str) -> None:
    """Copy a local file to `uri` (cloud storage), replacing what is there."""
    fs, path = resolve(uri)
    with open(local, "rb") as source, fs.open_output_stream(path) as out:
        out.write(source.read())


def download(uri: str, local: str) -> None:
    fs, path = resolve(uri)
    with fs.open_input_stream(path) as stream, open(local, "wb") as out:
        out.write(stream.read())
