"""The one lookup helper every registry uses, so unknown names read the same everywhere."""

from __future__ import annotations

from typing import Mapping, TypeVar

T = TypeVar("T")


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """registry[name], or KeyError("unknown objective 'foo'; choose from [...]")."""
    try:
        return registry[name]
    except KeyError:
        raise KeyError(f"unknown {what} {name!r}; choose from {sorted(registry)}") from None
