"""What a deal is: phases with their capex and gates, valuation settings, prices, scenarios."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from dealcalc.errors import did_you_mean
from dealcalc.models.base import Fraction, Model, NonNegative, Provenance, Rate, Year
from dealcalc.models.currency import LocalCurrency
from dealcalc.models.finance import Finance
from dealcalc.models.fiscal import FiscalRegime, WorkingCapital
from dealcalc.models.risk import Uncertainty
from dealcalc.models.streams import Product, Stream
from dealcalc.models.trade import Trade

__all__ = [
    "Closure",
    "Deal",
    "Gate",
    "Operations",
    "Overhead",
    "Phase",
    "PriceDeck",
    "ScenarioOverlay",
    "Valuation",
]

#: A price: flat, or a path given as {year: price} (each price holds until the next year given).
Price = Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | dict[Year, Annotated[float, Field(ge=0.0)]]
PriceDeck = dict[str, Price]


class Valuation(Model):
    """When and how the deal is valued.

    Cash flows are annual, from ``start_year`` to ``end_year`` inclusive, discounted to the start
    of ``valuation_year`` (default ``start_year``). ``timing`` places each year's flow at its
    ``end`` (default), ``mid`` point or ``begin``ning. With ``basis: real`` prices and costs are
    flat money of ``start_year``; with ``nominal`` they grow at ``inflation_rate``. A
    ``discount_rate`` stated in the other basis is converted by the Fisher relation.
    """

    start_year: Year
    end_year: Year
    valuation_year: Year | None = None
    timing: Literal["end", "mid", "begin"] = "end"
    basis: Literal["real", "nominal"] = "real"
    inflation_rate: Rate = 0.0
    discount_rate: Rate
    discount_rate_basis: Literal["real", "nominal"] = "real"
    price_deck: str = "base"

    @model_validator(mode="after")
    def _years_in_order(self) -> Valuation:
        if self.end_year < self.start_year:
            raise ValueError(f"end_year {self.end_year} is before start_year {self.start_year}")
        if self.end_year - self.start_year >= 200:
            raise ValueError("a horizon of 200 years or more is not a deal; check end_year")
        return self


class Gate(Model):
    """A go/no-go decision before a phase is built. ``go: false`` drops the phase.

    ``probability`` (of political continuity and approval at the gate), ``decision_year``
    (default: the year before construction starts) and ``min_price_usd`` (build only if each
    named product's price in the decision year is at least this) are used by Monte Carlo: a
    draw builds the phase only if continuity holds and the prices clear the hurdles. A
    deterministic valuation builds every phase whose gate says go.
    """

    go: bool = True
    probability: Fraction = 1.0
    decision_year: Year | None = None
    min_price_usd: dict[str, NonNegative] = Field(default_factory=dict)


class Phase(Model):
    """One phase of the deal: its capex over its construction years, then production.

    ``capex_schedule`` splits ``capex_usd`` over consecutive years from ``start_year`` (fractions
    summing to 1). Production starts after construction (or at ``production_start_year``) and
    follows ``ramp_up``, the fraction of design capacity in each production year, then 100 %.
    ``delay_years`` moves the whole phase later.
    """

    start_year: Year
    capex_usd: NonNegative = 0.0
    capex_schedule: list[Fraction] = Field(default_factory=lambda: [1.0])
    production_start_year: Year | None = None
    ramp_up: list[Annotated[float, Field(ge=0.0, le=2.0)]] = Field(default_factory=list)
    sustaining_capex_usd_per_year: NonNegative = 0.0
    delay_years: Annotated[int, Field(ge=0, le=50)] = 0
    gate: Gate = Field(default_factory=Gate)
    description: str | None = None

    @field_validator("capex_schedule")
    @classmethod
    def _sums_to_one(cls, value: list[float]) -> list[float]:
        if not value:
            raise ValueError("needs at least one year")
        if abs(sum(value) - 1.0) > 1e-9:
            raise ValueError(f"fractions must sum to 1, they sum to {sum(value):g}")
        return value

    @property
    def first_production_year(self) -> int:
        """The first year of output, after any delay."""
        start = self.production_start_year or self.start_year + len(self.capex_schedule)
        return start + self.delay_years


class Closure(Model):
    """Closure and reclamation: ``cost_usd`` spent in ``year`` (default: the last year)."""

    cost_usd: NonNegative = 0.0
    year: Year | None = None


class Operations(Model):
    """Site-wide operating factors, set per draw and year by Monte Carlo events.

    ``availability`` is the share of planned output achieved (1 - losses to disruptions).
    ``expropriated`` is the share of the owners' cash the host state takes (1 from the year of
    an expropriation or contract repudiation on); when it takes it, it pays
    ``expropriation_compensation_fraction`` of the net book value (capital spent less tax
    depreciation).
    """

    availability: Fraction = 1.0
    expropriated: Fraction = 0.0
    expropriation_compensation_fraction: Fraction = 0.0


class Overhead(Model):
    """A fixed yearly cost (G&A, security and community) from the first production year."""

    usd_per_year: NonNegative
    start_year: Year | None = None
    end_year: Year | None = None


class ScenarioOverlay(Model):
    """A named scenario: changes to the base case by parameter path.

    ``set`` replaces values (``valuation.price_deck: spot_2025``); ``scale`` multiplies numbers
    (``phases.*.capex_usd: 1.3``, where ``*`` matches every key at that level).
    """

    description: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    scale: dict[str, float] = Field(default_factory=dict)


class Deal(Model):
    """A phased cross-border minerals deal, everything needed to value it."""

    name: str
    description: str | None = None
    currency: Literal["USD"] = "USD"
    valuation: Valuation
    products: dict[str, Product]
    price_decks: dict[str, PriceDeck]
    phases: dict[str, Phase]
    streams: dict[str, Stream]
    fiscal: FiscalRegime = Field(default_factory=FiscalRegime)
    working_capital: WorkingCapital = Field(default_factory=WorkingCapital)
    closure: Closure = Field(default_factory=Closure)
    overheads: dict[str, Overhead] = Field(default_factory=dict)
    operations: Operations = Field(default_factory=Operations)
    trade: Trade = Field(default_factory=Trade)
    local_currency: LocalCurrency | None = None
    finance: Finance = Field(default_factory=Finance)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)
    scenarios: dict[str, ScenarioOverlay] = Field(default_factory=dict)
    provenance: dict[str, Provenance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references_resolve(self) -> Deal:
        v = self.valuation
        if v.price_deck not in self.price_decks:
            raise ValueError(
                f"valuation.price_deck {v.price_deck!r} is not a price deck; "
                f"decks: {', '.join(self.price_decks)}"
            )
        for deck_name, deck in self.price_decks.items():
            for product in deck:
                if product not in self.products:
                    raise ValueError(f"price_decks.{deck_name}.{product}: no such product")
        for name, stream in self.streams.items():
            if stream.phase not in self.phases:
                raise ValueError(f"streams.{name}.phase {stream.phase!r} is not a phase")
            if stream.product not in self.products:
                raise ValueError(f"streams.{name}.product {stream.product!r} is not a product")
            if stream.feeds is not None:
                target = self.streams.get(stream.feeds)
                if target is None or target.is_mine:
                    raise ValueError(f"streams.{name}.feeds {stream.feeds!r} is not a refinery stream")
            for deck_name, deck in self.price_decks.items():
                if stream.product not in deck:
                    raise ValueError(f"price_decks.{deck_name} has no price for {stream.product!r}")
        self._check_trade()
        self._check_finance()
        for product in self.uncertainty.price_paths:
            if product not in self.products:
                raise ValueError(f"uncertainty.price_paths.{product}: no such product")
        for name, phase in self.phases.items():
            last = phase.start_year + phase.delay_years + len(phase.capex_schedule) - 1
            if phase.start_year < v.start_year or last > v.end_year:
                raise ValueError(
                    f"phases.{name}: construction {phase.start_year + phase.delay_years}-{last} "
                    f"is outside the valuation years {v.start_year}-{v.end_year}"
                )
        return self

    def _check_trade(self) -> None:
        trade = self.trade
        for name, dest in trade.destinations.items():
            if dest.schedule is not None and dest.schedule not in trade.schedules:
                hint = (
                    did_you_mean(dest.schedule, trade.schedules)
                    or f"schedules: {', '.join(trade.schedules) or 'none'}"
                )
                raise ValueError(
                    f"trade.destinations.{name}.schedule {dest.schedule!r} is not a schedule ({hint})"
                )
        for name, schedule in trade.schedules.items():
            for product in schedule.products:
                if product not in self.products:
                    raise ValueError(f"trade.schedules.{name}.products.{product}: no such product")
        for name, stream in self.streams.items():
            for market in stream.sales_shares:
                if market not in trade.destinations:
                    hint = did_you_mean(market, trade.destinations) or (
                        f"destinations: {', '.join(trade.destinations) or 'none'}"
                    )
                    raise ValueError(f"streams.{name}.sales_shares.{market}: no such destination ({hint})")
        a = trade.attribution
        if a is not None:
            if a.destination not in trade.destinations:
                raise ValueError(f"trade.attribution.destination {a.destination!r} is not a destination")
            for wanted in a.schedules:
                if wanted not in trade.schedules:
                    raise ValueError(f"trade.attribution.schedules: {wanted!r} is not a schedule")

    def _check_finance(self) -> None:
        for name, tranche in self.finance.debt.items():
            for phase in tranche.phases or []:
                if phase not in self.phases:
                    raise ValueError(f"finance.debt.{name}.phases: {phase!r} is not a phase")
        known = set(self.party_names())
        for party in self.finance.discount_rates:
            if party not in known:
                raise ValueError(
                    f"finance.discount_rates.{party}: no such party; parties: {', '.join(sorted(known))}"
                )

    def party_names(self) -> list[str]:
        """The parties the deal's cash is split among: owners, governments, lenders."""
        names = list(self.finance.equity)
        if self.finance.debt:
            names.append("lenders")
        names.append(self.finance.host_government)
        for name, dest in self.trade.destinations.items():
            government = dest.government or f"{name}_government"
            if government not in names:
                names.append(government)
        return names
