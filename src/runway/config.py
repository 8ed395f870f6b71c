"""Config files: TOML parsed with :mod:`tomllib`, validated by frozen pydantic models.

Every model has ``extra="forbid"``: a misspelt key is an error naming the key, never a silent
default. Each numeric model parameter is a :data:`runway.dists.Param` (a number or a
distribution) and carries its unit and admissible interval in its field metadata; the
meaning and source of every field is in its description and in ``docs/model.md``.
Money is US$ billions (``_bn``), rates are per year unless a name says ``_month``.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from runway.calendar import MAX_MONTHS, format_month, parse_month
from runway.dists import Param, _Dist, central
from runway.errors import ConfigError

INF = math.inf


def P(description: str, lo: float = -INF, hi: float = INF, unit: str = "") -> Any:
    """Field for a drawable parameter with its admissible interval ``[lo, hi]`` and unit."""
    return Field(description=description, json_schema_extra={"lo": lo, "hi": hi, "unit": unit})


def _check_month(v: str) -> str:
    parse_month(v)
    return v


Month = Annotated[
    str,
    Field(pattern=r"^\d{4}-\d{2}$", description="a month, YYYY-MM"),
    AfterValidator(_check_month),
]
Prob = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
MAX_BN = 1.0e6
"""Largest money amount accepted anywhere ($bn): a thousand trillion dollars."""
Money = Annotated[float, Field(ge=0.0, le=MAX_BN, allow_inf_nan=False)]
NonNeg = Annotated[float, Field(ge=0.0, le=MAX_BN, allow_inf_nan=False)]
"""A non-negative quantity that is not money (GW, $bn per GW); the same absurd-magnitude cap."""
MAX_ANCHOR_GAP_YEARS = 10
"""How far outside the calendar a growth anchor may lie (users S-curve, enterprise market).

The kernel extrapolates exponentially from these anchors (growth up to 20/yr), so an anchor
decades away from the horizon turns into overflow (values beyond 1e150) or, for the users
S-curve anchored at zero users, 0 x inf = NaN; and it means nothing for the simulated years.
"""


class _Model(BaseModel):
    # strict: a quoted "17.5" or a true where a number belongs is a mistake, not a number
    # (TOML has real numbers and booleans); integers are still accepted for floats.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @model_validator(mode="after")
    def _check_param_bounds(self) -> _Model:
        for name, info in type(self).model_fields.items():
            extra = info.json_schema_extra
            if not isinstance(extra, dict) or "lo" not in extra:
                continue
            lo, hi = float(extra["lo"]), float(extra["hi"])  # type: ignore[arg-type]
            value = getattr(self, name)
            c = central(value)
            if not lo <= c <= hi or abs(c) > MAX_BN:
                raise ValueError(
                    f"{name}: central value {c:g} is outside the allowed range [{lo:g}, {hi:g}]"
                )
            if isinstance(value, _Dist):
                for key, number in value.model_dump().items():
                    if isinstance(number, float) and abs(number) > MAX_BN:
                        raise ValueError(
                            f"{name}: {key} = {number:g} exceeds {MAX_BN:g} in magnitude"
                        )
                s_lo, s_hi = value.support()
                finite_support = math.isfinite(s_lo) and math.isfinite(s_hi)
                if finite_support and (s_lo < lo or s_hi > hi):
                    raise ValueError(
                        f"{name}: distribution range [{s_lo:g}, {s_hi:g}] leaves the "
                        f"allowed range [{lo:g}, {hi:g}]"
                    )
        return self


def _not_dot_name(v: str) -> str:
    if v in (".", ".."):  # the name is the default run directory, runs/<name>
        raise ValueError(f"{v!r} is not a usable name (it names a directory's parent or itself)")
    return v


class Scenario(_Model):
    """What the config describes; the name heads reports."""

    name: Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")]
    _not_dots = field_validator("name")(lambda v: _not_dot_name(v))
    description: str = ""


class CalendarCfg(_Model):
    """The monthly grid, inclusive of both ends."""

    start: Month = Field(description="first simulated month")
    end: Month = Field(description="last simulated month (the horizon)")
    # cal2: vintage/contracts
    as_of: Month | None = Field(
        default=None,
        description="the vintage's as-of month: months up to it are history (the central path "
        "with history.actuals, the same on every path); shocks and draws act after it. "
        "None: no history",
    )

    _v = field_validator("start", "end")(_check_month)

    @model_validator(mode="after")
    def _order(self) -> CalendarCfg:
        n = parse_month(self.end) - parse_month(self.start) + 1
        if n < 1:
            raise ValueError(f"end: {self.end} is before start ({self.start})")
        if n > MAX_MONTHS:
            raise ValueError(f"end: a horizon of {n} months exceeds the supported {MAX_MONTHS}")
        return self


class RunCfg(_Model):
    """Run defaults; the command line overrides them."""

    paths: Annotated[int, Field(ge=1, le=100_000_000)] = 100_000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    chunk_size: Annotated[int, Field(ge=1, le=1_000_000)] = 2048
    deterministic: bool = Field(
        default=False,
        description="central values, no shocks: one path (as --deterministic); "
        "config.resolved.toml of a deterministic run says true",
    )


class Consumer(_Model):
    """Consumer subscriptions = weekly users x paid conversion x price per paying user."""

    users_anchor_bn: Param = P("weekly active users at users_anchor_month", 0, 10, "bn users")
    users_anchor_month: Month = Field(description="month of the users anchor")
    users_ceiling_bn: Param = P("ceiling of the logistic users S-curve", 0.01, 10, "bn users")
    users_growth_per_yr: Param = P("logistic growth rate of users", 0, 10, "1/yr")
    conversion_start: Param = P(
        "paid conversion at conversion_start_month", 1e-6, 1 - 1e-6, "share"
    )
    conversion_start_month: Month = Field(description="month of conversion_start")
    conversion_target: Param = P("paid conversion reached at target month", 1e-6, 1 - 1e-6, "share")
    conversion_target_month: Month = Field(description="month the conversion target is reached")
    price_usd_month: Param = P("revenue per paying user at the calendar start", 0, 1e4, "$/month")
    price_schedule: list[
        Annotated[
            tuple[Month, Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]], Strict(False)
        ]
    ] = Field(
        default_factory=list,
        description="price multipliers [[month, multiplier], ...] relative to price_usd_month, "
        "linear between points and flat outside them",
    )

    @model_validator(mode="after")
    def _months(self) -> Consumer:
        for m in (self.users_anchor_month, self.conversion_start_month):
            parse_month(m)
        if parse_month(self.conversion_target_month) <= parse_month(self.conversion_start_month):
            raise ValueError("conversion_target_month: must come after conversion_start_month")
        months = [parse_month(m) for m, _ in self.price_schedule]
        if months != sorted(set(months)):
            raise ValueError("price_schedule: months must be strictly increasing")
        if central(self.users_anchor_bn) >= central(self.users_ceiling_bn):
            raise ValueError("users_anchor_bn: must be below users_ceiling_bn")
        return self


class Enterprise(_Model):
    """Enterprise and API revenue = enterprise AI market x OpenAI share."""

    market_anchor_bn: Param = P("enterprise AI market in the anchor year", 0, MAX_BN, "$bn/yr")
    anchor_year: Annotated[int, Field(ge=1990, le=2200)] = Field(description="year of the anchors")
    market_growth_per_yr: Param = P("market growth at the calendar start", -0.9, 20, "1/yr")
    market_growth_anchor_per_yr: Param = P("market growth in the anchor year", -0.9, 20, "1/yr")
    market_growth_after_per_yr: Param = P("market growth after the anchor year", -0.9, 20, "1/yr")
    share_start: Param = P("OpenAI share of the market at the calendar start", 0, 1, "share")
    share_anchor: Param = P("OpenAI share of the market in the anchor year", 0, 1, "share")


class Advertising(_Model):
    """Advertising = digital ad market x LLM share of it x OpenAI share of consumer AI."""

    ad_market_bn: Param = P(
        "global digital ad market in the calendar's first year", 0, MAX_BN, "$bn/yr"
    )
    ad_market_growth_per_yr: Param = P("growth of the digital ad market", -0.9, 5, "1/yr")
    llm_share_start_month: Month = Field(description="month LLM ads start (share 0 before)")
    llm_share_target: Param = P("LLM share of digital ads at the target month", 0, 1, "share")
    llm_share_target_month: Month = Field(description="month the LLM ad share target is reached")
    openai_share_start: Param = P(
        "OpenAI share of consumer AI at the calendar start", 0, 1, "share"
    )
    openai_share_target: Param = P("OpenAI share of consumer AI at the target month", 0, 1, "share")

    @model_validator(mode="after")
    def _months(self) -> Advertising:
        if parse_month(self.llm_share_target_month) <= parse_month(self.llm_share_start_month):
            raise ValueError("llm_share_target_month: must come after llm_share_start_month")
        return self


class RevenueShare(_Model):
    """Microsoft's revenue share, an outflow proportional to revenue."""

    rate_start: Param = P("share of revenue paid at the calendar start", 0, 1, "share")
    rate_end: Param = P("share of revenue paid from end_month on", 0, 1, "share")
    end_month: Month = Field(description="month the rate reaches rate_end (linear in between)")


