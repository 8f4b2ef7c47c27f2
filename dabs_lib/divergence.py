"""Divergence: a non-finite loss, score or feature stops a run at once, with its reason.

A diverged encoder still "transfers" (NaN features make the probe predict one class, a
chance-level score), so without these checks a search records it as a result. Lightning-
free (the probe path imports it); the training-loop callback is dabs_lib.divergence_guard.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DIVERGED_KEY = "diverged"  # the result key (and Optuna user attribute) that carries the reason


class Diverged(RuntimeError):
    """Training or evaluation produced a non-finite value; `reason` says which and when."""

    def __init__(self, reason: str, step: int = -1) -> None:
        self.reason, self.step = reason, step  # step: optimizer steps done, -1 if unknown
        super().__init__(reason)

    def __reduce__(self) -> tuple[Any, ...]:  # crosses Ray workers: rebuild from the same arguments
        return type(self), (self.reason, self.step)

    @classmethod
    def at_step(cls, step: int, name: str, value: Any) -> "Diverged":
        return cls(f"diverged at step {step}: {name}={value}", step)


class NonFiniteFeatures(Diverged, ValueError):
    """An encoder produced NaN/inf features: no probe may score them."""


def is_finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def check_finite(step: int, **values: Any) -> None:
    """Raise Diverged naming the first of `values` (name=value) that is not a finite number."""
    for name, value in values.items():
        if not is_finite(value):
            raise Diverged.at_step(step, name, value)


def check_features(features: np.ndarray, where: str) -> None:
    """Raise NonFiniteFeatures when any feature is NaN or infinite (cheap next to featurizing)."""
    finite = np.isfinite(features)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        raise NonFiniteFeatures(
            f"the encoder's features on {where} must be finite, but {bad} of "
            f"{finite.size} values are NaN or infinite (diverged encoder); no score is reported"
        )
