"""Backtest a run against sourced actuals: each actual's percentile in the run's paths.

``runway backtest RUNDIR --actuals FILE`` (default: the shipped ``runway/_data/actuals.toml``)
reads the run directory and, for every actual whose period ends after the run's cash as-of
month, gives its percentile in the run's predictive distribution, whether it lies inside the
90% band (P5..P95) and the 98% band (P1..P99), and the 90% interval score (Gneiting and
Raftery 2007, alpha = 0.1):

    IS = (u - l) + (2 / alpha) (l - x) 1{x < l} + (2 / alpha) (x - u) 1{x > u}

The predictive distribution is what the run says the *reported* figure will be: a path's value
``v_i`` plus the actual's own measurement error, ``N(0, s^2)`` with ``s`` its
``uncertainty_bn``, so ``F(x) = mean_i Phi((x - v_i) / s)`` (with ``s = 0``: the paths' mid-rank
share below ``x``). Comparing a figure known to +-s with paths that carry no such error would
call a model wrong for the rounding of a press report. The paths' own percentile (``s = 0``) is
listed beside it.

Per-path values come from ``monthly.csv`` when the run wrote it (``--monthly``: every
quantity and period), else from ``quarters.parquet`` (every path's quarterly revenue, burn,
quarter-end cash and money raised by source: any year, half or quarter, and cash at a quarter's
end), else from ``paths.parquet`` (calendar-year revenue and burn, year-end cash); an actual
the run's files cannot give is listed with the reason.
"""

from __future__ import annotations

import contextlib
import json
import math
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runway.errors import RunwayError

ALPHA = 0.1
FLOAT32_TIE = 2.0**-22
"""Relative distance below which a path's value ties with the actual (float32 storage)."""
RAISED_LINES = (
    "equity_raised",
    "debt_raised",
    "ipo_raised",
    "strategic_raised",
    "bridge_raised",
    "equity_committed",  # tranches of rounds signed before the vintage, paid after it
)
"""Lines summed for a ``raised`` actual: money received, tranches of committed rounds included.

Facility draws are not in it: a draw on the revolver is not reported as a raise."""


class Actual(BaseModel):
    """One sourced actual."""

    model_config = ConfigDict(extra="forbid")
    name: str
    measure: Literal["revenue", "burn", "cash", "raised", "signed"]
    period: str = Field(pattern=r"^\d{4}(-(H[12]|Q[1-4]|(0[1-9]|1[0-2])))?$")
    value_bn: float
    uncertainty_bn: float = Field(default=0.0, ge=0)
    source: str


class Actuals(BaseModel):
    """An actuals file: a list of ``[[actual]]`` tables."""

    model_config = ConfigDict(extra="forbid")
    actual: list[Actual]


def shipped_actuals() -> Path:
    """The shipped actuals file."""
    return Path(str(resources.files("runway") / "_data" / "actuals.toml"))


