"""Whitening and the whitened cosine of Ericsson, Gouk & Hospedales (BMVC 2022).

fit_whitening(F) returns (mu, L) with L = cholesky(Sigma^-1), so a = L^T (f - mu) has
identity covariance over the reference features; in row form a = (f - mu) @ L. Sigma is
the sample covariance plus a small ridge; when there are fewer than 10 samples per
dimension it is first shrunk toward a scaled identity with the Ledoit-Wolf intensity (scikit-learn), so
the inverse stays well conditioned. All arithmetic is float64.
"""

from __future__ import annotations

import numpy as np

RIDGE = 1e-6  # added to Sigma as RIDGE x mean(diag(Sigma)) x I: keeps it invertible
SAMPLES_PER_DIM = 10  # below this many samples per dimension, "auto" shrinks the covariance
SHRINKAGE_MODES = ("auto", "ledoit_wolf", "none")


def ledoit_wolf_intensity(centered: np.ndarray) -> float:
    """Ledoit-Wolf (2004) shrinkage intensity in [0, 1] toward trace(S)/d x I, S = X^T X / n
    (scikit-learn's estimator, on features already centred)."""
    from sklearn.covariance import ledoit_wolf_shrinkage

    return float(ledoit_wolf_shrinkage(centered, assume_centered=True))


def shrunk_covariance(features: np.ndarray, shrinkage: str = "auto") -> tuple[np.ndarray, np.ndarray, float]:
    """(mu (d,), Sigma (d, d), intensity used): the covariance estimate whitening inverts."""
    if shrinkage not in SHRINKAGE_MODES:
        raise ValueError(f"shrinkage must be one of {SHRINKAGE_MODES}, but got {shrinkage!r}")
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"whitening needs features of shape (N >= 2, D), but got shape {x.shape}")
    mu = x.mean(axis=0)
    centered = x - mu
    sigma = centered.T @ centered / len(x)
    shrink = shrinkage == "ledoit_wolf" or (shrinkage == "auto" and len(x) < SAMPLES_PER_DIM * x.shape[1])
    intensity = ledoit_wolf_intensity(centered) if shrink else 0.0
    target = np.trace(sigma) / x.shape[1]
    sigma = (1.0 - intensity) * sigma + intensity * target * np.eye(x.shape[1])
    return mu, sigma, intensity


def fit_whitening(features: np.ndarray, shrinkage: str = "auto", ridge: float = RIDGE) -> tuple[np.ndarray, np.ndarray]:
    """(mu (D,), L (D, D) lower-triangular) with L L^T = (Sigma + ridge)^-1; see the module doc."""
    mu, sigma, _ = shrunk_covariance(features, shrinkage)
    scale = max(float(np.trace(sigma)) / len(sigma), 1e-12)  # a constant feature set still whitens
    sigma = sigma + ridge * scale * np.eye(len(sigma))
    precision = np.linalg.inv(sigma)
    return mu, np.linalg.cholesky((precision + precision.T) / 2.0)


def whiten(features: np.ndarray, mu: np.ndarray, cholesky_factor: np.ndarray) -> np.ndarray:
    """(N, D) -> (N, D): L^T (f - mu) per row."""
    return (np.asarray(features, dtype=np.float64) - mu) @ cholesky_factor


def whitened_cosine(
    clean: np.ndarray, corrupted: np.ndarray, mu: np.ndarray, cholesky_factor: np.ndarray
) -> np.ndarray:
    """(N,) cos(L^T (clean_i - mu), L^T (corrupted_i - mu)); 0 where either vector is 0."""
    if np.shape(clean) != np.shape(corrupted):
        raise ValueError(
            f"clean and corrupted features must have the same shape, "
            f"but got {np.shape(clean)} and {np.shape(corrupted)}"
        )
    a, b = whiten(clean, mu, cholesky_factor), whiten(corrupted, mu, cholesky_factor)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.where(norms > 0, (a * b).sum(axis=1) / np.where(norms > 0, norms, 1.0), 0.0)


def between_sample(features: np.ndarray, mu: np.ndarray, cholesky_factor: np.ndarray, seed: int = 0) -> np.ndarray:
    """(N,) whitened cosine of each sample with another one (a seeded derangement): the ~0 baseline."""
    n = len(features)
    if n < 2:
        raise ValueError(f"the between-sample baseline needs at least 2 samples, but got {n}")
    order = np.random.default_rng(seed).permutation(n)
    partner = np.empty(n, dtype=np.int64)
    partner[order] = np.roll(order, -1)  # one cycle through all samples: nobody is its own partner
    return whitened_cosine(features, np.asarray(features)[partner], mu, cholesky_factor)
