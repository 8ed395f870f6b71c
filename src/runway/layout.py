"""The kernel's data layout, defined once: every index, code and name is generated here.

This module imports only :mod:`enum` and numpy, so the config side (``runway.dists``,
``runway.model``), the numba kernel (``runway.kernel``), the numpy reference
(``benchmarks/reference.py``) and the result tables all read the same table.

Tables (each row is one named slot; the enum is generated from the rows, so an index can
never drift from its name):

- :data:`PARAMS` -> :class:`P`: drawn once per path, with the config's dotted path. The
  order is the order of ``theta``; each parameter's random numbers come from its own draw
  index (:data:`DRAW_PARAM0` ``+ P``), so fixing one parameter leaves every other draw alone.
- :data:`SHOCKS` -> :class:`E`: standard normal shocks per path-month.
- :data:`STATE` -> :class:`S`: path state carried month to month.
- :data:`CONSTS` -> :class:`C`: per-path constants computed once from the parameters.
- :data:`LINES` -> :class:`L`: monthly lines (public name, flow or stock).
- :data:`OUTCOMES` -> :class:`O`: per-path outcomes (public name, state slot they come from).
- :class:`F`, :class:`I`, :class:`M`, :class:`CF`, :class:`CI`, :class:`SF`, :class:`SI`,
  :class:`R`: the packed inputs; a member's name, lower-cased after the prefix in
  :data:`ROW_FIELDS`, is the :class:`runway.model.Inputs` field ``kernel.pack`` reads.
- :class:`H`, :class:`T`: offsets of the per-path rings and schedule rows.
- codes :class:`Kind`, :class:`Profile`, :class:`Condition`, :class:`Regime`.
"""

from __future__ import annotations

import zlib
from enum import IntEnum
from typing import Any

import numpy as np


def _enum(name: str, members: list[str]) -> Any:
    """An IntEnum with ``members`` numbered from 0 (typed ``Any``: mypy cannot see the names)."""
    return IntEnum(name, members, start=0)


# --- codes shared by the config encoder and the kernel ------------------------------------
class Kind(IntEnum):
    """Distribution kinds of an encoded parameter (``runway.dists.encode``)."""

    FIXED = 0
    NORMAL = 1
    LOGNORMAL = 2
    UNIFORM = 3
    TRIANGULAR = 4
    PERT = 5
    PERCENTILES = 6


class Profile(IntEnum):
    """Contract payment profiles (config ``compute.contracts.profile``)."""

    FLAT = 0
    RAMP = 1
    BACK_LOADED = 2


class Condition(IntEnum):
    """Conditions of strategic money (config ``liquidity.strategic.condition``)."""

    NONE = 0
    PER_GW = 1
    IPO = 2


class Regime(IntEnum):
    """Financing market regimes (config ``financing.regime``)."""

    BOOM = 0
    NORMAL = 1
    WINTER = 2


