"""Helpers for the moment tests: the drivers' monthly lines straight from the compiled kernel,
and the moments the config says they have (``docs/model.md`` §7.2).

:func:`driver_lines` runs :func:`runway.kernel.run_chunks` (the engine's own compiled path
loop, its own Philox numbers) in blocks and keeps only the requested monthly lines, so tens of
thousands of paths fit in memory. Paths are independent (one Philox counter per path), so a
moment measured across paths at one month has the plain iid MCSE; a moment pooled over months
uses batch means (one batch per path, :func:`batch_mcse`).
"""

from __future__ import annotations

import math

import numpy as np

from runway import kernel as K
from runway.layout import N_FAN, N_LINES, N_OUT, L
from runway.model import build_inputs

BLOCK = 4096


def driver_lines(cfg, n_paths: int, seed: int, lines) -> dict[str, np.ndarray]:
    """Monthly lines ``lines`` (kernel names, e.g. ``"USERS_DEV"``) of ``n_paths`` paths.

    Returns ``{name: array of shape (n_paths, n_months)}``.
    """
    inp = build_inputs(cfg, stochastic=True)
    k = K.pack(inp)
    nm, ny, ncp = inp.n_months, inp.n_years, inp.n_counterparties
    idx = [int(L[n]) for n in lines]
    got = {n: np.empty((n_paths, nm)) for n in lines}
    for a in range(0, n_paths, BLOCK):
        b = min(BLOCK, n_paths - a)
        monthly = np.zeros((b, nm, N_LINES))
        K.run_chunks(
            k,
            seed,
            a,
            np.array([0, b], dtype=np.int64),
            np.zeros((b, N_FAN, nm)),
            np.zeros((b, ny, N_LINES)),
            np.zeros((b, N_OUT)),
            np.zeros((b, ncp)),
            monthly,
        )
        for n, i in zip(lines, idx, strict=True):
            got[n][a : a + b] = monthly[:, :, i]
    return got


def ar1_var(sd: float, rho: float, m: int) -> float:
    """Variance in month ``m`` of ``d_m = rho d_{m-1} + sd sqrt(1 - rho^2) z_m``, ``d_{-1} = 0``."""
    return sd * sd * (1.0 - rho ** (2 * (m + 1)))


def ar1_cross_cov(sd_i, rho_i, sd_j, rho_j, load_ij, m: int) -> float:
    """Covariance in month ``m`` of two such AR(1)s whose innovations correlate ``load_ij``."""
    q = rho_i * rho_j
    s = (m + 1) if q == 1.0 else (1.0 - q ** (m + 1)) / (1.0 - q)
    return sd_i * sd_j * math.sqrt((1 - rho_i**2) * (1 - rho_j**2)) * load_ij * s


def innovations(d: np.ndarray, sd: float, rho: float) -> np.ndarray:
    """The standardised innovations ``z_m`` of an AR(1) path array (n_paths, n_months)."""
    prev = np.concatenate([np.zeros((d.shape[0], 1)), d[:, :-1]], axis=1)
    return (d - rho * prev) / (sd * math.sqrt(1.0 - rho * rho))


def sentiment_innovations(s: np.ndarray, rho: float) -> np.ndarray:
    """The common innovation ``c_m`` from the reported sentiment index (``s_0 = c_0``)."""
    c = np.empty_like(s)
    c[:, 0] = s[:, 0]
    c[:, 1:] = (s[:, 1:] - rho * s[:, :-1]) / math.sqrt(1.0 - rho * rho)
    return c


def corr_mcse(r: float, n: int) -> float:
    """Large-sample standard error of a sample correlation of ``n`` iid normal pairs."""
    return (1.0 - r * r) / math.sqrt(n)


def sd_mcse(sd: float, n: int) -> float:
    """Standard error of a sample sd of ``n`` iid normals."""
    return sd / math.sqrt(2.0 * (n - 1))


def batch_mcse(per_path: np.ndarray) -> float:
    """MCSE of the mean of a per-path statistic (batch means, one batch per path)."""
    return float(per_path.std(ddof=1) / math.sqrt(per_path.size))


def stationary(p: np.ndarray) -> np.ndarray:
    """Stationary law of a transition matrix (left eigenvector for eigenvalue 1)."""
    w, v = np.linalg.eig(p.T)
    x = np.real(v[:, np.argmin(np.abs(w - 1.0))])
    return x / x.sum()


def transition_counts(reg: np.ndarray, initial: int) -> np.ndarray:
    """(3, 3) counts of month-to-month moves, the move into month 0 (from ``initial``) included."""
    prev = np.concatenate([np.full((reg.shape[0], 1), initial), reg[:, :-1]], axis=1)
    c = np.zeros((3, 3))
    np.add.at(c, (prev.astype(np.int64).ravel(), reg.astype(np.int64).ravel()), 1.0)
    return c


def integrated_var(sd: float, rho: float, m: int) -> float:
    """Variance in month ``m`` of ``L_m = sum_{k<=m} d_k / 12`` (the enterprise log level)."""
    b2 = sd * sd * (1.0 - rho * rho)
    if rho == 1.0:  # pragma: no cover - the schema keeps rho < 1
        raise ValueError("rho must be below 1")
    return b2 / 144.0 * sum(((1.0 - rho ** (m - j + 1)) / (1.0 - rho)) ** 2 for j in range(m + 1))
