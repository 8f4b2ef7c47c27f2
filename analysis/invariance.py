"""Synthetic invariance of an encoder's pooled features (Ericsson, Gouk & Hospedales, BMVC 2022).

    curves = invariance_curves(encoder, domain.pretrain)        # family, theta, score, ...
    scores = invariance_scores("runs/emix/encoder.pt", domain.pretrain)
    matrix = invariance_matrix({"emix": path_a, "shed": path_b}, domain)  # objective x family

For N seeded samples of a split, clean pooled features f(x) fix the whitening (mu, L)
(analysis.whitening; by default on the same samples, or on `reference`); every theta of
every family (analysis.corruptions) gives f(t_theta x), and the curve is the mean
whitened cosine cos(L^T (f(x) - mu), L^T (f(t_theta x) - mu)) over samples. A family's
score is the curve's mean over its thetas except the identity. Beside it:
`between_sample`, the mean whitened cosine of unrelated samples (about 0), and
`random_init`, the score of a freshly initialised encoder of the same specs and
ModelConfig (seed RANDOM_INIT_SEED), whitened with its own features.
"""

from __future__ import annotations

import os
import zlib
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch.utils.data import Dataset

from analysis.corruptions import FAMILIES, applicable
from analysis.whitening import between_sample, fit_whitening, whitened_cosine
from dabs_lib.domains.base import Domain
from dabs_lib.encoder import Encoder
from dabs_lib.transfer.evaluate import as_encoder
from dabs_lib.transfer.features import autocast, frozen_eval, resolve_device
from dabs_lib.transfer.probes import cpu_threads_for

NUM_SAMPLES = 256  # samples per curve point (fewer when the split is smaller)
RANDOM_INIT_SEED = 0  # torch seed of the random-init baseline encoder
BATCH_SIZE = 256  # encoder batch; memory only, scores do not depend on it


class _Reference(NamedTuple):
    inputs: list[Tensor]  # the N evaluated samples, one tensor per input
    partner: list[Tensor]  # each sample's mix partner (a derangement of the N)
    clean: np.ndarray  # (N, D) clean pooled features
    mu: np.ndarray  # (D,) whitening mean
    factor: np.ndarray  # (D, D) whitening L


def sample_inputs(dataset: Dataset, num_samples: int, seed: int) -> list[Tensor]:
    """min(num_samples, len) seeded distinct examples, one stacked tensor per input."""
    index = torch.from_numpy(np.random.default_rng(seed).permutation(len(dataset))[:num_samples])
    inputs = getattr(dataset, "inputs", None)
    if isinstance(inputs, tuple):
        return [x[index] for x in inputs]
    items = [dataset[int(i)][0] for i in index]
    return [torch.stack([item[j] for item in items]) for j in range(len(items[0]))]