# --- per-path parameters: (kernel name, config dotted path) ---------------------------------
PARAMS: tuple[tuple[str, str], ...] = (
    ("USERS_ANCHOR", "consumer.users_anchor_bn"),
    ("USERS_CEIL", "consumer.users_ceiling_bn"),
    ("USERS_K", "consumer.users_growth_per_yr"),
    ("CONV_START", "consumer.conversion_start"),
    ("CONV_TARGET", "consumer.conversion_target"),
    ("PRICE", "consumer.price_usd_month"),
    ("ENT_MKT", "enterprise.market_anchor_bn"),
    ("ENT_G0", "enterprise.market_growth_per_yr"),
    ("ENT_G1", "enterprise.market_growth_anchor_per_yr"),
    ("ENT_G_AFTER", "enterprise.market_growth_after_per_yr"),
    ("ENT_SHARE0", "enterprise.share_start"),
    ("ENT_SHARE1", "enterprise.share_anchor"),
    ("AD_MKT", "advertising.ad_market_bn"),
    ("AD_G", "advertising.ad_market_growth_per_yr"),
    ("LLM_SHARE", "advertising.llm_share_target"),
    ("OAI_SHARE0", "advertising.openai_share_start"),
    ("OAI_SHARE1", "advertising.openai_share_target"),
    ("MS0", "revenue_share.rate_start"),
    ("MS1", "revenue_share.rate_end"),
    ("CPGW", "compute.cost_per_gw_bn"),
    ("INFER", "compute.inference_share"),
    ("VENDOR", "compute.vendor_financed_share"),
    ("RND0", "opex.rnd_people_bn"),
    ("RND_G", "opex.rnd_people_growth_per_yr"),
    ("SGA0", "opex.sga_fixed_bn"),
    ("SGA_G", "opex.sga_fixed_growth_per_yr"),
    ("SGA_PCT", "opex.sga_pct_revenue"),
    ("COGS_PCT", "opex.other_cogs_pct_revenue"),
    ("SBC0", "opex.stock_pay_share_start"),
    ("SBC1", "opex.stock_pay_share_end"),
    ("PW_RATE", "shocks.price_war_per_yr"),
    ("PW_CUT", "shocks.price_war_cut"),
    # cal2: vintage/contracts
    ("REV_GW_EL", "compute.revenue_compute_elasticity"),
)
P = _enum("P", [n for n, _ in PARAMS])
PARAM_PATHS: tuple[str, ...] = tuple(d for _, d in PARAMS)
N_PARAMS = len(P)

# --- monthly standard normal shocks -------------------------------------------------------
SHOCKS = (
    "SENT", "USERS", "CONV", "ENT", "PRICE_WAR", "REGIME", "ROUND", "ROUND_SIZE", "IPO",
    # fin: financing
    "BRIDGE",
    # pol: policies -- the success draw of a policy action with a probability
    "POLICY",
)  # fmt: skip
E = _enum("E", list(SHOCKS))
N_EPS = len(E)

# sentiment loadings: row 0 loading, row 1 own-shock weight, one column per driver
LOADS = ("ENT", "USERS", "PRICE_WAR", "REGIME", "ROUND")
LD = _enum("LD", list(LOADS))

# --- path state ---------------------------------------------------------------------------
STATE: tuple[str, ...] = (
    "USERS_DEV", "CONV_DEV", "ENT_G", "ENT_LVL", "PRICE_JUMP", "SENT", "REGIME",
    "CASH", "DEBT", "SHADOW", "UNDRAWN", "ROUND_CD", "ROUND_SIZE", "IPO_DONE", "RENEG_N",
    "INSOLVENT", "MAX_GW", "MIN_CASH", "GAP", "IPO_MONTH", "N_ROUNDS", "ATTEMPTS",
    "RAISED_EQUITY", "RAISED_DEBT", "RAISED_IPO", "RAISED_STRATEGIC", "RAISED_FACILITY",
    "N_PRICE_WARS", "CUM_FCF",
    # deterministic trends carried month to month by their monthly growth factors
    "USERS_E", "MKT", "MKT_R", "AD", "RND", "SGA", "CSCALE",
    "LAG_SLOT",  # ring slot of the current month's compute expense (m mod (pay_lag + 1))
    # fin: financing -- next month a round may be attempted, first distress month, bridge
    # outstanding (accrued), bridge money raised
    "NEXT_TRY", "DISTRESS", "BRIDGE", "RAISED_BRIDGE",
    "VENDOR_CREDIT",  # compute bills settled by vendor credit so far (never repaid)
    # cal2: vintage/contracts -- log gap between the central and the path's own consumer,
    # enterprise and ad revenue at the as-of month (the seam pin, docs/model.md section 2.1)
    "HD_CONS", "HD_ENT", "HD_ADS",
    # fin2: round tranches (committed money still to come, paid per month), the round
    # shock's own AR(1) part (market appetite), pre-vintage committed equity received
    "TR_LEFT", "TR_PER_M", "ROUND_DEV", "RAISED_COMMITTED",
    # pol: policies -- funded-path reactions: people-cost scales (actual over the unslowed
    # trend), the price multiplier, the ad ramp's lead (months), the renegotiated capacity
    # factor, penalties and stakes so far, compute expensed and revenue from the cash anchor
    "POL_RND_SCALE", "POL_SGA_SCALE", "POL_RND_Q", "POL_SGA_Q", "POL_PRICE", "POL_CONV",
    "POL_ADS_LEAD", "POL_GW_SCALE", "POL_COST", "POL_STAKE", "POL_COMPUTE", "POL_REVENUE",
    "POL_FAILED",  # failed round attempts so far (the failed_round metric)
)  # fmt: skip
# pol: policies -- per policy q (at most MAX_POLICIES): months its trigger has held, times it
# fired, its first firing month (-1: never), its last firing month
MAX_POLICIES = 4
STATE = STATE + tuple(
    f"POL{q}_{x}" for x in ("HELD", "FIRES", "FIRST", "LAST") for q in range(MAX_POLICIES)
)
S = _enum("S", list(STATE))
N_STATE = len(S)