class Contract(_Model):
    """One compute commitment: payments follow the capacity delivered under it."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    counterparty: Annotated[str, Field(min_length=1, max_length=60)]
    value_bn: Money = Field(description="total contract value at the reference cost per GW, $bn")
    gw: NonNeg = Field(default=0.0, description="contracted capacity, GW")
    start: Month = Field(description="first month of delivery and payment")
    end: Month = Field(description="last month of payment")
    profile: Literal["flat", "ramp", "back_loaded"] = Field(
        default="ramp",
        description="flat: equal monthly payments; ramp: capacity ramps linearly over "
        "ramp_months, then flat; back_loaded: payments rise linearly over the term",
    )
    ramp_months: Annotated[int, Field(ge=1, le=MAX_MONTHS)] = 12
    share_online: Param = P("share of the contracted capacity that comes online and is paid", 0, 1)
    slip_months: Param = P(
        "delivery slip: the schedule moves this many months later", 0, 120, "months"
    )
    # cal2: vintage/contracts
    pricing: Literal["fixed", "per_gw"] = Field(
        default="per_gw",
        description="fixed: a dollar commitment (value_bn is owed whatever a GW costs); per_gw: "
        "priced per GW delivered, so the value scales with the drawn cost_per_gw_bn over "
        "cost_per_gw_reference_bn",
    )

    @model_validator(mode="after")
    def _order(self) -> Contract:
        if parse_month(self.end) < parse_month(self.start):
            raise ValueError(
                f"end: contract {self.name!r} ends ({self.end}) before it starts ({self.start})"
            )
        return self


class Renegotiation(_Model):
    """Under distress a share of what is still owed is renegotiated away, at a cost."""

    enabled: bool = True
    trigger_runway_months: Annotated[float, Field(ge=0, le=120)] = 3.0
    share: Prob = Field(default=0.3, description="share of remaining obligations renegotiated")
    cost: Prob = Field(
        default=0.25, description="share of the renegotiated amount still paid (fee)"
    )
    max_count: Annotated[int, Field(ge=0, le=12)] = 1


class Compute(_Model):
    """Compute commitments (rent) and their split between cost of sales and R&D."""

    cost_per_gw_bn: Param = P("all-in cost of a GW of capacity", 1, 1000, "$bn/GW")
    cost_per_gw_reference_bn: Annotated[float, Field(ge=1, le=1000)] = Field(
        description="cost per GW at which contract values were struck ($bn/GW); the same "
        "range as cost_per_gw_bn, which it divides"
    )
    inference_share: Param = P("share of compute expensed as cost of sales (inference)", 0, 1)
    vendor_financed_share: Param = P(
        "share of each month's compute bill settled by vendor credit, not cash, within the horizon",
        0,
        1,
    )
    payment_lag_months: Annotated[int, Field(ge=0, le=24)] = Field(
        default=0, description="months between expensing compute and paying for it (payables)"
    )
    contracts: list[Contract] = Field(default_factory=list)
    renegotiation: Renegotiation = Renegotiation()
    # cal2: vintage/contracts
    revenue_compute_elasticity: Param = Field(
        default=0.0,
        description="elasticity of revenue to compute online: revenue = demand x min(1, GW "
        "online / GW online in the central plan) ** elasticity (0: revenue ignores compute)",
        json_schema_extra={"lo": 0.0, "hi": 3.0, "unit": ""},
    )

    @model_validator(mode="after")
    def _unique(self) -> Compute:
        names = [c.name for c in self.contracts]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"contracts: duplicate contract name {dupes[0]!r}; names must be unique"
            )
        return self


class Opex(_Model):
    """People and other operating costs; stock-based pay is the non-cash share of people costs."""

    rnd_people_bn: Param = P("R&D staff cost in the calendar's first year", 0, MAX_BN, "$bn/yr")
    rnd_people_growth_per_yr: Param = P("growth of R&D staff cost", -0.9, 10, "1/yr")
    sga_fixed_bn: Param = P("fixed SG&A in the calendar's first year", 0, MAX_BN, "$bn/yr")
    sga_fixed_growth_per_yr: Param = P("growth of fixed SG&A", -0.9, 10, "1/yr")
    sga_pct_revenue: Param = P("variable SG&A as a share of revenue", 0, 5)
    other_cogs_pct_revenue: Param = P("non-compute cost of sales as a share of revenue", 0, 5)
    stock_pay_share_start: Param = P("non-cash (stock) share of people costs at the start", 0, 1)
    stock_pay_share_end: Param = P(
        "non-cash (stock) share of people costs from stock_pay_share_end_month on", 0, 1
    )
    # cal2: vintage/contracts
    stock_pay_share_end_month: Month = Field(
        description="month the stock-pay share reaches stock_pay_share_end (linear from the "
        "calendar start; a dated month, so a year's results do not depend on calendar.end)"
    )


class Strategic(_Model):
    """Committed strategic money and its condition."""

    name: Annotated[str, Field(min_length=1, max_length=60)]
    amount_bn: Money
    condition: Literal["none", "per_gw", "ipo"] = Field(
        description="none: paid at `start`; per_gw: paid per GW coming online; ipo: paid at the IPO"
    )
    per_gw_bn: NonNeg = Field(default=0.0, description="$bn released per GW online (per_gw)")
    counterparties: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list,
        description=(
            "per_gw: only GW under these counterparties' contracts count (empty: every contract)"
        ),
    )
    start: Month = Field(description="earliest month money can arrive")
    lapse: Month | None = Field(default=None, description="month after which what is unpaid lapses")

    @model_validator(mode="after")
    def _order(self) -> Strategic:
        if self.lapse is not None and parse_month(self.lapse) < parse_month(self.start):
            raise ValueError(
                f"lapse: {self.name!r} lapses ({self.lapse}) before it can start ({self.start})"
            )
        return self


class Liquidity(_Model):
    """Starting liquidity and the minimum cash buffer."""

    cash_bn: Money = Field(description="cash and securities at the end of cash_as_of, $bn")
    cash_as_of: Month = Field(description="month whose closing balance is cash_bn")
    undrawn_facilities_bn: Money = Field(
        default=0.0, description="undrawn debt and equity facilities"
    )
    # fin2: the funded path's own facilities
    funded_undrawn_facilities_bn: Money | None = Field(
        default=None,
        description="undrawn facilities the funded path can draw, $bn (default: "
        "undrawn_facilities_bn); the no-new-money path keeps undrawn_facilities_bn",
    )
    min_cash_buffer_bn: Money = Field(default=0.0, description="insolvent below this cash, $bn")
    cash_yield: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.0, description="interest earned on cash, 1/yr"
    )
    debt_rate: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.06, description="interest on drawn debt, 1/yr"
    )
    strategic: list[Strategic] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Liquidity:
        names = [s.name for s in self.strategic]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"strategic: duplicate strategic name {dupes[0]!r}; names must be unique"
            )
        return self


_Num = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Triple = Annotated[tuple[_Num, _Num, _Num], Strict(False)]
"""Three numbers, one per regime; written as a TOML array (a list, hence not strict)."""


class Regime(_Model):
    """Market regime, a monthly Markov chain over (boom, normal, winter)."""

    initial: Literal["boom", "normal", "winter"] = "normal"
    transition: Annotated[tuple[Triple, Triple, Triple], Strict(False)] = Field(
        description="monthly transition matrix, rows from and columns to (boom, normal, winter)"
    )
    close_probability: Triple = Field(description="probability a round closes, by regime")
    size_multiplier: Triple = Field(description="round size relative to normal, by regime")
    valuation_multiple: Triple = Field(description="post-money valuation / ARR, by regime")
    ipo_probability_month: Triple = Field(description="monthly IPO probability in an open window")
    # fin: financing
    bridge_probability: Triple = Field(
        default=(0.95, 0.85, 0.4),
        description="probability an insider bridge closes in a distress month, by regime",
    )

    @model_validator(mode="after")
    def _stochastic(self) -> Regime:
        for i, row in enumerate(self.transition):
            if any(not (0 <= p <= 1) for p in row) or abs(sum(row) - 1) > 1e-9:
                raise ValueError(
                    f"transition: row {i} must be probabilities summing to 1, got {list(row)}"
                )
        for name in ("close_probability", "ipo_probability_month", "bridge_probability"):
            if any(not 0 <= p <= 1 for p in getattr(self, name)):
                raise ValueError(f"{name}: each value must lie in [0, 1]")
        for name in ("size_multiplier", "valuation_multiple"):
            if any(not 0 <= p <= 1e4 for p in getattr(self, name)):
                raise ValueError(f"{name}: each value must lie in [0, 1e4]")
        return self


class CommittedTranche(_Model):
    """Equity signed before the vintage and paid after the cash anchor (fin2).

    Paid on the funded path only (the no-new-money path raises nothing new), never after a
    default; a tranche dated past the horizon is ignored.
    """

    name: Annotated[str, Field(min_length=1, max_length=60)]
    month: Month = Field(description="month the tranche is paid (after liquidity.cash_as_of)")
    amount_bn: Money
    sources_row: str = Field(default="", max_length=80, description="docs/sources.md row")


class Financing(_Model):
    """New external money: equity rounds, debt and an IPO, each with its conditions."""

    enabled: bool = True
    runway_trigger_months: Annotated[float, Field(ge=0, le=120)] = 12.0
    round_lag_months: Annotated[int, Field(ge=0, le=36)] = 3
    round_months_of_burn: Annotated[float, Field(ge=0, le=120)] = 18.0
    round_min_bn: Money = 5.0
    round_max_bn: Money = 150.0
    max_dilution: Prob = 0.25
    momentum_elasticity: Annotated[float, Field(ge=0, le=10)] = 1.0
    momentum_reference: Annotated[float, Field(gt=0, le=100)] = 1.0  # divides revenue momentum
    round_size_sigma: Annotated[float, Field(ge=0, le=3)] = 0.3
    debt_capacity_x_arr: Annotated[float, Field(ge=0, le=10)] = 0.5
    ipo_earliest: Month = "2027-01"
    ipo_min_arr_bn: Money = 50.0
    ipo_size_bn: Money = 60.0
    # fin: financing
    retry_months: Annotated[int, Field(ge=1, le=36)] = Field(
        default=1, description="months after a failed round attempt before the next attempt"
    )
    distress_runway_months: Annotated[float, Field(ge=0, le=120)] = Field(
        default=3.0, description="runway (months) below which bridge money is sought"
    )
    bridge_months_of_burn: Annotated[float, Field(ge=0, le=120)] = Field(
        default=6.0, description="bridge size in months of burn (at least the shortfall)"
    )
    bridge_max_bn: Money = Field(default=22.5, description="bridge outstanding at most, $bn")
    bridge_rate: Annotated[float, Field(ge=0, le=1)] = Field(
        default=0.10, description="accrual on the bridge until it converts, 1/yr"
    )
    round_size_basis: Literal["trailing", "projected"] = Field(
        default="trailing",
        description="burn a round is sized on: the last 3 months' (trailing) or the next "
        "round_months_of_burn months' at today's revenue and the committed compute schedule",
    )
    # fin2: tranches, the runway basis and committed money
    runway_basis: Literal["trailing", "projected"] = Field(
        default="trailing",
        description="burn the runway trigger divides by: the last 3 months' (trailing) or the "
        "next round_months_of_burn months' projected from the committed compute schedule",
    )
    round_first_tranche_share: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0,
        description="share of a round paid round_lag_months after signing; the rest is paid "
        "in equal monthly tranches over the next round_tranche_months months",
    )
    round_tranche_months: Annotated[int, Field(ge=0, le=60)] = Field(
        default=0, description="months over which the rest of a round is paid"
    )
    committed: list[CommittedTranche] = Field(default_factory=list)
    regime: Regime

    @model_validator(mode="after")
    def _round_range(self) -> Financing:
        if self.round_min_bn > self.round_max_bn:
            raise ValueError(
                f"round_min_bn: {self.round_min_bn:g} exceeds round_max_bn ({self.round_max_bn:g})"
            )
        if self.round_first_tranche_share < 1.0 and self.round_tranche_months < 1:
            raise ValueError(
                "round_tranche_months: a first tranche share below 1 needs at least one month "
                "for the rest of the round (set round_tranche_months >= 1)"
            )
        names = [c.name for c in self.committed]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"committed: duplicate committed tranche name {dupes[0]!r}; names must be unique"
            )
        return self


class Sentiment(_Model):
    """One common AI-sentiment innovation loading on the drivers' innovations (correlation).

    cal1: shocks. The common innovation ``c_m`` is iid N(0, 1); a driver with loading ``l``
    sees ``z_m = l c_m + sqrt(1 - l^2) e_m``, so its innovations stay iid N(0, 1) and its
    configured moments hold; ``corr(z_i, z_j) = l_i l_j`` in the same month.
    ``persistence`` is the AR(1) coefficient of the reported ``sentiment`` index (a filter
    of ``c``, stationary sd 1) that no driver reads (``docs/model.md`` §7.2).
    """

    persistence: Annotated[float, Field(ge=0, lt=1)] = 0.9
    loading_enterprise: Annotated[float, Field(ge=-1, le=1)] = 0.0
    loading_users: Annotated[float, Field(ge=-1, le=1)] = 0.0
    loading_price_war: Annotated[float, Field(ge=-1, le=1)] = 0.0
    loading_regime: Annotated[float, Field(ge=-1, le=1)] = 0.0
    loading_round: Annotated[float, Field(ge=-1, le=1)] = 0.0


class Shocks(_Model):
    """Monthly shocks; all zero in a deterministic run.

    ``*_vol`` is the stationary sd of an AR(1) deviation started at 0, ``*_persistence`` its
    monthly autocorrelation (``enterprise_growth_reversion_per_yr`` ``k``: ``exp(-k / 12)``).
    """

    users_vol: Annotated[float, Field(ge=0, le=5)] = 0.0
    users_persistence: Annotated[float, Field(ge=0, lt=1)] = 0.9
    conversion_vol: Annotated[float, Field(ge=0, le=5)] = 0.0
    conversion_persistence: Annotated[float, Field(ge=0, lt=1)] = 0.95
    enterprise_growth_vol: Annotated[float, Field(ge=0, le=5)] = 0.0
    enterprise_growth_reversion_per_yr: Annotated[float, Field(ge=0, le=50)] = 1.0
    price_war_per_yr: Param = P("expected price-war jumps per year", 0, 12, "1/yr")
    price_war_cut: Param = P("share of the price lost in one price-war jump", 0, 0.95)
    # fin2: market appetite for a round is sticky: the round shock's own part is an AR(1)
    round_persistence: Annotated[float, Field(ge=0, lt=1)] = Field(
        default=0.0,
        description="monthly autocorrelation of the round shock's own part (0: iid months)",
    )
    sentiment: Sentiment = Sentiment()


REFERENCE_MEASURES = (
    "revenue",
    "consumer",
    "enterprise",
    "advertising",
    "cost_of_sales",
    "rnd",
    "sga",
    "revenue_share",
    "operating_income",
    "compute_rent",
    "fcf",
    "funding_gap",
)
"""What a published figure can be compared with: a monthly flow line summed over the
reference's months, or ``funding_gap`` (the gap at the end of ``to_month``)."""


