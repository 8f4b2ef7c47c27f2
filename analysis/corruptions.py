"""Domain-agnostic corruption families t_theta for invariance scores (EVALUATION.md section 2).

| family  | theta                      | acts on                  | applies to                      |
|---------|----------------------------|--------------------------|---------------------------------|
| mask    | rate: share of real tokens | embeddings (zeros)       | every spec                      |
| shuffle | rate: share of real tokens | embeddings (derangement) | every spec                      |
| mix     | lambda: own-sample weight  | embeddings (e-Mix)       | every spec                      |
| noise   | sigma / input std          | raw continuous inputs    | specs with a continuous input   |
| crop    | fraction of the axis       | raw inputs, shifted      | specs with a 1d, 2d or tokens input |

mask, shuffle and mix reuse the objectives' own corruptions (choose_positions,
mask_tokens, derange, mix_tokens). shuffle permutes k = ceil(theta x real tokens)
positions but at least 2, since a derangement of one position moves nothing. mix pairs
every sample with another one of the
evaluated set (a derangement), and a mixed position is padding only where both samples
pad (as in e-Mix), except at lambda = 1, which keeps the sample's own padding. noise adds
N(0, (theta x std)^2), std the input's own
over the evaluated samples, to every continuous input (token ids stay). crop shifts
each sample by k = ceil(theta x length) positions in a seeded random direction along
the sequence/time axis (1d: time; 2d: width, the time axis of spectrograms; tokens:
positions), filling what enters with zeros (token inputs: `pad_id`, i.e. padding);
tabular inputs have no such axis and stay as they are. Every family is the identity at
its `identity` value (0, or lambda = 1 for mix).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from dabs_lib.encoder import Encoder
from dabs_lib.objectives.corruption import choose_positions, derange, mask_tokens, mix_tokens
from dabs_lib.specs import Spec, ceil_count, is_continuous

Embedded = tuple[Tensor, Tensor]  # (tokens (B, L, D), padding_mask (B, L)): what encoder.encode takes
SHIFT_AXIS = {"1d": 1, "2d": 3, "tokens": 1}  # the sequence/time axis of each raw input kind


def add_noise(inputs: list[Tensor], specs: tuple[Spec, ...], theta: float, generator: torch.Generator) -> list[Tensor]:
    """x + theta * std(x) * N(0, 1) on every continuous input; token inputs unchanged."""
    out = []
    for spec, x in zip(specs, inputs):
        if is_continuous(spec) and theta > 0:
            noise = torch.randn(x.shape, generator=generator, device=generator.device).to(x.device, x.dtype)
            x = x + theta * x.float().std().to(x.dtype) * noise
        out.append(x)
    return out


def shift_along(x: Tensor, dim: int, shifts: Tensor, fill: float) -> Tensor:
    """Sample i moved by shifts[i] positions along `dim` (> 0: toward the end), `fill` entering."""
    length = x.shape[dim]
    moved = x.movedim(dim, 1)  # (B, length, ...)
    source = torch.arange(length, device=x.device).unsqueeze(0) - shifts.to(x.device).unsqueeze(1)  # (B, length)
    valid = (source >= 0) & (source < length)
    view = (*source.shape, *([1] * (moved.dim() - 2)))
    gathered = moved.gather(1, source.clamp(0, length - 1).view(view).expand_as(moved))
    out = torch.where(valid.view(view), gathered, torch.full_like(gathered, fill))
    return out.movedim(1, dim)


def crop_shift(inputs: list[Tensor], specs: tuple[Spec, ...], theta: float, generator: torch.Generator) -> list[Tensor]:
    """Every 1d/2d/tokens input shifted by ceil(theta x axis length) in a random direction per sample."""
    out = []
    for spec, x in zip(specs, inputs):
        if spec.kind in SHIFT_AXIS and theta > 0:
            dim = SHIFT_AXIS[spec.kind]
            k = ceil_count(x.shape[dim], theta)
            sign = torch.randint(0, 2, (len(x),), generator=generator, device=generator.device) * 2 - 1  # (B,)
            x = shift_along(x, dim, sign * k, float(getattr(spec, "pad_id", 0)))
        out.append(x)
    return out


def _mask(
    encoder: Encoder, inputs: list[Tensor], partner: list[Tensor], theta: float, generator: torch.Generator
) -> Embedded:
    tokens, padding = encoder.embed(inputs)
    chosen = choose_positions(padding, theta, generator)
    return mask_tokens(tokens, chosen, tokens.new_zeros(tokens.shape[-1])), padding


def at_least_two(padding_mask: Tensor, rate: float, generator: torch.Generator) -> Tensor:
    """choose_positions, plus one more real position in rows where it chose exactly one."""
    chosen = choose_positions(padding_mask, rate, generator)  # (B, L)
    lonely = (chosen.sum(1) == 1) & (padding_mask.logical_not().sum(1) >= 2)  # (B,)
    extra = choose_positions(padding_mask | chosen, 1e-9, generator)  # one unchosen real position per row
    return chosen | (extra & lonely.unsqueeze(1))


def _shuffle(
    encoder: Encoder, inputs: list[Tensor], partner: list[Tensor], theta: float, generator: torch.Generator
) -> Embedded:
    tokens, padding = encoder.embed(inputs)
    chosen = at_least_two(padding, theta, generator) if theta > 0 else torch.zeros_like(padding)
    return derange(tokens, chosen, generator)[0], padding


def _mix(
    encoder: Encoder, inputs: list[Tensor], partner: list[Tensor], theta: float, generator: torch.Generator
) -> Embedded:
    tokens, padding = encoder.embed([torch.cat([x, y]) for x, y in zip(inputs, partner)])  # (2B, L, D)
    b = len(tokens) // 2
    perm = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(tokens.device)  # i <-> its partner
    lam = torch.full((2 * b,), float(theta), device=tokens.device)
    mixed = mix_tokens(tokens, lam, perm)[:b]
    if theta == 1.0:
        return mixed, padding[:b]  # the identity: own sample only, own padding
    return mixed, (padding & padding[perm])[:b]  # padding only where both sources pad, as e-Mix


def _on_inputs(corrupt: Callable) -> Callable:
    def apply(
        encoder: Encoder, inputs: list[Tensor], partner: list[Tensor], theta: float, generator: torch.Generator
    ) -> Embedded:
        return encoder.embed(corrupt(inputs, encoder.specs, theta, generator))

    return apply


@dataclass(frozen=True)
class Family:
    apply: Callable[..., Embedded]  # (encoder, inputs, partner inputs, theta, generator) -> what encode takes
    grid: tuple[float, ...]  # default thetas, the identity first (it anchors the curve at 1)
    identity: float  # theta at which the family changes nothing
    applies: Callable[[tuple[Spec, ...]], bool]  # whether the family can act on these specs
    level: str  # "embedding" (after encoder.embed) or "input" (raw inputs)


RATES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5)
FAMILIES: dict[str, Family] = {
    "mask": Family(_mask, RATES, 0.0, lambda specs: True, "embedding"),
    "shuffle": Family(_shuffle, RATES, 0.0, lambda specs: True, "embedding"),
    "mix": Family(_mix, (1.0, 0.95, 0.9, 0.8, 0.7, 0.5), 1.0, lambda specs: True, "embedding"),
    "noise": Family(
        _on_inputs(add_noise),
        (0.0, 0.05, 0.1, 0.25, 0.5, 1.0),
        0.0,
        lambda specs: any(is_continuous(s) for s in specs),
        "input",
    ),
    "crop": Family(_on_inputs(crop_shift), RATES, 0.0, lambda specs: any(s.kind in SHIFT_AXIS for s in specs), "input"),
}


def applicable(specs: tuple[Spec, ...], families: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """The requested families (default: all) that can act on `specs`, in registry order."""
    names = tuple(FAMILIES) if families is None else tuple(families)
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        raise KeyError(f"unknown corruption family {unknown[0]!r}; choose from {sorted(FAMILIES)}")
    return tuple(n for n in names if FAMILIES[n].applies(specs))