# --- per-path constants derived from the drawn parameters ---------------------------------
CONSTS = (
    "X0", "DX", "USERS_A", "USERS_Q", "PW_Z", "ENT_Q", "ENT_LG_AFTER", "ENT_AFTER_Q",
    "AD_Q", "RND_Q", "SGA_Q", "VENDOR_KEEP",
)  # fmt: skip
C = _enum("C", list(CONSTS))
N_CONST = len(C)

# --- monthly lines: (kernel name, public name, flow?) -------------------------------------
LINES: tuple[tuple[str, str, bool], ...] = (
    ("REVENUE", "revenue", True),
    ("CONSUMER", "consumer", True),
    ("ENTERPRISE", "enterprise", True),
    ("ADS", "advertising", True),
    ("COST_OF_SALES", "cost_of_sales", True),
    ("RND", "rnd", True),
    ("SGA", "sga", True),
    ("REVENUE_SHARE", "revenue_share", True),
    ("OPERATING_INCOME", "operating_income", True),
    ("COMPUTE", "compute_rent", True),
    ("STOCK_PAY", "stock_pay", True),
    ("WORKING_CAPITAL", "working_capital", True),
    ("FCF", "fcf", True),
    ("INTEREST", "net_interest", True),
    ("EQUITY", "equity_raised", True),
    ("DEBT_RAISED", "debt_raised", True),
    ("IPO", "ipo_raised", True),
    ("STRATEGIC", "strategic_raised", True),
    ("FACILITY", "facility_drawn", True),
    ("BRIDGE", "bridge_raised", True),  # fin: financing
    ("COMMITTED", "equity_committed", True),  # fin2: pre-vintage committed tranches paid
    ("FINANCING", "financing", True),
    ("ROUND_SIGNED", "round_signed", True),  # fin2: memo, a round's full size when signed
    ("CUM_FCF", "cumulative_fcf", False),
    ("CASH", "cash", False),
    ("SHADOW", "cash_no_new_money", False),
    ("DEBT", "debt", False),
    ("FUNDING_GAP", "funding_gap", False),
    ("USERS", "users_bn", False),
    ("CONVERSION", "conversion", False),
    ("PRICE", "price_usd_month", False),
    ("GW", "gw_online", False),
    ("REGIME", "regime", False),
    # cal1: shocks -- the drivers' monthly deviations from the central path (docs/model.md §7.2)
    ("SENTIMENT", "sentiment", False),  # AR(1) index of the common innovation; feeds nothing
    ("USERS_DEV", "users_dev", False),  # log deviation of users from the S-curve
    ("CONV_DEV", "conversion_dev", False),  # logit deviation of paid conversion
    ("ENT_G_DEV", "enterprise_growth_dev", False),  # enterprise growth deviation, 1/yr
    # fin: financing
    ("BRIDGE_OUT", "bridge_outstanding", False),
    ("DEFAULTED", "defaulted", False),
    ("VENDOR_CREDIT", "vendor_credit", False),
    ("ROUND_DEV", "round_appetite", False),  # fin2: the round shock's own AR(1) part
    # fin2: committed money not yet paid, as the distress window's runway counts it
    ("TO_COME", "committed_to_come", False),
)
L = _enum("L", [n for n, _, _ in LINES])
N_LINES = len(L)
LINE_NAMES: tuple[str, ...] = tuple(p for _, p, _ in LINES)
LINE_IS_FLOW = np.array([f for _, _, f in LINES], dtype=np.bool_)
"""Flows sum over a year; stocks take the year-end value."""
N_FLOWS = int(LINE_IS_FLOW.sum())
assert LINE_IS_FLOW[:N_FLOWS].all() and not LINE_IS_FLOW[N_FLOWS:].any(), "flows come first"
FINANCING_LINES = (int(L.INTEREST), int(L.ROUND_SIGNED))
"""First and last line the financing block writes (contiguous; zero before the cash anchor).

``financing`` sums the cash lines from ``net_interest`` to ``equity_committed``;
``round_signed`` (after it) is a memo line, not cash."""

