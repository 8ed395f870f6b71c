"""runway: a Monte Carlo model of OpenAI's cash runway.

>>> import runway
>>> cfg = runway.load_config(runway.default_config_path())
>>> res = runway.simulate(cfg, deterministic=True)
>>> round(res.summary()["funding_gap"]["2030"]["p50"])  # HSBC: $207bn
209
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from runway.errors import ConfigError, RunwayError

if TYPE_CHECKING:
    from runway.config import Config, load_config
    from runway.result import Result

__version__ = "0.1.0"
__all__ = [
    "Config",
    "ConfigError",
    "Result",
    "RunwayError",
    "default_config_path",
    "load_config",
    "simulate",
]

DEFAULT_CONFIG = "hsbc_2025_11.toml"


def default_config_path() -> Path:
    """The shipped HSBC base config (``configs/hsbc_2025_11.toml``)."""
    repo = Path(__file__).resolve().parents[2] / "configs" / DEFAULT_CONFIG
    if repo.is_file():  # a source checkout (editable install)
        return repo
    return Path(str(resources.files("runway._configs") / DEFAULT_CONFIG))


def simulate(
    config,
    paths=None,
    seed=None,
    *,
    deterministic=None,
    threads=None,
    chunk_size=None,
    progress=None,
    target_mcse=None,
    max_paths=None,
    on_check=None,
    fold=True,
    baseline=True,
):
    """Run the model.

    Parameters
    ----------
    config : Config or str or Path
        A config or the path of a TOML file. A :class:`Config` is validated again first, so
        one changed with ``model_copy(update=...)`` (which skips validation) is checked like
        a file; to change values the validated way use :meth:`Config.with_overrides`.
    paths, seed : int, optional
        Number of paths and the seed (default: the config's ``[run]`` values). With
        ``target_mcse``, ``paths`` is the first step (default 32,768, whole chunks).
    deterministic : bool, optional
        Every distribution at its central value and every shock at its median: one path
        (default: the config's ``run.deterministic``, itself false by default).
    threads : int, optional
        Numba threads; results are bit-identical for any value.
    chunk_size : int, optional
        Paths per seed stream (default: the config's ``run.chunk_size``).
    progress : callable, optional
        ``progress(done, total)`` after each batch of paths.
    target_mcse : float, optional
        Add paths until the Monte Carlo standard error of P(insolvent by the last full year)
        is at most ``target_mcse`` and that of the year's median funding gap is at most
        ``target_mcse`` times the median (or until ``max_paths``, default 1,000,000). The
        result equals ``simulate(config, paths=result.raw.n_paths, seed=seed)`` exactly;
        ``result.summary()["target_mcse"]`` records the steps.
    max_paths : int, optional
        Cap of a ``target_mcse`` run.
    on_check : callable, optional
        Called with each :class:`runway.engine.TargetCheck` of a ``target_mcse`` run.
    fold : bool
        Fold the monthly cash/revenue/burn into the streaming quantiles behind
        ``Result.fan`` (default). Sweeps, which read only per-path outcomes, pass ``False``.
    baseline : bool
        Also run the deterministic path (``Result.baseline``, the fan's overlay; default).

    Returns
    -------
    Result
    """
    from runway import engine
    from runway.config import Config, load_config, revalidate
    from runway.result import Result

    sha = None
    if isinstance(config, Config):
        config = revalidate(config)
    else:
        p = Path(config)
        config = load_config(p)
        import hashlib

        sha = hashlib.sha256(p.read_bytes()).hexdigest()
    if deterministic is None:
        deterministic = config.run.deterministic
    raw = engine.run(
        config,
        paths=paths,
        seed=seed,
        deterministic=deterministic,
        threads=threads,
        chunk_size=chunk_size,
        progress=progress,
        target_mcse=target_mcse,
        max_paths=max_paths,
        on_check=on_check,
        fold=fold,
        baseline=baseline,
    )
    return Result(raw, config_sha256=sha)


_LAZY = {"Config": "runway.config", "load_config": "runway.config", "Result": "runway.result"}
"""Imported on first use, so ``import runway`` (and ``runway --help``) stays light."""


_SUBMODULES = {"config", "engine", "result", "outputs", "kernel", "report", "sweep", "cli", "io"}


def __getattr__(name: str):
    import importlib

    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"runway.{name}")
    raise AttributeError(f"module 'runway' has no attribute {name!r}")
