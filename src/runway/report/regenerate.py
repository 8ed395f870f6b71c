"""Regenerate ``reports/``: ``python -m runway.report.regenerate [--paths N]``.

Runs every shipped config (``configs/*.toml``, ``configs/stress/*.toml``) at its own seed
and ``--paths`` paths (default 20,000: enough for MCSEs near 0.003 on probabilities while
the committed files stay small), and keeps in ``reports/<scenario>/`` only the small files:
report.md, report.html, the PNGs, summary.json, annual.csv, fan.parquet,
deterministic.csv, config.resolved.toml and the ``.complete`` marker (so ``runway report
reports/<scenario>`` accepts the directory). paths.parquet, idata.nc and monthly.csv stay out
of git.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

KEEP = (
    "report.md",
    "report.html",
    "summary.json",
    "annual.csv",
    "fan.parquet",
    "config.resolved.toml",
    "deterministic.csv",
)


def main(argv: list[str] | None = None) -> None:
    """Regenerate ``reports/<scenario>/`` for every shipped config (see the module docstring)."""
    import runway
    from runway.io import MARKER
    from runway.outputs import write_outputs
    from runway.report.plots import PLOTS

    ap = argparse.ArgumentParser(
        prog="python -m runway.report.regenerate", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--paths", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[3] / "reports")
    a = ap.parse_args(argv)
    configs_dir = runway.default_config_path().parent
    for cfg_path in sorted(configs_dir.glob("*.toml")) + sorted(
        (configs_dir / "stress").glob("*.toml")
    ):
        cfg = runway.load_config(cfg_path)
        res = runway.simulate(cfg_path, paths=a.paths)
        with tempfile.TemporaryDirectory() as tmp:
            d = write_outputs(res, Path(tmp) / "run")
            dest = a.out / cfg.scenario.name
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            for f in (*KEEP, *PLOTS, MARKER):
                if (d / f).exists():
                    shutil.copy(d / f, dest / f)
        print(f"{cfg_path.name}: {a.paths:,} paths -> {dest}")


if __name__ == "__main__":
    main()
