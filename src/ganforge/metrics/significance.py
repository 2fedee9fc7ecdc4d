"""Is a forecaster really better than a baseline? The Diebold-Mariano test with the
Harvey-Leybourne-Newbold (1997) small-sample correction, and split-conformal intervals.

Pure numpy + math (no scipy at run time): the Student t distribution comes from the regularized
incomplete beta function, evaluated by its continued fraction.
"""
from __future__ import annotations

import math

import numpy as np


# --------------------------------------------------------------------------- Student t

def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz method)."""
    tiny, qab, qap, qam = 1e-300, a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)), -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
            last = d * c
        if abs(last - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b) for a, b > 0 and 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t < 0 else 1.0 - tail


# --------------------------------------------------------------------------- Diebold-Mariano

def dm_test(e_model: np.ndarray, e_base: np.ndarray, horizon: int = 1, power: int = 2) -> dict[str, float]:
    """One-sided Diebold-Mariano test of H0 "equal accuracy" against H1 "the model's loss is lower".

    e_model, e_base: forecast errors (M,) or (M, H) of the same M windows, in time order; a
    window's loss is |e|^power averaged over its H steps. The loss differential d = L(model) -
    L(base) gets a long-run variance from its autocovariances up to lag horizon-1 (h-step
    forecasts overlap), the statistic the HLN factor sqrt((M + 1 - 2h + h(h-1)/M) / M), and the
    p-value P(t_{M-1} <= DM*). Returns {"stat", "p", "mean_diff", "n"}.
    """
    lm = np.abs(np.asarray(e_model, float)) ** power
    lb = np.abs(np.asarray(e_base, float)) ** power
    d = (lm.reshape(len(lm), -1).mean(1) - lb.reshape(len(lb), -1).mean(1))
    n, h = len(d), max(1, int(horizon))
    if n < 2:
        return {"stat": float("nan"), "p": float("nan"), "mean_diff": float(d.mean()) if n else float("nan"), "n": n}
    mean = float(d.mean())
    c = d - mean
    gamma = [float(np.dot(c[k:], c[:n - k]) / n) for k in range(min(h, n))]
    var = gamma[0] + 2 * sum(gamma[1:])
    if var <= 0:            # the truncated sum can go negative; fall back to the plain variance
        var = gamma[0]
    if var <= 0:            # identical losses everywhere: no evidence either way unless the mean differs
        p = 0.5 if mean == 0 else (0.0 if mean < 0 else 1.0)
        return {"stat": float("nan") if mean == 0 else math.copysign(math.inf, mean), "p": p, "mean_diff": mean, "n": n}
    stat = mean / math.sqrt(var / n)
    stat *= math.sqrt(max(n + 1 - 2 * h + h * (h - 1) / n, 0.0) / n)
    return {"stat": stat, "p": t_cdf(stat, n - 1), "mean_diff": mean, "n": n}


def compare(y: np.ndarray, forecasts: dict[str, np.ndarray], model: str, horizon: int) -> dict[str, dict]:
    """{baseline: {"p_abs", "p_sq", "stat_abs", "stat_sq"}}: DM tests of `model` against every other forecast."""
    err = {k: y - p for k, p in forecasts.items()}
    out = {}
    for name, e in err.items():
        if name == model:
            continue
        a, s = dm_test(err[model], e, horizon, 1), dm_test(err[model], e, horizon, 2)
        out[name] = {"p_abs": a["p"], "p_sq": s["p"], "stat_abs": a["stat"], "stat_sq": s["stat"]}
    return out


def verdict(tests: dict[str, dict], alpha: float = 0.05, name: str = "GRU") -> str:
    """One sentence per baseline: "better than X" only when the one-sided DM p-values on both the
    absolute and the squared errors are below alpha."""
    better, not_better = [], []
    for base, t in tests.items():
        ps = f"p = {t['p_abs']:.3g} on |e|, {t['p_sq']:.3g} on e²"
        if t["p_abs"] < alpha and t["p_sq"] < alpha:
            better.append(f"better than {base} ({ps})")
        else:
            not_better.append(f"not significantly better than {base} ({ps})")
    head = f"the {name} is " + "; ".join(better + not_better)
    tail = (f" [one-sided Diebold-Mariano test with HLN correction, alpha {alpha:g}]")
    if not_better:
        tail += ": do not claim skill over those"
    return head + tail


# --------------------------------------------------------------------------- split conformal

def conformal_quantiles(residuals: np.ndarray, levels) -> dict[str, list[float]]:
    """Split-conformal half-widths per horizon step from calibration residuals (M, H) (actual -
    forecast on the validation part): for level a, the ceil((M+1)a)-th smallest |residual| of each
    step. Distribution-free: if calibration and future windows are exchangeable, y lies in
    forecast ± q with probability >= a. {"0.8": [q_1 .. q_H], ...}; inf when M is too small."""
    r = np.sort(np.abs(np.asarray(residuals, float)).reshape(len(residuals), -1), axis=0)
    return {level_key(a): [conformal_rank(r[:, j], float(a)) for j in range(r.shape[1])] for a in levels}


def conformal_rank(sorted_scores: np.ndarray, level: float, cap: bool = False) -> float:
    """The ceil((n+1) * level)-th smallest of n sorted scores; past n: inf (or the largest with
    cap); level <= 0: 0."""
    n = len(sorted_scores)
    k = math.ceil((n + 1) * level - 1e-12)
    if k <= 0 or n == 0:
        return 0.0 if n else math.inf
    if k > n:
        return float(sorted_scores[-1]) if cap else math.inf
    return float(sorted_scores[k - 1])


def level_key(a: float) -> str:
    return f"{float(a):g}"


def coverage(y: np.ndarray, pred: np.ndarray, half_width) -> float:
    """Share of actual values inside pred ± half_width (half_width broadcast over windows)."""
    q = np.asarray(half_width, float)[None, :]
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(pred)) <= q))
