"""One declared input -> one array in the cache (rows streamed chunk by chunk) and its Spec.

image: (N, S, S, C) uint8 -> Image2dSpec(S, patch, C); audio: (N, 1, S, S) float16 log-mel
dB -> Image2dSpec(S, patch, 1); timeseries: (N, L, C) float32 -> Sequence1dSpec; tabular:
(N, F) float32 -> TabularSpec(F); text: (N, seq_len) token ids -> TokensSpec. Continuous
inputs keep the mean and std of the pretraining rows (z-scored on read); an input that is
constant over those rows is refused (nothing could be learned from it). A tabular input with
`missing: mean` keeps its missing cells out of those statistics and stores each as its feature's
mean (0 once z-scored); any other input refuses a missing value.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dabs_lib.specs import Image2dSpec, Sequence1dSpec, Spec
from dabs_lib.userdomain import decode
from dabs_lib.userdomain.rows import DomainDataError
from dabs_lib.userdomain.schema import InputDecl

CHUNK = 64  # rows per decoding task; a few chunks in flight bound the memory
TARGET_TOKENS = 16  # a time series is cut into about this many segments by default


@dataclass
class Column:
    """One input's rows over every source: raw values, where each row is from, and array sources."""

    decl: InputDecl
    values: Sequence[Any] | np.ndarray  # per row: a path, a text, or an index into `array`
    where: Sequence[str]  # per row: its place for messages ("file row N")
    array: np.ndarray | None  # an .npz/.npy source's (N, ...) array, or a table's numeric feature columns
    pretrain: np.ndarray  # (N,) bool: rows that set the z-score (and the tokenizer)
    names: tuple[str, ...] = ()  # tabular from a table: the feature columns (numeric and categorical, in order)
    categories: dict[str, list[Any]] = field(default_factory=dict)  # table: categorical column -> level per row


class Stats:
    """Running mean and std per channel over the pretraining rows (float64 sums; uint8 inputs such
    as images are counted in a 256-bin histogram per channel instead, exact and about 4x faster)."""

    def __init__(self, channel_axis: int):
        self.axis = channel_axis
        self.total: Any = 0.0  # float64 per channel once rows are added
        self.squares: Any = 0.0
        self.count = 0
        self.low, self.high = np.inf, -np.inf
        self.hist: np.ndarray | None = None  # (C, 256) counts, for uint8 inputs

    def add(self, chunk: np.ndarray, keep: np.ndarray) -> None:
        if chunk.dtype == np.uint8:
            return self._count(np.moveaxis(chunk[keep], self.axis, -1))
        data = np.asarray(chunk[keep], dtype=np.float64)
        if not len(data):
            return
        axes = tuple(a for a in range(data.ndim) if a != self.axis)
        present = ~np.isnan(data)  # NaN only where a `missing: mean` input lacks a value
        if not present.all():
            data = np.where(present, data, 0.0)
        self.total = self.total + data.sum(axis=axes)
        self.squares = self.squares + np.square(data).sum(axis=axes)
        self.count = self.count + present.sum(axis=axes)
        if present.any():
            seen = data[present]
            self.low, self.high = min(self.low, float(seen.min())), max(self.high, float(seen.max()))

    def _count(self, data: np.ndarray) -> None:
        flat = data.reshape(-1, data.shape[-1])
        counts = np.stack([np.bincount(flat[:, c], minlength=256) for c in range(flat.shape[1])])
        self.hist = counts if self.hist is None else self.hist + counts

    def _from_hist(self) -> None:
        if self.hist is None or not self.hist.any():
            return
        values = np.arange(256, dtype=np.float64)
        self.count = int(self.hist[0].sum())
        self.total = self.hist @ values
        self.squares = self.hist @ np.square(values)
        seen = np.flatnonzero(self.hist.sum(axis=0))
        self.low, self.high = float(seen[0]), float(seen[-1])

    def result(self, name: str, where: str, channels: tuple[str, ...] = ()) -> dict[str, Any]:
        self._from_hist()
        empty = np.flatnonzero(np.atleast_1d(self.count) == 0)
        if len(empty) and np.any(np.atleast_1d(self.count)):
            feature = channels[empty[0]] if empty[0] < len(channels) else f"feature {empty[0]}"
            raise DomainDataError(
                where, f"input {name!r}: {feature!r} is missing in every pretraining row; no mean can fill it"
            )
        if not np.any(self.count) or self.low == self.high:
            raise DomainDataError(
                where,
                f"input {name!r} is constant over every pretraining row "
                f"(all values {self.low:g}); nothing can be learned from it",
            )
        mean = self.total / self.count
        std = np.atleast_1d(np.sqrt(np.maximum(self.squares / self.count - mean**2, 0.0)))
        # a channel constant over the pretraining rows is centred, not scaled: dividing by ~0 would turn
        # any other value it takes in a val or test row into a number of order 1e6
        return {"mean": np.atleast_1d(mean).tolist(), "std": np.where(std > 1e-6, std, 1.0).tolist()}


