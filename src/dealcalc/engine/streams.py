"""Production, payable metal, net smelter return and operating cost of each product stream.

Kernels of the resolved stream records (:mod:`dealcalc.engine.inputs`); every result
broadcasts to (S, T); money is in the deal's basis (``escalate`` is 1.0 in real terms).
Formulas: docs/methodology.md §9.
"""

from __future__ import annotations

from dataclasses import dataclass

from dealcalc.engine.inputs import MineInputs, RefineryInputs
from dealcalc.engine.timeline import Number, times
from dealcalc.engine.trade import Duty, duty

__all__ = ["StreamFlows", "mine_flows", "refinery_flows", "stream_duties"]


@dataclass(frozen=True)
class StreamFlows:
    """One stream's yearly figures (each broadcastable to (S, T))."""

    name: str
    revenue: Number  # paid value of product sold
    charges: Number  # TC, RC, penalties and freight on product sold
    royalty_base: Number  # mine-product value owing royalty
    mining_cost: Number  # ore cost plus the stream's fixed cost
    conversion_cost: Number  # refinery conversion
    feed_cost: Number  # purchased feed, priced off the deck
    contained_units_sold: Number  # units of the priced product in what is sold (before payability)


def mine_flows(s: MineInputs, escalate: Number) -> StreamFlows:
    """Revenue, charges, royalty base and costs of a mine stream (methodology §9)."""
    price = times(s.price, escalate)
    fixed = times(s.fixed_opex * s.producing, escalate)
    # Per-draw scalars ((S, 1) or float) are multiplied together first, so each line costs one
    # pass over the (S, T) production profile.
    recovered_k = s.ore * s.grade * s.recovery
    payable_k = recovered_k * (s.units_per_tonne * s.payable)
    value = (payable_k * s.profile) * price
    sold_profile = s.profile * s.sold
    # charges per recovered tonne: TC and penalties per dry tonne of concentrate, freight per wet
    # tonne, freight per tonne of product; RC per payable unit
    per_recovered_t = s.freight_per_t_product
    if s.concentrate_grade is not None:
        per_dmt = s.treatment_per_dmt + s.penalties_per_dmt
        per_wmt = s.freight_per_wmt / (1.0 - s.moisture)
        per_recovered_t = per_recovered_t + (per_dmt + per_wmt) / s.concentrate_grade
    charge_k = recovered_k * per_recovered_t + payable_k * s.refining_per_unit
    return StreamFlows(
        name=s.name,
        revenue=value * s.sold,
        charges=times(charge_k * sold_profile, escalate),
        royalty_base=times(value, s.royalty_share),
        mining_cost=times((s.ore * s.opex_per_t_ore) * s.profile, escalate) + fixed,
        conversion_cost=0.0,
        feed_cost=0.0,
        contained_units_sold=(recovered_k * s.units_per_tonne) * sold_profile,
    )


def refinery_flows(s: RefineryInputs, escalate: Number) -> StreamFlows:
    """Revenue, conversion and bought-feed cost of a refinery stream (methodology §9)."""
    price = times(s.price, escalate)
    fixed = times(s.fixed_opex * s.producing, escalate)
    output = s.capacity * s.profile
    revenue = (output * s.payable) * price
    return StreamFlows(
        name=s.name,
        revenue=revenue,
        charges=times(output * (s.freight_per_t_product / s.units_per_tonne), escalate),
        royalty_base=times(revenue, s.royalty_share),
        mining_cost=fixed,
        conversion_cost=times(output * s.conversion_per_unit, escalate),
        feed_cost=(output * s.feed_cost_fraction) * price,
        contained_units_sold=output,
    )


def stream_duties(s: MineInputs | RefineryInputs, flows: StreamFlows) -> list[tuple[str, Duty]]:
    """The duty on each of a stream's sales destinations, with the government collecting it."""
    out = []
    for sale in s.sales:
        value = flows.revenue * sale.share
        units = flows.contained_units_sold * sale.share
        out.append((sale.government, duty(value, units, sale.rate, sale.specific, sale.bears)))
    return out
