"""FID, KID, IS and precision/recall against closed forms (and torchmetrics when installed)."""
import math

import pytest
import torch

from ganforge.metrics import image as M


def rand_cov(d, seed):
    a = torch.randn(d, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


def test_fid_from_stats_matches_scipy_sqrtm():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    d = 6
    mu1, mu2 = torch.zeros(d, dtype=torch.float64), torch.linspace(0, 1, d, dtype=torch.float64)
    s1, s2 = rand_cov(d, 1), rand_cov(d, 2)   # do not commute: the product's root is not trivial
    covmean = scipy_linalg.sqrtm((s1 @ s2).numpy()).real
    expected = ((mu1 - mu2) ** 2).sum().item() + (s1.trace() + s2.trace()).item() - 2 * covmean.trace()
    assert M.frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_fid_of_samples_approaches_gaussian_closed_form():
    g = torch.Generator().manual_seed(0)
    n, d = 20000, 4
    a = torch.randn(n, d, generator=g)
    b = torch.randn(n, d, generator=g) * 2 + 1           # N(1, 4 I)
    # closed form for isotropic Gaussians: ||mu||^2 + d (s1 + s2 - 2 sqrt(s1 s2))
    expected = d * 1.0 + d * (1 + 4 - 2 * 2)
    assert M.frechet_distance(a, b) == pytest.approx(expected, rel=0.05)
    assert M.frechet_distance(a, torch.randn(n, d, generator=g)) < 0.01


def test_kid_near_zero_for_same_distribution_and_grows_with_shift():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(600, 8, generator=g), torch.randn(600, 8, generator=g)
    same, same_std = M.kernel_inception_distance(a, b, subsets=20, subset_size=300)
    shifted, _ = M.kernel_inception_distance(a, b + 1, subsets=20, subset_size=300)
    assert abs(same) < 3 * same_std + 1e-3
    assert shifted > 10 * max(abs(same), same_std)


def test_kid_unbiased_mmd_closed_form_for_tiny_sets():
    x, y = torch.tensor([[1.0], [0.0]]), torch.tensor([[2.0], [1.0]])
    k = lambda a, b: (a * b + 1) ** 3                     # noqa: E731  d = 1
    expected = k(1, 0) * 2 / 2 + k(2, 1) * 2 / 2 - 2 * (k(1, 2) + k(1, 1) + k(0, 2) + k(0, 1)) / 4
    mean, std = M.kernel_inception_distance(x, y, subsets=3)
    assert mean == pytest.approx(expected) and std == pytest.approx(0.0, abs=1e-9)


def test_inception_score_closed_forms():
    k = 5
    confident = torch.eye(k).repeat(20, 1) * 50       # each class equally often, p(y|x) one-hot
    assert M.inception_score(confident, splits=1)[0] == pytest.approx(k, rel=1e-6)
    assert M.inception_score(confident, splits=4)[0] == pytest.approx(k, rel=0.15)   # shuffled, near-balanced splits
    one_class = torch.zeros(100, k)
    one_class[:, 2] = 50
    assert M.inception_score(one_class)[0] == pytest.approx(1.0, abs=1e-6)
    uniform = torch.zeros(100, k)
    assert M.inception_score(uniform)[0] == pytest.approx(1.0, abs=1e-9)
    # half the mass on 2 of 5 classes each -> IS = exp(KL) with KL = log(5/2)
    half = torch.full((100, k), -math.inf)
    for i in range(100):
        half[i, [i % k, (i + 1) % k]] = 0.0
    assert M.inception_score(half, splits=1)[0] == pytest.approx(k / 2, rel=1e-6)


def test_precision_recall_properties():
    g = torch.Generator().manual_seed(0)
    real = torch.randn(400, 3, generator=g)
    p, r = M.precision_recall(real, torch.randn(400, 3, generator=g))
    assert p > 0.85 and r > 0.85
    p, r = M.precision_recall(real, torch.randn(400, 3, generator=g) + 20)
    assert p == 0.0 and r == 0.0
    collapsed = real[:1].repeat(400, 1) + 1e-3 * torch.randn(400, 3, generator=g)   # one mode only
    p, r = M.precision_recall(real, collapsed)
    assert p == 1.0 and r < 0.05


def test_against_torchmetrics():
    tm_fid = pytest.importorskip("torchmetrics.image.fid")
    tm_kid = pytest.importorskip("torchmetrics.image.kid")
    d = 16

    class Identity(torch.nn.Module):     # torchmetrics' FID/KID accept any module as the extractor
        num_features = d

        def forward(self, x):
            return x.flatten(1).double()

    g = torch.Generator().manual_seed(0)
    a = torch.randn(300, d, generator=g)
    b = torch.randn(300, d, generator=g) * 1.5 + 0.3
    fid = tm_fid.FrechetInceptionDistance(feature=Identity(), normalize=True)
    fid.update(a[:, None, None, :].double(), real=True)
    fid.update(b[:, None, None, :].double(), real=False)
    assert M.frechet_distance(a, b) == pytest.approx(fid.compute().item(), rel=1e-4)
    kid = tm_kid.KernelInceptionDistance(feature=Identity(), subsets=1, subset_size=300, normalize=True)
    kid.update(a[:, None, None, :].double(), real=True)
    kid.update(b[:, None, None, :].double(), real=False)
    assert M.kernel_inception_distance(a, b, subsets=1, subset_size=300)[0] == pytest.approx(
        kid.compute()[0].item(), rel=1e-4)