class Reference(_Model):
    """A published figure: quoted by the report, drawn, compared by a deterministic run.

    The model's value is the sum of the monthly line ``measure`` over ``from_month`` to
    ``to_month`` (both included), times ``sign``; for ``measure = "funding_gap"`` it is the
    funding gap at the end of ``to_month``'s year. A reference whose months lie outside the
    calendar is quoted but not compared or drawn.
    """

    name: Annotated[str, Field(min_length=1, max_length=120)] = Field(
        description="what the figure is, as the report names it"
    )
    source: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="who published it and when"
    )
    sources_row: str = Field(default="", max_length=40, description="row id in docs/sources.md")
    value_bn: Annotated[float, Field(ge=-MAX_BN, le=MAX_BN, allow_inf_nan=False)] = Field(
        description="the published figure, US$ bn"
    )
    measure: Literal[REFERENCE_MEASURES] = Field(  # type: ignore[valid-type]
        description="model line it is compared with (see REFERENCE_MEASURES)"
    )
    from_month: Month = Field(description="first month summed")
    to_month: Month = Field(description="last month summed (funding_gap: the year of the gap)")
    sign: Literal[1, -1] = Field(default=1, description="-1 where the figure is a loss")
    tolerance: Annotated[float, Field(gt=0, le=10)] | None = Field(
        default=None, description="relative tolerance of the comparison (0.05: within 5%)"
    )
    draw: Literal["none", "point", "line"] = Field(
        default="point",
        description="on the plot of its measure (revenue, funding gap): a point at to_month's "
        "year, a horizontal line, or nothing",
    )

    @model_validator(mode="after")
    def _months(self) -> Reference:
        if parse_month(self.to_month) < parse_month(self.from_month):
            raise ValueError(f"to_month: {self.to_month} is before from_month ({self.from_month})")
        return self


