"""What the local currency does: the share of costs paid in it and its exchange-rate path."""

from __future__ import annotations

from dealcalc.models.base import Fraction, Model, Positive, Rate, Year

__all__ = ["LocalCurrency"]


class LocalCurrency(Model):
    """Costs partly paid in the host currency (PKR), revenue in US$.

    Costs are stated in US$ at ``units_per_usd`` (PKR per US$ in ``valuation.start_year``).
    The local share of a cost is fixed in local money, so in year t it costs
    ``units_per_usd / X_t`` of its US$ amount, where the exchange rate X_t follows
    ``path`` ({year: PKR per US$}, each holding until the next) or, without a path, grows at
    ``depreciation_rate`` a year. In a real-terms deal the rate is the real exchange rate.
    ``opex_share`` applies to mining, processing, refining conversion, fixed and overhead
    costs; ``capex_share`` to initial, sustaining and closure capital.
    """

    code: str = "PKR"
    units_per_usd: Positive = 281.0
    depreciation_rate: Rate = 0.0
    path: dict[Year, Positive] | None = None
    opex_share: Fraction = 0.0
    capex_share: Fraction = 0.0
