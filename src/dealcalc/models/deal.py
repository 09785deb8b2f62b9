"""What a deal is: phases with their capex and gates, valuation settings, prices, scenarios."""

from __future__ import annotations

import datetime as dt
import functools
import math
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator

from dealcalc.errors import did_you_mean
from dealcalc.models.base import (
    CalendarYear,
    Fraction,
    Model,
    NonNegative,
    Number,
    Provenance,
    Rate,
    Whole,
    Year,
    name_problem,
)
from dealcalc.models.currency import LocalCurrency
from dealcalc.models.direct import DirectLine
from dealcalc.models.entities import COMPANY_TERMS, Entity, TransferPrice
from dealcalc.models.finance import Finance
from dealcalc.models.fiscal import COMMODITIES, FiscalRegime, WorkingCapital, parse_base
from dealcalc.models.metal_stream import MetalStream, RoyaltySale
from dealcalc.models.offtake import Offtake
from dealcalc.models.periods import Periods
from dealcalc.models.risk import Uncertainty
from dealcalc.models.schedule import (
    FactorSchedule,
    FractionSchedule,
    NonNegativeSchedule,
    NonNegativeTotals,
    PriceSchedule,
    Schedule,
    iter_schedules,
)
from dealcalc.models.streams import Product, Stream
from dealcalc.models.trade import Trade

__all__ = [
    "Closure",
    "Deal",
    "DealProblems",
    "Gate",
    "Operations",
    "Overhead",
    "Phase",
    "PriceDeck",
    "ScenarioOverlay",
    "ValuationSettings",
]

#: A price: flat, or a path given as {year: price} or a list over the production years (each
#: price holds until the next year given; before the first, the first price).
Price = PriceSchedule
PriceDeck = dict[str, Price]
#: How a price schedule fills the years it does not name.
PRICE_SCHEDULE = Schedule("hold", "first")


