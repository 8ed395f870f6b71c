"""Time the kernel's parts on 1 thread (CPU seconds, best of N, one process).

    python tools/bench_kernel_parts.py [--paths 65536] [--repeat 5]

ns per path-month of: the draws alone (``bench._draws_only``, as ``runway bench`` times them),
draws + ``init_path``, the
whole ``simulate_path`` (adds the month step and the history back-fill), ``run_chunk`` (adds
the fan, the summaries and the drawn inputs) and ``run_chunks`` on 1 thread, as ``runway
bench`` times it. The differences between rows are the parts' costs.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from runway import kernel as K
from runway._jit import borrow, njit
from runway.bench import _buffers, _config, _draws_only
from runway.kernel.inputs import borrow_buffers, borrow_inputs
from runway.kernel.path import draw_path_params, draw_shocks, init_path, simulate_path
from runway.kernel.rng import seed_key
from runway.layout import N_EPS, N_LINES, N_QUARTER, I, T
from runway.model import build_inputs


@njit
def _draws_init(k, b, eps, seed, n_paths):  # pragma: no cover - jitted
    k = borrow_inputs(k)  # as the kernel's path loop reads them (driver._run_paths)
    b = borrow_buffers(b)
    eps = borrow(eps)
    key0, key1 = seed_key(np.uint64(seed))
    acc = 0.0
    for p in range(n_paths):
        draw_path_params(k, key0, key1, p, b.theta, b.cshare, b.cslip)
        init_path(
            k, b.theta, b.cshare, b.cslip, b.pc, b.cpay, b.cgw, b.coff, b.traj, b.st, b.hist,
            b.sbuf,
        )  # fmt: skip
        draw_shocks(k, key0, key1, p, eps)
        acc += eps[0, 0] + b.theta[0] + b.traj[T.PAY, 0]
    return acc


@njit
def _simulate(k, b, eps, rows, seed, n_paths):  # pragma: no cover - jitted
    k = borrow_inputs(k)
    b = borrow_buffers(b)
    eps, rows = borrow(eps), borrow(rows)
    key0, key1 = seed_key(np.uint64(seed))
    n_months = k.iv[I.N_MONTHS]
    no_hold = np.empty(0)
    acc = 0.0
    for p in range(n_paths):
        simulate_path(k, b, key0, key1, p, eps, rows, no_hold)
        acc += rows[n_months - 1, 0]
    return acc


def _cpu(f, *a):
    c0 = time.process_time()
    f(*a)
    return time.process_time() - c0


def main() -> None:
    """Print each part's best CPU time per path-month."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=65_536)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n = args.paths
    numba.set_num_threads(1)
    inp = build_inputs(_config(), stochastic=True)
    kin = K.pack(inp)
    nm = inp.n_months
    chunk = 2048
    n_chunks = -(-n // chunk)
    offsets = np.minimum(np.arange(n_chunks + 1, dtype=np.int64) * chunk, n)
    fan, ann, out, exposure = _buffers(inp, n)
    monthly = np.empty((0, nm, N_LINES))
    drawn = np.empty((n, 0))
    cols = np.empty(0, dtype=np.int64)
    hold = np.empty((0, 0))
    quarterly = np.empty((0, 0, N_QUARTER), dtype=np.float32)
    q_of_m = np.zeros(0, dtype=np.int64)
    k0, k1 = (np.uint64(x) for x in seed_key(np.uint64(1)))

    def chunk_loop():
        for i in range(n_chunks):
            a, b = offsets[i], offsets[i + 1]
            K.run_chunk(
                kin, k0, k1, a, b - a, fan[a:b], ann[a:b], out[a:b], exposure[a:b], monthly,
                drawn[a:b], cols, hold, quarterly, q_of_m,
            )  # fmt: skip

    pb = K.path_buffers(kin)
    eps = np.zeros((N_EPS, nm))
    rows = np.zeros((nm, N_LINES))
    parts = {
        "draws": lambda: _draws_only(kin, 1, n),
        "draws+init": lambda: _draws_init(kin, pb, eps, 1, n),
        "simulate_path": lambda: _simulate(kin, pb, eps, rows, 1, n),
        "run_chunk": chunk_loop,
        "run_chunks(1 thread)": lambda: K.run_chunks(
            kin, 1, 0, offsets, fan, ann, out, exposure, monthly
        ),
    }
    for f in parts.values():  # warm the JIT
        f()
    best = {name: float("inf") for name in parts}
    for _ in range(args.repeat):
        for name, f in parts.items():
            best[name] = min(best[name], _cpu(f))
    pm = n * nm
    for name, t in best.items():
        print(f"{name:24s} {t * 1e9 / pm:7.1f} ns/path-month")
    print(f"draw share: {best['draws'] / best['run_chunks(1 thread)']:.1%}")


if __name__ == "__main__":
    main()
