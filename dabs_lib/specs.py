"""Input specs: what one input of a dataset looks like, per DABS input kind.

A domain declares one spec per input (an image and a caption are two inputs). Each
spec knows how many tokens its embedding produces, so the encoder can size its
positional embedding for the concatenated sequence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Union
from typing import Any


@dataclass(frozen=True)
class TokensSpec:
    """Integer token ids, shape (B, L); `pad_id` marks padding (masked everywhere)."""

    seq_len: int
    vocab_size: int
    pad_id: int = 0  # id reserved for padding; never a real token
    kind: str = "tokens"

    @property
    def num_tokens(self) -> int:
        return self.seq_len


@dataclass(frozen=True)
class Sequence1dSpec:
    """Multichannel time series, shape (B, L, C), cut into L / segment_size segments."""

    seq_len: int
    segment_size: int
    in_channels: int
    kind: str = "1d"

    def __post_init__(self) -> None:
        if self.seq_len % self.segment_size:
            raise ValueError(
                f"seq_len must be a multiple of segment_size, but got seq_len={self.seq_len}, "
                f"segment_size={self.segment_size}"
            )

    @property
    def num_tokens(self) -> int:
        return self.seq_len // self.segment_size

    @property
    def token_size(self) -> int:
        return self.segment_size * self.in_channels


@dataclass(frozen=True)
class Image2dSpec:
    """Images or spectrograms, shape (B, C, H, W) with H = W = input_size, cut into patches."""

    input_size: int
    patch_size: int
    in_channels: int
    kind: str = "2d"

    def __post_init__(self) -> None:
        if self.input_size % self.patch_size:
            raise ValueError(
                f"input_size must be a multiple of patch_size, but got input_size={self.input_size}, "
                f"patch_size={self.patch_size}"
            )

    @property
    def num_tokens(self) -> int:
        return (self.input_size // self.patch_size) ** 2

    @property
    def token_size(self) -> int:
        return self.patch_size * self.patch_size * self.in_channels


@dataclass(frozen=True)
class TabularSpec:
    """A row of F scalar features, shape (B, F); each feature becomes one token."""

    num_features: int
    kind: str = "tabular"

    @property
    def num_tokens(self) -> int:
        return self.num_features

    @property
    def token_size(self) -> int:
        return 1


Spec = Union[TokensSpec, Sequence1dSpec, Image2dSpec, TabularSpec]

SPEC_KINDS = {"tokens": TokensSpec, "1d": Sequence1dSpec, "2d": Image2dSpec, "tabular": TabularSpec}


def total_tokens(specs: tuple[Spec, ...]) -> int:
    """Length of the concatenated token sequence of all inputs (CLS excluded)."""
    return sum(spec.num_tokens for spec in specs)


def spec_to_dict(spec: Spec) -> dict[str, Any]:
    """A plain dict (for checkpoints, which load with weights_only=True)."""
    return {k: getattr(spec, k) for k in spec.__dataclass_fields__}


def spec_from_dict(data: dict[str, Any]) -> Spec:
    fields = dict(data)
    kind = fields.pop("kind")
    return SPEC_KINDS[kind](**fields)


def is_continuous(spec: Spec) -> bool:
    return spec.kind != "tokens"


def ceil_count(length: int, rate: float) -> int:
    """k = ceil(L * rate), at least 1 when rate > 0: the number of corrupted positions."""
    return min(length, max(1 if rate > 0 else 0, math.ceil(length * rate - 1e-9)))  # 100*0.15 is 15.000000000000002