# --- per-path outcomes: (kernel name, public name, state slot) -----------------------------
OUTCOMES: tuple[tuple[str, str, str], ...] = (
    ("INSOLVENT", "insolvent_month", "INSOLVENT"),
    ("MIN_CASH", "min_cash", "MIN_CASH"),
    ("EQUITY", "raised_equity", "RAISED_EQUITY"),
    ("DEBT", "raised_debt", "RAISED_DEBT"),
    ("IPO", "raised_ipo", "RAISED_IPO"),
    ("STRATEGIC", "raised_strategic", "RAISED_STRATEGIC"),
    ("FACILITY", "drawn_facilities", "RAISED_FACILITY"),
    ("N_ROUNDS", "n_rounds", "N_ROUNDS"),
    ("ATTEMPTS", "round_attempts", "ATTEMPTS"),
    ("IPO_MONTH", "ipo_month", "IPO_MONTH"),
    ("RENEGOTIATED", "renegotiations", "RENEG_N"),
    ("PRICE_WARS", "price_wars", "N_PRICE_WARS"),
    ("MAX_GW", "max_gw_online", "MAX_GW"),
    # fin: financing
    ("DISTRESS", "distress_month", "DISTRESS"),
    ("BRIDGE", "raised_bridge", "RAISED_BRIDGE"),
    ("COMMITTED", "raised_committed", "RAISED_COMMITTED"),  # fin2
    # pol: policies -- kept in the outputs only when the config has policies
    # (POLICY_OUTCOMES); the per-policy columns are renamed policy_<name>_month / _fires
    ("POL_COST", "policy_cost", "POL_COST"),
    ("POL_STAKE", "policy_stake_sold", "POL_STAKE"),
    ("POL_COMPUTE", "compute_total", "POL_COMPUTE"),
    ("POL_REVENUE", "revenue_total", "POL_REVENUE"),
    *((f"POL{q}_FIRST", f"policy{q}_month", f"POL{q}_FIRST") for q in range(MAX_POLICIES)),
    *((f"POL{q}_FIRES", f"policy{q}_fires", f"POL{q}_FIRES") for q in range(MAX_POLICIES)),
)
POLICY_OUTCOMES = ("policy_cost", "policy_stake_sold", "compute_total", "revenue_total")
"""pol: policies -- outcomes kept only by runs whose config has policies ($bn over the run)."""
O = _enum("O", [n for n, _, _ in OUTCOMES])  # noqa: E741
N_OUT = len(O)
OUT_NAMES: tuple[str, ...] = tuple(p for _, p, _ in OUTCOMES)
OUT_FROM_STATE = np.array([S[s] for _, _, s in OUTCOMES], dtype=np.int64)
RAISED_OUTCOMES = (
    "raised_equity",
    "raised_debt",
    "raised_ipo",
    "raised_strategic",
    "raised_bridge",  # fin: financing
    "raised_committed",  # fin2: tranches committed before the vintage, paid after it
)
"""Outcomes that are new money raised ($bn), summed into ``raised_total``.

Facility draws (``drawn_facilities``) are not new money: the facilities are part of the
starting liquidity (``liquidity.undrawn_facilities_bn``), so they are left out of the total.
"""