class MarketReference(_Model):
    """A published or market-implied probability of a dated event (``[[references.markets]]``).

    The report shows it beside the model's probability of the same event by the same month
    (``summary.json["market_references"]``): the event is a default (``insolvent_month``) or
    an IPO (``ipo_month``) by the end of ``by_month``.
    """

    name: Annotated[str, Field(min_length=1, max_length=120)] = Field(
        description="what the probability is, as the report names it"
    )
    source: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="who published it (a market, a lender, an analyst)"
    )
    sources_row: str = Field(default="", max_length=40, description="row id in docs/sources.md")
    event: Literal["default", "ipo"] = Field(description="the event: default or IPO")
    by_month: Month = Field(description="the event happens by the end of this month")
    probability: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = Field(
        description="the published probability (0.3: 30%)"
    )
    bound: Literal["point", "upper", "lower"] = Field(
        default="point", description="upper: the source says at most this; lower: at least"
    )
    quoted: Month = Field(description="month the probability was published or priced")


class References(_Model):
    """What the report quotes beside the model; none by default.

    ``[[references.figures]]``: published figures; ``[[references.markets]]``: published
    probabilities of dated events.
    """

    figures: list[Reference] = Field(default_factory=list)
    markets: list[MarketReference] = Field(default_factory=list)