def random_init_encoder(encoder: Encoder, seed: int = RANDOM_INIT_SEED) -> Encoder:
    """A fresh Encoder(specs, config), seeded without disturbing the caller's RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return Encoder(encoder.specs, encoder.config)


def _features(
    encoder: Encoder,
    inputs: list[Tensor],
    partner: list[Tensor],
    family: str | None,
    theta: float,
    seed: int,
    device: torch.device,
) -> np.ndarray:
    """(N, D) pooled features of the inputs under t_theta (family None: clean)."""
    generator = torch.Generator().manual_seed(seed)  # on the CPU: the same draws on every device
    out = []
    for start in range(0, len(inputs[0]), BATCH_SIZE):
        batch = [x[start : start + BATCH_SIZE].to(device) for x in inputs]
        other = [x[start : start + BATCH_SIZE].to(device) for x in partner]
        with autocast(device):
            if family is None:
                embedded = encoder.embed(batch)
            else:
                embedded = FAMILIES[family].apply(encoder, batch, other, theta, generator)
            out.append(encoder.encode(*embedded).pooled.float().cpu().numpy())
    return np.concatenate(out)


def _reference(
    encoder: Encoder, split: Dataset, num_samples: int, seed: int, reference: Dataset | None, device: torch.device
) -> _Reference:
    inputs = sample_inputs(split, num_samples, seed)
    n = len(inputs[0])
    if n < 2:
        raise ValueError(f"invariance needs at least 2 samples, but the split has {n}")
    order = np.random.default_rng([seed, 2]).permutation(n)
    partner_index = np.empty(n, dtype=np.int64)
    partner_index[order] = np.roll(order, -1)  # a single cycle: no sample mixes with itself
    partner = [x[torch.from_numpy(partner_index)] for x in inputs]
    clean = _features(encoder, inputs, partner, None, 0.0, seed, device)
    fit_on = clean
    if reference is not None:
        fit_on = _features(encoder, sample_inputs(reference, max(num_samples, 2048), seed), [], None, 0.0, seed, device)
    mu, factor = fit_whitening(fit_on)
    return _Reference(inputs, partner, clean, mu, factor)


def _evaluate(
    encoder: Encoder,
    split: Dataset,
    families: tuple[str, ...] | None,
    grid: dict | None,
    num_samples: int,
    seed: int,
    reference: Dataset | None,
    device: torch.device | str | None,
) -> tuple[pd.DataFrame, float]:
    """(curves, mean between-sample cosine) of one encoder."""
    device = resolve_device(device)
    rows = []
    length = encoder.pos.shape[1] - 1  # tokens per sample
    work = np.broadcast_to(np.float32(0), (num_samples, length, encoder.config.embed_dim))  # a shape, no memory
    threads = cpu_threads_for(work, device)  # one thread for small problems: shared cores thrash otherwise
    with threads, frozen_eval(encoder, device, None), torch.no_grad():
        ref = _reference(encoder, split, num_samples, seed, reference, device)
        for family in applicable(encoder.specs, families):
            spec = FAMILIES[family]
            for theta in (grid or {}).get(family, spec.grid):
                point_seed = seed + zlib.crc32(f"{family}/{float(theta)}".encode())
                corrupted = _features(encoder, ref.inputs, ref.partner, family, float(theta), point_seed, device)
                scores = whitened_cosine(ref.clean, corrupted, ref.mu, ref.factor)
                rows.append(
                    {
                        "family": family,
                        "theta": float(theta),
                        "score": float(scores.mean()),
                        "score_std": float(scores.std()),
                        "identity": float(theta) == spec.identity,
                    }
                )
    baseline = float(between_sample(ref.clean, ref.mu, ref.factor, seed).mean())
    return pd.DataFrame(rows, columns=["family", "theta", "score", "score_std", "identity"]), baseline


def invariance_curves(
    encoder: Encoder,
    split: Dataset,
    families: tuple[str, ...] | None = None,
    grid: dict[str, tuple[float, ...]] | None = None,
    num_samples: int = NUM_SAMPLES,
    seed: int = 0,
    reference: Dataset | None = None,
    device: torch.device | str | None = None,
) -> pd.DataFrame:
    """One row per (family, theta): mean and spread of the whitened cosine over samples.

    families: names in analysis.corruptions.FAMILIES (default all; those that cannot act on
    the encoder's specs are skipped). grid: family -> thetas, overriding the defaults.
    """
    return _evaluate(encoder, split, families, grid, num_samples, seed, reference, device)[0]


def summarize_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """(family, score, num_thetas): each curve's mean over its non-identity thetas."""
    kept = curves[~curves["identity"].astype(bool)]
    table = kept.groupby("family", sort=False)["score"].agg(["mean", "size"]).reset_index()
    return table.rename(columns={"mean": "score", "size": "num_thetas"})


def invariance_scores(
    encoder_or_checkpoint: str | os.PathLike | Encoder,
    split: Dataset,
    families: tuple[str, ...] | None = None,
    grid: dict[str, tuple[float, ...]] | None = None,
    num_samples: int = NUM_SAMPLES,
    seed: int = 0,
    reference: Dataset | None = None,
    device: torch.device | str | None = None,
    random_init: bool = True,
) -> pd.DataFrame:
    """(family, score, num_thetas, between_sample, random_init) for one checkpoint."""
    encoder = as_encoder(encoder_or_checkpoint)
    curves, baseline = _evaluate(encoder, split, families, grid, num_samples, seed, reference, device)
    table = summarize_curves(curves)
    table["between_sample"] = baseline
    table["random_init"] = float("nan")
    if random_init:
        fresh = random_init_encoder(encoder)
        fresh_curves, _ = _evaluate(fresh, split, families, grid, num_samples, seed, reference, device)
        table["random_init"] = table["family"].map(summarize_curves(fresh_curves).set_index("family")["score"])
    return table


def domain_split(domain: Domain, name: str) -> Dataset:
    """ "pretrain", or "<task>/<train|val|test>" of one of the domain's tasks."""
    if name == "pretrain":
        return domain.pretrain
    task, _, part = name.partition("/")
    if task not in domain.tasks or part not in ("train", "val", "test"):
        raise KeyError(
            f"split must be 'pretrain' or '<task>/<train|val|test>' with a task in "
            f"{sorted(domain.tasks)}, but got {name!r} for domain {domain.name!r}"
        )
    return getattr(domain.tasks[task], part)


def invariance_table(
    checkpoints: dict[str, str | os.PathLike | Encoder],
    domain: Domain,
    split: str = "pretrain",
    families: tuple[str, ...] | None = None,
    num_samples: int = NUM_SAMPLES,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> pd.DataFrame:
    """invariance_scores of every checkpoint on one split of `domain`, long form with `objective`."""
    if not checkpoints:
        raise ValueError("invariance needs at least one checkpoint, but `checkpoints` is empty")
    data = domain_split(domain, split)
    parts = []
    for objective, checkpoint in checkpoints.items():
        part = invariance_scores(checkpoint, data, families, num_samples=num_samples, seed=seed, device=device)
        part.insert(0, "objective", objective)
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)
    table.insert(1, "domain", domain.name)
    return table


def to_matrix(table: pd.DataFrame, value: str = "score") -> pd.DataFrame:
    """Long table -> rows objective (then a `random_init` row), columns family."""
    matrix = table.pivot(index="objective", columns="family", values=value)
    matrix = matrix.reindex(index=list(dict.fromkeys(table["objective"])), columns=list(dict.fromkeys(table["family"])))
    # the random-init encoders of checkpoints with one ModelConfig are identical: one value per family
    matrix.loc["random_init"] = table.groupby("family", sort=False)["random_init"].mean()
    matrix.columns.name, matrix.index.name = "family", "objective"
    return matrix


def invariance_matrix(
    checkpoints: dict[str, str | os.PathLike | Encoder],
    domain: Domain,
    split: str = "pretrain",
    families: tuple[str, ...] | None = None,
    num_samples: int = NUM_SAMPLES,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> pd.DataFrame:
    """The objective x corruption matrix of invariance scores (the diagonal: own pretext corruption)."""
    return to_matrix(invariance_table(checkpoints, domain, split, families, num_samples, seed, device))