# --- packed inputs (member names: lower-cased :class:`runway.model.Inputs` fields) ---------
F = _enum("F", [
    "SENT_RHO", "SENT_C", "USERS_RHO", "USERS_C", "CONV_RHO", "CONV_C", "ENT_A", "ENT_C",
    "ENT_ANCHOR_T", "USERS_ANCHOR_T", "CASH_YIELD_M", "DEBT_RATE_M", "BUFFER", "CASH0",
    "FACILITIES", "CPGW_REF", "FIN_TRIGGER", "FIN_MOM_REF", "FIN_MOM_EL", "FIN_SIZE_SIGMA",
    "FIN_MONTHS_BURN", "FIN_MIN", "FIN_MAX", "FIN_MAX_DIL", "IPO_MIN_ARR", "IPO_SIZE",
    "DEBT_X_ARR", "RENEG_TRIGGER", "RENEG_SHARE", "RENEG_COST",
    # fin: financing
    "DISTRESS_TRIGGER", "BRIDGE_MONTHS_BURN", "BRIDGE_MAX", "BRIDGE_RATE_M",
    # fin2: tranches, the funded path's facilities, the round shock's persistence
    "FIN_FIRST_SHARE", "FUNDED_FACILITIES", "ROUND_RHO", "ROUND_C",
])  # fmt: skip
"""Float scalars."""
I = _enum("I", [  # noqa: E741
    "N_MONTHS", "N_YEARS", "CASH_START", "M_ANCHOR", "PAY_LAG", "FIN_ON", "FIN_LAG",
    "IPO_EARLIEST", "RENEG_ON", "RENEG_MAX", "STOCHASTIC", "REG_INITIAL",
    # fin: financing
    "FIN_RETRY", "FIN_PROJECTED",
    "HIST_END",  # cal2: vintage/contracts -- last history month (the as-of month; -1: none)
    "FIN_RUNWAY_PROJECTED", "FIN_TRANCHE_MONTHS",  # fin2
    "POL_N",  # pol: policies -- number of policies (0: none; the rows of Inputs.pol_*)
])  # fmt: skip
"""Integer scalars."""
M = _enum("M", [
    "T", "PRICE_MULT", "W_CONV", "W_ENT", "W_LLM", "W_OAI", "W_MS", "W_SBC",
    # cal2: vintage/contracts -- seam pins (0 up to the as-of month, 1 from each component's
    # anchor) and the central plan's GW online (the revenue-compute link)
    "W_CONS_PIN", "W_ENT_PIN", "W_ADS_PIN", "GW_PLAN",
    # fin2: committed equity paid in the month, and committed after it (still to come)
    "COMMITTED", "COMMITTED_LEFT",
])  # fmt: skip
"""Monthly rows (n_months)."""
CF = _enum("CF", ["VALUE", "GW", "NORM", "INDEXED"])
"""Float rows per contract (``Inputs.c_*``)."""
CI = _enum("CI", ["START", "LEN", "PROFILE", "RAMP", "CP"])
"""Integer rows per contract (``Inputs.c_*``)."""
SF = _enum("SF", ["AMOUNT", "PER_GW"])
"""Float rows per strategic tranche (``Inputs.s_*``)."""
SI = _enum("SI", ["COND", "START", "LAPSE"])
"""Integer rows per strategic tranche (``Inputs.s_*``)."""
R = _enum("R", ["CLOSE", "SIZE", "VAL", "IPO_THR", "BRIDGE"])  # BRIDGE: fin: financing
"""Rows per regime (``Inputs.reg_*``; columns :class:`Regime`)."""
# pol: policies -- rows per policy (``Inputs.pol_*``; columns: the policies in config order)
PF = _enum("PF", ["THRESHOLD", "A", "B", "C", "D"])
"""Float rows per policy: the trigger's threshold and the action's numbers (see ``PolAction``)."""
PI = _enum("PI", ["METRIC", "CMP", "HOLD", "MAX_FIRES", "COOLDOWN", "ACTION", "MONTHS"])
"""Integer rows per policy: trigger metric, comparison, hold, fires, cooldown, action, months."""
ROW_FIELDS = {
    "M": "", "CF": "c_", "CI": "c_", "SF": "s_", "SI": "s_", "R": "reg_",
    "PF": "pol_", "PI": "pol_",  # pol: policies
}  # fmt: skip
"""Prefix of the :class:`runway.model.Inputs` field behind each member of a row table."""


