"""What a product stream is: ore to payable metal (or refinery output) and what it costs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dealcalc.models.base import Fraction, Model, Year
from dealcalc.models.schedule import (
    ConcentrateGradeSchedule,
    FractionSchedule,
    MoistureSchedule,
    NonNegativeSchedule,
)

__all__ = ["UNITS_PER_TONNE", "Product", "Stream"]

#: Price units and how many of them a tonne holds (1 mtu = 10 kg; 1 troy ounce = 31.1034768 g).
UNITS_PER_TONNE: dict[str, float] = {"t": 1.0, "kg": 1000.0, "mtu": 100.0, "oz": 1e6 / 31.1034768}


class Product(Model):
    """A traded product; its prices come from the price decks in USD per ``unit``."""

    unit: Literal["t", "kg", "mtu", "oz"]
    description: str | None = None


#: Fields only a refinery stream reads, only a mine stream reads, and only a mine stream with a
#: concentrate (``concentrate_grade``) reads.
_REFINERY_ONLY = ("conversion_cost_usd_per_unit", "feed_cost_fraction_of_price")
_MINE_ONLY = (
    "recovery",
    "concentrate_grade",
    "moisture_fraction",
    "treatment_charge_usd_per_dmt",
    "refining_charge_usd_per_unit",
    "penalties_usd_per_dmt",
    "freight_usd_per_wmt",
    "opex_usd_per_t_ore",
)
_PER_CONCENTRATE = (
    "moisture_fraction",
    "treatment_charge_usd_per_dmt",
    "penalties_usd_per_dmt",
    "freight_usd_per_wmt",
)


class Stream(Model):
    """A product stream of one phase.

    A **mine stream** gives ``ore_tpa`` and a grade: ``grade`` is the fraction of the priced
    product in the ore (Cu 0.008; WO3 0.004 for a W concentrate priced per mtu), or
    ``grade_g_per_t`` for precious metals priced per ounce. Recovered units times
    ``payable_fraction`` are paid at the deck price, less treatment charges per dry tonne of
    concentrate (``concentrate_grade`` sets its tonnage), refining charges per payable unit,
    penalties and freight per wet tonne: the net smelter return. Its gross value is
    royalty-bearing. With ``feeds`` naming a refinery stream, its output goes to that refinery
    from the refinery's first production year (after any delay, and only if the refinery's gate
    says go) instead of being sold: no revenue or selling charges from then on, but its costs and
    its royalty (on the same value, the mine-product value) go on.

    A **refinery stream** gives ``capacity_units_per_year`` of output, paid at
    ``payable_fraction`` of the price, costing ``conversion_cost_usd_per_unit`` and purchased
    feed at ``feed_cost_fraction_of_price``; ``royalty_bearing_fraction`` of its revenue owes
    royalty (default 0: refinery value added is not royalty-bearing, and own feed pays royalty on
    the mine stream that ``feeds`` it).

    Both ramp up with their phase; ``end_year`` is the last year of output. ``sales_shares``
    splits what is sold among the deal's trade destinations (``{us: 1.0}``); the rest is sold
    where no duty is modelled.
    """

    phase: str
    product: str
    ore_tpa: NonNegativeSchedule | None = None
    grade: FractionSchedule | None = None
    grade_g_per_t: NonNegativeSchedule | None = None
    recovery: FractionSchedule = 1.0
    capacity_units_per_year: NonNegativeSchedule | None = None
    payable_fraction: FractionSchedule = 1.0
    concentrate_grade: ConcentrateGradeSchedule | None = None
    moisture_fraction: MoistureSchedule = 0.0
    treatment_charge_usd_per_dmt: NonNegativeSchedule = 0.0
    refining_charge_usd_per_unit: NonNegativeSchedule = 0.0
    penalties_usd_per_dmt: NonNegativeSchedule = 0.0
    freight_usd_per_wmt: NonNegativeSchedule = 0.0
    freight_usd_per_t_product: NonNegativeSchedule = 0.0
    opex_usd_per_t_ore: NonNegativeSchedule = 0.0
    conversion_cost_usd_per_unit: NonNegativeSchedule = 0.0
    feed_cost_fraction_of_price: FractionSchedule = 0.0
    fixed_opex_usd_per_year: NonNegativeSchedule = 0.0
    royalty_bearing_fraction: FractionSchedule | None = None
    feeds: str | None = None
    sales_shares: dict[str, Fraction] = Field(default_factory=dict)
    end_year: Year | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_driver(self) -> Stream:
        mine = self.ore_tpa is not None
        refinery = self.capacity_units_per_year is not None
        if mine == refinery:
            raise ValueError("give either ore_tpa (a mine stream) or capacity_units_per_year (a refinery)")
        if mine and (self.grade is None) == (self.grade_g_per_t is None):
            raise ValueError("a mine stream needs exactly one of grade or grade_g_per_t")
        if refinery and (self.grade is not None or self.grade_g_per_t is not None):
            raise ValueError("a refinery stream takes no grade; its output is capacity_units_per_year")
        if sum(self.sales_shares.values()) > 1.0 + 1e-9:
            raise ValueError("sales_shares add up to more than 1")
        if refinery and self.feeds is not None:
            raise ValueError("only a mine stream feeds a refinery")
        self._check_unused()
        return self

    def unused_fields(self) -> dict[str, str]:
        """The fields this stream never reads, each with the reason.

        Examples
        --------
        >>> refinery = Stream(phase="p", product="x", capacity_units_per_year=10.0)
        >>> refinery.unused_fields()["recovery"]
        "a refinery stream's output is capacity_units_per_year"
        """
        if not self.is_mine:
            return dict.fromkeys(_MINE_ONLY, "a refinery stream's output is capacity_units_per_year")
        out = dict.fromkeys(_REFINERY_ONLY, "conversion and purchased feed belong to a refinery stream")
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
        """True for a mine stream (ore and grade), False for a refinery stream."""
        return self.ore_tpa is not None
