"""Sample-quality metrics on feature vectors: FID, KID, Inception Score, precision/recall.

All take features (N, D) from one extractor (Inception-v3 pool3, or a classifier's hidden layer)
and compute in float64. They are checked in tests against closed forms and, when installed,
torchmetrics.
"""
from __future__ import annotations

import torch


def gaussian_stats(feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, D) -> mean (D,) and unbiased covariance (D, D), float64."""
    x = feats.double()
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need features (N >= 2, D), got {tuple(x.shape)}")
    mu = x.mean(0)
    xc = x - mu
    return mu, xc.T @ xc / (x.shape[0] - 1)


def _sqrt_psd(m: torch.Tensor) -> torch.Tensor:
    w, v = torch.linalg.eigh((m + m.T) / 2)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def frechet_distance_from_stats(mu1, sigma1, mu2, sigma2) -> float:
    """||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^1/2).

    tr (S1 S2)^1/2 = tr (S1^1/2 S2 S1^1/2)^1/2, a symmetric PSD root: stable, no complex parts
    (scipy.linalg.sqrtm on the non-symmetric product needs that clean-up).
    """
    mu1, mu2, s1, s2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    r1 = _sqrt_psd(s1)
    covmean_trace = torch.linalg.eigvalsh(r1 @ s2 @ r1).clamp_min(0).sqrt().sum()
    d = (mu1 - mu2).square().sum() + s1.trace() + s2.trace() - 2 * covmean_trace
    return max(d.item(), 0.0)


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """FID between the Gaussians fitted to features (N, D) and (M, D)."""
    return frechet_distance_from_stats(*gaussian_stats(feats_a), *gaussian_stats(feats_b))


def _cube(k: torch.Tensor) -> torch.Tensor:
    return k * k * k   # faster than k ** 3 on CPU


def _poly_mmd2(x: torch.Tensor, y: torch.Tensor) -> float:
    """Unbiased MMD^2 with the cubic kernel k(a, b) = (a.b / D + 1)^3 (Binkowski et al. 2018)."""
    d = x.shape[1]
    # float32 products (the slow part) cubed and summed in float64: ~1e-7 relative error per entry
    kxx, kyy, kxy = (_cube((a @ b.T).double().div_(d).add_(1)) for a, b in ((x, x), (y, y), (x, y)))
    m, n = x.shape[0], y.shape[0]
    return ((kxx.sum() - kxx.diag().sum()) / (m * (m - 1)) + (kyy.sum() - kyy.diag().sum()) / (n * (n - 1))
            - 2 * kxy.mean()).item()


def kernel_inception_distance(feats_a: torch.Tensor, feats_b: torch.Tensor, subsets: int = 100,
                              subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID: mean and std of the unbiased MMD^2 over `subsets` random subsets of each set.

    subset_size is capped at the smaller set; unlike FID, KID is unbiased in the sample count.
    """
    a, b = feats_a.float(), feats_b.float()
    size = min(subset_size, a.shape[0], b.shape[0])
    if size < 2:
        raise ValueError("KID needs at least 2 samples in each set")
    g = torch.Generator().manual_seed(seed)
    vals = torch.tensor([_poly_mmd2(a[torch.randperm(a.shape[0], generator=g)[:size]],
                                    b[torch.randperm(b.shape[0], generator=g)[:size]]) for _ in range(subsets)])
    return vals.mean().item(), (vals.std().item() if subsets > 1 else 0.0)


def inception_score(logits: torch.Tensor, splits: int = 10) -> tuple[float, float]:
    """IS = exp(E_x KL(p(y|x) || p(y))), mean and std over `splits` equal parts (Salimans et al. 2016).

    logits (N, K); between 1 (every sample gets the same class distribution) and K."""
    logp = torch.log_softmax(logits.double(), 1)
    # a fixed shuffle first: inputs sorted by class (a labelled test set) would give every split one class
    logp = logp[torch.randperm(logp.shape[0], generator=torch.Generator().manual_seed(0))]
    splits = max(1, min(splits, logp.shape[0]))
    scores = []
    for part in logp.chunk(splits):
        p_y = torch.logsumexp(part, 0) - torch.log(torch.tensor(float(part.shape[0]), dtype=torch.float64))
        p = part.exp()
        kl = torch.where(p > 0, p * (part - p_y), 0.0).sum(1).mean()   # 0 log 0 = 0
        scores.append(kl.exp())
    s = torch.stack(scores)
    return s.mean().item(), (s.std().item() if len(s) > 1 else 0.0)


def _kth_nn_radius(x: torch.Tensor, k: int, batch: int = 2048) -> torch.Tensor:
    """Distance from each row of x (N, D) to its k-th nearest other row (N,)."""
    out = []
    for chunk in x.split(batch):
        d = torch.cdist(chunk, x)
        out.append(d.kthvalue(k + 1, dim=1).values)   # +1: the point itself is at distance 0
    return torch.cat(out)


def _coverage(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor, batch: int = 2048) -> float:
    """Fraction of `points` inside at least one ball (centres, radii)."""
    inside = [(torch.cdist(chunk, centres) <= radii[None]).any(1) for chunk in points.split(batch)]
    return torch.cat(inside).float().mean().item()


def precision_recall(real_feats: torch.Tensor, fake_feats: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    Each set's manifold is the union of balls around its points reaching their k-th nearest
    neighbour. precision: fraction of fakes inside the real manifold (fidelity); recall:
    fraction of reals inside the fake manifold (coverage)."""
    real, fake = real_feats.double(), fake_feats.double()
    if min(real.shape[0], fake.shape[0]) <= k:
        raise ValueError(f"precision/recall with k={k} needs more than {k} samples in each set")
    precision = _coverage(fake, real, _kth_nn_radius(real, k))
    recall = _coverage(real, fake, _kth_nn_radius(fake, k))
    return precision, recall
