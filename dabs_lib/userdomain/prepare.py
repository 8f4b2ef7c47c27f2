"""Prepare a user's domain once into the shared cache (dabs_lib.datasets.cache), before Ray starts.

`prepare(path, data_root)` reads and checks the domain file and every row of its data, then
writes `<data_root>/user/<name>/processed/<name>-<key>/` (one .npy per input, labels per task,
the part of every row, and a marker whose meta holds specs, tasks, classes and z-score
statistics). `key` hashes the domain file's text and every data file's path, size and
modification time, so an edited file is read again; an unchanged one is only verified. The
cache writes into a temporary folder and renames it into place: an error leaves nothing
half-written. Image, audio and series files are decoded by two threads in chunks
(memory bounded by a few chunks), with progress. `<data_root>/user/<name>/domain.json`
(written atomically) then points trials and analysis at the prepared folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dabs_lib.datasets.cache import ArrayWriter, Processed, ensure_processed
from dabs_lib.datasets.source import absolute_root
from dabs_lib.progress import stage
from dabs_lib.safe_io import write_json
from dabs_lib.specs import spec_to_dict
from dabs_lib.userdomain import inputs, tabular, tokens
from dabs_lib.userdomain.labels import EncodedTask, encode_task, split_rows
from dabs_lib.userdomain.places import Places
from dabs_lib.userdomain.rows import Rows, read_rows
from dabs_lib.userdomain.schema import DomainFile, load_domain_file

FORMAT = 4  # bump when the prepared layout or values change: every user domain is prepared again
# (2: an audio input's n_fft spans about 3 hops, as DABS's speech spectrograms; 3: a channel constant over
# the pretraining rows keeps std 1, tabular inputs take `missing` and `categorical`; 4: a CSV's header
# names and cells are read without the spaces after a separator)
POOL_MIN_ROWS = 256  # fewer decoded files than this: decode in the calling thread
UNLABELLED = 3  # part code of pretraining-only rows (0 train, 1 val, 2 test)
WRITERS = {
    "image": inputs.image_input,
    "audio": inputs.audio_input,
    "timeseries": inputs.series_input,
    "tabular": tabular.tabular_input,
    "text": tokens.text_input,
}
REGISTRATION = "domain.json"


def user_folder(data_root: str, name: str) -> Path:
    """<data_root>/user/<name>: the prepared folders and the registration of one user domain."""
    return Path(absolute_root(data_root)) / "user" / name


def _files_of(rows: Rows) -> list[Path]:
    files = [rows.source] if rows.source.is_file() else []
    for values in rows.values.values():
        files += [v for v in values if isinstance(v, Path)]
    return files


def content_key(domain: DomainFile, sources: list[Rows]) -> str:
    """Hash of the domain file's text and every data file's (path, size, mtime): edits rebuild."""
    digest = hashlib.sha256(f"{FORMAT}\n{domain.text}".encode())
    for rows in sources:
        for path in _files_of(rows):
            try:
                stat = path.stat()
            except OSError:
                digest.update(f"{path}:missing\n".encode())  # the build names it
                continue
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _column(decl: Any, sources: list[Rows], pretrain: np.ndarray) -> inputs.Column:
    """One input's rows over every source: values (an array source's: row indices into the sources'
    arrays stacked), places, the stacked arrays, a table's categorical cells."""
    parts: list[Any] = []
    arrays: list[np.ndarray] = []
    categories: dict[str, list[Any]] = {}
    for rows in sources:
        array = rows.arrays.get(decl.name)
        if array is not None:
            parts.append(np.asarray(rows.values[decl.name], dtype=np.int64) + sum(len(a) for a in arrays))
            arrays.append(array)
        else:
            parts.append(rows.values[decl.name])
        for name, levels in rows.categories.get(decl.name, {}).items():
            categories.setdefault(name, []).extend(levels)
    if all(isinstance(p, np.ndarray) for p in parts):
        values: Any = np.concatenate(parts)
    else:
        values = [v for part in parts for v in part]
    where = Places(*(rows.where for rows in sources))
    stacked = None
    if arrays:
        stacked = arrays[0] if len(arrays) == 1 else np.concatenate([np.asarray(a) for a in arrays])
    names = sources[0].arrays.get(decl.name + "/columns")
    named = tuple(names.tolist()) if names is not None else ()
    return inputs.Column(decl, values, where, stacked, pretrain, named, categories)


