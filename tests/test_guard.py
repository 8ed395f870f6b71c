"""The memory guard's estimate against the measured peak of real runs (issue 19).

Each point runs ``runway run`` in a child process and reads that child's own ``VmHWM``
(peak resident set) from ``/proc/self/status`` as it exits (:func:`runway.guard.measure_peak`),
so nothing inherited from this process counts. The configs differ from the calibration
points (:data:`runway.guard.CALIBRATION`) in horizon and chunk size; one of them is dominated
by the chunk-sized batch buffers the old estimate ignored. Each variable part is at least a
quarter of the peak, so an estimate that were only the interpreter's base would fail.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from runway import guard
from runway.config import config_from_dict

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="VmHWM needs Linux /proc"
)

FAST = guard.Point("2033-12", 100_000, 100_000)  # batch buffers of 100,000 rows dominate
SLOW = (
    guard.Point("2028-12", 4096, 400_000),  # short horizon, many paths: writing dominates
    guard.Point("2040-12", 2048, 200_000),  # 16 years: per-path arrays four times as wide
    guard.Point("2032-12", 120_000, 240_000),  # chunk-sized buffers dominate again
)


def _check(pt: guard.Point, measured: tuple[int, int] | None = None) -> None:
    peak, est = measured if measured is not None else guard.measure_peak(pt, threads=2)
    print(
        f"{pt}: measured {peak / 2**20:.0f} MiB, estimated {est / 2**20:.0f} MiB", file=sys.stderr
    )
    base_only = max(guard.BASE_BYTES, guard.SIM_BASE_BYTES)
    assert abs(base_only / peak - 1) > 0.25, "the point does not exercise the size terms"
    assert abs(est / peak - 1) <= 0.25, (pt, peak, est)


def test_guard_estimate_within_25_percent_fast() -> None:
    _check(FAST)


@pytest.mark.slow
def test_guard_estimate_within_25_percent() -> None:
    """The three configs, measured concurrently (each child's own peak; wall time of one)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(len(SLOW)) as pool:
        measured = list(pool.map(lambda pt: guard.measure_peak(pt, threads=1), SLOW))
    for pt, m in zip(SLOW, measured, strict=True):
        _check(pt, m)


def test_chunk_sized_buffers_are_counted() -> None:
    """A chunk_size of 1,000,000 means batch buffers of 1,000,000 rows (24 GiB here)."""
    text = guard.config_text("2030-12", 1_000_000)
    cfg = config_from_dict(tomllib.loads(text))
    small = config_from_dict(tomllib.loads(guard.config_text("2030-12", 2048)))
    big = guard.estimate_peak_bytes(cfg, 1_000_000)
    assert big - guard.estimate_peak_bytes(small, 1_000_000) > 1.5 * 2**30
    with pytest.raises(guard.MemoryGuardError, match="run.chunk_size"):
        guard.check_memory(cfg, 1_000_000, available=4 * 2**30)
    guard.check_memory(small, 1_000_000, available=16 * 2**30)  # fits


def test_sweep_guard_counts_workers() -> None:
    cfg = config_from_dict(tomllib.loads(guard.config_text("2030-12", 2048)))
    one = guard.check_sweep_memory(cfg, 10_000, 1, available=2**40)
    eight = guard.check_sweep_memory(cfg, 10_000, 8, available=2**40)
    assert eight - one >= 7 * guard.WORKER_BASE_BYTES
    with pytest.raises(guard.MemoryGuardError, match="--workers"):
        guard.check_sweep_memory(cfg, 10_000, 64, available=8 * 2**30)
