"""Production, payable metal, net smelter return and operating cost of each product stream.

Every function returns arrays that broadcast to (S, T); money is in the deal's basis
(multiplied by the escalation factor when nominal). Formulas: docs/methodology.md §Deal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.inputs import Inputs, Number
from dealcalc.engine.timeline import phase_active, production_profile, years
from dealcalc.metrics._common import FloatArray
from dealcalc.models import UNITS_PER_TONNE, Deal

__all__ = ["StreamFlows", "price_path", "stream_flows"]

GRAMS_PER_TONNE = 1e6


@dataclass(frozen=True)
class StreamFlows:
    """One stream's yearly figures (each broadcastable to (S, T))."""

    name: str
    revenue: Number  # paid value of product sold
    charges: Number  # TC, RC, penalties and freight on product sold
    royalty_base: Number  # mine-product value owing royalty
    mining_cost: Number  # ore cost plus the stream's fixed cost
    conversion_cost: Number  # refinery conversion
    feed_cost: Number  # purchased feed, priced in US$ off the deck
    contained_units_sold: Number  # units of the priced product in what is sold (before payability)


def price_path(inputs: Inputs, product: str, escalate: Number) -> Number:
    """The deck price of ``product`` in each year (flat, or a {year: price} step path)."""
    deal = inputs.deal
    deck = deal.valuation.price_deck
    path = f"price_decks.{deck}.{product}"
    raw = deal.price_decks[deck][product]
    if not isinstance(raw, dict):
        return _times(inputs.num(path), escalate)
    # a step path {year: price}: each year takes the latest price given (the first before it);
    # each given price is its own parameter (price_decks.base.metal.2031), which may vary
    ys = years(deal)
    given = sorted(raw)
    idx = np.clip(np.searchsorted(given, ys, side="right") - 1, 0, len(given) - 1)
    prices = [inputs.num(f"{path}.{year}") for year in given]
    if all(isinstance(p, float) for p in prices):
        return _times(np.asarray(prices, dtype=np.float64)[idx], escalate)
    shape = (inputs.n_scenarios, ys.size)
    base = np.empty(shape)
    for k, price in enumerate(prices):
        years_k = idx == k
        base[:, years_k] = np.broadcast_to(np.asarray(price, dtype=np.float64), shape)[:, years_k]
    return _times(base, escalate)


def _transfer_mask(deal: Deal, feeds: str | None) -> FloatArray:
    """1 in years a mine stream's output is sold, 0 once the refinery it feeds produces."""
    ys = years(deal)
    if feeds is None:
        return np.ones(ys.size)
    target_phase = deal.phases[deal.streams[feeds].phase]
    if not phase_active(target_phase):
        return np.ones(ys.size)
    return (ys < target_phase.first_production_year).astype(np.float64)


def _times(x: Number, k: Number) -> Number:
    """``x * k``, skipping the (S, T) pass when ``k`` is exactly 1.0 or 0.0 (a real-terms
    escalation, a default share)."""
    if isinstance(k, float) and k in (0.0, 1.0):
        return x if k == 1.0 else 0.0
    return x * k


def _active_years(deal: Deal, end_year: int | None) -> FloatArray:
    ys = years(deal)
    return np.ones(ys.size) if end_year is None else (ys <= end_year).astype(np.float64)


def stream_flows(inputs: Inputs, name: str, escalate: Number) -> StreamFlows:
    """Revenue, charges, royalty base and costs of stream ``name`` for every scenario and year."""
    deal = inputs.deal
    s = deal.streams[name]
    p = f"streams.{name}"
    n = inputs.num
    unit = deal.products[s.product].unit
    per_tonne = UNITS_PER_TONNE[unit]
    planned = production_profile(deal, deal.phases[s.phase]) * _active_years(deal, s.end_year)
    producing = (planned > 0).astype(np.float64)  # fixed costs run whether or not output is lost
    profile = _times(planned, n("operations.availability"))
    price = price_path(inputs, s.product, escalate)
    fixed = _times(n(f"{p}.fixed_opex_usd_per_year") * producing, escalate)
    if s.is_mine:
        # Per-draw scalars ((S, 1) or float) are multiplied together first, so each line costs
        # one pass over the (S, T) production profile.
        ore_k = n(f"{p}.ore_tpa")
        if s.grade is not None:
            recovered_k = ore_k * n(f"{p}.grade") * n(f"{p}.recovery")
        else:
            recovered_k = ore_k * n(f"{p}.grade_g_per_t") * n(f"{p}.recovery") / GRAMS_PER_TONNE
        payable_k = recovered_k * (per_tonne * n(f"{p}.payable_fraction"))
        value = (payable_k * profile) * price
        sold = _transfer_mask(deal, s.feeds)
        sold_profile = profile * sold
        # charges per recovered tonne: TC and penalties per dry tonne of concentrate, freight per
        # wet tonne, freight per tonne of product; RC per payable unit
        per_recovered_t = n(f"{p}.freight_usd_per_t_product")
        if s.concentrate_grade is not None:
            grade_c = n(f"{p}.concentrate_grade")
            per_dmt = n(f"{p}.treatment_charge_usd_per_dmt") + n(f"{p}.penalties_usd_per_dmt")
            per_wmt = n(f"{p}.freight_usd_per_wmt") / (1.0 - n(f"{p}.moisture_fraction"))
            per_recovered_t = per_recovered_t + (per_dmt + per_wmt) / grade_c
        charge_k = recovered_k * per_recovered_t + payable_k * n(f"{p}.refining_charge_usd_per_unit")
        royalty_share = 1.0 if s.royalty_bearing_fraction is None else n(f"{p}.royalty_bearing_fraction")
        return StreamFlows(
            name=name,
            revenue=value * sold,
            charges=_times(charge_k * sold_profile, escalate),
            royalty_base=_times(value, royalty_share),
            mining_cost=_times((ore_k * n(f"{p}.opex_usd_per_t_ore")) * profile, escalate) + fixed,
            conversion_cost=0.0,
            feed_cost=0.0,
            contained_units_sold=(recovered_k * per_tonne) * sold_profile,
        )
    output = n(f"{p}.capacity_units_per_year") * profile
    revenue = (output * n(f"{p}.payable_fraction")) * price
    conversion = _times(output * n(f"{p}.conversion_cost_usd_per_unit"), escalate)
    feed = (output * n(f"{p}.feed_cost_fraction_of_price")) * price
    charges = _times(output * (n(f"{p}.freight_usd_per_t_product") / per_tonne), escalate)
    royalty_share = 0.0 if s.royalty_bearing_fraction is None else n(f"{p}.royalty_bearing_fraction")
    return StreamFlows(
        name=name,
        revenue=revenue,
        charges=charges,
        royalty_base=_times(revenue, royalty_share),
        mining_cost=fixed,
        conversion_cost=conversion,
        feed_cost=feed,
        contained_units_sold=output,
    )
