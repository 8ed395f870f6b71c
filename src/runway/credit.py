"""The credit view: default term structure, implied spreads and exposure at default.

Everything here is computed from per-path outcomes (``docs/credit.md`` has the equations):
the months from the valuation date (the cash anchor, ``liquidity.cash_as_of``) to default
(``inf`` for a path that survives the horizon) and the compute obligations still owed per
counterparty at default (the engine's ``owed_<counterparty>``: payments still scheduled after
the default month, net of renegotiation, those past the horizon included).

- :func:`term_structure`: cumulative and marginal default probability, the conditional
  default probability and the hazard rate of each interval, and the spread the cumulative
  probability implies under recovery ``R``, each with its Monte Carlo standard error (MCSE);
- :func:`revolver`: the default probability a loan's spread implies, beside the model's;
- :func:`exposure`: per counterparty, the distribution of exposure at default (EAD), the
  probability of a default while more than ``X`` is owed, the expected EAD and expected loss
  by horizon, and EAD as a share of a reported backlog.

The functions take plain arrays, so they are tested on synthetic outcomes
(``tests/test_credit.py``); :meth:`runway.result.Result.credit` applies them to a run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

SPREAD_FORMULA = "s(T) = -ln(1 - PD(T) (1 - R)) / T"
"""The spread (continuously compounded, per year) that prices a zero-coupon claim maturing at
``T`` years which pays 1 if no default by ``T`` and ``R`` if one: its price is
``exp(-(r + s) T) = exp(-r T) (1 - PD(T) (1 - R))``."""
HAZARD_SPREAD_FORMULA = "s = lambda (1 - R)"
"""The credit triangle: the spread of a constant hazard ``lambda`` (per year) with recovery
``R`` paid at default."""
REVOLVER_PD_FORMULA = "PD(T) = (1 - exp(-s T)) / (1 - R)"
"""The inverse of :data:`SPREAD_FORMULA`: the default probability a spread ``s`` implies."""
CAVEAT = (
    "A spread prices risk-neutral default probabilities, which include a premium for bearing "
    "the risk and so exceed real-world ones, while the model's probabilities are real-world "
    "ones under its own assumptions: the implied spread is the spread a risk-neutral lender "
    "who shared the model's view would charge, a floor on what the market would ask."
)


def _se_p(p: float, n: int) -> float:
    return math.sqrt(max(p * (1.0 - p), 0.0) / n) if n > 0 else math.nan


def _f(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def spread(pd: float, t_years: float, recovery: float) -> float:
    """:data:`SPREAD_FORMULA`: the spread (per year, a fraction) of ``pd`` by ``t_years``."""
    loss = pd * (1.0 - recovery)
    return -math.log1p(-loss) / t_years if loss < 1.0 else math.inf


def spread_mcse(pd: float, se: float, t_years: float, recovery: float) -> float:
    """Delta-method MCSE of :func:`spread` given the MCSE ``se`` of ``pd``."""
    lgd = 1.0 - recovery
    return se * lgd / (t_years * (1.0 - pd * lgd))


def implied_pd(spread_per_yr: float, t_years: float, recovery: float) -> float:
    """:data:`REVOLVER_PD_FORMULA`: the default probability by ``t_years`` a spread implies."""
    return -math.expm1(-spread_per_yr * t_years) / (1.0 - recovery)


def term_structure(
    t_default: np.ndarray,
    ends: Sequence[float],
    labels: Sequence[str],
    recovery: float,
) -> list[dict[str, Any]]:
    """Default probabilities by horizon, with MCSE.

    Parameters
    ----------
    t_default : ndarray
        Months from the valuation date to the default month (1 = the first month after it);
        ``inf`` where a path does not default within the horizon.
    ends : sequence of float
        Increasing horizons, months from the valuation date; interval ``k`` is
        ``(ends[k-1], ends[k]]`` with ``ends[-1] = 0``.
    labels : sequence of str
        A name per horizon (a year, ``"1y"``).
    recovery : float
        Recovery rate ``R`` of the implied spreads.

    Returns
    -------
    list of dict
        Per horizon: ``t_years``; ``cumulative_pd`` = P(T <= t_k); ``marginal_pd`` =
        P(t_{k-1} < T <= t_k); ``conditional_pd`` = the marginal over the paths still solvent
        at t_{k-1}; ``hazard_per_yr`` = -ln(1 - conditional_pd) / (interval in years), the
        constant hazard that gives the interval's conditional PD; ``hazard_mle_per_yr`` =
        -12 ln(1 - p_m), p_m the defaults per path-month at risk in the interval (the
        maximum-likelihood monthly default probability of a constant hazard on the monthly
        grid; the same hazard estimated from every month instead of the interval's ends);
        ``spread_bp`` = :data:`SPREAD_FORMULA` at t_k in basis points; ``forward_spread_bp`` =
        :data:`HAZARD_SPREAD_FORMULA` over the interval. Each with ``*_mcse`` (binomial for
        probabilities, delta method for the transforms). Undefined values are ``None``.
    """
    t = np.asarray(t_default, dtype=float)
    n = t.size
    out: list[dict[str, Any]] = []
    prev = 0.0
    for end, label in zip(ends, labels, strict=True):
        dt = (end - prev) / 12.0
        cum = float(np.mean(t <= end)) if n else math.nan
        in_k = (t > prev) & (t <= end)
        events = int(np.sum(in_k))
        at_risk = int(np.sum(t > prev))
        marg = events / n if n else math.nan
        q = events / at_risk if at_risk else math.nan
        se_q = _se_p(q, at_risk) if at_risk else math.nan
        hz = -math.log1p(-q) / dt if at_risk and q < 1.0 and dt > 0 else math.nan
        hz_se = se_q / ((1.0 - q) * dt) if at_risk and q < 1.0 and dt > 0 else math.nan
        # months at risk in the interval: a defaulting path counts up to its default month
        months = float(np.sum(np.clip(np.minimum(t, end) - prev, 0.0, None)))
        # monthly default probability by maximum likelihood (geometric: defaults per month at
        # risk, the default month counted), as a continuous hazard per year
        pm = events / months if months > 0 else math.nan
        ok = months > 0 and pm < 1.0
        mle = -12.0 * math.log1p(-pm) if ok else math.nan
        mle_se = (
            12.0 * pm * math.sqrt((1.0 - pm) / events) / (1.0 - pm) if ok and events else math.nan
        )
        ty = end / 12.0
        se_cum = _se_p(cum, n)
        s = spread(cum, ty, recovery) if ty > 0 else math.nan
        s_se = spread_mcse(cum, se_cum, ty, recovery) if ty > 0 else math.nan
        out.append(
            {
                "horizon": str(label),
                "t_years": ty,
                "cumulative_pd": _f(cum),
                "cumulative_pd_mcse": _f(se_cum),
                "marginal_pd": _f(marg),
                "marginal_pd_mcse": _f(_se_p(marg, n)),
                "conditional_pd": _f(q),
                "conditional_pd_mcse": _f(se_q),
                "at_risk": at_risk,
                "hazard_per_yr": _f(hz),
                "hazard_per_yr_mcse": _f(hz_se),
                "hazard_mle_per_yr": _f(mle),
                "hazard_mle_per_yr_mcse": _f(mle_se),
                "spread_bp": _f(s * 1e4),
                "spread_bp_mcse": _f(s_se * 1e4),
                "forward_spread_bp": _f(hz * (1.0 - recovery) * 1e4),
                "forward_spread_bp_mcse": _f(hz_se * (1.0 - recovery) * 1e4),
            }
        )
        prev = end
    return out


def revolver(
    t_default: np.ndarray, spread_bp: float, term_years: float, recovery: float
) -> dict[str, Any]:
    """The default probability a loan's spread implies, beside the model's.

    :data:`REVOLVER_PD_FORMULA` gives the implied PD; the model's is its cumulative PD over
    the same term from the valuation date, with the spread it implies.
    """
    s = spread_bp / 1e4
    pd_implied = implied_pd(s, term_years, recovery)
    t = np.asarray(t_default, dtype=float)
    months = term_years * 12.0
    model = float(np.mean(t <= months)) if t.size else math.nan
    se = _se_p(model, t.size)
    return {
        "spread_bp": spread_bp,
        "term_years": term_years,
        "recovery_rate": recovery,
        "formula": REVOLVER_PD_FORMULA,
        "implied_pd": pd_implied,
        "model_pd": _f(model),
        "model_pd_mcse": _f(se),
        "model_spread_bp": _f(spread(model, term_years, recovery) * 1e4),
        "model_spread_bp_mcse": _f(spread_mcse(model, se, term_years, recovery) * 1e4),
    }


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    if x.size == 0:
        return math.nan, math.nan
    m = float(x.mean())
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
    return m, se


def _one_exposure(
    ead: np.ndarray,
    t: np.ndarray,
    horizon: float,
    ends: Sequence[float],
    labels: Sequence[str],
    recovery: float,
    thresholds: Sequence[float],
) -> dict[str, Any]:
    """EAD statistics of one counterparty (or of the total): see :func:`exposure`."""
    n = t.size
    dead = t <= horizon
    e = ead[dead]
    mean, se = _mean_se(e)
    given: dict[str, Any] = {"defaults": int(dead.sum()), "mean": _f(mean), "mean_mcse": _f(se)}
    for k, q in (("p05", 0.05), ("p50", 0.50), ("p95", 0.95)):
        given[k] = float(np.quantile(e, q)) if e.size else None
    over = {}
    for x in thresholds:
        p = float(np.mean(dead & (ead > x))) if n else math.nan
        over[f"{x:g}"] = {"p": _f(p), "mcse": _f(_se_p(p, n))}
    by_h = {}
    for end, label in zip(ends, labels, strict=True):
        v = np.where(t <= end, ead, 0.0)
        m, s = _mean_se(v)
        by_h[str(label)] = {
            "expected_ead": _f(m),
            "expected_ead_mcse": _f(s),
            "expected_loss": _f(m * (1.0 - recovery)),
            "expected_loss_mcse": _f(s * (1.0 - recovery)),
        }
    return {"given_default": given, "p_default_owed_over": over, "by_horizon": by_h}


def exposure(
    t_default: np.ndarray,
    owed: np.ndarray,
    counterparties: Sequence[str],
    ends: Sequence[float],
    labels: Sequence[str],
    recovery: float,
    thresholds: Sequence[float],
    backlog: dict[str, Any] | None = None,
    inside: np.ndarray | None = None,
) -> dict[str, Any]:
    """Exposure at default per counterparty and in total.

    ``owed`` (n_paths, n_counterparties): what is still owed at default (survivors: at the
    horizon; they are never counted, since EAD only exists where a default happens within the
    horizon, ``t_default <= ends[-1]``). Per counterparty and for ``"total"`` (the sum over
    counterparties, path by path):

    - ``given_default``: mean (with MCSE), p05, p50, p95 of EAD over the paths that default;
    - ``p_default_owed_over[X]``: P(default within the horizon while more than X is owed);
    - ``by_horizon[label]``: ``expected_ead`` = E[1{T <= t_k} EAD] and ``expected_loss`` =
      (1 - R) times it, with MCSE;
    - ``backlog`` (where ``backlog`` names the counterparty): the reported figure and
      ``share_mean`` = E[EAD | default] / backlog, ``share_p95`` = p95 of EAD / backlog;
    - ``inside_horizon`` (where ``inside``, the part of ``owed`` scheduled up to the horizon's
      last month, :func:`owed_split`, is given): ``given_default`` and ``by_horizon`` of it.
    """
    t = np.asarray(t_default, dtype=float)
    owed = np.asarray(owed, dtype=float)
    horizon = ends[-1]
    out: dict[str, Any] = {}
    for c, cp in enumerate(counterparties):
        row = _one_exposure(owed[:, c], t, horizon, ends, labels, recovery, thresholds)
        b = (backlog or {}).get(cp)
        if b is not None:
            g = row["given_default"]
            row["backlog"] = {
                **b,
                "share_mean": None if g["mean"] is None else g["mean"] / b["value_bn"],
                "share_p95": None if g["p95"] is None else g["p95"] / b["value_bn"],
            }
        if inside is not None:
            row["inside_horizon"] = _inside(inside[:, c], t, horizon, ends, labels, recovery)
        out[cp] = row
    total = owed.sum(axis=1) if owed.size else np.zeros(t.size)
    out["total"] = _one_exposure(total, t, horizon, ends, labels, recovery, thresholds)
    if inside is not None:
        out["total"]["inside_horizon"] = _inside(
            inside.sum(axis=1), t, horizon, ends, labels, recovery
        )
    return out


def _inside(
    x: np.ndarray,
    t: np.ndarray,
    horizon: float,
    ends: Sequence[float],
    labels: Sequence[str],
    recovery: float,
) -> dict[str, Any]:
    one = _one_exposure(x, t, horizon, ends, labels, recovery, [])
    return {"given_default": one["given_default"], "by_horizon": one["by_horizon"]}


def largest(expo: dict[str, Any], label: str, k: int = 3) -> list[tuple[str, float]]:
    """The ``k`` counterparties with the largest expected EAD by horizon ``label``."""
    rows = [
        (cp, v["by_horizon"][label]["expected_ead"] or 0.0)
        for cp, v in expo.items()
        if cp != "total"
    ]
    return sorted(rows, key=lambda r: -r[1])[:k]


def owed_split(raw: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """What is owed per counterparty at default, rebuilt, and the part due inside the horizon.

    The engine records only the total still scheduled after the default month (``owed_*``,
    those past the horizon included). This rebuilds it per path from the contract table and
    the path's drawn share online, slip and cost per GW and its renegotiations
    (:func:`runway.kernel.costs.init`, :func:`runway.kernel.path.summarise_path`), and splits
    off the payments scheduled up to the horizon's last month. Returns ``(total, inside)``,
    each (n_paths, n_counterparties), or ``None`` when the rebuilt total does not match the
    engine's to 1e-9 (held draws of a sensitivity run, say): then no split is reported.
    """
    from runway.kernel.inputs import pack
    from runway.layout import CF, CI, N_PARAMS, F, Kind, P, draw_row_names

    inp = raw.inputs
    if getattr(raw, "hold", None) or raw.drawn is None or not inp.stochastic:
        return None
    k = pack(inp)
    n, nc = raw.n_paths, inp.c_value.size
    names = draw_row_names(nc)
    col = {name: j for j, name in enumerate(raw.drawn_names)}

    def row(i: int) -> np.ndarray:
        j = col.get(names[i])
        if j is not None:
            return np.asarray(raw.drawn[:n, j], dtype=float)
        if k.dkind[i] != Kind.FIXED:  # pragma: no cover - every drawn row is kept
            raise ValueError(names[i])
        return np.full(n, k.dpar[i, 0])

    ins = np.asarray(raw.outcomes["insolvent_month"])
    n_months = int(inp.n_months)
    m_ref = np.where(ins >= 0, ins, n_months - 1).astype(np.int64)
    r_cpgw = row(int(P.CPGW)) / k.fs[F.CPGW_REF]
    share, cost = k.fs[F.RENEG_SHARE], k.fs[F.RENEG_COST]
    scale = (1.0 - share * (1.0 - cost)) ** np.asarray(raw.outcomes["renegotiations"])
    cps = list(raw.counterparties)
    total = np.zeros((n, len(cps)))
    inside = np.zeros((n, len(cps)))
    for c in range(nc):
        phi = row(N_PARAMS + c)
        slip = np.floor(row(N_PARAMS + nc + c) + 0.5)
        r = r_cpgw if k.con[CF.INDEXED, c] > 0.0 else 1.0
        cpay = k.con[CF.VALUE, c] * phi * r / k.con[CF.NORM, c]
        coff = k.coni[CI.START, c] + slip.astype(np.int64)
        length = k.coni[CI.LEN, c]
        j0 = np.clip(m_ref - coff + 1, 0, length)
        j1 = np.maximum(np.clip(n_months - coff, 0, length), j0)
        tail = k.cap_tail[c]
        cp = int(k.coni[CI.CP, c])
        total[:, cp] += tail[j0] * cpay * scale
        inside[:, cp] += (tail[j0] - tail[j1]) * cpay * scale
    engine = np.asarray(raw.exposure[:n], dtype=float)
    if not np.allclose(total, engine, rtol=1e-9, atol=1e-9):
        return None
    return total, inside