class H(IntEnum):
    """Offsets in a path's ring buffer ``hist``.

    12 revenues, 3 free cash flows, then ``pay_lag + 1`` compute expenses.
    """

    REV = 0
    FCF = 12
    PAY = 15


N_REV_RING = H.FCF - H.REV
N_FCF_RING = H.PAY - H.FCF


class T(IntEnum):
    """Rows of a path's contract schedule ``traj``: payments, GW online, GW per tranche.

    pol: policies -- ``ADJ_PAY``, ``ADJ_GW``: what the funded path's policies add to the
    schedule's payments and GW (0 without policies; the no-new-money path never reads them);
    after the ``n_strategic`` tranche rows (``STRAT0 + s``), policy ``q``'s base schedule, the
    payments and GW of the contracts it acts on (:func:`pol_row`). ``STRAT0`` stays last: it
    is the offset of the rows that follow.

    fin2: ``BURN``, month ``m``: the sum of the bills the projected burn reads in month ``m``
    (``kernel.financing.projected_burn``), written once per path when the runway is on the
    projected burn and there are no policies (``kernel.financing.burn_schedule``; 0 else).
    """

    PAY = 0
    GW = 1
    ADJ_PAY = 2  # pol: policies
    ADJ_GW = 3  # pol: policies
    BURN = 4  # fin2: projected burn's bills per month
    STRAT0 = 5


# pol: policies
class PolMetric(IntEnum):
    """Trigger metrics of a policy (config ``policies.trigger.metric``)."""

    MONTHS_OF_RUNWAY = 0
    CASH_BN = 1
    FAILED_ROUND = 2
    REGIME = 3
    REVENUE_MOMENTUM = 4
    DATE = 5


class PolCmp(IntEnum):
    """Comparisons of a trigger (``<``, ``<=``, ``>``, ``>=``, ``==``)."""

    LT = 0
    LE = 1
    GT = 2
    GE = 3
    EQ = 4


class PolAction(IntEnum):
    """Actions of a policy; the numbers they read from ``PF.A .. PF.D`` and ``PI.MONTHS``.

    DEFER_COMPUTE: A share, B penalty share, months; CANCEL_COMPUTE: A share, B penalty share;
    SLOW_PEOPLE_GROWTH: A factor; RAISE_PRICE: A pct, B conversion elasticity;
    BRING_ADS_FORWARD: months; SELL_STRATEGIC_STAKE: A amount $bn, B probability;
    RENEGOTIATE: A share, B cost, C success probability.
    """

    DEFER_COMPUTE = 0
    CANCEL_COMPUTE = 1
    SLOW_PEOPLE_GROWTH = 2
    RAISE_PRICE = 3
    BRING_ADS_FORWARD = 4
    SELL_STRATEGIC_STAKE = 5
    RENEGOTIATE = 6