ResolvedValue = str | int | float | bool | list[str]


# cal2: vintage/contracts
class Actual(_Model):
    """A reported figure for a period of history: it replaces the model there."""

    line: Literal["revenue", "fcf"] = Field(
        description="revenue: monthly revenue over the period sums to value_bn, spread "
        "geometrically so the last month joins the central model's next month; fcf: the "
        "difference to the model's free cash flow is spread evenly over the period's months "
        "as working capital (a reconciling item)"
    )
    from_month: Month
    to_month: Month
    value_bn: Annotated[float, Field(ge=-MAX_BN, le=MAX_BN, allow_inf_nan=False)]
    source: Annotated[str, Field(min_length=1, max_length=200)]
    sources_row: str = Field(default="", max_length=40, description="row id in docs/sources.md")

    @model_validator(mode="after")
    def _check(self) -> Actual:
        if parse_month(self.to_month) < parse_month(self.from_month):
            raise ValueError(f"to_month: {self.to_month} is before from_month ({self.from_month})")
        if self.line == "revenue" and self.value_bn <= 0.0:
            raise ValueError("value_bn: reported revenue must be positive")
        return self


class History(_Model):
    """Reported actuals for months up to ``calendar.as_of`` (``[[history.actuals]]``)."""

    actuals: list[Actual] = Field(default_factory=list)


# credit: the credit view and Bain's lens (issue 16) -------------------------------------
class Backlog(_Model):
    """What a counterparty has reported as contracted backlog (``[[credit.backlog]]``).

    The credit view sets each counterparty's exposure at default beside it (a share of it).
    A backlog whose counterparty has no compute contract is not shown (a config that drops a
    contract keeps its published backlog row harmlessly).
    """

    counterparty: Annotated[str, Field(min_length=1, max_length=60)] = Field(
        description="a compute contract's counterparty"
    )
    value_bn: Annotated[float, Field(gt=0.0, le=MAX_BN, allow_inf_nan=False)] = Field(
        description="the reported backlog, US$ bn"
    )
    what: Annotated[str, Field(min_length=1, max_length=160)] = Field(
        description="what the figure is (e.g. remaining performance obligations added)"
    )
    as_of: Month = Field(description="month the figure was reported for")
    source: Annotated[str, Field(min_length=1, max_length=200)]
    sources_row: str = Field(default="", max_length=40, description="row id in docs/sources.md")


class Bain(_Model):
    """Bain & Company's industry arithmetic for 2030 (Global Technology Report, Sep 2025).

    Defaults are Bain's published figures and the two numbers they imply (docs/credit.md).
    """

    year: Annotated[int, Field(ge=2000, le=2200)] = 2030
    capex_bn: Annotated[float, Field(gt=0.0, le=MAX_BN, allow_inf_nan=False)] = Field(
        default=500.0, description="bain-capex: annual data-centre capex needed by 2030, $bn"
    )
    capex_to_revenue: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)] = Field(
        default=0.25,
        description="bain-capex-ratio: the sustainable capex/revenue ratio of cloud providers "
        "Bain applies; not published as a number, 0.25 is what $500bn / $2tn implies",
    )
    funded_revenue_bn: Annotated[float, Field(ge=0.0, le=MAX_BN, allow_inf_nan=False)] = Field(
        default=1200.0,
        description="bain-shortfall: revenue Bain finds fundable (all US on-prem IT moved to "
        "cloud plus ~20% AI savings reinvested); not published, $2tn - $800bn implies it",
    )
    revenue_needed_bn: Annotated[float, Field(gt=0.0, le=MAX_BN, allow_inf_nan=False)] = Field(
        default=2000.0, description="bain-revenue-needed: Bain's published figure, $bn/yr"
    )
    shortfall_bn: Annotated[float, Field(ge=0.0, le=MAX_BN, allow_inf_nan=False)] = Field(
        default=800.0, description="bain-shortfall: Bain's published shortfall, $bn/yr"
    )
    demand_gw: Annotated[float, Field(gt=0.0, le=1.0e5, allow_inf_nan=False)] = Field(
        default=200.0, description="bain-demand-gw: incremental global compute by 2030, GW"
    )
    source: str = Field(
        default="Bain & Company, Global Technology Report 2025 (23 Sep 2025)", max_length=200
    )


