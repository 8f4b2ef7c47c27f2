"""Warnings that dabs_lib logs inside a search trial ("pretraining on CIFAR-10", "skipping
transfer task ...") travel to the driver in the trial's own results.

A Ray worker's output never reaches the driver's terminal (the search keeps Ray's
`log_to_driver` off: it would copy every worker's log noise). Instead the trainable calls
`capture()` when a trial starts; each report then carries the warnings logged since the
previous one under WARNINGS (`drain()`), the driver prints every distinct line once, and the
search summary lists them from the trials' results. No Ray import: readers use `split`.
"""

from __future__ import annotations

import logging
from typing import Any

WARNINGS = "warnings"  # result key: new warning lines since the previous report, "\n"-joined
LOGGER = "dabs_lib"  # every dabs_lib module logs below it (logging.getLogger(__name__))


class _Collector(logging.Handler):
    """Keeps each distinct WARNING-or-worse message once per process, until drained."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.pending: list[str] = []
        self.seen: set[str] = set()  # a reused worker builds a domain again: say it once

    def emit(self, record: logging.LogRecord) -> None:
        line = " ".join(record.getMessage().split())
        if line not in self.seen:
            self.seen.add(line)
            self.pending.append(line)


_collector: _Collector | None = None


def capture() -> None:
    """Start collecting (idempotent). Called by the trainable only: on the driver, a handler on
    `dabs_lib` would keep its warnings from reaching the terminal."""
    global _collector
    if _collector is None:
        _collector = _Collector()
        logging.getLogger(LOGGER).addHandler(_collector)


def drain() -> dict[str, str]:
    """{WARNINGS: "line\\nline"} with the lines collected since the last drain, or {}."""
    if _collector is None or not _collector.pending:
        return {}
    lines, _collector.pending = _collector.pending, []
    return {WARNINGS: "\n".join(lines)}


def split(results: list[dict[str, Any]]) -> list[str]:
    """The distinct warning lines of a sequence of results, in order of first appearance."""
    lines: dict[str, None] = {}
    for result in results:
        for line in str(result.get(WARNINGS) or "").splitlines():
            if line.strip():
                lines.setdefault(line.strip(), None)
    return list(lines)