def _paths(column: Column) -> list[Path]:
    for value, where in zip(column.values, column.where):
        if value is None:
            raise DomainDataError(where, f"column {column.decl.name!r} is empty (it must name a file)")
    return [Path(v) for v in column.values]


def _stream(
    kind: str,
    params: Any,
    paths: list[Path],
    pool: Executor | None,
    sink: Callable[[int, np.ndarray], None],
    tick: Callable[[int], None],
) -> None:
    """Decode `paths` in chunks (in `pool` when given, at most 4 chunks in flight) and hand each to sink."""
    starts = list(range(0, len(paths), CHUNK))
    if pool is None:
        for start in starts:
            sink(start, decode.decode_chunk(kind, params, paths[start : start + CHUNK]))
            tick(len(paths[start : start + CHUNK]))
        return
    pending: collections.deque[tuple[int, Future[np.ndarray]]] = collections.deque()
    for start in starts:
        pending.append((start, pool.submit(decode.decode_chunk, kind, params, paths[start : start + CHUNK])))
        if len(pending) >= 4:
            first, future = pending.popleft()
            chunk = future.result()
            sink(first, chunk)
            tick(len(chunk))
    while pending:
        first, future = pending.popleft()
        chunk = future.result()
        sink(first, chunk)
        tick(len(chunk))


