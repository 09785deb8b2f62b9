"""US$ cost factors from the share of costs paid in the local currency and its exchange rate.

A cost stated as C US$ at the start-year rate X_0, of which a share s is fixed in local money,
costs C * (1 - s + s * X_0 / X_t) US$ in year t. Formulas: docs/methodology.md §15.
"""

from __future__ import annotations

import numpy as np

from dealcalc.engine.inputs import Inputs, Number
from dealcalc.engine.timeline import years

__all__ = ["cost_factors", "exchange_rate"]


def exchange_rate(inputs: Inputs) -> Number:
    """Local units per US$ in each year: the path (each value holding until the next year
    given; the start-year rate before the first), or steady depreciation from the start-year rate."""
    deal = inputs.deal
    lc = deal.local_currency
    if lc is None:
        return 1.0
    n = inputs.num
    ys = years(deal)
    x0 = n("local_currency.units_per_usd")
    if lc.path:
        given = sorted(lc.path)
        out = np.asarray(x0 * (ys < given[0]), dtype=np.float64)
        for k, year in enumerate(given):
            stop = given[k + 1] if k + 1 < len(given) else ys[-1] + 1
            out = out + n(f"local_currency.path.{year}") * ((ys >= year) & (ys < stop))
        return out
    exponent = (ys - deal.valuation.start_year).astype(np.float64)
    return np.asarray(x0 * np.power(1.0 + n("local_currency.depreciation_rate"), exponent), dtype=np.float64)


def cost_factors(inputs: Inputs) -> tuple[Number, Number]:
    """(opex factor, capex factor), each 1.0 when no cost is paid in the local currency."""
    lc = inputs.deal.local_currency
    if lc is None or (
        lc.opex_share == 0.0
        and lc.capex_share == 0.0
        and "local_currency.opex_share" not in inputs.overrides
        and "local_currency.capex_share" not in inputs.overrides
    ):
        return 1.0, 1.0
    n = inputs.num
    relative = n("local_currency.units_per_usd") / exchange_rate(inputs)
    opex_share = n("local_currency.opex_share")
    capex_share = n("local_currency.capex_share")
    return 1.0 - opex_share + opex_share * relative, 1.0 - capex_share + capex_share * relative
