"""Markdown tables of bench rows (dicts), as BENCHMARKS.md quotes them. No torch."""

from __future__ import annotations


def markdown(rows: list[dict]) -> str:
    """One column per key seen in any row (first-seen order); floats to 3 significant digits."""
    if not rows:
        return ""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        cells = [f"{row[k]:.3g}" if isinstance(row.get(k), float) else str(row.get(k, "")) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
