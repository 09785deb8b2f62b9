"""What an offtake contract is: a buyer, a volume, a term and a price formula (floor, cap,
a share of the upside), take-or-pay; the buyer is a party of the deal with its own cash line."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dealcalc.models.base import Fraction, Model, Rate, Year
from dealcalc.models.schedule import NonNegativeSchedule, PriceSchedule

__all__ = ["Offtake", "OfftakePrice"]


def _numbers(value: float | dict[int, float] | list[float] | None) -> list[float]:
    """Every number a schedule holds (none for None)."""
    if value is None:
        return []
    return list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]


class OfftakePrice(Model):
    """The contract price of an offtake, per unit of the product's price unit, each year.

    ``price = min(max(benchmark x (1 - discount_fraction), floor), cap)
    - upside_share x max(0, benchmark - upside_reference)``, where the benchmark is the
    product's price in the deal's price deck (``benchmark: deck``; with Monte Carlo price paths,
    the path's price of the draw). A missing floor, cap or reference is no floor, no cap, no
    upside share. A negative ``discount_fraction`` is a premium over the benchmark (a buyer
    paying for security of supply). Floor, cap and reference are money of the deal's basis,
    like the deck (in a real-terms deal a floor fixed in money of the day is a schedule that
    falls with inflation).
    Formulas: docs/methodology.md, offtake contracts.
    """

    benchmark: Literal["deck"] = "deck"
    discount_fraction: Rate = 0.0  # negative: a premium over the benchmark
    floor_usd_per_unit: PriceSchedule | None = None
    cap_usd_per_unit: PriceSchedule | None = None
    upside_share: Fraction = 0.0
    upside_reference_usd_per_unit: PriceSchedule | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _terms(self) -> OfftakePrice:
        floors, caps = _numbers(self.floor_usd_per_unit), _numbers(self.cap_usd_per_unit)
        if floors and caps and max(floors) > min(caps):
            raise ValueError(
                f"the floor {max(floors):g} is above the cap {min(caps):g}; "
                "expected a cap at or above the floor"
            )
        if self.upside_share > 0 and self.upside_reference_usd_per_unit is None:
            raise ValueError(
                "an upside share needs upside_reference_usd_per_unit (the price above which the buyer "
                "takes its share)"
            )
        return self


class Offtake(Model):
    """An offtake contract: ``counterparty`` buys ``product`` from the deal's streams.

    The contracted volume is ``volume_share`` of the product's paid units sold each year, or
    ``volume_t_per_year`` tonnes of it (a schedule; tonnes of the product, converted to its price
    unit), in the years ``start_year`` to ``end_year`` (default: the whole valuation). The
    producer delivers what it has, up to the contracted volume, and is paid the contract
    ``price`` (:class:`OfftakePrice`) on it; the rest of its output is sold at the benchmark.
    ``take_or_pay_fraction`` (only for a contract in tonnes) is the share of the contracted
    volume the counterparty pays for even when less is delivered: the shortfall below that
    share is paid at the contract price. The counterparty is a party (a new name is a party of
    its own, with the role ``offtaker``; it may also be a government or an owner of the deal).
    Its cash each year is minus the producer's gain against selling at the benchmark: it pays
    the floor's cost and receives the upside share. Formulas: docs/methodology.md, offtake
    contracts.
    """

    product: str
    counterparty: str
    volume_share: Fraction | None = None
    volume_t_per_year: NonNegativeSchedule | None = None
    start_year: Year | None = None
    end_year: Year | None = None
    price: OfftakePrice = Field(default_factory=OfftakePrice)
    take_or_pay_fraction: Fraction = 0.0
    description: str | None = None

    @model_validator(mode="after")
    def _volume(self) -> Offtake:
        if (self.volume_share is None) == (self.volume_t_per_year is None):
            raise ValueError("give the contracted volume as exactly one of volume_share or volume_t_per_year")
        if self.take_or_pay_fraction > 0 and self.volume_t_per_year is None:
            raise ValueError(
                "take_or_pay_fraction applies to a volume in tonnes (volume_t_per_year); a share of "
                "output is always taken"
            )
        if self.start_year is not None and self.end_year is not None and self.end_year < self.start_year:
            raise ValueError(f"the contract ends ({self.end_year}) before it starts ({self.start_year})")
        return self
