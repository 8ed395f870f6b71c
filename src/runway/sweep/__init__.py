"""Config-driven sweeps with common random numbers, on local processes or a dask cluster.

A sweep file (TOML, ``configs/sweeps/``) names a base config and one or more axes; each
scenario is the base config with the axes' values applied. Every scenario runs with the same
seed and number of paths, so path ``i`` of every scenario sees the same random stream
(common random numbers) and differences to the base are *paired*: their Monte Carlo error is
that of the per-path differences, usually far smaller than that of either scenario.

Sweep file::

    name = "conversion_x_winter"
    description = "..."               # optional, heads the report
    base = "../hsbc_2025_11.toml"     # relative to the sweep file
    paths = 20000                     # per scenario (--paths overrides)
    seed = 20251124                   # default: the base config's run.seed
    years = [2027, 2028, 2029, 2030]  # default: every calendar year of the base config

    [design]
    kind = "grid"                     # grid (default) | lhs | sobol
    # n = 16                          # lhs / sobol: number of points (sobol: a power of two)
    # seed = 0                        # lhs / sobol: the design's own seed

    [[axes]]
    name = "conversion_2030"          # column name (default: derived from path / kind)
    path = "consumer.conversion_target"
    values = [0.05, 0.07, 0.10]       # or range = { start = 0.05, stop = 0.2, num = 4 }

    [[axes]]
    kind = "winter_probability"       # a derived axis (below)
    values = [0.0, 0.01, 0.03]        # lhs / sobol axes give bounds = [low, high] instead

The grid is the full product of the axes' values (the last axis varies fastest); a Latin
hypercube or scrambled Sobol design draws ``n`` points in the axes' bounds with
:mod:`scipy.stats.qmc`. Scenario 0 is always the base config itself; its axis values are the
base's (a distribution's central value, 1 for a scale), and the other scenarios are numbered
from 1 in design order.

Axis kinds
----------
``param`` (default)
    ``path`` is a dotted path into the config: ``consumer.conversion_target``,
    ``compute.contracts.azure.share_online`` (a list of named tables is indexed by name or
    position), ``financing.regime.transition.1.2`` (tuple elements by position). If the base
    value is a number the axis value replaces it. If it is a distribution the axis value
    becomes its *central value* and the distribution shifts with it, keeping its spread:
    normal ``mean``; lognormal ``median`` (sigma kept); uniform, triangular, PERT and
    percentile forms move every point by the same amount, then uniform / triangular / PERT
    points are clipped to the parameter's admissible interval. A distribution stays a
    distribution so that it consumes the same random numbers and the paths stay aligned (a
    number would consume none and shift every later draw of the path).
``winter_probability``
    The monthly probability of moving from the normal to the winter market regime
    (``financing.regime.transition[1][2]``); normal -> normal absorbs the change so the row
    still sums to 1.
``contract_scale``
    A multiplier on every compute contract's ``value_bn`` (the compute commitment scale).
    Contracted GW, and so per-GW strategic money, are unchanged.

Common random numbers hold path by path as long as a scenario draws the same number of
random numbers per path as the base, which the axes above preserve with one exception: a
PERT whose points are clipped changes shape, and numpy's beta sampler (rejection) then
consumes a different amount of its stream, so later paths of the same chunk are no longer
aligned. Differences stay unbiased; they are only less tightly paired.

Outputs (:func:`run_sweep`): ``sweep.parquet`` (a row per scenario: ``scenario``,
``is_base``, the axis values, and the results of :func:`scenario_row` with their MCSE and
paired differences), ``sweep.md`` / ``sweep.html`` (:mod:`runway.sweep.report`),
``timings.csv`` (wall time per scenario), ``sweep.json`` (what was run) and
``scenarios/`` (one atomically written row per finished scenario, for ``--resume``).

Modules: :mod:`~runway.sweep.spec` (the file), :mod:`~runway.sweep.axes` (overrides),
:mod:`~runway.sweep.stats` (headline numbers, MCSE, paired differences),
:mod:`~runway.sweep.execute` (executors, files, resume), :mod:`~runway.sweep.report`,
:mod:`~runway.sweep.command` (the CLI).
"""

from __future__ import annotations

from runway.sweep.axes import apply_axes, base_value, shift_param
from runway.sweep.command import sweep_command
from runway.sweep.execute import Task, fingerprint, run_scenario, run_sweep
from runway.sweep.spec import (
    BASE_ID,
    Axis,
    Design,
    RangeSpec,
    Scenario,
    Sweep,
    SweepSpec,
    design_points,
    load_sweep,
)
from runway.sweep.stats import (
    Outcome,
    paired_mean_diff,
    paired_quantile_diff,
    quantile_mcse,
    scenario_row,
)

__all__ = [
    "BASE_ID",
    "Axis",
    "Design",
    "Outcome",
    "RangeSpec",
    "Scenario",
    "Sweep",
    "SweepSpec",
    "Task",
    "apply_axes",
    "base_value",
    "design_points",
    "fingerprint",
    "load_sweep",
    "paired_mean_diff",
    "paired_quantile_diff",
    "quantile_mcse",
    "run_scenario",
    "run_sweep",
    "scenario_row",
    "shift_param",
    "sweep_command",
]