def pol_row(n_strategic: int, q: int) -> int:
    """``traj`` row of policy ``q``'s base payments (the next row: its base GW)."""
    return T.STRAT0 + n_strategic + 2 * q


def n_traj_rows(n_strategic: int, n_policies: int) -> int:
    """Rows of a path's ``traj``."""
    return T.STRAT0 + n_strategic + 2 * n_policies


# --- random-number draw ids (Philox counter word 0 of the per-path draws, runway.kernel.rng) -
def draw_row_names(n_contracts: int) -> tuple[str, ...]:
    """Config dotted path of every per-path draw row.

    The parameters (``P``), then each contract's share online, then each contract's slip.
    """
    return (
        PARAM_PATHS
        + tuple(f"compute.contracts[{c}].share_online" for c in range(n_contracts))
        + tuple(f"compute.contracts[{c}].slip_months" for c in range(n_contracts))
    )


def draw_id(dotted: str) -> int:
    """The fixed draw id of a drawn config value: CRC-32 of its dotted path.

    A row's random numbers depend on its id, not on its position, so adding, removing or
    fixing a parameter leaves every other parameter's draws unchanged.
    """
    return zlib.crc32(dotted.encode())


# --- the monthly fan kept for every path-month in streaming quantiles ----------------------
FAN: tuple[tuple[str, str, float, bool], ...] = (
    ("cash", "CASH", 1.0, False),
    ("revenue", "REVENUE", 1.0, False),
    ("burn", "FCF", -1.0, False),  # burn = -fcf
    # fin2: survivors only -- a defaulted path-month is left out (NaN, which the fold skips),
    # so this fan is the cash of the companies still alive in that month
    ("cash_survivors", "CASH", 1.0, True),
)
"""(public name, line, sign, survivors only) of each fan row."""
FAN_LINES: tuple[str, ...] = tuple(f[0] for f in FAN)
N_FAN = len(FAN)
FAN_FROM_LINE = np.array([L[f[1]] for f in FAN], dtype=np.int64)
FAN_SIGN = np.array([f[2] for f in FAN], dtype=np.float64)
FAN_SURVIVORS = np.array([f[3] for f in FAN], dtype=np.bool_)


# --- tools: quarterly per-path lines (quarters.parquet: backtest and condition) -----------------
QUARTER: tuple[tuple[str, str, float], ...] = (
    ("revenue", "REVENUE", 1.0),
    ("burn", "FCF", -1.0),  # burn = -fcf
    ("cash", "CASH", 1.0),  # a stock: the quarter's last month on the grid
    ("equity_raised", "EQUITY", 1.0),
    ("debt_raised", "DEBT_RAISED", 1.0),
    ("ipo_raised", "IPO", 1.0),
    ("strategic_raised", "STRATEGIC", 1.0),
    ("bridge_raised", "BRIDGE", 1.0),
    ("facility_drawn", "FACILITY", 1.0),
    ("equity_committed", "COMMITTED", 1.0),  # fin2: pre-vintage committed tranches paid
    ("round_signed", "ROUND_SIGNED", 1.0),  # fin2: rounds signed, at their full size
)
"""Lines kept per path and calendar quarter: what an actuals file can name (flows summed over
the quarter's months on the grid, stocks at its last month), float32 in ``RawRun.quarterly``."""
QUARTER_LINES: tuple[str, ...] = tuple(n for n, _, _ in QUARTER)
N_QUARTER = len(QUARTER)
QUARTER_FROM_LINE = np.array([L[s] for _, s, _ in QUARTER], dtype=np.int64)
QUARTER_SIGN = np.array([g for _, _, g in QUARTER], dtype=np.float64)
QUARTER_IS_FLOW = np.array([bool(LINE_IS_FLOW[L[s]]) for _, s, _ in QUARTER], dtype=np.bool_)
