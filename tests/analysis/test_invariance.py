"""Invariance: whitening, the whitened cosine, every corruption family on every domain, end to end."""

import numpy as np
import pandas as pd
import pytest
import torch

from analysis.corruptions import FAMILIES, add_noise, applicable, crop_shift
from analysis.invariance import (
    domain_split,
    invariance_curves,
    invariance_matrix,
    invariance_scores,
    random_init_encoder,
    sample_inputs,
    summarize_curves,
)
from analysis.whitening import between_sample, fit_whitening, shrunk_covariance, whiten, whitened_cosine
from dabs_lib.checkpoints import save_encoder
from dabs_lib.domains import EMBEDDED_DOMAINS, get_domain
from dabs_lib.encoder import Encoder
from dabs_lib.model_config import ModelConfig

TINY = ModelConfig(embed_dim=32, depth=2, num_heads=2, mlp_dim=64, out_dim=16)


def tiny(specs, seed=0, config=TINY):
    torch.manual_seed(seed)
    return Encoder(specs, config)


def correlated(n, d, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + 5.0


def test_whitening_makes_clean_covariance_identity():
    x = correlated(5000, 8, 0)
    mu, factor = fit_whitening(x)
    a = whiten(x, mu, factor)
    np.testing.assert_allclose(a.mean(axis=0), 0.0, atol=1e-8)
    np.testing.assert_allclose(np.cov(a.T, bias=True), np.eye(8), atol=1e-3)
    np.testing.assert_allclose(factor, np.tril(factor))  # a Cholesky factor


def test_shrinkage_only_when_samples_are_few():
    assert shrunk_covariance(correlated(200, 32, 1))[2] > 0  # 200 < 10 x 32: Ledoit-Wolf
    assert shrunk_covariance(correlated(400, 32, 1), "none")[2] == 0
    assert shrunk_covariance(correlated(400, 8, 1))[2] == 0  # 400 >= 10 x 8: plain covariance
    mu, factor = fit_whitening(correlated(20, 32, 2))  # fewer samples than dimensions still whitens
    assert np.isfinite(factor).all()
    with pytest.raises(ValueError, match="shrinkage must be one of"):
        fit_whitening(correlated(20, 4, 0), shrinkage="oas")


def test_identical_features_score_one_and_unrelated_ones_near_zero():
    x = correlated(4000, 16, 3)
    mu, factor = fit_whitening(x)
    np.testing.assert_allclose(whitened_cosine(x, x, mu, factor), 1.0, atol=1e-12)
    independent = correlated(4000, 16, 3)[np.random.default_rng(9).permutation(4000)]  # same law, unrelated rows
    assert abs(whitened_cosine(x, independent, mu, factor).mean()) < 0.03
    assert abs(between_sample(x, mu, factor).mean()) < 0.03
    assert whitened_cosine(x, 2 * mu - x, mu, factor) == pytest.approx(-1.0)  # mirrored through the mean


@pytest.mark.parametrize("domain_name", sorted(EMBEDDED_DOMAINS))
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_is_identity_at_identity_and_changes_inputs(domain_name, family):
    domain = get_domain(domain_name, smoke=True)
    spec = FAMILIES[family]
    if family not in applicable(domain.specs):
        assert family in ("noise", "crop") and domain.specs[0].kind in ("tokens", "tabular")
        return
    encoder = tiny(domain.specs)
    inputs = sample_inputs(domain.pretrain, 8, seed=0)
    partner = [x.roll(1, dims=0) for x in inputs]
    with torch.no_grad():
        tokens, padding = encoder.embed(inputs)
        same = spec.apply(encoder, inputs, partner, spec.identity, torch.Generator().manual_seed(0))
        theta = (
            min(t for t in spec.grid if t != spec.identity)
            if family != "mix"
            else max(t for t in spec.grid if t != 1.0)
        )
        moved = spec.apply(encoder, inputs, partner, theta, torch.Generator().manual_seed(0))
    assert torch.equal(same[0], tokens) and torch.equal(same[1], padding)
    assert not torch.equal(moved[0], tokens)


def test_input_families_touch_only_what_they_should():
    domain = get_domain("captions", smoke=True)  # an image and a caption
    inputs = sample_inputs(domain.pretrain, 8, seed=0)
    noisy = add_noise(inputs, domain.specs, 0.5, torch.Generator().manual_seed(0))
    assert not torch.equal(noisy[0], inputs[0]) and torch.equal(noisy[1], inputs[1])  # token ids stay
    ratio = (noisy[0] - inputs[0]).std() / inputs[0].std()
    assert 0.4 < ratio < 0.6
    shifted = crop_shift(inputs, domain.specs, 0.25, torch.Generator().manual_seed(0))  # 4 of 16 columns
    image, caption = shifted
    assert not torch.equal(image, inputs[0]) and not torch.equal(caption, inputs[1])
    zero_columns = (image == 0).all(dim=(1, 2))  # (B, W)
    assert zero_columns.sum(dim=1).tolist() == [4] * 8  # what enters is zero fill
    for shifted_row, row in zip(image, inputs[0]):  # the rest is the image moved by 4 columns, one way or the other
        assert torch.equal(shifted_row[..., 4:], row[..., :-4]) or torch.equal(shifted_row[..., :-4], row[..., 4:])


def test_bag_of_embeddings_encoder_is_exactly_shuffle_invariant():
    """No positions and mean pooling: attention is permutation-equivariant, so the pooled feature
    ignores the order of the tokens."""
    domain = get_domain("sensor", smoke=True)
    encoder = tiny(domain.specs, config=ModelConfig(embed_dim=32, depth=1, num_heads=2, mlp_dim=64))
    with torch.no_grad():
        encoder.pos.zero_()
    curves = invariance_curves(encoder, domain.pretrain, families=("shuffle", "mask"), num_samples=64)
    shuffle = curves[curves["family"] == "shuffle"]
    np.testing.assert_allclose(shuffle["score"], 1.0, atol=1e-4)
    mask = curves[(curves["family"] == "mask") & ~curves["identity"]]
    assert (mask["score"] < 0.99).all()  # it is not invariant to everything


def test_scores_have_baselines_and_are_seeded():
    domain = get_domain("tokens", smoke=True)
    encoder = tiny(domain.specs, seed=3)
    grid = {"mask": (0.0, 0.2), "mix": (1.0, 0.7), "crop": (0.0, 0.1)}
    scores = invariance_scores(encoder, domain.pretrain, grid=grid, num_samples=48)
    assert scores["family"].tolist() == ["mask", "shuffle", "mix", "crop"]  # no noise on token ids
    assert scores["num_thetas"].tolist() == [1, 5, 1, 1]
    assert scores["between_sample"].abs().max() < 0.15 and scores["random_init"].notna().all()
    again = invariance_scores(encoder, domain.pretrain, grid=grid, num_samples=48)
    pd.testing.assert_frame_equal(scores, again)
    other = invariance_scores(encoder, domain.pretrain, grid=grid, num_samples=48, seed=1)
    assert not np.allclose(other["score"], scores["score"])


def test_random_init_is_fixed_and_leaves_the_rng_alone():
    encoder = tiny(get_domain("digits", smoke=True).specs, seed=5)
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    first, second = random_init_encoder(encoder), random_init_encoder(encoder)
    assert torch.equal(torch.rand(3), expected)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    assert not torch.equal(first.pos, encoder.pos) and first.config == encoder.config


def test_summarize_curves_skips_the_identity():
    curves = pd.DataFrame(
        {
            "family": ["mask"] * 3,
            "theta": [0.0, 0.1, 0.5],
            "score": [1.0, 0.6, 0.2],
            "score_std": [0.0] * 3,
            "identity": [True, False, False],
        }
    )
    summary = summarize_curves(curves)
    assert summary["score"].tolist() == pytest.approx([0.4]) and summary["num_thetas"].tolist() == [2]


def test_invariance_matrix_rows_objectives_columns_families(tmp_path):
    domain = get_domain("digits", smoke=True)
    names = ("emix", "shed")
    paths = {name: save_encoder(tmp_path / f"{name}.pt", tiny(domain.specs, seed)) for seed, name in enumerate(names)}
    matrix = invariance_matrix(paths, domain, families=("mask", "mix"), num_samples=32)
    assert matrix.index.tolist() == ["emix", "shed", "random_init"] and matrix.columns.tolist() == ["mask", "mix"]
    assert matrix.notna().all().all() and not np.allclose(matrix.loc["emix"], matrix.loc["shed"])
    assert domain_split(domain, "novel/test") is domain.tasks["novel"].test
    with pytest.raises(KeyError, match="split must be 'pretrain'"):
        domain_split(domain, "novel/dev")
    with pytest.raises(KeyError, match="unknown corruption family 'blur'"):
        invariance_matrix(paths, domain, families=("blur",))


def _hand_ledoit_wolf(centered: np.ndarray) -> float:
    """The formula the module computed by hand before it used scikit-learn (Ledoit & Wolf 2004)."""
    n, d = centered.shape
    sample_cov = centered.T @ centered / n
    target = np.trace(sample_cov) / d
    distance = ((sample_cov - target * np.eye(d)) ** 2).sum() / d
    spread = (((centered**2).T @ centered**2).sum() / n - (sample_cov**2).sum()) / (d * n)
    return float(min(max(spread, 0.0), distance) / distance)


@pytest.mark.parametrize("n, d", [(50, 32), (200, 32), (30, 8)])
def test_ledoit_wolf_is_scikit_learns_and_matches_the_hand_formula(n, d):
    from sklearn.covariance import LedoitWolf

    from analysis.whitening import ledoit_wolf_intensity

    x = correlated(n, d, 3)
    mu, sigma, intensity = shrunk_covariance(x, "ledoit_wolf")
    fitted = LedoitWolf().fit(x)
    assert intensity == pytest.approx(fitted.shrinkage_, abs=1e-12)
    np.testing.assert_allclose(sigma, fitted.covariance_, atol=1e-12, rtol=0)
    np.testing.assert_allclose(mu, fitted.location_, atol=1e-12, rtol=0)
    assert ledoit_wolf_intensity(x - x.mean(axis=0)) == pytest.approx(_hand_ledoit_wolf(x - x.mean(axis=0)), abs=1e-12)