class ValuationSettings(Model):
    """When and how the deal is valued (the ``valuation`` section of a scenario file).

    Cash flows are annual, in periods labelled ``start_year`` to ``end_year``: calendar years,
    or a study's own year numbers (``-4`` to ``27``; with ``year_zero: false`` the period after
    ``-1`` is ``1``, as most studies count). ``calendar_start_year`` is the calendar year of the
    first period, needed only to place dated inputs (tariff dates, a valuation date) when the
    labels are not calendar years. ``timing`` places each period's flow at its ``end``
    (default), ``mid`` point or ``begin``ning; flows are discounted to ``valuation_point``: the
    ``start`` of the first period (default), its ``end``, the start of a period given by its
    label, or a date (a label or a date no further from the periods than there are periods).
    With ``basis: real`` prices and costs are flat money of the first period; with
    ``nominal`` they grow at ``inflation_rate``. A ``discount_rate`` stated in the other
    basis is converted by the Fisher relation. ``payback_from`` says where payback is counted
    from: the valuation point or the first year of production.
    """

    start_year: Year
    end_year: Year
    year_zero: bool = True
    calendar_start_year: CalendarYear | None = None
    valuation_point: Literal["start", "end"] | Year | dt.date = "start"
    timing: Literal["end", "mid", "begin"] = "end"
    basis: Literal["real", "nominal"] = "real"
    inflation_rate: Rate = 0.0
    discount_rate: Rate
    discount_rate_basis: Literal["real", "nominal"] = "real"
    price_deck: str = "base"
    payback_from: Literal["valuation_point", "first_production"] = "valuation_point"

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "valuation_year" in data:
            raise ValueError(
                "valuation_year is now valuation_point (the start of that year: valuation_point: "
                f"{data['valuation_year']})"
            )
        return data

    @model_validator(mode="after")
    def _years_in_order(self) -> ValuationSettings:
        if self.end_year < self.start_year:
            raise ValueError(f"end_year {self.end_year} is before start_year {self.start_year}")
        if self.end_year - self.start_year >= 200:
            raise ValueError("a horizon of 200 years or more is not a deal; check end_year")
        if not self.year_zero and 0 in (self.start_year, self.end_year):
            raise ValueError("with year_zero: false there is no period 0; start or end the periods elsewhere")
        calendar = self.calendar_start_year
        if calendar is not None and self.start_year >= 1900 and calendar != self.start_year:
            raise ValueError(
                f"calendar_start_year {calendar} contradicts start_year "
                f"{self.start_year}, a calendar year; leave calendar_start_year out"
            )
        return self

    @functools.cached_property
    def periods(self) -> Periods:
        """The period labels, with their calendar years when known."""
        calendar = self.calendar_start_year
        if calendar is None and self.start_year >= 1900 and self.year_zero:
            calendar = self.start_year
        return Periods(self.start_year, self.end_year, self.year_zero, calendar)

    def valuation_offset(self) -> float:
        """Years from the start of the first period to the valuation point."""
        point, periods = self.valuation_point, self.periods
        if point == "start":
            return 0.0
        if point == "end":
            return 1.0
        if isinstance(point, dt.date):
            return periods.years_from_start(point)
        return float(periods.position(point))


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

    ``capex_usd`` is the phase's initial capital: a total that ``capex_schedule`` splits over
    consecutive periods from ``start_year`` (fractions summing to 1), or the amount spent in
    each period, ``{year: amount}`` (then ``capex_schedule`` is not used). Production starts
    after construction (or at ``production_start_year``), follows ``ramp_up`` (the fraction of
    design capacity in each production year, then 100 %) and lasts to ``end_year`` (default:
    the last period). ``sustaining_capex_usd_per_year`` is spent in each production year (a
    schedule). ``delay_years`` moves the whole phase later. ``capital_class`` names the
    fiscal regime's class its capital is written off in (``fiscal.capital_classes``; default:
    the class of its book that takes its kind of capital).
    """

    start_year: Year
    capex_usd: NonNegativeTotals = 0.0
    capex_schedule: list[Fraction] = Field(default_factory=lambda: [1.0])
    production_start_year: Year | None = None
    end_year: Year | None = None
    ramp_up: list[Annotated[Number, Field(ge=0.0, le=2.0)]] = Field(default_factory=list)
    sustaining_capex_usd_per_year: NonNegativeSchedule = 0.0
    capital_class: str | None = None
    delay_years: Annotated[Whole, Field(ge=0, le=50)] = 0
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


class Closure(Model):
    """Closure and reclamation: ``cost_usd`` spent in ``year`` (default: the last period), or
    spent over several periods as ``{year: amount}`` (then ``year`` is not used)."""

    cost_usd: NonNegativeTotals = 0.0
    year: Year | None = None

    @model_validator(mode="after")
    def _one_timing(self) -> Closure:
        if isinstance(self.cost_usd, dict) and self.year is not None:
            raise ValueError("give year or spend cost_usd by year ({year: amount}), not both")
        return self


class Operations(Model):
    """Site-wide operating factors, set per draw and year by Monte Carlo events.

    ``availability`` is the share of planned output achieved (1 - losses to disruptions).
    ``expropriated`` is the share of the owners' cash the host state takes (1 from the year of
    an expropriation or contract repudiation on); when it takes it, it pays
    ``expropriation_compensation_fraction`` of the net book value (capital spent less tax
    depreciation).
    """

    availability: FactorSchedule = 1.0
    expropriated: FractionSchedule = 0.0
    expropriation_compensation_fraction: Fraction = 0.0


class Overhead(Model):
    """A fixed yearly cost (G&A, security and community), a schedule, from ``start_year``
    (default: the first production year) to ``end_year`` (default: the last period)."""

    usd_per_year: NonNegativeSchedule
    start_year: Year | None = None
    end_year: Year | None = None


class ScenarioOverlay(Model):
    """A named scenario: changes to the base case by parameter path.

    ``set`` replaces values (``valuation.price_deck: spot_2025``); ``scale`` multiplies numbers
    (``phases.*.capex_usd: 1.3``, where ``*`` matches every key at that level).
    """

    description: str | None = None
    set: dict[str, Any] = Field(default_factory=dict)
    scale: dict[str, Number] = Field(default_factory=dict)


class Deal(Model):
    """A phased cross-border minerals deal, everything needed to value it."""

    name: str
    description: str | None = None
    currency: Literal["USD"] = "USD"
    valuation: ValuationSettings
    products: dict[str, Product]
    price_decks: dict[str, PriceDeck]
    phases: dict[str, Phase]
    streams: dict[str, Stream]
    fiscal: FiscalRegime = Field(default_factory=FiscalRegime)
    working_capital: WorkingCapital = Field(default_factory=WorkingCapital)
    closure: Closure = Field(default_factory=Closure)
    overheads: dict[str, Overhead] = Field(default_factory=dict)
    lines: dict[str, DirectLine] = Field(default_factory=dict)
    operations: Operations = Field(default_factory=Operations)
    trade: Trade = Field(default_factory=Trade)
    local_currency: LocalCurrency | None = None
    finance: Finance = Field(default_factory=Finance)
    offtakes: dict[str, Offtake] = Field(default_factory=dict)
    metal_streams: dict[str, MetalStream] = Field(default_factory=dict)
    royalties_sold: dict[str, RoyaltySale] = Field(default_factory=dict)
    entities: dict[str, Entity] = Field(default_factory=dict)
    transfer_prices: dict[str, TransferPrice] = Field(default_factory=dict)
    uncertainty: Uncertainty = Field(default_factory=Uncertainty)
    scenarios: dict[str, ScenarioOverlay] = Field(default_factory=dict)
    provenance: dict[str, Provenance] = Field(default_factory=dict)
    #: Where the deal came from and what was changed since (not part of the deal: two deals
    #: with the same fields are equal whatever their record); see :meth:`recorded`.
    _source: str | None = PrivateAttr(default=None)
    _scenario: str | None = PrivateAttr(default=None)
    _changes: tuple[str, ...] = PrivateAttr(default=())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Deal):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = Model.__hash__

    @property
    def source(self) -> str | None:
        """The file the deal was read from, if any."""
        return self._source

    @property
    def scenario_name(self) -> str | None:
        """The file's named scenario applied to this deal (None: the base case)."""
        return self._scenario

    @property
    def changes(self) -> tuple[str, ...]:
        """What was changed since the file was read, in order (``--set fiscal.royalty_rate=0.07``,
        ``override price_decks.base.antimony``): a run is labelled by them, never as the base case."""
        return self._changes

    def recorded(
        self, *, source: str | None = None, scenario: str | None = None, changes: tuple[str, ...] = ()
    ) -> Deal:
        """This deal with its record set: the file it came from and the named scenario applied
        (each kept when None) and the changes that made it (added to those it already has).
        Returns the same object.

        Examples
        --------
        >>> import dealcalc as dc
        >>> from dealcalc.params import with_changes
        >>> deal = dc.load(dc.example_path("ussm-fwo"))
        >>> with_changes(deal, {"fiscal.royalty_rate": 0.07}, origin="--set").changes
        ('--set fiscal.royalty_rate=0.07',)
        """
        if source is not None:
            self._source = source
        if scenario is not None:
            self._scenario = scenario
        self._changes = (*self._changes, *changes)
        return self

    @model_validator(mode="before")
    @classmethod
    def _owners_of_entities(cls, data: Any) -> Any:
        """A deal of entities has no owners of its own: ``finance.equity`` left out is ``{}``
        (not the one-company default, an owner called ``equity``)."""
        if isinstance(data, dict) and data.get("entities"):
            finance = data.get("finance")
            if finance is None:
                return {**data, "finance": {"equity": {}}}
            if isinstance(finance, dict) and "equity" not in finance:
                return {**data, "finance": {**finance, "equity": {}}}
        return data

    @model_validator(mode="after")
    def _references_resolve(self) -> Deal:
        problems: list[tuple[str, str]] = []
        self._check_names(problems)
        self._check_parties(problems)
        self._check_references(problems)
        self._check_trade(problems)
        self._check_finance(problems)
        self._check_offtakes(problems)
        self._check_sold(problems)
        self._check_entities(problems)
        if not problems:  # the years are checked once the names they hang on resolve
            self._check_years(problems)
        if problems:
            # errors.md: Scenario-file checks
            raise DealProblems(problems)
        return self

    def _check_references(self, problems: list[tuple[str, str]]) -> None:
        v = self.valuation
        if v.price_deck not in self.price_decks:
            problems.append(
                (
                    "valuation.price_deck",
                    f"{v.price_deck!r} is not a price deck; decks: {', '.join(self.price_decks)}",
                )
            )
        for deck_name, deck in self.price_decks.items():
            for product in deck:
                if product not in self.products:
                    hint = did_you_mean(product, self.products)
                    problems.append(
                        (
                            f"price_decks.{deck_name}.{product}",
                            "no such product" + (f" ({hint})" if hint else ""),
                        )
                    )
        for name, stream in self.streams.items():
            if stream.phase not in self.phases:
                hint = did_you_mean(stream.phase, self.phases) or f"phases: {', '.join(self.phases)}"
                problems.append((f"streams.{name}.phase", f"{stream.phase!r} is not a phase ({hint})"))
            if stream.product not in self.products:
                hint = did_you_mean(stream.product, self.products) or f"products: {', '.join(self.products)}"
                problems.append((f"streams.{name}.product", f"{stream.product!r} is not a product ({hint})"))
            if stream.feed is not None:
                self._check_feed(name, stream, problems)
            for deck_name, deck in self.price_decks.items():
                if stream.product in self.products and stream.product not in deck:
                    problems.append((f"price_decks.{deck_name}", f"no price for {stream.product!r}"))
        for product in self.uncertainty.price_paths:
            if product not in self.products:
                problems.append((f"uncertainty.price_paths.{product}", "no such product"))
        for name, levy in (self.fiscal.levies or {}).items():
            bases = [levy.base] if levy.base is not None else [a.base for a in levy.alternatives or []]
            terms = [t for b in bases for _, t in parse_base(b)]
            for term in terms:
                kind, _, what = term.partition(":")
                if kind == "line" and what not in self.lines:
                    hint = did_you_mean(what, self.lines) or f"lines: {', '.join(self.lines) or 'none'}"
                    problems.append((f"fiscal.levies.{name}.base", f"{term!r}: no such line ({hint})"))
            # a preset may name commodities a deal lacks (silver, platinum): their revenue is 0;
            # any other name must be one of the deal's products
            for product in (t.partition(":")[2] for t in terms if t.startswith("revenue:")):
                if product not in self.products and product not in COMMODITIES:
                    known = [*self.products, *COMMODITIES]
                    hint = did_you_mean(product, known) or f"products: {', '.join(self.products)}"
                    problems.append(
                        (f"fiscal.levies.{name}.base", f"'revenue:{product}': no such product ({hint})")
                    )
        classes = self.fiscal.classes()
        owners = [(f"phases.{n}", p.capital_class) for n, p in self.phases.items()]
        owners += [(f"lines.{n}", x.capital_class) for n, x in self.lines.items()]
        for where, wanted in owners:
            if wanted is not None and wanted not in classes:
                hint = did_you_mean(wanted, classes) or f"classes: {', '.join(classes)}"
                problems.append((f"{where}.capital_class", f"{wanted!r} is not a capital class ({hint})"))
        for name, line in self.lines.items():
            if line.phase is not None and line.phase not in self.phases:
                hint = did_you_mean(line.phase, self.phases) or f"phases: {', '.join(self.phases)}"
                problems.append((f"lines.{name}.phase", f"{line.phase!r} is not a phase ({hint})"))
        if not problems:
            try:
                self.processing_order()
            except ValueError as exc:
                # errors.md: the feeds go round in a loop
                problems.append(("streams", str(exc)))

    def _check_names(self, problems: list[tuple[str, str]]) -> None:
        """Every name the file gives is one parameter paths can hold (:func:`name_problem`)."""
        fiscal, trade, risk = self.fiscal, self.trade, self.uncertainty
        sections: list[tuple[str, Any, str | None]] = [
            ("products", self.products, "product"),
            ("price_decks", self.price_decks, None),
            ("phases", self.phases, None),
            ("streams", self.streams, None),
            ("overheads", self.overheads, None),
            ("lines", self.lines, "line"),
            ("fiscal.levies", fiscal.levies or {}, "levy"),
            ("fiscal.capital_classes", fiscal.capital_classes or {}, None),
            ("trade.destinations", trade.destinations, None),
            ("trade.schedules", trade.schedules, None),
            ("finance.equity", self.finance.equity, None),
            ("finance.debt", self.finance.debt, None),
            ("entities", self.entities, None),
            ("transfer_prices", self.transfer_prices, None),
            *((f"entities.{n}.equity", e.equity, None) for n, e in self.entities.items()),
            *((f"entities.{n}.debt", e.debt, None) for n, e in self.entities.items()),
            ("offtakes", self.offtakes, None),
            ("metal_streams", self.metal_streams, None),
            ("royalties_sold", self.royalties_sold, None),
            ("uncertainty.disruptions", risk.disruptions, None),
            ("uncertainty.switches", risk.switches, None),
            ("scenarios", self.scenarios, None),
        ]
        for section, names, kind in sections:
            for name in names:
                problem = name_problem(name, kind)
                if problem is not None:
                    # a name with a dot cannot be a part of the path: the section's line
                    where = section if "." in name else f"{section}.{name}"
                    # errors.md: is not a name dealcalc can use
                    problems.append((where, problem))
        parties: list[tuple[str, str | None]] = [("finance.host_government", self.finance.host_government)]
        parties += [
            (f"trade.destinations.{n}.government", d.government) for n, d in trade.destinations.items()
        ]
        parties += [(f"fiscal.levies.{n}.collector", x.collector) for n, x in (fiscal.levies or {}).items()]
        parties += [(f"offtakes.{n}.counterparty", o.counterparty) for n, o in self.offtakes.items()]
        parties += [(f"metal_streams.{n}.financier", m.financier) for n, m in self.metal_streams.items()]
        parties += [(f"royalties_sold.{n}.financier", r.financier) for n, r in self.royalties_sold.items()]
        for where, party in parties:
            problem = None if party is None else name_problem(party)
            if problem is not None:
                # errors.md: is not a name dealcalc can use
                problems.append((where, problem))

    def _check_parties(self, problems: list[tuple[str, str]]) -> None:
        """One name, one party: an owner, the lenders, a government and a royalty holder each
        need a name of their own. The cash is split by party name, so an owner called
        ``lenders`` or called as a government would take the other's cash and role without a
        word (docs/methodology.md §16). Governments may share a name (a destination's duty
        collected by the host government), and so may royalty holders."""
        # (party, role, who, the path it is written at, or None where it is a default)
        claims: list[tuple[str, str, str, str | None]] = [
            ("lenders", "lenders", "the lenders (dealcalc's name for the party of the debt)", None)
        ]
        owners: dict[str, str] = {}  # an owner of several companies is one party
        for at, company in self.companies().items():
            for owner in company.equity:
                owners.setdefault(owner, f"{at}.equity.{owner}")
        claims += [(owner, "owner", "an owner", where) for owner, where in owners.items()]
        host = "finance.host_government" if "host_government" in self.finance.model_fields_set else None
        claims.append((self.finance.host_government, "government", "the host government", host))
        for name, dest in self.trade.destinations.items():
            where = f"trade.destinations.{name}.government" if dest.government is not None else None
            government = self.destination_government(name)
            claims.append((government, "government", f"the government of destination {name}", where))
        for name, levy in (self.fiscal.levies or {}).items():
            if levy.collector is not None:
                who = f"the {'royalty holder' if levy.private else 'collector'} of levy {name}"
                role = "royalty_holder" if levy.private else "government"
                claims.append((levy.collector, role, who, f"fiscal.levies.{name}.collector"))
        for name, sale in self.royalties_sold.items():
            who = f"the financier of royalty sold {name}"
            claims.append((sale.financier, "royalty_holder", who, f"royalties_sold.{name}.financier"))
        first: dict[str, tuple[str, str, str, str | None]] = {}
        for claim in claims:
            party, role, who, where = claim
            earlier = first.setdefault(party, claim)
            if earlier[1] == role:
                continue
            at = where or earlier[3] or "finance"  # where the file wrote the name
            problems.append(
                (
                    at,
                    f"{party!r} is the name of {earlier[2]} and of {who}; one party cannot play two "
                    "roles (the cash of both would be counted as one), so give each its own name",
                )
            )

    def _check_feed(self, name: str, stream: Stream, problems: list[tuple[str, str]]) -> None:
        """A processing stream's sources exist, make what it is fed, and appear once."""
        assert stream.feed is not None
        where = f"streams.{name}.feed"
        wanted = stream.feed_product
        if wanted not in self.products:
            problems.append((f"{where}.product", f"{wanted!r} is not a product"))
        elif stream.product in self.products:
            fed, made = self.products[wanted].unit, self.products[stream.product].unit
            if fed != made:  # recovery is output units per unit of feed: one unit for both
                same = [p for p, x in self.products.items() if x.unit == made and p != stream.product]
                hint = (
                    f"products in {made}: {', '.join(same)}"
                    if same
                    else f"declare the feed as a product in {made}, or leave feed.product out"
                )
                problems.append(
                    (
                        f"{where}.product",
                        f"{wanted!r} is counted in {fed} but this stream's product {stream.product!r} in "
                        f"{made}; units are not converted, so feed a product in {made} ({hint})",
                    )
                )
        seen: set[str] = set()
        for source in stream.feed.sources:
            other = self.streams.get(source)
            if other is None:
                hint = did_you_mean(source, self.streams) or f"streams: {', '.join(self.streams)}"
                problems.append((f"{where}.sources", f"{source!r} is not a stream ({hint})"))
            elif source == name:
                problems.append((f"{where}.sources", "a stream cannot feed itself"))
            elif other.product != wanted:
                problems.append(
                    (
                        f"{where}.sources",
                        f"{source!r} makes {other.product!r}, but this stream is fed {wanted!r} "
                        "(set feed.product, or name a source of it)",
                    )
                )
            if source in seen:
                problems.append((f"{where}.sources", f"{source!r} is named twice"))
            seen.add(source)
        purchase = stream.feed.purchase
        if purchase is not None and purchase.price_fraction is not None:
            for deck_name, deck in self.price_decks.items():
                if wanted not in deck:
                    problems.append(
                        (
                            f"price_decks.{deck_name}",
                            f"no price for the feed {name} buys: {wanted!r}",
                        )
                    )

    def processing_order(self) -> list[str]:
        """The processing streams, each after the processing streams that feed it; a ValueError
        names a loop (a feeds b feeds a)."""
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "open":
                loop = " -> ".join([*path[path.index(name) :], name])
                raise ValueError(f"the feeds go round in a loop: {loop}")
            state[name] = "open"
            stream = self.streams[name]
            for source in stream.feed.sources if stream.feed is not None else []:
                if source in self.streams and not self.streams[source].is_mine:
                    visit(source, [*path, name])
            state[name] = "done"
            order.append(name)

        for name, stream in self.streams.items():
            if not stream.is_mine:
                visit(name, [])
        return order

    def _check_years(self, problems: list[tuple[str, str]]) -> None:
        """Every year the file names is one of the periods, and each phase fits in them."""
        periods = self.periods
        span = periods.describe()

        def check(path: str, year: int | None) -> None:
            if year is not None and not periods.has(year):
                problems.append((path, f"{year} is not one of the periods {span}"))

        for name, phase in self.phases.items():
            check(f"phases.{name}.start_year", phase.start_year)
            check(f"phases.{name}.production_start_year", phase.production_start_year)
            check(f"phases.{name}.end_year", phase.end_year)
            check(f"phases.{name}.gate.decision_year", phase.gate.decision_year)
            if not periods.has(phase.start_year):
                continue
            if isinstance(phase.capex_usd, dict) and any(not periods.has(y) for y in phase.capex_usd):
                continue  # reported as a schedule year below
            if isinstance(phase.capex_usd, dict) and min(phase.capex_usd) < phase.start_year:
                problems.append(
                    (
                        f"phases.{name}.capex_usd",
                        f"capital is spent before the phase's start_year {phase.start_year}",
                    )
                )
                continue
            first = periods.index(phase.start_year) + phase.delay_years
            last = first + self.construction_years(name) - 1
            if last >= periods.size:
                problems.append(
                    (
                        f"phases.{name}",
                        f"construction from {phase.start_year} (after {phase.delay_years} years of delay) "
                        f"runs past the last period {periods.end}",
                    )
                )
        self._check_output_before_production(problems)
        check("closure.year", self.closure.year)
        check("fiscal.write_off_year", self.fiscal.write_off_year)
        for name, levy in (self.fiscal.levies or {}).items():
            if levy.holiday is not None:
                check(f"fiscal.levies.{name}.holiday.start_year", levy.holiday.start_year)
        for name, allowance in (self.fiscal.capital_classes or {}).items():
            check(f"fiscal.capital_classes.{name}.start_year", allowance.start_year)
        for name, overhead in self.overheads.items():
            check(f"overheads.{name}.start_year", overhead.start_year)
            check(f"overheads.{name}.end_year", overhead.end_year)
        for name, stream in self.streams.items():
            check(f"streams.{name}.end_year", stream.end_year)
        for name, line in self.lines.items():
            check(f"lines.{name}.start_year", line.start_year)
            check(f"lines.{name}.end_year", line.end_year)
        for name, offtake in self.offtakes.items():
            check(f"offtakes.{name}.start_year", offtake.start_year)
            check(f"offtakes.{name}.end_year", offtake.end_year)
        for name, stream_sold in self.metal_streams.items():
            check(f"metal_streams.{name}.deposit_year", stream_sold.deposit_year)
        for name, sale in self.royalties_sold.items():
            check(f"royalties_sold.{name}.year", sale.year)
        for at, company in self.companies().items():
            for name, pref in company.preferred.items():
                check(f"{at}.preferred.{name}.year", pref.year)
                check(f"{at}.preferred.{name}.redeem_year", pref.redeem_year)
            for name, loan in company.shareholder_loans.items():
                check(f"{at}.shareholder_loans.{name}.year", loan.year)
            for name, earn in company.earn_in.items():
                if earn.at_first_output_of is not None and earn.at_first_output_of not in self.phases:
                    # errors.md: at_first_output_of: no phase
                    problems.append(
                        (
                            f"{at}.earn_in.{name}.at_first_output_of",
                            f"no phase {earn.at_first_output_of!r} (phases: {', '.join(self.phases)})",
                        )
                    )
        self._check_order(problems)
        schedules = list(iter_schedules(self))
        for deck_name, deck in self.price_decks.items():
            for product, price in deck.items():
                if isinstance(price, dict | list):
                    schedules.append((f"price_decks.{deck_name}.{product}", PRICE_SCHEDULE, price))
        for path, marker, value in schedules:
            if not isinstance(value, dict):
                continue
            for year in value:
                if marker.fill == "totals" or year > periods.end or year >= periods.start:
                    check(f"{path}.{year}", year)
        if self.local_currency is not None:  # each exchange rate holds from its period on
            for year in self.local_currency.path or {}:
                check(f"local_currency.path.{year}", year)
        self._check_dates(problems)

    def _check_order(self, problems: list[tuple[str, str]]) -> None:
        """The years a deal names come in the order it lives them: a gate is decided before its
        phase is built, a phase produces after its construction starts and stops after it first
        produces, and an overhead, a line or a stream ends no earlier than it starts. Each would
        otherwise change the numbers without a word (a gate's prices read too late, output or
        costs that never occur). Years that are not periods are reported by ``_check_years``."""
        periods = self.periods
        has, at = periods.has, periods.index

        def when(index: int) -> str:
            return str(periods.label(index)) if index < periods.size else f"after {periods.end}"

        for name, phase in self.phases.items():
            p = f"phases.{name}"
            if not has(phase.start_year):
                continue
            produces = phase.production_start_year
            if produces is not None and has(produces) and at(produces) < at(phase.start_year):
                problems.append(
                    (
                        f"{p}.production_start_year",
                        f"{produces} is before the phase's start_year {phase.start_year}: it would produce "
                        f"before it is built; expected {phase.start_year} or later",
                    )
                )
                continue
            built = self.construction_start(name)
            decided = phase.gate.decision_year
            if decided is not None and has(decided) and at(decided) > built:
                problems.append(
                    (
                        f"{p}.gate.decision_year",
                        f"the gate is decided in {decided}, after the phase's construction starts in "
                        f"{when(built)}; expected {when(built)} or earlier (by default, the year before)",
                    )
                )
            if phase.end_year is not None and has(phase.end_year) and self._countable(phase):
                first = self.first_production(name)
                if at(phase.end_year) < first:
                    problems.append(
                        (
                            f"{p}.end_year",
                            f"the phase ends in {phase.end_year}, before its first production in "
                            f"{when(first)}; expected {when(first)} or later",
                        )
                    )
        earliest = self._earliest_production()
        for name, stream in self.streams.items():
            if stream.end_year is None or not has(stream.end_year):
                continue
            if not self._countable(self.phases[stream.phase]):
                continue
            first = self.first_production(stream.phase)
            if at(stream.end_year) < first:
                problems.append(
                    (
                        f"streams.{name}.end_year",
                        f"the stream ends in {stream.end_year}, before its phase {stream.phase} first "
                        f"produces in {when(first)}; expected {when(first)} or later",
                    )
                )
        spans: list[tuple[str, int | None, int | None, int | None, str]] = []
        for name, overhead in self.overheads.items():
            start_end = (overhead.start_year, overhead.end_year)
            spans.append((f"overheads.{name}", *start_end, earliest, "the first production"))
        for name, line in self.lines.items():
            start: int | None = earliest
            what = "the first production"
            value = line.usd_per_year
            delay = 0 if line.phase is None else self.phases[line.phase].delay_years
            if isinstance(value, dict):
                first_given = min(value)
                start = periods.position(first_given) + delay
                what = f"its first amount ({first_given}{f', after a delay of {delay}' if delay else ''})"
            elif line.phase is not None:
                countable = self._countable(self.phases[line.phase])
                start = self.first_production(line.phase) if countable else None
                what = f"the first production of phase {line.phase}"
            spans.append((f"lines.{name}", line.start_year, line.end_year, start, what))
        for where, start_year, end_year, default, what in spans:
            if end_year is None or not has(end_year):
                continue
            if start_year is not None:
                if has(start_year) and at(end_year) < at(start_year):
                    problems.append(
                        (
                            f"{where}.end_year",
                            f"{end_year} is before start_year {start_year}; expected {start_year} or later",
                        )
                    )
            elif default is not None and at(end_year) < default:
                problems.append(
                    (
                        f"{where}.end_year",
                        f"{end_year} is before {what} in {when(default)}, where it starts, so it would never "
                        "run; expected a later end_year, or give start_year",
                    )
                )

    def _countable(self, phase: Phase) -> bool:
        """Whether a phase's first production can be counted: its start, its production start
        and its capital's years are periods (those that are not are reported elsewhere)."""
        has = self.periods.has
        capex = phase.capex_usd
        return (
            has(phase.start_year)
            and (phase.production_start_year is None or has(phase.production_start_year))
            and not (isinstance(capex, dict) and any(not has(y) for y in capex))
        )

    def _earliest_production(self) -> int | None:
        """The period index of the earliest first production of any phase, built or not (with
        streams; in a deal without streams, of any phase): where an overhead or a line given as
        one number starts at the earliest. None if a phase's years cannot be counted."""
        names = {s.phase for s in self.streams.values()} or set(self.phases)
        phases = [self.phases[n] for n in names]
        if not phases or not all(self._countable(p) for p in phases):
            return None
        return min(self.first_production(n) for n in names)

    def _check_output_before_production(self, problems: list[tuple[str, str]]) -> None:
        """A mine plan given by year whose output comes before its phase produces would be lost
        without a word: capital given by year that pauses and resumes (spent again once the plan
        produces) pushes the first production after its last year."""
        periods = self.periods
        for name, stream in self.streams.items():
            phase = self.phases.get(stream.phase)
            if phase is None or phase.production_start_year is not None or not periods.has(phase.start_year):
                continue
            capex = phase.capex_usd
            if not isinstance(capex, dict) or any(not periods.has(y) for y in capex):
                continue
            spent = sorted(periods.index(y) for y, v in capex.items() if v > 0)
            if not any(b > a + 1 for a, b in pairwise(spent)):
                continue  # construction without a pause: its end is where the plan expects it
            first = periods.index(phase.start_year) + self.construction_years(stream.phase)
            for field in ("ore_tpa", "recovered_units_per_year", "capacity_units_per_year"):
                plan = getattr(stream, field)
                if not isinstance(plan, dict):
                    continue
                early = sorted(
                    y for y, v in plan.items() if v > 0 and periods.has(y) and periods.index(y) < first
                )
                if early:
                    problems.append(
                        (
                            f"streams.{name}.{field}",
                            f"gives output in {early[0]}, but phase {stream.phase} produces only from "
                            f"{periods.label(min(first, periods.size - 1))} (after its last capital year); "
                            "give the phase production_start_year, or spend the later capital as "
                            "sustaining capital",
                        )
                    )

    def _check_dates(self, problems: list[tuple[str, str]]) -> None:
        """The valuation point falls near the periods, and dated inputs (a valuation date,
        dated tariff rates) have calendar years to be placed in."""
        periods = self.periods
        span, size = periods.describe(), periods.size
        where = "valuation.valuation_point"
        point = self.valuation.valuation_point
        no_calendar = (
            f"the periods {span} have no calendar years to place a date in "
            f"(set valuation.calendar_start_year, the calendar year of period {periods.start})"
        )
        if isinstance(point, dt.date):
            if periods.calendar_start is None:
                # errors.md: have no calendar years to place a date in
                problems.append((where, no_calendar))
            else:
                first, last = periods.calendar_start, periods.calendar_start + size - 1
                if not first - size <= point.year <= last + size:
                    problems.append(
                        (
                            where,
                            f"{point.isoformat()} is more than {size} years from the periods "
                            f"({first}-{last}); expected a date in or near them",
                        )
                    )
        elif isinstance(point, int):
            if point == 0 and not periods.year_zero:
                problems.append(
                    (
                        where,
                        "with year_zero: false there is no period 0 to start at "
                        "(the start of period 1 is valuation_point: 1)",
                    )
                )
            elif not periods.start - size <= point <= periods.end + size:
                problems.append(
                    (
                        where,
                        f"{point} is more than {size} years from the periods {span}; expected the "
                        "label of a period (valued at its start), start, end or a date",
                    )
                )
        if periods.calendar_start is None:
            for name, tariffs in self.trade.schedules.items():
                dated = [f"trade.schedules.{name}.ad_valorem"] if tariffs.ad_valorem else []
                dated += [
                    f"trade.schedules.{name}.products.{product}.{form}.ad_valorem"
                    for product, forms in tariffs.products.items()
                    for form, entry in forms.items()
                    if entry.ad_valorem
                ]
                for path in dated:
                    # errors.md: have no calendar years to place a date in
                    problems.append((path, no_calendar))

    def _check_trade(self, problems: list[tuple[str, str]]) -> None:
        trade = self.trade
        for name, dest in trade.destinations.items():
            if dest.schedule is not None and dest.schedule not in trade.schedules:
                hint = (
                    did_you_mean(dest.schedule, trade.schedules)
                    or f"schedules: {', '.join(trade.schedules) or 'none'}"
                )
                problems.append(
                    (f"trade.destinations.{name}.schedule", f"{dest.schedule!r} is not a schedule ({hint})")
                )
        for name, tariffs in trade.schedules.items():
            for product in tariffs.products:
                if product not in self.products:
                    problems.append((f"trade.schedules.{name}.products.{product}", "no such product"))
        for name, stream in self.streams.items():
            for market in stream.sales_shares:
                if market not in trade.destinations:
                    hint = did_you_mean(market, trade.destinations) or (
                        f"destinations: {', '.join(trade.destinations) or 'none'}"
                    )
                    problems.append(
                        (f"streams.{name}.sales_shares.{market}", f"no such destination ({hint})")
                    )
        a = trade.attribution
        if a is not None:
            if a.destination not in trade.destinations:
                problems.append(("trade.attribution.destination", f"{a.destination!r} is not a destination"))
            for wanted in a.schedules:
                if wanted not in trade.schedules:
                    problems.append(("trade.attribution.schedules", f"{wanted!r} is not a schedule"))

    def _check_finance(self, problems: list[tuple[str, str]]) -> None:
        if self.finance.stressed and not self.borrows:
            # errors.md: need debt
            problems.append(
                ("finance", "the debt-stress rules (dsra, sweep, lockup, default, ...) need debt")
            )
        for at, company in self.companies().items():
            for name, tranche in company.debt.items():
                for phase in tranche.phases or []:
                    if phase not in self.phases:
                        problems.append((f"{at}.debt.{name}.phases", f"{phase!r} is not a phase"))
            self._check_debt_shares(at, company, problems)
        known = set(self.party_names())
        for party in self.finance.discount_rates:
            if party not in known:
                problems.append(
                    (f"finance.discount_rates.{party}", f"no such party; parties: {', '.join(sorted(known))}")
                )

    def _check_offtakes(self, problems: list[tuple[str, str]]) -> None:
        """An offtake buys a product some stream sells, from a counterparty that is a party of
        its own, an owner or a government (never the lenders, the buyer or guarantor of the
        debt-stress rules, or a royalty holder: their cash has a rule of its own); the shares of
        a product's output contracted add up to at most 1."""
        terms: dict[str, list[tuple[float, float, float]]] = {}  # product: (start, end, share)
        for name, offtake in self.offtakes.items():
            where = f"offtakes.{name}"
            self._check_delivery(problems, where, offtake.product)
            self._check_payer(
                problems, f"{where}.counterparty", offtake.counterparty, "an offtake's counterparty"
            )
            if offtake.volume_share is not None:
                start = -math.inf if offtake.start_year is None else float(offtake.start_year)
                end = math.inf if offtake.end_year is None else float(offtake.end_year)
                terms.setdefault(offtake.product, []).append((start, end, offtake.volume_share))
        for product, contracts in terms.items():
            # the most contracted in any year: contracts overlap most where one of them starts
            total, when = max(
                (sum(share for a, b, share in contracts if a <= start <= b), start)
                for start, _, _ in contracts
            )
            if total > 1.0 + 1e-9:
                year = "" if math.isinf(when) else f" in {int(when)}"
                problems.append(
                    (
                        "offtakes",
                        f"the contracts on {product!r} take {total:g} of its output{year}; expected shares "
                        "that sum to at most 1 in every year",
                    )
                )

    def _check_delivery(self, problems: list[tuple[str, str]], where: str, product: str) -> None:
        """A contract delivers a product of the deal that some stream makes."""
        sold = {s.product for s in self.streams.values()}
        if product not in self.products:
            hint = did_you_mean(product, self.products) or f"products: {', '.join(self.products)}"
            problems.append((f"{where}.product", f"{product!r} is not a product ({hint})"))
        elif product not in sold:
            problems.append(
                (
                    f"{where}.product",
                    f"no stream makes {product!r}, so there is nothing to deliver; expected "
                    f"a product of a stream: {', '.join(sorted(sold)) or 'none'}",
                )
            )

    def _check_payer(self, problems: list[tuple[str, str]], field: str, party: str, what: str) -> None:
        """A contract's other side is a party of its own, an owner or a government: never the
        lenders, the buyer or guarantor of the debt-stress rules, or a royalty holder (their cash
        has a rule of its own)."""
        role = self._role_before_offtakes(party)
        if role in ("lenders", "buyer", "guarantor", "royalty_holder"):
            problems.append(
                (
                    field,
                    f"{party!r} is already the {role.replace('_', ' ')}; {what} is a "
                    "party of its own, an owner or a government",
                )
            )

    def _check_sold(self, problems: list[tuple[str, str]]) -> None:
        """A metal stream delivers a product some stream sells, to a financier that is a party of
        its own, an owner or a government (never the lenders, the buyer or guarantor of the
        debt-stress rules, or a royalty holder); the largest shares streamed of a product add up
        to at most 1."""
        shares: dict[str, float] = {}
        for name, stream_sold in self.metal_streams.items():
            where = f"metal_streams.{name}"
            product = stream_sold.product
            self._check_delivery(problems, where, product)
            self._check_payer(problems, f"{where}.financier", stream_sold.financier, "a stream's financier")
            tiers = stream_sold.tiers or []
            share = max([t.share for t in tiers], default=stream_sold.delivered_share or 0.0)
            shares[product] = shares.get(product, 0.0) + share
        for product, total in shares.items():
            if total > 1.0 + 1e-9:
                problems.append(
                    (
                        "metal_streams",
                        f"the streams on {product!r} take up to {total:g} of its output; expected shares "
                        "that sum to at most 1",
                    )
                )

    def _royalty_holder(self, party: str) -> bool:
        if any(r.financier == party for r in self.royalties_sold.values()):
            return True
        return any(v.private and v.collector == party for v in (self.fiscal.levies or {}).values())

    def _check_debt_shares(self, at: str, company: Finance, problems: list[tuple[str, str]]) -> None:
        """The tranches sized as a share of capex lend at most all of each phase's capex: a
        second loan that takes the debt to 130 % of it would silently pay the excess out."""
        lenders: dict[str, list[tuple[str, float]]] = {}
        for name, tranche in company.debt.items():
            if tranche.share_of_capex is None:
                continue
            for phase in tranche.phases if tranche.phases is not None else self.company_phases(at):
                if phase in self.phases:
                    lenders.setdefault(phase, []).append((name, tranche.share_of_capex))
        over: dict[tuple[tuple[str, float], ...], list[str]] = {}
        for phase, loans in lenders.items():
            if len(loans) > 1 and sum(share for _, share in loans) > 1.0 + 1e-9:
                over.setdefault(tuple(loans), []).append(phase)
        for group, phases in over.items():
            total = sum(share for _, share in group)
            shares = " + ".join(f"{name} {share:g}" for name, share in group)
            which = f"phase {phases[0]}" if len(phases) == 1 else f"phases {', '.join(phases)}"
            problems.append(
                (
                    f"{at}.debt.{group[-1][0]}.share_of_capex",
                    f"the tranches that fund {which} lend {total:g} of its capex ({shares}); expected "
                    "shares of capex that sum to at most 1 for each phase",
                )
            )

    @property
    def periods(self) -> Periods:
        """The periods the deal is valued over (labels, calendar years)."""
        return self.valuation.periods

    def construction_start(self, phase: str) -> int:
        """The period index of a phase's first construction year, after any delay."""
        p = self.phases[phase]
        return self.periods.index(p.start_year) + p.delay_years

    def construction_years(self, phase: str) -> int:
        """How many periods a phase spends its initial capital over (from its first such period
        to its last; with capex given by year, from ``start_year`` to its last year given)."""
        p = self.phases[phase]
        if isinstance(p.capex_usd, dict):
            return max(self.periods.index(y) for y in p.capex_usd) - self.periods.index(p.start_year) + 1
        return len(p.capex_schedule)

    def first_production(self, phase: str) -> int:
        """The period index of a phase's first year of output, after any delay (T or more when
        it starts after the last period): ``production_start_year``, or the period after its
        construction."""
        p = self.phases[phase]
        if p.production_start_year is not None:
            return self.periods.index(p.production_start_year) + p.delay_years
        return self.construction_start(phase) + self.construction_years(phase)

    def first_production_any(self) -> int:
        """The period index of the first output of any built phase with streams; in a deal
        without streams (lines given directly), of any built phase; the last period if none."""
        starts = [
            self.first_production(s.phase) for s in self.streams.values() if self.phases[s.phase].gate.go
        ]
        if not self.streams:
            starts = [self.first_production(n) for n, p in self.phases.items() if p.gate.go]
        return min(starts) if starts else self.periods.size - 1

    def destination_government(self, destination: str) -> str:
        """The party that collects a destination's import duties."""
        return self.trade.destinations[destination].government or f"{destination}_government"

    def party_role(
        self, party: str
    ) -> Literal[
        "owner", "lenders", "government", "royalty_holder", "buyer", "guarantor", "offtaker", "investor"
    ]:
        """Whether a party owns equity, lends, holds a private royalty, buys a defaulted project,
        guarantees the lenders' loss (the debt-stress rules), buys under an offtake contract or
        finances a metal stream and is nothing else (``offtaker``), holds preferred equity and
        is nothing else (``investor``), or is a government. The financier of a royalty sold is a
        royalty holder. A government-owned owner (a provincial stake) is an owner."""
        if party in self.owner_names():
            return "owner"
        if party == "lenders":
            return "lenders"
        stress = self.finance.stress_parties()
        if party in stress:
            return "buyer" if stress[party] == "buyer" else "guarantor"
        if self._royalty_holder(party):
            return "royalty_holder"
        if party in self._offtakers():
            return "offtaker"
        if party in self._investors():
            return "investor"
        return "government"

    def _investors(self) -> list[str]:
        """The holders of preferred equity that are no other party (not an owner, the lenders,
        a government, a royalty holder, an offtaker)."""
        others = {*self._other_parties(), *self._offtakers()}
        holders = [p for c in self.companies().values() for p in c.preferred]
        return [p for p in dict.fromkeys(holders) if p not in others]

    def _role_before_offtakes(self, party: str) -> str:
        """The role ``party`` has apart from any offtake (``government`` for a name unknown)."""
        role = self.party_role(party)
        return "government" if role in ("offtaker", "investor") else role

    def _offtakers(self) -> list[str]:
        """The counterparties of offtakes that are no other party (owners, lenders, governments,
        the debt-stress parties, royalty holders)."""
        others = set(self._other_parties())
        out: list[str] = []
        buyers = [o.counterparty for o in self.offtakes.values()]
        buyers += [m.financier for m in self.metal_streams.values()]  # a streamer buys the metal
        for party in buyers:
            if party not in others and party not in out:
                out.append(party)
        return out

    def _other_parties(self) -> list[str]:
        """Every party but the offtakers of their own (see :meth:`party_names`)."""
        names = self.owner_names()
        if self.borrows:
            names.append("lenders")
        names += [p for p in self.finance.stress_parties() if p not in names]
        names.append(self.finance.host_government)
        for levy in (self.fiscal.levies or {}).values():  # the governments that collect levies
            if levy.collector is not None and levy.collector not in names:
                names.append(levy.collector)
        for sale in self.royalties_sold.values():  # the financiers of royalties sold
            if sale.financier not in names:
                names.append(sale.financier)
        for name in self.trade.destinations:
            government = self.destination_government(name)
            if government not in names:
                names.append(government)
        return names

    def companies(self) -> dict[str, Finance]:
        """Each company's finance by the path its terms are written at: ``{"finance": ...}``
        for a deal of one company, ``{"entities.NAME": ...}`` for each of its entities.

        Examples
        --------
        >>> import dealcalc as dc
        >>> list(dc.load(dc.example_path("ussm-fwo")).companies())
        ['finance']
        """
        if not self.entities:
            return {"finance": self.finance}
        return {f"entities.{name}": e.finance(self.finance) for name, e in self.entities.items()}

    def company_phases(self, at: str) -> list[str]:
        """The phases of the company whose terms are at ``at`` (every phase for ``finance``)."""
        if at == "finance":
            return list(self.phases)
        return list(self.entities[at.removeprefix("entities.")].phases)

    def entity_of(self, stream: str) -> str | None:
        """The entity that owns ``stream`` (through its phase); None in a deal of one company."""
        phase = self.streams[stream].phase
        return next((n for n, e in self.entities.items() if phase in e.phases), None)

    def operator(self) -> str | None:
        """The entity that bears the overheads, closure and unphased lines (None: one company)."""
        if not self.entities:
            return None
        return next((n for n, e in self.entities.items() if e.operator), next(iter(self.entities)))

    def royalty_entity(self, name: str) -> str | None:
        """The entity a royalty sold is on: its own ``entity``, else the only one with mine
        streams (None in a deal of one company)."""
        if not self.entities:
            return None
        sale = self.royalties_sold[name]
        if sale.entity is not None:
            return sale.entity
        return next(
            n
            for n in self.entities
            if any(self.entity_of(s) == n for s, x in self.streams.items() if x.is_mine)
        )

    def owner_names(self) -> list[str]:
        """Every owner of equity, of any company, once, in the file's order."""
        return list(dict.fromkeys(o for c in self.companies().values() for o in c.equity))

    @property
    def borrows(self) -> bool:
        """Whether any company has debt."""
        return any(c.debt for c in self.companies().values())

    def cross_feeds(self) -> list[tuple[str, str]]:
        """The feeds (source, processing stream) between streams of different entities."""
        if not self.entities:
            return []
        out = []
        for name, stream in self.streams.items():
            for source in stream.feed.sources if stream.feed is not None else []:
                if source in self.streams and self.entity_of(source) != self.entity_of(name):
                    out.append((source, name))
        return out

    def _stream_hint(self, name: str) -> str:
        """What to write instead of ``name`` where a stream is wanted: the near stream, the
        streams of a phase of that name, or the list."""
        near = did_you_mean(name, self.streams)
        if near:
            return near
        if name in self.phases:
            of = [n for n, s in self.streams.items() if s.phase == name]
            return f"{name!r} is a phase; its streams: {', '.join(of) or 'none'}"
        return f"streams: {', '.join(self.streams)}"

    def _check_entities(self, problems: list[tuple[str, str]]) -> None:
        """Entities own every phase exactly once; the deal's own finance keeps no company
        terms; a transfer price is given for every feed between entities and only there;
        each contract (offtake, metal stream) sells the streams of one entity."""
        if not self.entities:
            if self.fiscal.consolidation != "ring_fenced":
                # errors.md: consolidation applies to a deal of entities
                problems.append(("fiscal.consolidation", "consolidation applies to a deal of entities"))
            if not self.finance.equity:
                # errors.md: no owners
                problems.append(
                    ("finance.equity", "no owners; expected at least one (or entities, each with its own)")
                )
            if self.transfer_prices:
                # errors.md: transfer prices need entities
                problems.append(("transfer_prices", "transfer prices need entities (a deal of one company)"))
            return
        stated = [k for k in COMPANY_TERMS if k in self.finance.model_fields_set and getattr(self.finance, k)]
        for key in stated:
            # errors.md: belongs to each entity
            problems.append(
                (f"finance.{key}", f"with entities, {key} belongs to each entity (entities.NAME.{key})")
            )
        owner: dict[str, str] = {}
        for name, e in self.entities.items():
            for phase in e.phases:
                if phase not in self.phases:
                    hint = did_you_mean(phase, self.phases) or f"phases: {', '.join(self.phases)}"
                    problems.append((f"entities.{name}.phases", f"{phase!r} is not a phase ({hint})"))
                elif phase in owner:
                    # errors.md: is owned by two entities
                    problems.append(
                        (
                            f"entities.{name}.phases",
                            f"{phase!r} is owned by two entities ({owner[phase]}, {name})",
                        )
                    )
                else:
                    owner[phase] = name
            for tname, tranche in e.debt.items():
                for phase in tranche.phases or []:
                    if phase in self.phases and phase not in e.phases:
                        # errors.md: a tranche funds the phases of its own entity
                        problems.append(
                            (f"entities.{name}.debt.{tname}.phases", f"{phase!r} is not a phase of {name}")
                        )
        # the lenders and the project are names of their own (the entity table's last row is
        # the project), whether or not a company borrows
        parties = set(self._other_parties()) | set(self._offtakers()) | {"lenders", "project"}
        for name in self.entities:
            if name in parties:
                # errors.md: an entity is a party
                problems.append(
                    (f"entities.{name}", f"{name!r} is a party; give the entity a name of its own")
                )
        rates: dict[str, dict[str, float]] = {}  # an owner's own discount rate, by entity
        for name, e in self.entities.items():
            for holder, h in e.equity.items():
                if h.discount_rate is not None:
                    rates.setdefault(holder, {})[name] = h.discount_rate
        for holder, by_entity in rates.items():
            if len(set(by_entity.values())) > 1:
                rates_text = ", ".join(f"{n} {r:g}" for n, r in by_entity.items())
                # errors.md: discount rate differs between entities
                problems.append(
                    (
                        f"entities.{next(iter(by_entity))}.equity.{holder}.discount_rate",
                        f"{holder}'s discount rate differs between entities ({rates_text}); "
                        "expected one rate for one party (state it once, or the same in each)",
                    )
                )
        missing = [p for p in self.phases if p not in owner]
        if missing:
            # errors.md: no entity owns
            problems.append(
                ("entities", f"no entity owns phase(s) {', '.join(missing)}; expected every phase in one")
            )
        if sum(e.operator for e in self.entities.values()) > 1:
            problems.append(("entities", "more than one entity is the operator; expected one at most"))
        if problems:
            return
        crossing = self.cross_feeds()
        priced: dict[tuple[str, str], str] = {}
        for name, t in self.transfer_prices.items():
            where = f"transfer_prices.{name}"
            if t.source not in self.streams:
                problems.append(
                    (f"{where}.source", f"{t.source!r} is not a stream ({self._stream_hint(t.source)})")
                )
            elif t.to not in self.streams:
                problems.append((f"{where}.to", f"{t.to!r} is not a stream ({self._stream_hint(t.to)})"))
            elif (t.source, t.to) not in crossing:
                # errors.md: no feed between entities
                problems.append(
                    (
                        where,
                        f"{t.source} does not feed {t.to} across entities; "
                        "expected a feed between two entities",
                    )
                )
            elif (t.source, t.to) in priced:
                problems.append(
                    (where, f"{t.source} -> {t.to} is priced twice ({priced[(t.source, t.to)]}, {name})")
                )
            else:
                priced[(t.source, t.to)] = name
        for source, to in crossing:
            if (source, to) not in priced:
                # errors.md: needs a transfer price
                problems.append(
                    (
                        "transfer_prices",
                        f"{source} ({self.entity_of(source)}) feeds {to} ({self.entity_of(to)}): "
                        "a feed between entities needs a transfer price",
                    )
                )
        # a share of output is a share of each entity's; a volume in tonnes, a deposit and
        # tiers by cumulative delivery are one entity's
        contracts = [(f"offtakes.{n}", o.product) for n, o in self.offtakes.items() if o.volume_share is None]
        contracts += [(f"metal_streams.{n}", m.product) for n, m in self.metal_streams.items()]
        for where, product in contracts:
            held = {str(self.entity_of(n)) for n, s in self.streams.items() if s.product == product}
            if len(held) > 1:
                # errors.md: sold by the streams of
                problems.append(
                    (
                        where,
                        f"{product} is sold by the streams of {len(held)} entities "
                        f"({', '.join(sorted(held))}); "
                        "expected one for a contract in tonnes or a metal stream",
                    )
                )
        mining = [
            n
            for n in self.entities
            if any(self.entity_of(s) == n for s, x in self.streams.items() if x.is_mine)
        ]
        for name, sale in self.royalties_sold.items():
            if sale.entity is not None and sale.entity not in self.entities:
                hint = did_you_mean(sale.entity, self.entities) or f"entities: {', '.join(self.entities)}"
                problems.append(
                    (f"royalties_sold.{name}.entity", f"{sale.entity!r} is not an entity ({hint})")
                )
            elif sale.entity is None and len(mining) != 1:
                # errors.md: name the entity whose output it is on
                problems.append(
                    (
                        f"royalties_sold.{name}",
                        "name the entity whose output it is on (entity: NAME); entities with mine streams: "
                        + (", ".join(mining) or "none"),
                    )
                )

    def party_names(self) -> list[str]:
        """The parties the deal's cash is split among: owners, lenders (with the buyer of a
        defaulted project and the guarantor of the lenders' loss when the debt-stress rules name
        them), governments, the financiers of royalties sold, then the counterparties of
        offtakes and the financiers of metal streams that are no other party."""
        names = self._other_parties()
        names += [p for p in self._offtakers() if p not in names]
        return names + [p for p in self._investors() if p not in names]


class DealProblems(ValueError):
    """Every cross-reference and year check a Deal fails, each as ``(path, message)``.

    The loader reports each one with its file line (docs/errors.md, "Scenario-file checks").
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        first_path, first_message = problems[0]
        more = len(problems) - 1
        tail = f" [and {more} more problem{'s' if more > 1 else ''}]" if more else ""
        super().__init__(f"{first_path}: {first_message}{tail}")