def _builder(
    domain: DomainFile, sources: list[Rows], tasks: list[EncodedTask], parts: np.ndarray
) -> Callable[[ArrayWriter], None]:
    def build(writer: ArrayWriter) -> None:
        pretrain = np.isin(parts, (0, UNLABELLED))
        decoded = sum(len(parts) for d in domain.inputs if d.kind in ("image", "audio", "timeseries"))
        pool = None
        if decoded >= POOL_MIN_ROWS and (os.cpu_count() or 1) > 1:
            # Threads, not processes: PIL decoding, soundfile and numpy's FFT release the GIL, so two threads
            # use both cores; a spawned process pool measured slower (1,000 PNGs: 2.5 s threads, 3.2 s serial,
            # 12 s processes, which pay their start-up and pickling; BENCHMARKS.md "Preparing your own domain").
            pool = ThreadPoolExecutor(max_workers=2)
        specs, stats = [], []
        try:
            with stage(f"reading {len(parts)} rows of {domain.path}", len(parts) * len(domain.inputs), "rows") as bar:
                for i, decl in enumerate(domain.inputs):
                    column = _column(decl, sources, pretrain)
                    extra = {"domain_folder": domain.path.parent} if decl.kind == "text" else {}
                    spec, stat = WRITERS[decl.kind](writer, f"input{i}", column, pool, bar.update, **extra)
                    specs.append(spec_to_dict(spec))
                    stats.append(stat)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        labelled = len(sources[0])
        for task in tasks:
            full = np.zeros((len(parts), *task.labels.shape[1:]), dtype=task.labels.dtype)
            full[:labelled] = task.labels
            if task.labels.ndim == 1 and task.labels.dtype == np.int64:
                full[labelled:] = -1
            writer.save(f"task_{task.decl.name}", full)
        writer.save("parts", parts)
        writer.meta.update(
            name=domain.name,
            source=str(domain.path),
            domain_file=domain.text,
            specs=specs,
            stats=stats,
            inputs=[d.name for d in domain.inputs],
            kinds=[d.kind for d in domain.inputs],
            tasks=[
                {
                    "name": t.decl.name,
                    "kind": t.decl.kind,
                    "metric": t.decl.metric or _metric(t),
                    "num_classes": t.num_classes,
                    "classes": t.classes,
                }
                for t in tasks
            ],
            batch_size=domain.batch_size,
        )

    return build


def _metric(task: EncodedTask) -> str:
    from dabs_lib.userdomain.schema import DEFAULT_METRIC

    return DEFAULT_METRIC[task.decl.kind]


def prepare_file(domain: DomainFile, data_root: str = "") -> Processed:
    """Read, check and cache one parsed domain file; register it under the data root."""
    labelled = read_rows(domain.data, domain, labelled=True)
    sources = [labelled]
    if domain.unlabelled is not None:
        sources.append(read_rows(domain.unlabelled, domain, labelled=False))
    tasks = [encode_task(t, labelled.labels[t.name], labelled) for t in domain.tasks]
    parts = np.concatenate(
        [split_rows(domain, labelled, tasks), np.full(sum(len(s) for s in sources[1:]), UNLABELLED, dtype=np.int8)]
    )
    folder = user_folder(data_root, domain.name)
    params = {"key": content_key(domain, sources), "format": FORMAT}
    # Progress goes to stdout: stderr carries only the one line of an error in the data.
    with contextlib.redirect_stderr(sys.stdout):
        processed = ensure_processed(
            folder.parent, domain.name, domain.name, params, _builder(domain, sources, tasks, parts)
        )
    write_json(
        folder / REGISTRATION, {"name": domain.name, "source": str(domain.path), "processed": processed.folder.name}
    )
    return processed


def prepare(path: Path | str, data_root: str = "") -> Processed:
    """`prepare_file(load_domain_file(path))`: the one call the driver makes per user domain."""
    return prepare_file(load_domain_file(path), data_root)
