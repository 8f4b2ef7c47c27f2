"""Per-item transforms applied when a MemmapSplit reads a row (stored array -> model input).

Each is a frozen dataclass so it pickles into DataLoader workers and has a stable repr
(part of a split's fingerprint). Heavy work (spectrograms, tokenizing) happens once in
preprocessing; what remains here is cheap: dtype, resize, z-score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torchvision.transforms.v2 import functional as TF


@dataclass(frozen=True)
class Image:
    """uint8 (H, W, C) -> float (C, size, size) in [0, 1]: DABS's Resize((size, size)) + ToTensor.

    DABS resizes both sides to `size` (no aspect-preserving crop), bilinear with antialiasing.
    """

    size: int  # output side (224 for DABS images, 32 for `_small` variants)
    channels: int = 3  # a stored grayscale image is repeated, as PIL's convert("RGB") does

    def __call__(self, values: np.ndarray) -> Tensor:
        image = torch.from_numpy(np.array(values)).permute(2, 0, 1)  # (H, W, C) -> (C, H, W)
        if image.shape[0] != self.channels:
            image = image.expand(self.channels, -1, -1)
        if tuple(image.shape[1:]) != (self.size, self.size):
            image = TF.resize(image, [self.size, self.size], antialias=True)
        return image.float().div_(255.0)


@dataclass(frozen=True)
class Standardize:
    """(x - mean) / std per channel along axis 0, as float32; one value broadcasts."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __call__(self, values: np.ndarray) -> Tensor:
        x = torch.from_numpy(np.asarray(values, dtype=np.float32).copy())
        shape = (-1,) + (1,) * (x.dim() - 1)
        mean = torch.tensor(self.mean, dtype=torch.float32).reshape(shape)
        std = torch.tensor(self.std, dtype=torch.float32).reshape(shape)
        return (x - mean) / std


@dataclass(frozen=True)
class AsType:
    """Cast to a torch dtype name ("float32", "int64"): token ids, tabular rows, sensor windows."""

    dtype: str

    def __call__(self, values: np.ndarray) -> Tensor:
        return torch.from_numpy(np.array(values)).to(getattr(torch, self.dtype))