def load_actuals(path: Path) -> list[Actual]:
    """Read and validate an actuals TOML (one-line :class:`RunwayError` on bad input)."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RunwayError(f"--actuals {path}: cannot read it as TOML ({exc})") from None
    try:
        return Actuals.model_validate(data).actual
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise RunwayError(f"--actuals {path}: {loc}: {err['msg']}") from None


def period_months(period: str) -> list[str]:
    """The ``YYYY-MM`` months of a period (a month-end period is its one month)."""
    y = int(period[:4])
    if len(period) == 4:
        ms = range(1, 13)
    elif period[5] == "H":
        ms = range(1, 7) if period[6] == "1" else range(7, 13)
    elif period[5] == "Q":
        q = int(period[6])
        ms = range(3 * q - 2, 3 * q + 1)
    else:
        ms = range(int(period[5:]), int(period[5:]) + 1)
    return [f"{y:04d}-{m:02d}" for m in ms]


# tools: per-path values from quarters.parquet ---------------------------------------------------
def period_quarters(period: str) -> list[str] | None:
    """The ``YYYYQn`` quarters a period is made of; ``None`` for a month that is no quarter end."""
    months = period_months(period)
    if len(months) == 1 and int(months[0][5:]) % 3:
        return None
    first, last = int(months[0][5:]), int(months[-1][5:])
    y = months[0][:4]
    return [f"{y}Q{q}" for q in range((first - 1) // 3 + 1, (last - 1) // 3 + 2)]


class QuarterArray:
    """The engine's (path, quarter, line) float32 array read like ``quarters.parquet``'s columns.

    ``col in q`` and ``q[col]`` for ``col = "<line>_<YYYYQn>"``, without building the table
    (a million paths' quarterly table is a gigabyte).
    """

    def __init__(self, values: np.ndarray, lines: tuple[str, ...], labels: tuple[str, ...]):
        self.values = values
        self.index = {
            f"{ln}_{lb}": (j, k) for k, ln in enumerate(lines) for j, lb in enumerate(labels)
        }

    def __contains__(self, col: object) -> bool:
        return col in self.index

    def __getitem__(self, col: str) -> np.ndarray:
        j, k = self.index[col]
        return self.values[:, j, k]


class ParquetColumns:
    """A run's per-path Parquet file (quarters.parquet, paths.parquet), a column at a time.

    ``col in t`` reads the schema, ``t[col]`` reads the column once and keeps it (a million
    paths' quarterly table is a gigabyte; an actual needs a few columns).
    """

    def __init__(self, path: Path):
        import pyarrow.parquet as pq

        self.path = path
        with _reading(path):
            self.names = set(pq.read_schema(path).names)
        self.cache: dict[str, np.ndarray] = {}

    def __contains__(self, col: object) -> bool:
        return col in self.names

    def __getitem__(self, col: str) -> np.ndarray:
        if col not in self.cache:
            import pyarrow.parquet as pq

            with _reading(self.path):
                self.cache[col] = pq.read_table(self.path, columns=[col]).column(0).to_numpy()
        return self.cache[col]


def quarter_values(
    quarters: QuarterArray | ParquetColumns, a: Actual, grid: tuple[str, str] | None = None
) -> tuple[np.ndarray | None, str]:
    """Per-path values of an actual from the quarterly table (``quarters.parquet``).

    Flows (revenue, burn, raised) of a year, half or quarter are sums of its quarters; cash at
    a month end needs a quarter-end month. ``grid``: the run's first and last month
    (``YYYY-MM``); a flow period must lie on it whole. ``None`` and the reason when the table
    cannot give it.
    """
    months = period_months(a.period)
    if grid is not None and (months[-1] > grid[1] or (a.measure != "cash" and months[0] < grid[0])):
        return None, "period outside the run's calendar"
    qs = period_quarters(a.period)
    if qs is None:
        return None, "needs monthly.csv (a month that is no quarter end)"
    if a.measure == "cash":
        col = f"cash_{qs[-1]}"
        if col not in quarters:
            return None, "period outside the run's calendar"
        return np.asarray(quarters[col], dtype=np.float64), "quarters.parquet"
    if len(period_months(a.period)) == 1:
        return None, "needs monthly.csv (a flow over one month)"
    lines = (
        list(RAISED_LINES)
        if a.measure == "raised"
        else ["round_signed"]
        if a.measure == "signed"
        else [a.measure]
    )
    cols = [f"{ln}_{q}" for ln in lines for q in qs]
    if any(c not in quarters for c in cols):
        return None, "period outside the run's calendar"
    total = np.zeros(quarters[cols[0]].shape[0])
    for c in cols:
        total += quarters[c]
    return total, "quarters.parquet"


def run_values(
    run_dir: Path, grid: tuple[str, str] | None = None
) -> Callable[[Actual], tuple[np.ndarray | None, str]]:
    """``values(actual)``: an actual's per-path values in a run directory, or None and why.

    From monthly.csv when the run kept it, else quarters.parquet, else the per-path years of
    paths.parquet; each file is opened once for every actual asked. ``grid``: the run's first
    and last month (summary.json ``start``, ``end``), if known. A per-path file that cannot be
    read is a :class:`~runway.errors.RunwayError` naming it.
    """
    monthly = run_dir / "monthly.csv"
    quarters = run_dir / "quarters.parquet"  # tools: every path, any year, half or quarter
    opened: dict[str, Any] = {}

    def table(name: str, open_: Callable[[], Any]) -> Any:
        if name not in opened:
            opened[name] = open_()
        return opened[name]

    def values(a: Actual) -> tuple[np.ndarray | None, str]:
        if monthly.exists():
            with _reading(monthly):
                return monthly_values(table("monthly", lambda: pd.read_csv(monthly)), a)
        if quarters.exists():
            v, basis = quarter_values(table("quarters", lambda: ParquetColumns(quarters)), a, grid)
            if v is not None or basis.startswith("period outside"):
                return v, basis
        paths = table("paths", lambda: ParquetColumns(run_dir / "paths.parquet"))
        return year_values(paths, a)

    return values


def monthly_values(df: pd.DataFrame, a: Actual) -> tuple[np.ndarray | None, str]:
    """Per-path values of an actual from every monthly line of every path (monthly.csv)."""
    months = period_months(a.period)
    sub = df[df["month"].isin(months)]
    if sub["month"].nunique() != len(months):
        return None, "period outside the run's calendar"
    g = sub.groupby("path", sort=True)
    if a.measure == "revenue":
        return g["revenue"].sum().to_numpy(), "monthly.csv"
    if a.measure == "burn":
        return -g["fcf"].sum().to_numpy(), "monthly.csv"
    if a.measure == "raised":
        return g[list(RAISED_LINES)].sum().sum(axis=1).to_numpy(), "monthly.csv"
    if a.measure == "signed":  # rounds signed in the period, at their full size
        return g["round_signed"].sum().to_numpy(), "monthly.csv"
    last = sub[sub["month"] == months[-1]].sort_values("path")
    return last["cash"].to_numpy(), "monthly.csv"


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn a failure to read a run's per-path file into one line naming it."""
    import pyarrow as pa

    try:
        yield
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        if isinstance(exc, FileNotFoundError):
            what = "no such file"
        else:
            what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunwayError(
            f"{path}: cannot be read ({what}); run `runway run` again to write the run directory"
        ) from None


def year_values(paths: pd.DataFrame | ParquetColumns, a: Actual) -> tuple[np.ndarray | None, str]:
    """Per-path values from the per-path years (``paths.parquet``, or the table in memory).

    A calendar year's revenue or burn, or year-end cash; ``None`` and the reason otherwise.
    """
    year, months = a.period[:4], period_months(a.period)
    if a.measure in ("revenue", "burn") and len(a.period) == 4 and f"revenue_{year}" in paths:
        if a.measure == "revenue":
            return np.asarray(paths[f"revenue_{year}"]), "paths.parquet"
        return -np.asarray(paths[f"fcf_{year}"]), "paths.parquet"
    if a.measure == "cash" and months[-1].endswith("-12") and f"cash_{year}" in paths:
        return np.asarray(paths[f"cash_{year}"]), "paths.parquet"
    return None, "needs monthly.csv (runway run --monthly, at most 1,000 paths)"


@dataclass(frozen=True)
class Row:
    """One actual's backtest line (``percentile`` etc. ``nan`` when not computable)."""

    name: str
    period: str
    value_bn: float
    percentile: float
    p05: float
    p50: float
    p95: float
    inside_90: bool | None
    interval_score: float
    basis: str
    path_percentile: float = float("nan")  # the paths' own mid-rank percentile (s = 0)
    inside_98: bool | None = None  # inside P1..P99 of the predictive distribution


def _phi(z: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    return np.asarray(ndtr(z))


PHI_REACH = 8.5
"""Beyond this many error sds from ``x`` a path's ``Phi`` is 0 or 1 to double precision."""


def predictive_cdf(v: np.ndarray, s: float, x: float, *, is_sorted: bool = False) -> float:
    """``P(V + e <= x)``, ``V`` uniform over the paths ``v``, ``e ~ N(0, s^2)`` (mid-rank at 0).

    With ``is_sorted`` (``v`` ascending) only the paths within ``PHI_REACH * s`` of ``x`` are
    evaluated; the others count 1 (below) or 0 (above), as ``Phi`` rounds them.
    """
    if s <= 0.0:
        # equal within float32 storage (quarters.parquet): 30.8 is stored as 30.7999992
        tie = np.abs(v - x) <= FLOAT32_TIE * max(1.0, abs(x))
        return float((np.sum((v < x) & ~tie) + 0.5 * np.sum(tie)) / v.size)
    if not is_sorted:
        return float(np.mean(_phi((x - v) / s)))
    a, b = np.searchsorted(v, [x - PHI_REACH * s, x + PHI_REACH * s])
    return float((a + np.sum(_phi((x - v[a:b]) / s))) / v.size)


def _cdf_pdf(v: np.ndarray, s: float, x: float) -> tuple[float, float]:
    """:func:`predictive_cdf` of sorted ``v`` and the density of ``V + e`` at ``x``."""
    a, b = np.searchsorted(v, [x - PHI_REACH * s, x + PHI_REACH * s])
    z = (x - v[a:b]) / s
    pdf = float(np.sum(np.exp(-0.5 * z * z))) / (s * math.sqrt(2.0 * math.pi) * v.size)
    return float((a + np.sum(_phi(z))) / v.size), pdf


def predictive_quantile(v: np.ndarray, s: float, q: float, *, is_sorted: bool = False) -> float:
    """The ``q`` quantile of ``V + e`` (exact at s = 0).

    Newton's method on :func:`predictive_cdf` inside a bracket that each step narrows (a
    bisection step where Newton would leave it), from the paths' own ``q`` quantile +-
    ``PHI_REACH * s`` (the mixture's quantile lies within it), to a relative step of 1e-9.
    """
    if s <= 0.0:
        return float(np.quantile(v, q))
    if not is_sorted:
        v = np.sort(v)
    x = float(np.quantile(v, q))
    lo, hi = x - PHI_REACH * s, x + PHI_REACH * s
    while predictive_cdf(v, s, lo, is_sorted=True) > q:  # never in exact arithmetic
        lo -= PHI_REACH * s
    while predictive_cdf(v, s, hi, is_sorted=True) < q:
        hi += PHI_REACH * s
    for _ in range(200):
        f, d = _cdf_pdf(v, s, x)
        if f < q:
            lo = x
        else:
            hi = x
        step = (q - f) / d if d > 0.0 else math.inf
        nxt = x + step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        if abs(nxt - x) < 1e-9 * max(1.0, abs(x)) or hi - lo < 1e-9 * max(1.0, abs(x)):
            return nxt
        x = nxt
    return x


def backtest(run_dir: Path, actuals: list[Actual]) -> list[Row]:
    """The backtest rows of every actual whose period ends after the run's as-of month."""
    run_dir = Path(run_dir)
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        raise RunwayError(f"{run_dir}: not a run directory (summary.json: {exc})") from None
    grid = (str(summary["start"]), str(summary["end"])) if "start" in summary else None
    return backtest_rows(actuals, str(summary["cash_as_of"]), run_values(run_dir, grid))


def backtest_result(result: Any, actuals: list[Actual]) -> list[Row]:
    """:func:`backtest` of a :class:`runway.Result` in memory.

    Per-path values come from its quarterly record, else its per-path years: what
    ``runway run`` puts in ``summary.json["backtest"]``.
    """
    raw = result.raw
    cal = result.calendar
    labels = cal.labels()
    grid = (str(labels[0]), str(labels[-1]))
    q = (
        QuarterArray(raw.quarterly, tuple(raw.quarter_lines), tuple(raw.quarter_labels))
        if raw.quarterly is not None
        else None
    )

    def values(a: Actual) -> tuple[np.ndarray | None, str]:
        if q is not None:
            v, basis = quarter_values(q, a, grid)
            if v is not None or basis.startswith("period outside"):
                return v, basis
        return year_values(result.paths, a)

    return backtest_rows(actuals, str(result.config.liquidity.cash_as_of), values)


def backtest_rows(
    actuals: list[Actual],
    as_of: str,
    values: Callable[[Actual], tuple[np.ndarray | None, str]],
) -> list[Row]:
    """A row for every actual after ``as_of``; ``values(actual)``: (per-path values, basis)."""
    rows = []
    for a in actuals:
        if period_months(a.period)[-1] <= as_of:
            continue
        v, basis = values(a)
        if v is None or v.size == 0:
            nan = float("nan")
            rows.append(Row(a.name, a.period, a.value_bn, nan, nan, nan, nan, None, nan, basis))
            continue
        x, s = a.value_bn, a.uncertainty_bn
        v = np.sort(v)  # once: every predictive evaluation below reads a window of it

        def quantile(q: float, v: np.ndarray = v, s: float = s) -> float:
            return predictive_quantile(v, s, q, is_sorted=True)

        pct = predictive_cdf(v, s, x, is_sorted=True)
        lo, med, hi = (quantile(q) for q in (ALPHA / 2, 0.5, 1 - ALPHA / 2))
        score = (hi - lo) + 2 / ALPHA * max(lo - x, 0.0) + 2 / ALPHA * max(x - hi, 0.0)
        raw = predictive_cdf(v, 0.0, x)
        if s > 0.0:  # a continuous CDF: x is inside [Q(a), Q(b)] exactly when a <= F(x) <= b
            inside_90 = ALPHA / 2 <= pct <= 1 - ALPHA / 2
            inside_98 = 0.01 <= pct <= 0.99
        else:  # steps (mid-rank percentiles, interpolated quantiles): compare with the quantiles
            inside_90 = lo <= x <= hi
            inside_98 = quantile(0.01) <= x <= quantile(0.99)
        rows.append(
            Row(a.name, a.period, x, pct, lo, med, hi, inside_90, score, basis, raw, inside_98)
        )
    return rows


def to_summary(rows: list[Row], actuals_file: str) -> dict[str, Any]:
    """``summary.json["backtest"]``: the rows as plain numbers (NaN as null)."""

    def clean(v: Any) -> Any:
        return None if isinstance(v, float) and v != v else v

    return {
        "actuals": actuals_file,
        "rows": [{k: clean(v) for k, v in asdict(r).items()} for r in rows],
    }


def table(rows: list[Row]) -> str:
    """A markdown table of the rows."""
    out = [
        "| actual | period | value $bn | percentile | P5 | P50 | P95 | in 90% band "
        "| in 98% band | interval score | percentile of the paths | from |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.inside_90 is None:
            out.append(
                f"| {r.name} | {r.period} | {r.value_bn:g} | n/a | | | | | | | | {r.basis} |"
            )
            continue
        out.append(
            f"| {r.name} | {r.period} | {r.value_bn:g} | {100 * r.percentile:.1f} "
            f"| {r.p05:.1f} | {r.p50:.1f} | {r.p95:.1f} | {'yes' if r.inside_90 else 'no'} "
            f"| {'yes' if r.inside_98 else 'no'} | {r.interval_score:.1f} "
            f"| {100 * r.path_percentile:.1f} | {r.basis} |"
        )
    return "\n".join(out)
