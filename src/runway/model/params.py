"""The per-path parameter vector: which config values are drawn once per path, in kernel order.

The kernel reads ``theta[i]`` with the integer constants below; :data:`PARAMS` maps each
index to its config key so encoding, reporting and sensitivity analysis share one table.
"""

from __future__ import annotations

from runway.config import Config

PARAMS: tuple[tuple[str, str], ...] = (
    ("users_anchor_bn", "consumer.users_anchor_bn"),
    ("users_ceiling_bn", "consumer.users_ceiling_bn"),
    ("users_growth_per_yr", "consumer.users_growth_per_yr"),
    ("conversion_start", "consumer.conversion_start"),
    ("conversion_target", "consumer.conversion_target"),
    ("price_usd_month", "consumer.price_usd_month"),
    ("ent_market_anchor_bn", "enterprise.market_anchor_bn"),
    ("ent_growth_start", "enterprise.market_growth_per_yr"),
    ("ent_growth_anchor", "enterprise.market_growth_anchor_per_yr"),
    ("ent_growth_after", "enterprise.market_growth_after_per_yr"),
    ("ent_share_start", "enterprise.share_start"),
    ("ent_share_anchor", "enterprise.share_anchor"),
    ("ad_market_bn", "advertising.ad_market_bn"),
    ("ad_growth", "advertising.ad_market_growth_per_yr"),
    ("llm_share_target", "advertising.llm_share_target"),
    ("oai_share_start", "advertising.openai_share_start"),
    ("oai_share_target", "advertising.openai_share_target"),
    ("ms_rate_start", "revenue_share.rate_start"),
    ("ms_rate_end", "revenue_share.rate_end"),
    ("cost_per_gw_bn", "compute.cost_per_gw_bn"),
    ("inference_share", "compute.inference_share"),
    ("vendor_financed_share", "compute.vendor_financed_share"),
    ("rnd_people_bn", "opex.rnd_people_bn"),
    ("rnd_growth", "opex.rnd_people_growth_per_yr"),
    ("sga_fixed_bn", "opex.sga_fixed_bn"),
    ("sga_growth", "opex.sga_fixed_growth_per_yr"),
    ("sga_pct", "opex.sga_pct_revenue"),
    ("other_cogs_pct", "opex.other_cogs_pct_revenue"),
    ("sbc_start", "opex.stock_pay_share_start"),
    ("sbc_end", "opex.stock_pay_share_end"),
    ("price_war_per_yr", "shocks.price_war_per_yr"),
    ("price_war_cut", "shocks.price_war_cut"),
)
N_PARAMS = len(PARAMS)


def get_path(cfg: object, dotted: str) -> object:
    """Value at a dotted config path (``"consumer.conversion_target"``)."""
    obj = cfg
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def bounds(cfg: Config, dotted: str) -> tuple[float, float]:
    """Admissible interval of a drawable parameter, from its field metadata."""
    section, name = dotted.rsplit(".", 1)
    model = get_path(cfg, section)
    extra = type(model).model_fields[name].json_schema_extra
    assert isinstance(extra, dict)
    return float(extra["lo"]), float(extra["hi"])  # type: ignore[arg-type]
