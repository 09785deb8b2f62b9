"""What a product stream is: ore (or a stated output) to payable metal, processing, and costs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from dealcalc.models.base import Fraction, Model, Money, Number, Whole, Year
from dealcalc.models.schedule import (
    ConcentrateGradeSchedule,
    FactorSchedule,
    MoistureSchedule,
    NonNegativeSchedule,
    PositiveFractionSchedule,
    UnitCostSchedule,
)

__all__ = ["UNITS_PER_TONNE", "Feed", "Product", "Purchase", "Stream", "TemporaryClosure"]

#: Price units and how many of them a tonne holds (1 mtu = 10 kg of WO3; 1 troy ounce =
#: 31.1034768 g; 1 lb = 0.45359237 kg).
UNITS_PER_TONNE: dict[str, float] = {
    "t": 1.0,
    "kg": 1000.0,
    "mtu": 100.0,
    "oz": 1e6 / 31.1034768,
    "lb": 1000.0 / 0.45359237,
}


class Product(Model):
    """A traded product; its prices come from the price decks in USD per ``unit``."""

    unit: Literal["t", "kg", "mtu", "oz", "lb"]
    description: str | None = None


class Purchase(Model):
    """Feed bought from third parties, only for the shortfall of the stream's own feed.

    Priced per unit of contained feed at ``price_fraction`` of the feed product's deck price
    (a concentrate's payability) or at ``price_usd_per_unit``; ``max_units_per_year`` caps what
    can be bought (default: no cap).
    """

    price_fraction: FactorSchedule | None = None
    price_usd_per_unit: UnitCostSchedule | None = None
    max_units_per_year: NonNegativeSchedule | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_price(self) -> Purchase:
        if (self.price_fraction is None) == (self.price_usd_per_unit is None):
            raise ValueError("price bought feed by exactly one of price_fraction or price_usd_per_unit")
        return self


class Feed(Model):
    """What a processing stream treats: its own material first, then bought feed.

    ``sources`` name the streams whose output it takes, in order (a mine's concentrate, or
    another processing stream's output); each gives what it has in a year, up to what the
    processing stream needs (its capacity and ramp-up divided by ``recovery``), and sells the
    rest on its own terms. ``product`` is what is fed (default: the stream's own product); the
    sources must make it. ``purchase`` buys the shortfall; without it, output is limited to what
    the own feed makes. ``recovery`` is output units per unit of feed.
    """

    sources: list[str] = Field(default_factory=list)
    product: str | None = None
    recovery: PositiveFractionSchedule = 1.0
    purchase: Purchase | None = None
    description: str | None = None


class TemporaryClosure(Model):
    """Close an operating stream for a year when its margin is too low, and reopen it later.

    In a production year whose operating margin (revenue less selling charges and variable
    operating costs, at that year's prices and costs, before the decision) is below
    ``close_below_margin_usd``, the stream is closed: it produces nothing, pays no variable or
    fixed stream cost, and pays ``care_and_maintenance_usd_per_year`` instead, plus
    ``closing_cost_usd`` in the first closed year. It reopens in the first later year whose
    margin clears the threshold after at least ``min_years_closed`` closed years, paying
    ``reopening_cost_usd`` that year (docs/methodology.md, temporary closure). Money is the
    deal's money, an operating cost like the stream's fixed cost.
    """

    close_below_margin_usd: Number = 0.0
    care_and_maintenance_usd_per_year: Money = 0.0
    closing_cost_usd: Money = 0.0
    reopening_cost_usd: Money = 0.0
    min_years_closed: Annotated[Whole, Field(ge=1, le=100)] = 1
    description: str | None = None


#: Fields only a processing stream reads, only an ore-based mine stream reads, and only a mine
#: stream with a concentrate (``concentrate_grade``) reads.
_PROCESSING_ONLY = ("conversion_cost_usd_per_unit", "feed")
_ORE_ONLY = ("recovery", "opex_usd_per_t_ore")
_MINE_ONLY = (
    *_ORE_ONLY,
    "concentrate_grade",
    "moisture_fraction",
    "treatment_charge_usd_per_dmt",
    "refining_charge_usd_per_unit",
    "penalties_usd_per_dmt",
    "freight_usd_per_wmt",
)
_PER_CONCENTRATE = (
    "moisture_fraction",
    "treatment_charge_usd_per_dmt",
    "penalties_usd_per_dmt",
    "freight_usd_per_wmt",
)
#: Fields of earlier versions, with what replaced them.
_RENAMED = {
    "feeds": "a processing stream names its sources: feed: {sources: [this stream]}",
    "feed_cost_fraction_of_price": "bought feed is priced under feed: {purchase: {price_fraction: ...}}",
}


def _values(value: float | dict[int, float] | list[float]) -> list[float]:
    """Every number a schedule holds."""
    return list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]


class Stream(Model):
    """A product stream of one phase.

    A **mine stream** gives ``ore_tpa`` and a grade: ``grade`` is the fraction of the priced
    product in the ore (Cu 0.008; WO3 0.004 for a W concentrate priced per mtu), or
    ``grade_g_per_t`` for precious metals priced per ounce; ``recovery`` gives the units
    recovered into its concentrate. A study that publishes its output instead gives
    ``recovered_units_per_year`` (units of the product's price unit, a schedule). Recovered units
    times ``payable_fraction`` are paid at the deck price, less treatment charges per dry tonne of
    concentrate (``concentrate_grade`` sets its tonnage), refining charges per payable unit,
    penalties and freight per wet tonne: the net smelter return. Its gross value (all it
    recovers, sold or processed) is royalty-bearing.

    A **processing stream** (a refinery, an APT plant, a smelter) gives
    ``capacity_units_per_year`` of output and its ``feed``: own material from named sources,
    then bought feed (docs/methodology.md §9, the material balance). Its output is paid at
    ``payable_fraction`` of the price and costs ``conversion_cost_usd_per_unit``;
    ``royalty_bearing_fraction`` of its revenue owes royalty (default 0: refinery value added is
    not royalty-bearing; own feed pays royalty on the stream it comes from). Without ``feed`` it
    makes its capacity from feed that costs nothing here.

    Both ramp up with their phase; ``end_year`` is the last year of output. ``sales_shares``
    splits what is sold among the deal's trade destinations (``{us: 1.0}``); the rest is sold
    where no duty is modelled. ``temporary_closure`` (default: none) closes the stream in
    years its margin is too low and reopens it later, at stated costs (:class:`TemporaryClosure`).
    """

    phase: str
    product: str
    ore_tpa: NonNegativeSchedule | None = None
    grade: FactorSchedule | None = None
    grade_g_per_t: NonNegativeSchedule | None = None
    recovery: FactorSchedule = 1.0
    recovered_units_per_year: NonNegativeSchedule | None = None
    capacity_units_per_year: NonNegativeSchedule | None = None
    feed: Feed | None = None
    payable_fraction: FactorSchedule = 1.0
    concentrate_grade: ConcentrateGradeSchedule | None = None
    moisture_fraction: MoistureSchedule = 0.0
    treatment_charge_usd_per_dmt: UnitCostSchedule = 0.0
    refining_charge_usd_per_unit: UnitCostSchedule = 0.0
    penalties_usd_per_dmt: UnitCostSchedule = 0.0
    freight_usd_per_wmt: UnitCostSchedule = 0.0
    freight_usd_per_t_product: UnitCostSchedule = 0.0
    opex_usd_per_t_ore: UnitCostSchedule = 0.0
    conversion_cost_usd_per_unit: UnitCostSchedule = 0.0
    fixed_opex_usd_per_year: NonNegativeSchedule = 0.0
    royalty_bearing_fraction: FactorSchedule | None = None
    sales_shares: dict[str, Fraction] = Field(default_factory=dict)
    end_year: Year | None = None
    temporary_closure: TemporaryClosure | None = None
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, now in _RENAMED.items():
                if old in data:
                    raise ValueError(f"{old} is gone: {now}")
        return data

    @model_validator(mode="after")
    def _one_driver(self) -> Stream:
        drivers = [
            name
            for name in ("ore_tpa", "recovered_units_per_year", "capacity_units_per_year")
            if getattr(self, name) is not None
        ]
        if len(drivers) != 1:
            raise ValueError(
                "give one of ore_tpa (a mine stream), recovered_units_per_year (a mine stream's stated "
                "output) or capacity_units_per_year (a processing stream)"
                + (f"; this one gives {' and '.join(drivers)}" if drivers else "")
            )
        ore = self.ore_tpa is not None
        if ore and (self.grade is None) == (self.grade_g_per_t is None):
            raise ValueError("a mine stream needs exactly one of grade or grade_g_per_t")
        if not ore and (self.grade is not None or self.grade_g_per_t is not None):
            what = "its output is recovered_units_per_year" if self.is_mine else "its output is capacity"
            raise ValueError(f"this stream takes no grade; {what}")
        if sum(self.sales_shares.values()) > 1.0 + 1e-9:
            raise ValueError("sales_shares add up to more than 1")
        self._check_unused()
        if self.grade is not None and self.concentrate_grade is not None:
            richest = max(_values(self.grade))
            poorest = min(_values(self.concentrate_grade))
            if richest > poorest:  # a concentrate is richer than its ore, or it is not one
                raise ValueError(
                    f"the ore grade {richest:g} is above the concentrate grade {poorest:g}; a grade "
                    "is a fraction (0.0062 for 0.62 %)"
                )
        return self

    def unused_fields(self) -> dict[str, str]:
        """The fields this stream never reads, each with the reason.

        Examples
        --------
        >>> refinery = Stream(phase="p", product="x", capacity_units_per_year=10.0)
        >>> refinery.unused_fields()["recovery"]
        "a processing stream's output is capacity_units_per_year (its feed has its own recovery)"
        """
        if not self.is_mine:
            return dict.fromkeys(
                _MINE_ONLY,
                "a processing stream's output is capacity_units_per_year (its feed has its own recovery)",
            )
        out = dict.fromkeys(_PROCESSING_ONLY, "conversion and feed belong to a processing stream")
        if self.ore_tpa is None:
            out |= dict.fromkeys(_ORE_ONLY, "the output is recovered_units_per_year, not ore")
        if self.concentrate_grade is None:
            out |= dict.fromkeys(
                _PER_CONCENTRATE, "it is charged per tonne of concentrate: give concentrate_grade"
            )
        return out

    def _check_unused(self) -> None:
        """A field this kind of stream never reads is an error, not a silent no-op."""
        unused = {f: why for f, why in self.unused_fields().items() if self._set(f)}
        if unused:
            why = next(iter(unused.values()))
            raise ValueError(f"{', '.join(unused)} does not apply here ({why}); remove it")

    def _set(self, name: str) -> bool:
        """Whether field ``name`` differs from its default (so it would change something)."""
        value: object = getattr(self, name)
        return bool(value != type(self).model_fields[name].default)

    @property
    def is_mine(self) -> bool:
        """True for a mine stream (ore, or a stated output), False for a processing stream."""
        return self.capacity_units_per_year is None

    @property
    def feed_product(self) -> str:
        """The product a processing stream is fed (its own unless its feed says otherwise)."""
        return self.feed.product if self.feed is not None and self.feed.product else self.product