def fill_array(
    writer: Any,
    name: str,
    shape: tuple[int, ...],
    dtype: Any,
    axis: int,
    column: Column,
    produce: Callable[[Callable[[int, np.ndarray], None]], None],
    channels: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Stream `produce`'s chunks into the cached array `name`; the pretraining rows' statistics
    (`channels`: names of the channels in errors, default the column's names)."""
    out = writer.create(name, shape, dtype)
    stats = Stats(axis)
    fill = column.decl.missing == "mean"

    def sink(start: int, chunk: np.ndarray) -> None:
        if chunk.dtype.kind == "f":
            bad = ~(np.isfinite(chunk) | np.isnan(chunk)) if fill else ~np.isfinite(chunk)
            if bad.any():
                raise _not_finite(column, start, chunk, bad)
        out[start : start + len(chunk)] = chunk
        stats.add(chunk, column.pretrain[start : start + len(chunk)])

    produce(sink)
    result = stats.result(
        column.decl.name, column.where[0].split(" row ")[0], column.names if channels is None else channels
    )
    if fill:
        result["filled"] = _fill_missing(out, np.asarray(result["mean"], dtype=np.float32)).tolist()
    return result


def _not_finite(column: Column, start: int, chunk: np.ndarray, bad: np.ndarray) -> DomainDataError:
    row = int(np.flatnonzero(bad.reshape(len(chunk), -1).any(axis=1))[0])
    what = "NaN" if np.isnan(chunk[row]).any() else "infinity"
    hint = ""
    if what == "NaN" and column.decl.kind == "tabular":
        hint = f" (a missing value: `missing: mean` on input {column.decl.name!r} fills it with the feature's mean)"
    return DomainDataError(column.where[start + row], f"input {column.decl.name!r} holds {what}{hint}")


def _fill_missing(out: np.ndarray, mean: np.ndarray, step: int = 65536) -> np.ndarray:
    """NaN cells of an (N, F) array -> their feature's mean, in place; returns the count per feature."""
    filled = np.zeros(out.shape[1], dtype=np.int64)
    for start in range(0, len(out), step):
        part = out[start : start + step]
        holes = np.isnan(part)
        if holes.any():
            part[holes] = mean[np.nonzero(holes)[1]]
            filled += holes.sum(axis=0)
    return filled


def _image_array(column: Column) -> np.ndarray:
    """The (N, S, S, C) uint8 array an .npy/.npz image input holds ((N, S, S) grey arrays get C = 1)."""
    decl, array = column.decl, column.array
    assert array is not None
    where, given = column.where[0].split(" row ")[0], array.shape
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[1] != array.shape[2] or array.shape[3] not in (1, 3):
        raise DomainDataError(
            where,
            f"input {decl.name!r} must be an (N, side, side) or (N, side, side, 1 or 3) array of square "
            f"images, channels last, but has shape {given}",
        )
    if array.dtype != np.uint8:
        raise DomainDataError(where, f"input {decl.name!r} must hold uint8 pixels (0-255), but has dtype {array.dtype}")
    if decl.size and decl.size != array.shape[1]:
        raise DomainDataError(
            where,
            f"input {decl.name!r} holds {array.shape[1]}x{array.shape[1]} images, but size is {decl.size} "
            "(arrays are not resized: drop `size` or resize the array)",
        )
    if decl.patch_size and array.shape[1] % decl.patch_size:
        raise DomainDataError(
            where, f"input {decl.name!r}: patch_size {decl.patch_size} must divide the images' side {array.shape[1]}"
        )
    if array.shape[3] != decl.channels and decl.channels == 1:
        raise DomainDataError(where, f"input {decl.name!r} holds RGB images, but channels is 1 (set channels: 3)")
    return array


def _image_array_input(
    column: Column, tick: Callable[[int], None]
) -> tuple[tuple[int, ...], Callable[[Callable[[int, np.ndarray], None]], None]]:
    array, channels = _image_array(column), column.decl.channels
    rows = np.asarray(column.values, dtype=np.int64)
    step = CHUNK * 16

    def produce(sink: Callable[[int, np.ndarray], None]) -> None:
        for start in range(0, len(rows), step):
            chunk = np.asarray(array[rows[start : start + step]])
            sink(start, np.repeat(chunk, channels, axis=3) if chunk.shape[3] != channels else chunk)
            tick(len(chunk))

    return (len(rows), array.shape[1], array.shape[1], channels), produce


def image_input(
    writer: Any, name: str, column: Column, pool: Executor | None, tick: Callable[[int], None]
) -> tuple[Spec, dict[str, Any]]:
    decl = column.decl
    if column.array is not None:
        shape, produce = _image_array_input(column, tick)
        stats = fill_array(writer, name, shape, np.uint8, 3, column, produce)
        return Image2dSpec(
            input_size=shape[1], patch_size=decl.patch_size or max(1, shape[1] // 4), in_channels=decl.channels
        ), stats
    paths = _paths(column)
    size = decl.size
    if not size:
        width, height = decode.image_size(paths[0])
        if width != height:
            raise DomainDataError(
                paths[0],
                f"is {width}x{height} pixels; the encoder takes square images: set "
                f"the input's `size` to resize every image",
            )
        size = width
    params = (size, decl.channels, bool(decl.size))
    shape = (len(paths), size, size, decl.channels)
    stats = fill_array(
        writer, name, shape, np.uint8, 3, column, lambda s: _stream("image", params, paths, pool, s, tick)
    )
    return Image2dSpec(
        input_size=size, patch_size=decl.patch_size or max(1, size // 4), in_channels=decl.channels
    ), stats


def audio_input(
    writer: Any, name: str, column: Column, pool: Executor | None, tick: Callable[[int], None]
) -> tuple[Spec, dict[str, Any]]:
    decl, paths = column.decl, _paths(column)
    size = decl.size or 64
    _, rate = decode.read_wave(paths[0])
    params = decode.audio_params(rate, decl.clip_seconds, size)
    shape = (len(paths), 1, size, size)
    stats = fill_array(
        writer, name, shape, np.float16, 1, column, lambda s: _stream("audio", params, paths, pool, s, tick)
    )
    stats.update(rate=rate)
    return Image2dSpec(input_size=size, patch_size=decl.patch_size or max(1, size // 4), in_channels=1), stats


def _segment(length: int, decl: InputDecl, where: str) -> tuple[int, int]:
    segment = decl.segment_size or max(1, length // TARGET_TOKENS)
    if segment > length:
        raise DomainDataError(where, f"series have {length} samples, fewer than segment_size {segment}")
    return segment, length - length % segment


def series_input(
    writer: Any, name: str, column: Column, pool: Executor | None, tick: Callable[[int], None]
) -> tuple[Spec, dict[str, Any]]:
    decl = column.decl
    if column.array is not None:
        array = column.array
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3 or not np.issubdtype(array.dtype, np.number):
            raise DomainDataError(
                column.where[0].split(" row ")[0],
                f"input {decl.name!r} must be an (N, length) "
                f"or (N, length, channels) array of numbers, but has shape {column.array.shape} "
                f"and dtype {column.array.dtype}",
            )
        rows = np.asarray(column.values, dtype=np.int64)
        first = array.shape[1:]

        def produce(sink: Callable[[int, np.ndarray], None]) -> None:
            for start in range(0, len(rows), CHUNK * 16):
                sink(start, np.asarray(array[rows[start : start + CHUNK * 16]], dtype=np.float32)[:, :kept])
                tick(len(rows[start : start + CHUNK * 16]))
    else:
        paths = _paths(column)
        first = decode.decode_series(paths[0]).shape

        def produce(sink: Callable[[int, np.ndarray], None]) -> None:
            _stream("timeseries", first, paths, pool, lambda s, c: sink(s, c[:, :kept]), tick)

    segment, kept = _segment(first[0], decl, column.where[0])
    stats = fill_array(writer, name, (len(column.values), kept, first[1]), np.float32, 2, column, produce)
    return Sequence1dSpec(seq_len=kept, segment_size=segment, in_channels=int(first[1])), stats