class Revolver(_Model):
    """A loan whose pricing implies a default probability (``[credit.revolver]``)."""

    spread_bp: Annotated[float, Field(ge=0.0, le=5000.0, allow_inf_nan=False)] = Field(
        description="margin over the risk-free rate (SOFR), bp"
    )
    term_years: Annotated[float, Field(gt=0.0, le=30.0, allow_inf_nan=False)] = Field(
        description="term, years"
    )
    source: Annotated[str, Field(min_length=1, max_length=200)]
    sources_row: str = Field(default="", max_length=40, description="row id in docs/sources.md")


class Credit(_Model):
    """The credit view (``[credit]``): recovery, exposure thresholds, a loan, backlogs, Bain.

    Without ``[credit.revolver]`` or ``[credit.bain]`` the report quotes neither.
    """

    recovery_rate: Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)] = Field(
        default=0.40,
        description="credit-recovery: share of an unsecured claim recovered in default (the "
        "market's 40% convention for senior unsecured debt; Moody's historical average of "
        "defaulted bonds ~36%)",
    )
    recovery_source: str = Field(
        default="the market's convention for senior unsecured claims; Moody's long-run "
        "average recovery on defaulted bonds is a little lower (credit-recovery)",
        max_length=200,
    )
    exposure_thresholds_bn: list[Annotated[float, Field(ge=0.0, le=MAX_BN)]] = Field(
        default_factory=lambda: [50.0, 100.0, 200.0],
        max_length=8,
        description="X of P(default while owed more than X), $bn",
    )
    revolver: Revolver | None = Field(
        default=None, description="a loan whose spread is set beside the model's (none: none)"
    )
    backlog: list[Backlog] = Field(default_factory=list)
    bain: Bain | None = Field(default=None, description="Bain's lens (none: not shown)")


# pol: policies -- management reactions, as data: a trigger and an action (docs/model.md §11)
POLICY_METRIC_UNITS = {
    "months_of_runway": "months",
    "cash_bn": "$bn",
    "failed_round": "count",
    "regime": "regime",
    "revenue_momentum": "1/yr",
    "date": "month",
}
"""Each trigger metric and the unit its threshold is written in."""
MAX_POLICIES = 4
"""At most this many policies (the kernel keeps a fixed number of state slots per policy)."""
REGIME_NAMES = ("boom", "normal", "winter")


class PolicyTrigger(_Model):
    """When a policy fires: ``metric comparison threshold`` held ``hold_months`` in a row."""

    metric: Literal[
        "months_of_runway", "cash_bn", "failed_round", "regime", "revenue_momentum", "date"
    ] = Field(
        description="months_of_runway: (cash + undrawn - buffer) / burn after the month's "
        "financing; cash_bn: cash; failed_round: failed round attempts so far; regime: the "
        "financing regime; revenue_momentum: revenue over revenue 12 months earlier, less 1; "
        "date: the month"
    )
    comparison: Literal["<", "<=", ">", ">=", "=="]
    threshold: float | str = Field(
        description="a number in the metric's unit; a regime name for regime; YYYY-MM for date"
    )
    unit: str | None = Field(
        default=None,
        description="the threshold's unit, checked against the metric (months, $bn, count, "
        "1/yr; optional for regime and date)",
    )
    hold_months: Annotated[int, Field(ge=1, le=MAX_MONTHS)] = 1
    max_fires: Annotated[int, Field(ge=1, le=MAX_MONTHS)] = 1
    cooldown_months: Annotated[int, Field(ge=0, le=MAX_MONTHS)] = 0

    @model_validator(mode="after")
    def _check(self) -> PolicyTrigger:
        want = POLICY_METRIC_UNITS[self.metric]
        if self.metric in ("regime", "date"):
            if self.unit is not None and self.unit != want:
                raise ValueError(
                    f"unit: {self.unit!r} is not the unit of metric {self.metric} ({want!r})"
                )
            if not isinstance(self.threshold, str):
                raise ValueError(
                    f"threshold: metric {self.metric} needs "
                    + ("a regime name" if self.metric == "regime" else "a month, YYYY-MM")
                )
            if self.metric == "regime":
                if self.threshold not in REGIME_NAMES:
                    raise ValueError(
                        f"threshold: {self.threshold!r} is not a regime; use one of "
                        f"{list(REGIME_NAMES)}"
                    )
                if self.comparison != "==":
                    raise ValueError("comparison: metric regime only takes ==")
            else:
                if not re.fullmatch(r"\d{4}-\d{2}", self.threshold):
                    raise ValueError(f"threshold: {self.threshold!r} is not a month, YYYY-MM")
                parse_month(self.threshold)
            return self
        if self.unit is None:
            raise ValueError(f"unit: metric {self.metric} needs its unit ({want!r})")
        if self.unit != want:
            raise ValueError(
                f"unit: {self.unit!r} is not the unit of metric {self.metric} ({want!r})"
            )
        if isinstance(self.threshold, str):
            raise ValueError(f"threshold: metric {self.metric} needs a number in {want}")
        if not math.isfinite(self.threshold) or abs(self.threshold) > MAX_BN:
            raise ValueError(f"threshold: {self.threshold} is not a finite number")
        if self.comparison == "==":
            raise ValueError(f"comparison: == is only for regime and date, not {self.metric}")
        return self


class DeferCompute(_Model):
    """Defer a share of the compute bills of the next ``months`` months; repay after them."""

    kind: Literal["defer_compute"]
    share: Prob = Field(description="share of the bills (and the GW online) deferred")
    counterparty: str = Field(default="all", description="a contract counterparty, or all")
    months: Annotated[int, Field(ge=1, le=60)] = Field(
        description="months deferred; the deferred bills are repaid over the next as many"
    )
    penalty: Prob = Field(default=0.0, description="share added to the deferred bills on repayment")


class CancelCompute(_Model):
    """Cancel a share of the remaining compute bills and capacity, paying a penalty at once."""

    kind: Literal["cancel_compute"]
    share: Prob = Field(description="share of the remaining bills (and GW) cancelled")
    counterparty: str = Field(default="all", description="a contract counterparty, or all")
    penalty: Prob = Field(default=0.0, description="share of the cancelled bills paid at once")


class SlowPeopleGrowth(_Model):
    """From the firing month, people costs grow at ``factor`` times their growth rate."""

    kind: Literal["slow_people_growth"]
    factor: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class RaisePrice(_Model):
    """Raise the consumer price by ``pct``; paid conversion answers with an elasticity."""

    kind: Literal["raise_price"]
    pct: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
    conversion_elasticity: Annotated[float, Field(ge=0.0, le=10.0, allow_inf_nan=False)] = Field(
        description="conversion x (1 + pct) ** -elasticity (1: revenue unchanged)"
    )


