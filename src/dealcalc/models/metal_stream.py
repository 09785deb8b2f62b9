"""What a stream or royalty sold for cash is: a financier pays the project an upfront amount and
in return receives a share of a by-product at a stream price (a **metal stream**), or a rate of
the net smelter return (a **royalty sold**). The financier is a party of the deal with its own
cash line. Formulas and conventions: docs/methodology.md, streams and royalties sold for cash.

In the deal file the section is ``metal_streams`` (dealcalc's ``streams`` are the production
streams) and ``royalties_sold``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from dealcalc.models.base import Fraction, Model, NonNegative, Year
from dealcalc.models.schedule import FractionSchedule, PriceSchedule

__all__ = ["MetalStream", "RoyaltySale", "StreamPrice", "StreamTier"]


class StreamTier(Model):
    """One tier of a stream: ``share`` of the product's payable output is delivered while the
    cumulative units delivered are below ``up_to_units`` (units of the product's price unit,
    e.g. troy ounces); the last tier has no ``up_to_units`` and runs to the end."""

    share: Fraction
    up_to_units: NonNegative | None = None


class StreamPrice(Model):
    """What the financier pays per unit delivered: ``fixed_usd_per_unit`` (the lesser of it and
    the spot price, as streaming agreements write it; money of the deal's basis, a schedule) or
    ``spot_share`` of the spot price (the product's price in the deal's price deck)."""

    fixed_usd_per_unit: PriceSchedule | None = None
    spot_share: Fraction | None = None

    @model_validator(mode="after")
    def _one(self) -> StreamPrice:
        if (self.fixed_usd_per_unit is None) == (self.spot_share is None):
            raise ValueError("give the stream price as exactly one of fixed_usd_per_unit or spot_share")
        return self


class MetalStream(Model):
    """A stream sold for cash: ``financier`` pays ``deposit_usd`` (money of the deal's basis) in
    ``deposit_year`` and from that year on receives ``delivered_share`` of the ``product``'s
    payable units sold (or the share of the tier the cumulative deliveries are in, ``tiers``)
    at the stream ``price``. The project's cash is the deposit plus the stream price on what it
    delivers (instead of the spot price); the financier's is minus the deposit plus (spot -
    stream price) on what it receives (it takes the metal and sells it at spot). Royalties and
    income tax see the stream price on the streamed share; the deposit is deferred income,
    taxed as the metal is delivered (docs/methodology.md, streams and royalties sold for cash).
    """

    product: str
    financier: str
    deposit_usd: NonNegative
    deposit_year: Year
    delivered_share: Fraction | None = None
    tiers: list[StreamTier] | None = None
    price: StreamPrice
    description: str | None = None

    @model_validator(mode="after")
    def _shares(self) -> MetalStream:
        if (self.delivered_share is None) == (self.tiers is None):
            raise ValueError("give the delivered share as exactly one of delivered_share or tiers")
        if self.tiers is not None:
            if not self.tiers:
                raise ValueError("tiers needs at least one tier")
            *first, last = self.tiers
            if last.up_to_units is not None:
                raise ValueError("the last tier has no up_to_units (it runs to the end of the stream)")
            limits = [t.up_to_units for t in first]
            if any(x is None for x in limits):
                raise ValueError("every tier but the last gives up_to_units (cumulative units delivered)")
            if limits != sorted(limits):  # type: ignore[type-var]
                raise ValueError("the tiers' up_to_units rise from one tier to the next")
        return self


class RoyaltySale(Model):
    """A royalty sold for cash: ``financier`` pays ``price_usd`` (money of the deal's basis) in
    ``year`` and from that year on collects ``rate`` of ``base`` (``mine_nsr``, the net smelter
    return the fiscal stack's royalties use, or ``mine_value``). It is a private levy of the
    fiscal stack (a royalty holder's, deducted from income tax like every royalty) plus the
    upfront payment; the price is deferred income, taxed in step with the royalty's base. In a
    deal of several companies, ``entity`` names the company whose output it is on (default: the
    only one with mine streams)."""

    financier: str
    price_usd: NonNegative
    year: Year
    rate: FractionSchedule
    base: Literal["mine_nsr", "mine_value"] = "mine_nsr"
    entity: str | None = None
    description: str | None = None
