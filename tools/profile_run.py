"""Where the CPU time of a ``runway run`` goes, phase by phase (CPU seconds, this process).

Runs what ``runway run --quiet`` runs (``runway.simulate`` then ``write_outputs``) in this
process, after a small warm-up run (numba caches loaded, matplotlib's fonts found), and times
with ``time.process_time`` (every thread of the process; the machine may be shared, so wall
time is not the measure): the imports, the kernel (``runway.kernel.run_chunks``), the
streaming-quantile fold, the rest of the engine, the preparation of the outputs and each
writer of the run directory. ``--cprofile N`` also prints the N functions of most own time.
Usage: ``python tools/profile_run.py [--paths 1000000] [--threads 2] [--idata] [--cprofile 25]``.
"""

from __future__ import annotations

import argparse
import time

T0 = time.process_time()


def main() -> None:
    """Run the profile and print the table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--idata", action="store_true", help="also write idata.nc")
    ap.add_argument("--cprofile", type=int, default=0, metavar="N")
    ap.add_argument("--stats", default=None, help="write the cProfile stats to this file")
    ap.add_argument("--out", default="/tmp/runway_profile_run")
    a = ap.parse_args()

    import runway
    import runway.engine
    import runway.outputs as outputs
    from runway import kernel as K
    from runway.quantiles import StreamingQuantiles
    from runway.result import Result

    t_import = time.process_time() - T0
    spent: dict[str, float] = {}

    def add(name: str, dt: float) -> None:
        spent[name] = spent.get(name, 0.0) + dt

    run_chunks, update = K.run_chunks, StreamingQuantiles.update

    def timed_kernel(*args, **kw):
        t = time.process_time()
        try:
            return run_chunks(*args, **kw)
        finally:
            add("kernel (run_chunks)", time.process_time() - t)

    def timed_update(self, values):
        t = time.process_time()
        try:
            return update(self, values)
        finally:
            add("fold (StreamingQuantiles.update)", time.process_time() - t)

    write_run_dir = outputs.write_run_dir

    def timed_write_run_dir(path, writers):
        def wrap(name, w):
            def run(p):
                t = time.process_time()
                try:
                    w(p)
                finally:
                    add(f"writer {name}", time.process_time() - t)

            return run

        t = time.process_time()
        try:
            return write_run_dir(path, {n: wrap(n, w) for n, w in writers.items()})
        finally:
            add("write_run_dir total", time.process_time() - t)

    cfg = runway.load_config(runway.default_config_path())
    kw = {"idata": True} if a.idata else {}
    t = time.process_time()
    warm = runway.simulate(cfg, paths=2048, seed=1, threads=a.threads)
    outputs.write_outputs(Result(warm.raw), a.out + "_warm", **kw)
    t_warm = time.process_time() - t

    K.run_chunks = timed_kernel  # type: ignore[assignment]
    runway.engine.K.run_chunks = timed_kernel  # type: ignore[attr-defined]
    StreamingQuantiles.update = timed_update  # type: ignore[method-assign]
    outputs.write_run_dir = timed_write_run_dir  # type: ignore[assignment]
    prof = None
    if a.cprofile or a.stats:
        import cProfile

        prof = cProfile.Profile(time.process_time)
        prof.enable()
    t = time.process_time()
    res = runway.simulate(cfg, paths=a.paths, seed=1, threads=a.threads)
    t_sim = time.process_time() - t
    t = time.process_time()
    outputs.write_outputs(Result(res.raw), a.out, **kw)
    t_out = time.process_time() - t
    if prof is not None:
        prof.disable()

    k = spent.get("kernel (run_chunks)", 0.0)
    f = spent.get("fold (StreamingQuantiles.update)", 0.0)
    w = spent.pop("write_run_dir total", 0.0)
    rows = {
        "imports": t_import,
        "(warm-up run, not counted)": t_warm,
        "kernel (run_chunks)": k,
        "fold (StreamingQuantiles.update)": f,
        "engine, rest (baseline path, copies)": t_sim - k - f,
        "outputs: preparation (answers, tables)": t_out - w,
    }
    rows.update({n: v for n, v in spent.items() if n.startswith("writer ")})
    rows["outputs: swap, fsync, marker"] = w - sum(
        v for n, v in spent.items() if n.startswith("writer ")
    )
    total = t_import + t_sim + t_out
    print(f"{a.paths:,} paths, threads {a.threads}, CPU seconds (process_time, all threads)")
    for n, v in rows.items():
        print(f"  {n:42s} {v:7.2f}")
    print(f"  {'total (imports + run + outputs)':42s} {total:7.2f}")
    print(f"  {'total / kernel':42s} {total / k:7.2f}")
    if prof is not None:
        import pstats

        if a.stats:
            prof.dump_stats(a.stats)
        if a.cprofile:
            pstats.Stats(prof).sort_stats("tottime").print_stats(a.cprofile)


if __name__ == "__main__":
    main()