class BringAdsForward(_Model):
    """The LLM ad-share ramp runs ``months`` months earlier from the firing month."""

    kind: Literal["bring_ads_forward"]
    months: Annotated[int, Field(ge=1, le=60)]


class SellStrategicStake(_Model):
    """Sell a stake to a strategic investor for ``amount_bn``, closing with a probability."""

    kind: Literal["sell_strategic_stake"]
    amount_bn: Money
    probability: Prob


class RenegotiatePolicy(_Model):
    """Renegotiate away a share of every remaining compute bill (and its capacity), at a cost."""

    kind: Literal["renegotiate"]
    share: Prob
    cost: Prob = Field(description="share of the renegotiated amount still paid (fee)")
    success_probability: Prob


PolicyAction = Annotated[
    DeferCompute
    | CancelCompute
    | SlowPeopleGrowth
    | RaisePrice
    | BringAdsForward
    | SellStrategicStake
    | RenegotiatePolicy,
    Field(discriminator="kind"),
]


class Policy(_Model):
    """One management reaction: when ``trigger`` holds, ``action`` is taken (funded path only)."""

    name: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
    trigger: PolicyTrigger
    action: PolicyAction


class Config(_Model):
    """A whole runway scenario."""

    scenario: Scenario
    calendar: CalendarCfg
    run: RunCfg = RunCfg()
    consumer: Consumer
    enterprise: Enterprise
    advertising: Advertising
    revenue_share: RevenueShare
    compute: Compute
    opex: Opex
    liquidity: Liquidity
    financing: Financing
    shocks: Shocks = Shocks(price_war_per_yr=0.0, price_war_cut=0.0)
    references: References = References()
    history: History = History()  # cal2: vintage/contracts
    credit: Credit = Credit()  # credit: the credit view (issue 16)
    policies: list[Policy] = Field(  # pol: policies
        default_factory=list, max_length=MAX_POLICIES, description="management reactions"
    )
    resolved: dict[str, ResolvedValue] | None = Field(
        default=None,
        description="what a run recorded in its config.resolved.toml (paths, seed, versions, "
        "overrides): read and kept, never used by the model",
    )

    def with_overrides(self, overrides: dict[str, Any], source: str = "overrides") -> Config:
        """A copy with values changed, validated like a config file.

        Parameters
        ----------
        overrides : dict
            Dotted keys to new values: ``{"consumer.conversion_target": 0.15,
            "financing.round_lag_months": 1}``. A list of named tables is indexed by name or
            position (``"compute.contracts.oracle.share_online"``). A value replaces what is
            there: a number replaces a distribution, a dict such as ``{"dist": "normal",
            "mean": 0.15, "sd": 0.02}`` gives a distribution.
        source : str
            Names the overrides in an error message.

        Raises
        ------
        ConfigError
            One line naming the key: an unknown key, or a value the config does not allow.

        Notes
        -----
        ``model_copy(update=...)`` (pydantic) does not validate; :func:`runway.simulate`
        validates a config again before running it, but this is the route that says what
        is wrong at once.
        """
        data = self.model_dump(mode="json")
        for key, value in overrides.items():
            _set_dotted(data, str(key), value, source)
        return config_from_dict(data, source)

    def _check_history(self, start: int) -> None:
        _check_history_of(self, start)  # cal2: vintage/contracts

    @model_validator(mode="after")
    def _cash_month(self) -> Config:
        start, end = parse_month(self.calendar.start), parse_month(self.calendar.end)
        as_of = parse_month(self.liquidity.cash_as_of)
        if not start - 1 <= as_of < end:
            raise ValueError(
                f"liquidity.cash_as_of: {self.liquidity.cash_as_of} must lie between the month "
                f"before calendar.start and the month before calendar.end"
            )
        gap = 12 * MAX_ANCHOR_GAP_YEARS
        lo, hi = start - gap, end + gap
        window = f"{format_month(lo)}..{format_month(hi)}"
        if not lo <= parse_month(self.consumer.users_anchor_month) <= hi:
            raise ValueError(
                f"consumer.users_anchor_month: {self.consumer.users_anchor_month} must lie within "
                f"{MAX_ANCHOR_GAP_YEARS} years of the calendar ({window})"
            )
        if not lo // 12 <= self.enterprise.anchor_year <= hi // 12:
            raise ValueError(
                f"enterprise.anchor_year: {self.enterprise.anchor_year} must lie within "
                f"{MAX_ANCHOR_GAP_YEARS} years of the calendar ({lo // 12}..{hi // 12})"
            )
        self._check_history(start)
        for i, c in enumerate(self.financing.committed):  # fin2
            if parse_month(c.month) <= as_of:
                raise ValueError(
                    f"financing.committed.{i}.month: {c.month} must come after "
                    f"liquidity.cash_as_of ({self.liquidity.cash_as_of}); money paid by then "
                    f"is in cash_bn"
                )
        known = {c.counterparty for c in self.compute.contracts}
        for i, s in enumerate(self.liquidity.strategic):
            unknown = sorted(set(s.counterparties) - known)
            if unknown:
                raise ValueError(
                    f"liquidity.strategic.{i}.counterparties: {unknown[0]!r} is not the "
                    f"counterparty of any compute contract; use one of {sorted(known)}"
                )
        _check_policies_of(self, known)  # pol: policies
        return self


# pol: policies
def _check_policies_of(cfg: Config, known: set[str]) -> None:
    names = [p.name for p in cfg.policies]
    for i, p in enumerate(cfg.policies):
        if names.count(p.name) > 1:
            raise ValueError(f"policies.{i}.name: duplicate policy name {p.name!r}")
        cp = getattr(p.action, "counterparty", None)
        if cp is not None and cp != "all" and cp not in known:
            raise ValueError(
                f"policies.{i}.action.counterparty: {cp!r} is not the counterparty of any "
                f"compute contract; use all or one of {sorted(known)}"
            )


