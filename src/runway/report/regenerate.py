"""Regenerate ``reports/``: ``python -m runway.report.regenerate [--paths N]``.

Runs every shipped config (``configs/*.toml``, ``configs/stress/*.toml``) at its own seed
and ``--paths`` paths (default 20,000: enough for MCSEs near 0.003 on probabilities while
the committed files stay small), and keeps in ``reports/<scenario>/`` only the small files:
report.md, report.html, the PNGs, summary.json, annual.csv, fan.parquet,
deterministic.csv, config.resolved.toml and the ``.complete`` marker (so ``runway report
reports/<scenario>`` accepts the directory). paths.parquet, quarters.parquet, idata.nc and
monthly.csv stay out of git. Then the vintages side by side (``runway compare``) and the HSBC
run conditioned on the shipped actuals (``runway condition``), see :func:`_vintages`.
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
    runs: dict[str, Path] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for cfg_path in sorted(configs_dir.glob("*.toml")) + sorted(
            (configs_dir / "stress").glob("*.toml")
        ):
            cfg = runway.load_config(cfg_path)
            res = runway.simulate(cfg_path, paths=a.paths)
            if cfg.policies:  # the paired run without them, as `runway run` does (issue 17)
                from runway.policies import compare_with_run

                res.policy_comparison = compare_with_run(res.raw)
            d = write_outputs(res, Path(tmp) / cfg.scenario.name)
            runs[cfg.scenario.name] = d
            dest = a.out / cfg.scenario.name
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            for f in (*KEEP, *PLOTS, MARKER):
                if (d / f).exists():
                    shutil.copy(d / f, dest / f)
            print(f"{cfg_path.name}: {a.paths:,} paths -> {dest}")
        _vintages(runs, a.out)
        _relabel(a.out, Path(tmp))


def _relabel(out: Path, tmp: Path) -> None:
    """Name the kept directories, not the temporary ones, in the comparison reports."""
    for name in ("compare_vintages", "hsbc_2025_11_conditioned", "compare_conditioned"):
        for f in ("report.md", "report.html", "compare.json", "summary.json"):
            p = out / name / f
            if p.exists():
                text = p.read_text()
                for prefix in (str(tmp), str(tmp).replace("_", "\\_")):
                    text = text.replace(prefix, "reports")
                p.write_text(text)


def _vintages(runs: dict[str, Path], out: Path) -> None:
    """The vintages side by side, and the HSBC run conditioned on the shipped actuals (issue 15).

    ``reports/compare_vintages``: every shipped vintage (``runway compare``);
    ``reports/hsbc_2025_11_conditioned``: ``runway condition`` of the HSBC run on the shipped
    actuals (without its weights file); ``reports/compare_conditioned``: that conditioned run
    beside the latest vintage's own run.
    """
    from runway import backtest as bt
    from runway import compare as cmp
    from runway import condition as cond

    vintages = [n for n in ("hsbc_2025_11", "openai_2025_09", "openai_2026_q2") if n in runs]
    if len(vintages) < 2:
        return
    for name in ("compare_vintages", "hsbc_2025_11_conditioned", "compare_conditioned"):
        shutil.rmtree(out / name, ignore_errors=True)
    cmp.write(cmp.compare(cmp.load_runs([runs[n] for n in vintages])), out / "compare_vintages")
    print(f"compare: {', '.join(vintages)} -> {out / 'compare_vintages'}")
    if "hsbc_2025_11" not in runs:
        return
    f = bt.shipped_actuals()
    c = cond.condition(runs["hsbc_2025_11"], bt.load_actuals(f))
    cdir = cond.write(c, runs["hsbc_2025_11"].parent / "hsbc_2025_11_conditioned", f.name)
    dest = out / "hsbc_2025_11_conditioned"
    shutil.copytree(cdir, dest, ignore=shutil.ignore_patterns("weights.parquet"))
    print(f"condition: hsbc_2025_11 on {f.name} -> {dest}")
    if "openai_2026_q2" in runs:
        pair = cmp.load_runs([cdir, runs["openai_2026_q2"]])
        cmp.write(cmp.compare(pair), out / "compare_conditioned")
        print(f"compare: conditioned hsbc_2025_11, openai_2026_q2 -> {out / 'compare_conditioned'}")


if __name__ == "__main__":
    main()
