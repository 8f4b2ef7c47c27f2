"""Progress of long work: a tqdm bar on a terminal, one line per stage in a log.

Downloads, checksums, extraction, preprocessing into the cache, featurization of large
splits and `pretrain` run for minutes. On a terminal (stderr is a TTY) they draw a bar;
redirected to a file or run inside a Ray worker, a bar's carriage-return updates would
fill the log, so each stage writes one line when it starts and nothing else.
"""

from __future__ import annotations

import contextlib
import sys
from typing import IO, Iterator

from tqdm import tqdm
from typing import Any


def interactive(stream: IO[Any] | None = None) -> bool:
    """Whether `stream` (default stderr) is a terminal a bar can redraw in place."""
    stream = sys.stderr if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _amount(total: float, unit: str) -> str:
    if unit == "B":
        for size, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if total >= size:
                return f"{total / size:.1f} {name}"
        return f"{int(total)} B"
    return f"{int(total)} {unit}"


@contextlib.contextmanager
def stage(
    description: str, total: float | None = None, unit: str = "it", stream: IO[Any] | None = None, enabled: bool = True
) -> Iterator[tqdm]:
    """A bar to `update(n)`: drawn on a terminal; elsewhere the one line `description (total)`.
    `enabled=False` is silent everywhere (a caller that asked for no progress)."""
    stream = sys.stderr if stream is None else stream
    tty = enabled and interactive(stream)
    if enabled and not tty:
        print(f"{description} ({_amount(total, unit)})" if total else description, file=stream, flush=True)
    with tqdm(
        total=total,
        desc=description,
        unit=unit,
        unit_scale=unit == "B",
        unit_divisor=1024,
        disable=not tty,
        file=stream,
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        yield bar