# cal2: vintage/contracts
def _check_history_of(cfg: Config, start: int) -> None:
    as_of_s = cfg.calendar.as_of
    if as_of_s is None:
        if cfg.history.actuals:
            raise ValueError("history.actuals: reported actuals need calendar.as_of")
        return
    as_of = parse_month(as_of_s)
    if not start <= as_of <= parse_month(cfg.liquidity.cash_as_of):
        raise ValueError(
            f"calendar.as_of: {as_of_s} must lie between calendar.start and "
            f"liquidity.cash_as_of ({cfg.liquidity.cash_as_of}): history has no financing"
        )
    seen: dict[str, list[tuple[int, int]]] = {}
    for i, a in enumerate(cfg.history.actuals):
        a0, a1 = parse_month(a.from_month), parse_month(a.to_month)
        if a0 < start or a1 > as_of:
            raise ValueError(
                f"history.actuals.{i}.from_month: the period {a.from_month}..{a.to_month} must "
                f"lie within calendar.start..calendar.as_of ({cfg.calendar.start}..{as_of_s})"
            )
        for b0, b1 in seen.get(a.line, []):
            if a0 <= b1 and b0 <= a1:
                raise ValueError(
                    f"history.actuals.{i}.from_month: overlaps another {a.line} period"
                )
        seen.setdefault(a.line, []).append((a0, a1))
    for i, c in enumerate(cfg.compute.contracts):
        if parse_month(c.start) <= as_of and (
            isinstance(c.share_online, _Dist) or isinstance(c.slip_months, _Dist)
        ):
            raise ValueError(
                f"compute.contracts.{i}.share_online: contract {c.name!r} started by "
                f"calendar.as_of ({as_of_s}); its share online and slip are history, not draws"
            )


def _loc(err: ErrorDetails) -> str:
    parts = [str(p) for p in err.get("loc", ()) if not str(p).startswith(("function-", "tagged-"))]
    # Drop the union-branch names pydantic inserts (e.g. 'float', 'pert').
    keep = [
        p
        for p in parts
        if p not in {"float", "normal", "lognormal", "uniform", "triangular", "pert", "percentiles"}
    ]
    return ".".join(keep) or "(top level)"


_FIELD_MSG = re.compile(r"^([A-Za-z_][\w.]*): (.*)$")
_NUMBER_TYPES = {"float_type", "float_parsing", "int_type", "int_parsing", "finite_number"}


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One line naming the first offending key and what is allowed."""
    errors = exc.errors()
    # Prefer an error that is not just "input should be a number" from the union's float branch.
    err = next(
        (e for e in errors if e.get("type") not in {"float_type", "float_parsing"}), errors[0]
    )
    loc = _loc(err)
    msg = " ".join(str(err.get("msg", "invalid")).removeprefix("Value error, ").split())
    kind = err.get("type")
    if kind == "extra_forbidden":
        msg = "unknown key (check the spelling against docs/model.md)"
    elif kind == "missing":
        last = err.get("loc", ("",))[-1]
        msg = "too few values" if isinstance(last, int) else "required key is missing"
    elif kind in {"model_attributes_type", "model_type", "dict_type"} and any(
        e.get("type") in _NUMBER_TYPES and _loc(e) == loc for e in errors
    ):
        got = err.get("input")
        msg = (
            "expected a number or a distribution table such as "
            f'{{ dist = "normal", mean = ..., sd = ... }}, got {type(got).__name__} {got!r}'
        )
    # Model-level checks name their field first ("field: message"): fold it into the key.
    m = _FIELD_MSG.match(msg)
    if m is not None and kind == "value_error":
        loc = m.group(1) if loc == "(top level)" else f"{loc}.{m.group(1)}"
        msg = m.group(2)
    return f"{source}: {loc}: {msg}"


def _set_dotted(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set ``data[a][b]... = value`` for ``key = "a.b..."``; lists by name or position."""
    parts = key.split(".")
    node: Any = data
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        last = depth == len(parts) - 1
        if isinstance(node, dict):
            if part not in node:
                keys = ", ".join(sorted(node))
                raise ConfigError(f"{source}: {here}: unknown key (keys here: {keys})")
            k: Any = part
        elif isinstance(node, list):
            names = [x.get("name") if isinstance(x, dict) else None for x in node]
            if part.isdigit() and int(part) < len(node):
                k = int(part)
            elif part in names:
                k = names.index(part)
            else:
                raise ConfigError(f"{source}: {here}: no entry named or numbered {part!r}")
        else:
            raise ConfigError(f"{source}: {'.'.join(parts[:depth])}: is a value, not a table")
        if last:
            node[k] = value
        else:
            node = node[k]


def parse_override(text: str) -> tuple[str, Any]:
    """``"consumer.conversion_target=0.15"`` -> ``("consumer.conversion_target", 0.15)``.

    The value is read as a TOML value (``0.15``, ``true``, ``"2027-01"``, ``[1, 2]``,
    ``{ dist = "normal", mean = 0.15, sd = 0.02 }``); text that is not one is a string.
    """
    key, sep, raw = text.partition("=")
    key, raw = key.strip(), raw.strip()
    if not sep or not key or not raw:
        raise ConfigError(f"--set {text}: expected KEY=VALUE, e.g. consumer.conversion_target=0.15")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def apply_override_strings(cfg: Config, items: list[str]) -> Config:
    """``cfg`` with ``--set KEY=VALUE`` items applied one by one, each validated."""
    for item in items:
        key, value = parse_override(item)
        cfg = cfg.with_overrides({key: value}, source=f"--set {item}")
    return cfg


def revalidate(cfg: Config) -> Config:
    """``cfg`` validated again (a ``model_copy(update=...)`` skips validation)."""
    data = cfg.model_dump(mode="json", warnings=False)
    return config_from_dict(data, "config")


def config_from_dict(data: dict[str, Any], source: str = "config") -> Config:
    """Validate a parsed TOML document; raises :class:`ConfigError` with one line."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None
    except ValueError as exc:  # month parsing inside validators
        raise ConfigError(f"{source}: {exc}") from None


def load_config(path: str | Path) -> Config:
    """Read and validate a TOML config.

    Raises
    ------
    ConfigError
        If the file is missing, unreadable, not TOML or not a valid config; the message is
        one line naming the file and the offending key.
    """
    from runway.io import read_toml  # one bounded reader for every file (runway.io)

    p = Path(path)
    data = read_toml(p, what="TOML config file", error=ConfigError)
    if "scenario" not in data and ("axes" in data or "base" in data):
        raise ConfigError(
            f"{p}: this is a sweep file (it has base and [[axes]]), not a config; "
            f"run it with `runway sweep {p}`"
        )
    return config_from_dict(data, str(p))
