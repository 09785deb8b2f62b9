"""Resolve a Deal and a chunk's override arrays into the typed arrays the kernels work on.

:func:`resolve` is the one place in the engine that reads parameter paths. It runs once per
chunk of scenarios and returns an :class:`EngineInputs`: frozen per-domain records of numbers
that broadcast against (S, T) (a float when nothing varies, (T,) for a schedule, (S, 1) for a
per-scenario value, (S, T) for both). The kernels in the other engine modules take these
records and arrays, never a path or a Deal.

An override ``{path: array}`` (checked by :class:`dealcalc.params.Scenarios`) sets a number
with shape (S,), or replaces a schedule year by year with (S, T); on a path whose value is a
schedule (a mapping or a list) an (S,) array scales it. ``path.<year>`` sets one value of a
``{year: value}`` schedule, which then holds as the file's value would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from dealcalc.engine.currency import cost_factor, depreciating_rate
from dealcalc.engine.timeline import (
    Number,
    construction_profile,
    fisher,
    growth,
    production_profile,
    step_path,
    totals_path,
    window,
)
from dealcalc.engine.trade import year_weights
from dealcalc.errors import InputError
from dealcalc.metrics._common import FloatArray, Timing
from dealcalc.models import Deal, Periods, Phase, Stream
from dealcalc.models.direct import DirectLine
from dealcalc.models.entities import TransferPrice
from dealcalc.models.finance import Finance
from dealcalc.models.fiscal import Depletion, Levy, parse_base
from dealcalc.models.metal_stream import MetalStream, RoyaltySale
from dealcalc.models.offtake import Offtake
from dealcalc.models.schedule import ScheduleValue
from dealcalc.models.streams import UNITS_PER_TONNE
from dealcalc.models.trade import Form
from dealcalc.params import schedule_of

__all__ = [
    "ClassInputs",
    "ClosureInputs",
    "DebtInputs",
    "DepletionInputs",
    "DirectInputs",
    "EarnInInputs",
    "EngineInputs",
    "FinanceInputs",
    "FiscalInputs",
    "LevyInputs",
    "LoanInputs",
    "MetalStreamInputs",
    "MineInputs",
    "OfftakeInputs",
    "OwnerInputs",
    "PhaseInputs",
    "PreferredInputs",
    "ProcessingInputs",
    "RoyaltySaleInputs",
    "SaleInputs",
    "StressInputs",
    "TimelineInputs",
    "deal_series",
    "resolve",
]

#: The metrics' timing convention for each ``valuation.timing``.
TIMINGS: dict[str, Timing] = {"end": "end", "mid": "mid", "begin": "t0"}
GRAMS_PER_TONNE = 1e6


@dataclass(frozen=True)
class TimelineInputs:
    """The periods, the money basis and the discounting of one chunk."""

    periods: Periods
    n_scenarios: int
    timing: Timing
    valuation_offset: float  # years from the start of the first period to the valuation point
    payback_origin: float  # years from that start to where payback is counted from
    basis: Literal["real", "nominal"]
    inflation: Number  # float or (S, 1)
    escalation: Number  # the deal's money to its basis: 1.0 real, g_t nominal
    to_nominal: Number  # the deal's basis to money of the day: 1.0 nominal, g_t real
    # g_t = (1 + i)^(t + delta - offset): the deal's money is money of the valuation point
    discount_rate: FloatArray  # (S,), in the deal's basis
    first_production: int  # period index of the first output of any built phase

    @property
    def n_periods(self) -> int:
        """T."""
        return self.periods.size

    @property
    def shape(self) -> tuple[int, int]:
        """(S, T)."""
        return (self.n_scenarios, self.periods.size)


@dataclass(frozen=True)
class PhaseInputs:
    """One phase: its capital by period and its production profile."""

    name: str
    built: bool
    capex_total: Number  # initial capital (a float or (S, 1)), times capex_spread per period
    capex_spread: Number  # its share in each period, or the amount when given by year
    sustaining: Number  # sustaining capital per production period, the deal's money
    production: FloatArray  # (T,) fraction of design capacity (0 when not built)
    first_production: int  # period index
    draw_periods: FloatArray  # (T,) 1 in periods the phase spends initial capital
    capital_class: str | None = None  # the fiscal class its capital is written off in


@dataclass(frozen=True)
class SaleInputs:
    """Where a stream's sales go: one trade destination with its duty and incidence."""

    destination: str
    government: str
    share: Number  # of what the stream sells
    rate: Number  # ad-valorem rate, the year's time-weighted average
    specific: Number  # US$ per unit of content
    bears: Number  # the exporter's share of the duty (1 - pass-through)


@dataclass(frozen=True)
class ClosureInputs:
    """A stream's temporary-closure rule (``streams.X.temporary_closure``), the deal's money."""

    threshold: Number  # close in a year whose margin is below this
    care_and_maintenance: Number  # a year, while closed
    closing_cost: Number  # in the first closed year
    reopening_cost: Number  # in the year it reopens
    min_years_closed: int
    planned: FloatArray  # (T,) the stream's planned profile, before availability


@dataclass(frozen=True)
class MineInputs:
    """A mine stream: ore, grade and recovery (or a stated output) to payable units, and its
    selling terms."""

    name: str
    product: str
    unit: str  # the product's price unit
    phase: str
    units_per_tonne: float  # price units in a tonne of product
    price: Number  # deck price per unit, the deal's money
    profile: Number  # planned profile x availability
    producing: FloatArray  # (T,) 1 in the stream's production periods (fixed costs run)
    ore: Number | None  # tonnes a year at full capacity (None: a stated output)
    grade: Number  # fraction of product in ore (grams per tonne already divided by 1e6)
    recovery: Number
    recovered_units: Number | None  # a stated output, units a year at full capacity
    payable: Number
    concentrate_grade: Number | None
    moisture: Number
    treatment_per_dmt: Number
    penalties_per_dmt: Number
    freight_per_wmt: Number
    refining_per_unit: Number
    freight_per_t_product: Number
    opex_per_t_ore: Number
    fixed_opex: Number
    royalty_share: Number
    sales: tuple[SaleInputs, ...]
    closure: ClosureInputs | None = None  # None: the stream never closes temporarily


@dataclass(frozen=True)
class ProcessingInputs:
    """A processing stream: capacity to output, fed from named sources, then bought feed."""

    name: str
    product: str
    unit: str
    phase: str
    units_per_tonne: float
    price: Number
    profile: Number
    producing: FloatArray
    capacity: Number
    payable: Number
    conversion_per_unit: Number
    freight_per_t_product: Number
    fixed_opex: Number
    royalty_share: Number
    sales: tuple[SaleInputs, ...]
    fed: bool  # whether it has a feed (without one, its capacity is made from free feed)
    sources: tuple[str, ...]
    recovery: Number  # output units per unit of feed
    purchase_price: Number | None  # per unit of bought feed, the deal's money; None: buys none
    purchase_cap: Number | None  # the most it can buy in a year (None: no cap)
    closure: ClosureInputs | None = None  # None: the stream never closes temporarily


@dataclass(frozen=True)
class DirectInputs:
    """A line given in money per year (``lines`` in a scenario file)."""

    name: str
    label: str
    kind: str  # revenue, selling_charge, operating_cost, initial_capex, sustaining_capex, ...
    amount: Number  # per period, the deal's money, positive in the line's own direction
    depreciation_start: int  # period an initial_capex line starts depreciating
    capital_class: str | None = None  # the fiscal class a capital line is written off in
    phase: str | None = None  # the phase it belongs to (its capital is that phase's)


@dataclass(frozen=True)
class ClassInputs:
    """A capital-allowance class (docs/methodology.md §11)."""

    name: str
    method: str
    years: int | None = None
    rate: float | None = None
    table: tuple[float, ...] | None = None
    bonus: float = 0.0
    half_year: bool = False
    first_year: float = 1.0  # the factor on a declining balance's first-year claim
    switch: bool = False  # declining balance switching to straight line over the years left
    start: str = "first_production"
    start_index: int | None = None  # initial capital starts being written off in this period
    takes: tuple[str, ...] = ()  # the kinds of capital it takes: initial, sustaining
    book: str = "tax"
    limited: bool = False
    end: str = "write_off"


@dataclass(frozen=True)
class DepletionInputs:
    """Percentage depletion by product, its limit, and cost depletion."""

    percentage: dict[str, float]
    limit: float
    cost_basis: float
    less_royalties: bool = True


@dataclass(frozen=True)
class LevyInputs:
    """One levy of the fiscal stack, resolved (docs/methodology.md §11)."""

    name: str
    label: str
    line: str  # "royalty" (before EBITDA) or "tax" (after the pre-tax cash flow)
    collector: str
    terms: tuple[tuple[float, str], ...] = ()
    rate: Number | None = None
    brackets: tuple[tuple[Number, Number], ...] | None = None  # (above, rate)
    slab: bool = False
    scale_on: str | None = None
    scale_x: FloatArray | None = None
    scale_rates: FloatArray | None = None
    scale_linear: bool = False
    alternatives: tuple[tuple[tuple[tuple[float, str], ...], Number], ...] | None = None
    tops_up: tuple[str, ...] = ()
    deductible_from: tuple[str, ...] = ()
    credit_against: tuple[str, ...] = ()
    holiday: FloatArray | None = None  # (T,) the share of each period exempt (None: no holiday)
    cap: Number | None = None  # the most the levy takes of its base after the holiday
    capped: FloatArray | None = None  # (T,) 1 where the cap applies
    carry_forward: int | None = 0  # years; None: without limit
    cap_fraction: float = 1.0
    carry_back: int = 0
    refund: FloatArray | None = None  # (T,) 1 where a loss is refunded at the rate (None: never)
    timing: tuple[float, ...] = (1.0,)  # the share paid in the year and in each later one
    depletion: DepletionInputs | None = None  # its own depletion (None: the regime's)


@dataclass(frozen=True)
class FiscalInputs:
    """The fiscal stack: levies in order, allowance classes, depletion (methodology §11)."""

    levies: tuple[LevyInputs, ...]
    classes: dict[str, ClassInputs]
    depletion: DepletionInputs | None
    write_off: int  # the period the undepreciated balance is written off (the closure year)
    depreciation_start: dict[str, int]  # per phase: the period its capital starts being written off
    idc_years: int  # capitalised interest is amortised straight line over these years
    simple: bool  # the regime is the flat one (its memo lines keep their names)
    consolidated: bool = False  # a deal of entities taxed as one group (income taxes only)

    @property
    def closure_index(self) -> int:
        """The write-off period (kept under its former name)."""
        return self.write_off

    @property
    def needed(self) -> frozenset[str]:
        """The quantities the levies read: their bases' names (``gross:...`` and
        ``charges:lines`` when one deducts depletion, ``closure`` for ``closure_accrued``,
        ``revenue`` for a scale on the margin or cumulative revenue, a price for a scale on it)."""
        names: set[str] = {"revenue"}
        for levy in self.levies:
            terms = [*levy.terms, *(t for ts, _ in levy.alternatives or () for t in ts)]
            names |= {name for _, name in terms}
            if levy.scale_on is not None:
                names.add(levy.scale_on if levy.scale_on.startswith("price:") else "revenue")
            if any(name == "depletion" for _, name in terms):
                names |= {"gross:*", "charges:lines"}
        if "closure_accrued" in names:
            names.add("closure")
        return frozenset(names)


@dataclass(frozen=True)
class DebtInputs:
    """One loan (docs/methodology.md §14)."""

    name: str
    phases: tuple[str, ...]
    rate: FloatArray  # (S,), nominal
    share_of_capex: FloatArray | None  # (S,)
    target_dscr: FloatArray | None  # (S,)
    grace_years: int
    tenor_years: int
    repayment: Literal["annuity", "linear", "sculpted"]
    upfront_fee: FloatArray  # (S,)


@dataclass(frozen=True)
class StressInputs:
    """The debt-stress rules (docs/methodology.md §23); each number (S,), rates as fractions.

    A rule that is off has its neutral value: no reserve (0 months), no sweep (share 0), no
    lock-up (None), full recourse without a default rule, no support, no guarantee.
    """

    dsra_months: FloatArray
    dsra_at_close: bool
    sweep_share: FloatArray
    sweep_when: Literal["above", "below", "always"]
    sweep_dscr: FloatArray
    lockup_dscr: FloatArray | None
    recourse: bool  # no default rule: the owners pay what the project cannot
    missed_payments: int | None
    dscr_below: FloatArray | None
    dscr_years: int
    recovery: FloatArray
    support_usd: FloatArray  # the deal's basis
    support_until: int  # the first period index support no longer covers
    guarantee_share: FloatArray


@dataclass(frozen=True)
class OwnerInputs:
    """An equity holder: its share (a float, or by period) and the part of it that funds the
    equity injections (``funded``: the share less any free-carried part)."""

    name: str
    share: Number
    carried: bool
    funded: Number = -1.0  # -1: the share, or 0 when carried

    @property
    def funding(self) -> Number:
        """The share of the injections' weight this owner pays (before normalising)."""
        if isinstance(self.funded, float) and self.funded < 0.0:
            return 0.0 if self.carried else self.share
        return self.funded


@dataclass(frozen=True)
class EarnInInputs:
    """An earn-in: ``partner`` takes ``stake`` from ``source`` in the year its cumulative
    injections reach ``funds`` ((S,), the deal's money) or at period ``at`` (a milestone)."""

    partner: str
    source: str
    stake: FloatArray  # (S,)
    funds: FloatArray | None  # (S,), or None for a milestone
    at: int | None  # the milestone's period index (None: never reached, or an earn-in by funds)


@dataclass(frozen=True)
class PreferredInputs:
    """Preferred equity: paid in at period ``index``, its coupon, upside share and the period
    it is redeemed from."""

    holder: str
    amount: FloatArray  # (S,)
    index: int
    coupon: FloatArray  # (S,)
    upside: FloatArray  # (S,)
    redeem: int


@dataclass(frozen=True)
class LoanInputs:
    """A shareholder loan from ``lender``, drawn at period ``index``."""

    lender: str
    amount: FloatArray  # (S,)
    index: int
    rate: FloatArray  # (S,)


@dataclass(frozen=True)
class FinanceInputs:
    """Loans, owners, withholding and expropriation."""

    debt: tuple[DebtInputs, ...]
    owners: tuple[OwnerInputs, ...]
    withholding: Number
    withholding_untaxed: Number | None
    host_government: str
    parties: tuple[str, ...]
    roles: dict[str, str]
    discount_rates: dict[str, FloatArray]  # per party, (S,), the deal's basis
    expropriated: Number
    compensation: Number
    stress: StressInputs | None = None  # None: the debt is serviced as scheduled (no rule on)
    earn_in: tuple[EarnInInputs, ...] = ()
    preferred: tuple[PreferredInputs, ...] = ()
    loans: tuple[LoanInputs, ...] = ()

    @property
    def waterfall(self) -> bool:
        """Whether the distributions follow the waterfall (an earn-in, preferred equity or a
        shareholder loan)."""
        return bool(self.earn_in or self.preferred or self.loans)


@dataclass(frozen=True)
class OfftakeInputs:
    """An offtake contract: its benchmark and terms per unit (the deal's money before
    escalation, like a stream's price), its volume and the years it runs."""

    name: str
    product: str
    counterparty: str
    streams: tuple[str, ...]  # the streams that sell the product, in the file's order
    benchmark: Number
    share: Number | None  # of the paid units sold; None: a volume in units a year
    units: Number  # units of the price unit a year (a contract in tonnes)
    active: FloatArray  # (T,) 1 in the contract's years
    discount: Number
    floor: Number | None
    cap: Number | None
    upside_share: Number
    reference: Number | None
    take_or_pay: Number


@dataclass(frozen=True)
class MetalStreamInputs:
    """A stream sold for cash: the spot price (the deal's money before escalation), the shares
    by tier and their cumulative limits, the stream price's terms, the deposit and the years
    the stream delivers (from the deposit year on)."""

    name: str
    product: str
    financier: str
    streams: tuple[str, ...]  # the streams that sell the product, in the file's order
    spot: Number
    shares: tuple[Number, ...]  # one per tier (one tier: the delivered share)
    limits: tuple[Number, ...]  # cumulative units delivered where each tier but the last ends
    fixed: Number | None  # the fixed price per unit (the lesser of it and spot is paid)
    spot_share: Number | None
    deposit: Number  # the deal's money before escalation
    deposit_index: int
    active: FloatArray  # (T,) 1 from the deposit year on


@dataclass(frozen=True)
class RoyaltySaleInputs:
    """A royalty sold for cash: its upfront price, the year it is paid and the private levy of
    the fiscal stack (named ``levy``) that pays the royalty to the financier."""

    name: str
    financier: str
    price: Number  # the deal's money before escalation
    index: int
    levy: str
    base: str  # the quantity the royalty is a rate of (mine_nsr or mine_value)
    entity: str | None = None  # the entity whose output it is on (None: a deal of one company)


@dataclass(frozen=True)
class EntityInputs:
    """A company of the deal (docs/methodology.md §31): its phases, its streams (those of its
    phases), whether it bears the deal's overheads, closure and unphased lines, and its
    finance (owners, debt and terms with the deal's common terms)."""

    name: str
    phases: tuple[str, ...]
    streams: frozenset[str]
    operator: bool
    finance: FinanceInputs


@dataclass(frozen=True)
class TransferInputs:
    """The transfer price of what ``source`` (of entity ``seller``) feeds ``to`` (of ``buyer``),
    per unit of contained feed; numbers in the deal's money before escalation."""

    name: str
    source: str
    to: str
    seller: str
    buyer: str
    basis: Literal["payable", "cost_plus", "fixed"]
    payable: Number | None
    charges: Number
    margin: Number | None
    fixed: Number | None
    royalty_base: Literal["transfer", "market"]


@dataclass(frozen=True)
class EngineInputs:
    """Everything the kernels need for one chunk of scenarios."""

    timeline: TimelineInputs
    phases: dict[str, PhaseInputs]
    mines: tuple[MineInputs, ...]
    processing: tuple[ProcessingInputs, ...]  # each after the processing streams that feed it
    stream_order: tuple[str, ...]  # the file's order of streams (ledger line order)
    direct: tuple[DirectInputs, ...]  # lines given in money per year
    overheads: Number  # per period, the deal's money
    closure: Number  # per period, the deal's money
    receivable_days: Number
    stock_days: Number  # inventory less payable days
    opex_fx: Number  # US$ cost factor of operating costs paid in local currency
    capex_fx: Number
    fiscal: FiscalInputs
    finance: FinanceInputs
    offtakes: tuple[OfftakeInputs, ...] = ()  # in the file's order
    metal_streams: tuple[MetalStreamInputs, ...] = ()  # in the file's order
    royalties_sold: tuple[RoyaltySaleInputs, ...] = ()  # in the file's order
    entities: tuple[EntityInputs, ...] = ()  # none: the deal is one company
    transfers: tuple[TransferInputs, ...] = ()


class _Reader:
    """The numbers of one Deal for one chunk, by parameter path: the override when there is
    one, else the file's value."""

    def __init__(self, deal: Deal, overrides: Mapping[str, FloatArray], n_scenarios: int) -> None:
        self.deal = deal
        self.overrides = overrides
        self.n = n_scenarios
        self.periods = deal.periods
        self.t = self.periods.size

    def _override(self, path: str) -> FloatArray | None:
        arr = self.overrides.get(path)
        if arr is None:
            return None
        return arr[:, None] if arr.ndim == 1 else arr

    def scalar(self, path: str, value: float) -> Number:
        """A number: the file's, or (S, 1) per scenario, or (S, T) year by year."""
        got = self._override(path)
        return float(value) if got is None else got

    def per_scenario(self, path: str, value: float) -> FloatArray:
        """A number that varies only by scenario, as (S,)."""
        got = self._override(path)
        raw = np.asarray(value if got is None else got[:, 0], dtype=np.float64).reshape(-1)
        return np.array(np.broadcast_to(raw, (self.n,)))

    def series(self, path: str, value: ScheduleValue, anchor: int, *, shift: int = 0) -> Number:
        """A schedule as per-period numbers (a float when it is one number and not overridden).

        ``anchor`` is the period a list starts at (the first production period of what the
        field belongs to); a mapping is placed by its labels, moved ``shift`` periods later (a
        phase's delay; what moves past the last period is dropped). How the years a mapping does
        not name are filled is the field's own rule (its :class:`~dealcalc.models.Schedule`
        marker: a level holds, zero or its first value before the first year; a total is spent
        in the years named).
        """
        if not isinstance(value, dict | list):
            return self.scalar(path, value)
        marker = schedule_of(path)
        totals = marker is not None and marker.fill == "totals"
        first_before = marker is not None and marker.before_first == "first"
        if isinstance(value, list):
            at = [anchor + k for k in range(len(value))]
            values: list[Number] = [float(v) for v in value]
        else:
            keys = sorted(value)
            at = [self.periods.position(k) + shift for k in keys]
            values = [self.scalar(f"{path}.{k}", value[k]) for k in keys]
            if totals and shift:  # amounts delayed past the horizon are not spent in it
                kept = [k for k, a in enumerate(at) if a < self.t]
                at, values = [at[k] for k in kept], [values[k] for k in kept]
        base = (
            totals_path(values, at, self.t)
            if totals
            else step_path(values, at, self.t, first_before=first_before)
        )
        whole = self._override(path)
        if whole is None:
            return base
        if whole.shape[1] == 1:  # an (S,) override of a schedule scales it
            return base * whole
        return whole


def _dated_average(r: _Reader, prefix: str, path: Mapping[dt.date, float]) -> Number:
    """The yearly average of a dated ad-valorem path, each rate read through the reader."""
    if not path:
        return 0.0
    dates = list(path)
    weights = year_weights(dates, r.periods.calendar_years)
    total: Number = 0.0
    for k, date in enumerate(dates):
        if weights[k].any():
            total = total + r.scalar(f"{prefix}.{date.isoformat()}", path[date]) * weights[k]
    return total


def _sales(r: _Reader, deal: Deal, name: str, stream: Stream, form: Form) -> tuple[SaleInputs, ...]:
    out = []
    for dest_name in stream.sales_shares:
        dest = deal.trade.destinations[dest_name]
        if dest.schedule is None:
            continue
        schedule = deal.trade.schedules[dest.schedule]
        key, entry = schedule.entry(stream.product, form)
        prefix = f"trade.schedules.{dest.schedule}.products.{stream.product}.{key}"
        rate: Number
        if entry is not None and entry.ad_valorem is not None:
            rate = _dated_average(r, f"{prefix}.ad_valorem", entry.ad_valorem)
        elif entry is not None and entry.exempt:
            rate = 0.0
        else:
            rate = _dated_average(r, f"trade.schedules.{dest.schedule}.ad_valorem", schedule.ad_valorem)
        specific = (
            r.scalar(f"{prefix}.specific_usd_per_unit_content", entry.specific_usd_per_unit_content)
            if entry is not None
            else 0.0
        )
        if isinstance(rate, float) and rate == 0.0 and isinstance(specific, float) and specific == 0.0:
            continue
        out.append(
            SaleInputs(
                destination=dest_name,
                government=deal.destination_government(dest_name),
                share=r.scalar(f"streams.{name}.sales_shares.{dest_name}", stream.sales_shares[dest_name]),
                rate=rate,
                specific=specific,
                bears=1.0
                - r.scalar(
                    f"trade.destinations.{dest_name}.pass_through_fraction", dest.pass_through_fraction
                ),
            )
        )
    return tuple(out)


def planned_first_production(deal: Deal) -> int:
    """The first production period of the deal as planned, whatever its gates decide: the
    anchor of a deal-wide list (a price deck given per production year), so that a phase that is
    not built does not move the prices of the others."""
    phases = {s.phase for s in deal.streams.values()} or set(deal.phases)
    starts = [deal.first_production(p) for p in phases]
    return min(starts) if starts else deal.periods.size - 1


def _price(r: _Reader, deal: Deal, product: str) -> Number:
    deck = deal.valuation.price_deck
    return r.series(
        f"price_decks.{deck}.{product}",
        deal.price_decks[deck][product],
        planned_first_production(deal),
    )


def _offtake(r: _Reader, deal: Deal, name: str, o: Offtake) -> OfftakeInputs:
    """An offtake's terms by parameter path (``offtakes.NAME.price.floor_usd_per_unit``); a
    list of prices or tonnes starts at the contract's first year."""
    p = f"offtakes.{name}"
    start = r.periods.index(o.start_year) if o.start_year is not None else 0
    end = r.periods.index(o.end_year) if o.end_year is not None else r.t - 1
    terms = o.price

    def price(field: str) -> Number | None:
        value = getattr(terms, field)
        return None if value is None else r.series(f"{p}.price.{field}", value, start)

    units: Number = 0.0
    if o.volume_t_per_year is not None:
        tonnes = r.series(f"{p}.volume_t_per_year", o.volume_t_per_year, start)
        units = tonnes * UNITS_PER_TONNE[deal.products[o.product].unit]
    return OfftakeInputs(
        name=name,
        product=o.product,
        counterparty=o.counterparty,
        streams=tuple(n for n, s in deal.streams.items() if s.product == o.product),
        benchmark=_price(r, deal, o.product),
        share=None if o.volume_share is None else r.scalar(f"{p}.volume_share", o.volume_share),
        units=units,
        active=window(r.t, start, end),
        discount=r.scalar(f"{p}.price.discount_fraction", terms.discount_fraction),
        floor=price("floor_usd_per_unit"),
        cap=price("cap_usd_per_unit"),
        upside_share=r.scalar(f"{p}.price.upside_share", terms.upside_share),
        reference=price("upside_reference_usd_per_unit"),
        take_or_pay=r.scalar(f"{p}.take_or_pay_fraction", o.take_or_pay_fraction),
    )


def _metal_stream(r: _Reader, deal: Deal, name: str, m: MetalStream) -> MetalStreamInputs:
    """A metal stream's terms by parameter path (``metal_streams.NAME.deposit_usd``,
    ``.delivered_share``, ``.tiers.K.share``, ``.tiers.K.up_to_units``,
    ``.price.fixed_usd_per_unit``, ``.price.spot_share``); a list of fixed prices starts at the
    deposit year."""
    p = f"metal_streams.{name}"
    start = r.periods.index(m.deposit_year)
    if m.tiers is None:
        shares: tuple[Number, ...] = (r.scalar(f"{p}.delivered_share", float(m.delivered_share or 0.0)),)
        limits: tuple[Number, ...] = ()
    else:
        shares = tuple(r.scalar(f"{p}.tiers.{k}.share", t.share) for k, t in enumerate(m.tiers))
        limits = tuple(
            r.scalar(f"{p}.tiers.{k}.up_to_units", float(t.up_to_units or 0.0))
            for k, t in enumerate(m.tiers[:-1])
        )
    price = m.price
    return MetalStreamInputs(
        name=name,
        product=m.product,
        financier=m.financier,
        streams=tuple(n for n, s in deal.streams.items() if s.product == m.product),
        spot=_price(r, deal, m.product),
        shares=shares,
        limits=limits,
        fixed=None
        if price.fixed_usd_per_unit is None
        else r.series(f"{p}.price.fixed_usd_per_unit", price.fixed_usd_per_unit, start),
        spot_share=None if price.spot_share is None else r.scalar(f"{p}.price.spot_share", price.spot_share),
        deposit=r.scalar(f"{p}.deposit_usd", m.deposit_usd),
        deposit_index=start,
        active=window(r.t, start, r.t - 1),
    )


def _royalty_sale(r: _Reader, deal: Deal, name: str, sale: RoyaltySale) -> RoyaltySaleInputs:
    """A royalty sold for cash (``royalties_sold.NAME.price_usd``)."""
    return RoyaltySaleInputs(
        name=name,
        financier=sale.financier,
        price=r.scalar(f"royalties_sold.{name}.price_usd", sale.price_usd),
        index=r.periods.index(sale.year),
        levy=f"royalty_sold:{name}",
        base=sale.base,
        entity=deal.royalty_entity(name),
    )


def _royalty_levy(r: _Reader, name: str, sale: RoyaltySale) -> LevyInputs:
    """The private levy of a royalty sold: ``rate`` (``royalties_sold.NAME.rate``; a list
    starts at the sale's year) of its base from the sale's year on, collected by the financier,
    on the royalty line (so every base that deducts ``royalties`` deducts it)."""
    start = r.periods.index(sale.year)
    rate = r.series(f"royalties_sold.{name}.rate", sale.rate, start)
    return LevyInputs(
        name=f"royalty_sold:{name}",
        label=f"Royalty sold: {name}",
        line="royalty",
        collector=sale.financier,
        terms=((1.0, sale.base),),
        rate=rate * window(r.t, start, r.t - 1),
        holiday=np.zeros(r.t),
        capped=np.zeros(r.t),
    )


def _stream_profile(
    r: _Reader, deal: Deal, stream: Stream, phases: dict[str, PhaseInputs], availability: Number
) -> tuple[Number, FloatArray]:
    planned = phases[stream.phase].production
    if stream.end_year is not None:
        planned = planned * window(r.t, 0, r.periods.index(stream.end_year))
    producing = (planned > 0).astype(np.float64)
    return planned if isinstance(
        availability, float
    ) and availability == 1.0 else planned * availability, producing


def _closure(r: _Reader, name: str, s: Stream, phases: dict[str, PhaseInputs]) -> ClosureInputs | None:
    """A stream's temporary-closure rule, each amount read through the reader (an override by
    its path replaces it)."""
    rule = s.temporary_closure
    if rule is None:
        return None
    planned = phases[s.phase].production
    if s.end_year is not None:
        planned = planned * window(r.t, 0, r.periods.index(s.end_year))
    p = f"streams.{name}.temporary_closure"
    return ClosureInputs(
        threshold=r.scalar(f"{p}.close_below_margin_usd", rule.close_below_margin_usd),
        care_and_maintenance=r.scalar(
            f"{p}.care_and_maintenance_usd_per_year", rule.care_and_maintenance_usd_per_year
        ),
        closing_cost=r.scalar(f"{p}.closing_cost_usd", rule.closing_cost_usd),
        reopening_cost=r.scalar(f"{p}.reopening_cost_usd", rule.reopening_cost_usd),
        min_years_closed=rule.min_years_closed,
        planned=planned,
    )


def _mine(
    r: _Reader, deal: Deal, name: str, s: Stream, phases: dict[str, PhaseInputs], availability: Number
) -> MineInputs:
    p = f"streams.{name}"
    anchor = phases[s.phase].first_production
    profile, producing = _stream_profile(r, deal, s, phases, availability)
    delay = deal.phases[s.phase].delay_years  # a plan by year moves with its phase's delay

    def sched(field_name: str) -> Number:
        return r.series(f"{p}.{field_name}", getattr(s, field_name), anchor, shift=delay)

    if s.ore_tpa is None:
        grade: Number = 0.0
    elif s.grade is not None:
        grade = sched("grade")
    else:
        grade = sched("grade_g_per_t") / GRAMS_PER_TONNE
    return MineInputs(
        name=name,
        product=s.product,
        unit=deal.products[s.product].unit,
        phase=s.phase,
        units_per_tonne=UNITS_PER_TONNE[deal.products[s.product].unit],
        price=_price(r, deal, s.product),
        profile=profile,
        producing=producing,
        ore=None if s.ore_tpa is None else sched("ore_tpa"),
        grade=grade,
        recovery=sched("recovery"),
        recovered_units=None if s.recovered_units_per_year is None else sched("recovered_units_per_year"),
        payable=sched("payable_fraction"),
        concentrate_grade=None if s.concentrate_grade is None else sched("concentrate_grade"),
        moisture=sched("moisture_fraction"),
        treatment_per_dmt=sched("treatment_charge_usd_per_dmt"),
        penalties_per_dmt=sched("penalties_usd_per_dmt"),
        freight_per_wmt=sched("freight_usd_per_wmt"),
        refining_per_unit=sched("refining_charge_usd_per_unit"),
        freight_per_t_product=sched("freight_usd_per_t_product"),
        opex_per_t_ore=sched("opex_usd_per_t_ore"),
        fixed_opex=sched("fixed_opex_usd_per_year"),
        royalty_share=1.0 if s.royalty_bearing_fraction is None else sched("royalty_bearing_fraction"),
        sales=_sales(r, deal, name, s, "concentrate"),
        closure=_closure(r, name, s, phases),
    )


def _processing(
    r: _Reader, deal: Deal, name: str, s: Stream, phases: dict[str, PhaseInputs], availability: Number
) -> ProcessingInputs:
    p = f"streams.{name}"
    anchor = phases[s.phase].first_production
    profile, producing = _stream_profile(r, deal, s, phases, availability)
    delay = deal.phases[s.phase].delay_years  # a plan by year moves with its phase's delay

    def sched(field_name: str) -> Number:
        return r.series(f"{p}.{field_name}", getattr(s, field_name), anchor, shift=delay)

    feed = s.feed
    price: Number | None = None
    cap: Number | None = None
    recovery: Number = 1.0
    if feed is not None:
        recovery = r.series(f"{p}.feed.recovery", feed.recovery, anchor, shift=delay)
        bought = feed.purchase
        if bought is not None:
            q = f"{p}.feed.purchase"
            if bought.price_fraction is not None:
                fraction = r.series(f"{q}.price_fraction", bought.price_fraction, anchor, shift=delay)
                price = fraction * _price(r, deal, s.feed_product)
            else:
                assert bought.price_usd_per_unit is not None
                price = r.series(f"{q}.price_usd_per_unit", bought.price_usd_per_unit, anchor, shift=delay)
            if bought.max_units_per_year is not None:
                cap = r.series(f"{q}.max_units_per_year", bought.max_units_per_year, anchor, shift=delay)
    return ProcessingInputs(
        name=name,
        product=s.product,
        unit=deal.products[s.product].unit,
        phase=s.phase,
        units_per_tonne=UNITS_PER_TONNE[deal.products[s.product].unit],
        price=_price(r, deal, s.product),
        profile=profile,
        producing=producing,
        capacity=sched("capacity_units_per_year"),
        payable=sched("payable_fraction"),
        conversion_per_unit=sched("conversion_cost_usd_per_unit"),
        freight_per_t_product=sched("freight_usd_per_t_product"),
        fixed_opex=sched("fixed_opex_usd_per_year"),
        royalty_share=0.0 if s.royalty_bearing_fraction is None else sched("royalty_bearing_fraction"),
        sales=_sales(r, deal, name, s, "refined"),
        fed=feed is not None,
        sources=tuple(feed.sources) if feed is not None else (),
        recovery=recovery,
        purchase_price=price,
        purchase_cap=cap,
        closure=_closure(r, name, s, phases),
    )


def _span(
    r: _Reader, value: ScheduleValue, start_year: int | None, end_year: int | None, anchor: int
) -> tuple[int, int]:
    """The periods an amount a year runs: from ``start_year`` (default: a mapping's own years,
    otherwise ``anchor``, the first production) to ``end_year`` (default the last period)."""
    if start_year is not None:
        start = r.periods.index(start_year)
    elif isinstance(value, dict):
        start = 0  # a mapping starts at its first year (zero before it)
    else:
        start = anchor
    return start, r.t - 1 if end_year is None else r.periods.index(end_year)


def _direct(
    r: _Reader, deal: Deal, name: str, line: DirectLine, phases: dict[str, PhaseInputs]
) -> DirectInputs:
    """A direct line: its amounts from ``start_year`` (default: its first year given, or the
    phase's first production for one number) to ``end_year``."""
    anchor = deal.first_production_any() if line.phase is None else phases[line.phase].first_production
    delay = 0 if line.phase is None else deal.phases[line.phase].delay_years  # moves with its phase
    start, end = _span(r, line.usd_per_year, line.start_year, line.end_year, anchor)
    if isinstance(line.usd_per_year, dict):
        start += delay
    amount = r.series(f"lines.{name}.usd_per_year", line.usd_per_year, anchor, shift=delay) * window(
        r.t, start, end
    )
    if line.phase is not None and not phases[line.phase].built:  # a phase not built has no lines
        amount = amount * 0.0
    return DirectInputs(
        name=name,
        label=line.label or name,
        kind=line.kind,
        amount=amount,
        depreciation_start=anchor,
        capital_class=line.capital_class,
        phase=line.phase,
    )


def _check_labels(deal: Deal, direct: tuple[DirectInputs, ...]) -> None:
    """A line given directly needs a label of its own: a ledger column holds one line."""
    from dealcalc.engine import lines as registry

    taken = {
        line.label: "a line of the ledger"
        for line in vars(registry).values()
        if isinstance(line, registry.Line)
    }
    taken |= {registry.revenue(name).label: f"stream {name}'s revenue" for name in deal.streams}
    for levy_name, levy in (deal.fiscal.levies or {}).items():
        if levy.label is not None:
            taken[levy.label] = f"the levy {levy_name}"
    for d in direct:
        if d.label in taken:
            raise InputError(
                f"the label {d.label!r} is already {taken[d.label]}'s",
                field=f"lines.{d.name}.label",
                expected="a label no other line of the ledger has",
                hint=f"label: {d.label} (given)",
            )
        taken[d.label] = f"line {d.name}"


def _phase(r: _Reader, deal: Deal, name: str, phase: Phase) -> PhaseInputs:
    p = f"phases.{name}"
    built = phase.gate.go
    first = deal.first_production(name)
    last = None if phase.end_year is None else r.periods.index(phase.end_year)
    production = production_profile(r.t, first, phase.ramp_up, last, built=built)
    total: Number
    spread: Number
    draw: FloatArray
    if isinstance(phase.capex_usd, dict):  # amounts by year: the total is 1, the spread the amounts
        total = 1.0
        delay = phase.delay_years
        spread = r.series(f"{p}.capex_usd", phase.capex_usd, first, shift=delay) if built else 0.0
        draw = np.zeros(r.t)
        for year, amount in phase.capex_usd.items():
            if r.periods.index(year) + delay < r.t:
                draw[r.periods.index(year) + delay] = float(built and amount > 0)
    else:
        total = r.scalar(f"{p}.capex_usd", phase.capex_usd)
        spread = construction_profile(r.t, deal.construction_start(name), phase.capex_schedule, built=built)
        if np.ndim(total) == 2 and np.shape(total)[1] > 1:  # (S, T): the amounts by year
            by_year: FloatArray = np.asarray(total, dtype=np.float64) * float(built)
            spread, total = by_year, 1.0
        draw = np.asarray((np.reshape(spread, (-1, r.t)) > 0).any(axis=0), dtype=np.float64)
    sustaining = r.series(
        f"{p}.sustaining_capex_usd_per_year",
        phase.sustaining_capex_usd_per_year,
        first,
        shift=phase.delay_years,
    )
    return PhaseInputs(
        name=name,
        built=built,
        capex_total=total,
        capex_spread=spread,
        sustaining=np.asarray(sustaining * (production > 0), dtype=np.float64) if built else 0.0,
        production=production,
        first_production=first,
        draw_periods=draw,
        capital_class=phase.capital_class,
    )


def _timeline(r: _Reader, deal: Deal) -> TimelineInputs:
    v = deal.valuation
    inflation = r.scalar("valuation.inflation_rate", v.inflation_rate)
    rate = fisher(
        r.scalar("valuation.discount_rate", v.discount_rate),
        inflation,
        stated=v.discount_rate_basis,
        wanted=v.basis,
    )
    offset = v.valuation_offset()
    # money of the valuation point: period t's flow, paid t + delta years after the start, is
    # worth (1 + i)^(t + delta - offset) of it in money of the day (so a real valuation at the
    # Fisher rate is the nominal one; methodology §8)
    delta = {"end": 1.0, "mid": 0.5, "begin": 0.0}[v.timing]
    grown = growth(r.t, inflation) * np.power(1.0 + np.asarray(inflation), delta - offset)
    first = deal.first_production_any()
    return TimelineInputs(
        periods=r.periods,
        n_scenarios=r.n,
        timing=TIMINGS[v.timing],
        valuation_offset=offset,
        payback_origin=offset if v.payback_from == "valuation_point" else float(first),
        basis=v.basis,
        inflation=inflation,
        escalation=1.0 if v.basis == "real" else grown,
        to_nominal=1.0 if v.basis == "nominal" else grown,
        discount_rate=np.array(
            np.broadcast_to(np.asarray(rate, dtype=np.float64).reshape(-1), (r.n,)), dtype=np.float64
        ),
        first_production=first,
    )


def _holiday_share(r: _Reader, start: int, years: float) -> tuple[FloatArray, FloatArray]:
    """(exempt share of each period, 1 where a cap after the holiday applies): a holiday of
    ``years`` from period ``start``, a fraction of a year pro rata."""
    t = np.arange(r.t, dtype=np.float64)
    exempt = np.clip(np.minimum(t + 1.0, start + years) - np.maximum(t, float(start)), 0.0, 1.0)
    capped = ((t + 1.0 > start + years) & (years > 0)).astype(np.float64)
    return exempt, capped


def _simple_levies(r: _Reader, deal: Deal) -> tuple[LevyInputs, ...]:
    """The flat regime as a stack: royalty; income tax (plus super tax above its threshold, on
    the whole income: a slab); the minimum tax on turnover or the ACT on accounting profit as a
    floor that tops the income tax up, its excess a credit against later income tax."""
    f = deal.fiscal
    first = deal.first_production_any()
    host = deal.finance.host_government

    def sched(name: str, value: ScheduleValue) -> Number:
        return r.series(f"fiscal.{name}", value, first)

    rate = sched("income_tax_rate", f.income_tax_rate)
    combined = rate + sched("super_tax_rate", f.super_tax_rate)
    exempt, capped = _holiday_share(r, first, float(f.holiday_years))
    profit: tuple[tuple[float, str], ...] = (
        (1.0, "ebitda"),
        (1.0, "salvage"),
        (-1.0, "allowances"),
        (-1.0, "closure"),
        (-1.0, "interest"),
        (-1.0, "royalties"),  # the royalty and any royalty sold (the royalty-line levies before)
    )
    royalty_base = "mine_nsr" if f.royalty_base == "net_smelter_return" else "mine_value"
    return (
        LevyInputs(
            name="royalty",
            label="Royalty",
            line="royalty",
            collector=host,
            terms=((1.0, royalty_base),),
            rate=sched("royalty_rate", f.royalty_rate),
            holiday=np.zeros(r.t),
            capped=np.zeros(r.t),
        ),
        LevyInputs(
            name="income_tax",
            label="Income tax",
            line="tax",
            collector=host,
            terms=profit,
            brackets=((0.0, rate), (sched("super_tax_threshold_usd", f.super_tax_threshold_usd), combined)),
            slab=True,
            holiday=exempt,
            cap=None
            if f.income_tax_cap_after_holiday is None
            else sched("income_tax_cap_after_holiday", f.income_tax_cap_after_holiday),
            capped=capped,
            carry_forward=int(f.loss_carry_forward_years),
        ),
        LevyInputs(
            name="minimum_tax",
            label="Income tax",
            line="tax",
            collector=host,
            alternatives=(
                (((1.0, "turnover"),), sched("minimum_tax_rate", f.minimum_tax_rate)),
                (profit, sched("alternative_tax_rate", f.alternative_tax_rate)),
            ),
            tops_up=("income_tax",),
            holiday=exempt,
            capped=np.zeros(r.t),
        ),
    )


def write_off_index(r: _Reader, deal: Deal) -> int:
    """The period the undepreciated balance is written off: ``fiscal.write_off_year``, else the
    first closure year (the last period without closure)."""
    if deal.fiscal.write_off_year is not None:
        return r.periods.index(deal.fiscal.write_off_year)
    if isinstance(deal.closure.cost_usd, dict):  # closure over several years: from its first
        return min(r.periods.index(k) for k in deal.closure.cost_usd)
    return r.t - 1 if deal.closure.year is None else r.periods.index(deal.closure.year)


def _refunds(r: _Reader, deal: Deal, refund: bool | str) -> FloatArray | None:
    """1 in the periods whose loss is refunded: all (True), from the write-off (closure) on, or
    none (False)."""
    if refund is False:
        return None
    if refund is True:
        return np.ones(r.t)
    return (np.arange(r.t) >= write_off_index(r, deal)).astype(np.float64)


def _levy(r: _Reader, deal: Deal, name: str, levy: Levy) -> LevyInputs:
    """One levy of a stack written in the file."""
    p = f"fiscal.levies.{name}"
    first = deal.first_production_any()

    def sched(path: str, value: ScheduleValue) -> Number:
        return r.series(f"{p}.{path}", value, first)

    holiday = levy.holiday
    start = first
    if holiday is not None and holiday.start_year is not None:
        start = r.periods.index(holiday.start_year)
    exempt, capped = _holiday_share(r, start, 0.0 if holiday is None else float(holiday.years))
    brackets = None
    if levy.brackets is not None:
        brackets = tuple(
            (r.scalar(f"{p}.brackets.{k}.above", b.above), r.scalar(f"{p}.brackets.{k}.rate", b.rate))
            for k, b in enumerate(levy.brackets)
        )
    scale = levy.scale
    timing: tuple[float, ...]
    if levy.timing == "same_year":
        timing = (1.0,)
    elif levy.timing == "arrears":
        timing = (0.0, 1.0)
    else:
        timing = tuple(float(x) for x in levy.timing)
    return LevyInputs(
        name=name,
        label=levy.label or name.replace("_", " ").capitalize(),
        line=levy.line,
        collector=levy.collector or deal.finance.host_government,
        terms=tuple(levy.terms()),
        rate=None if levy.rate is None else sched("rate", levy.rate),
        brackets=brackets,
        slab=levy.slab,
        scale_on=None if scale is None else scale.variable,
        scale_x=None if scale is None else np.array([x for x, _ in scale.points], dtype=np.float64),
        scale_rates=None if scale is None else np.array([y for _, y in scale.points], dtype=np.float64),
        scale_linear=scale is not None and scale.interpolate == "linear",
        alternatives=None
        if levy.alternatives is None
        else tuple(
            (tuple(parse_base(a.base)), r.series(f"{p}.alternatives.{k}.rate", a.rate, first))
            for k, a in enumerate(levy.alternatives)
        ),
        tops_up=tuple(levy.tops_up),
        deductible_from=tuple(levy.deductible_from),
        credit_against=tuple(levy.credit_against),
        holiday=exempt,
        cap=None
        if holiday is None or holiday.cap_after is None
        else sched("holiday.cap_after", holiday.cap_after),
        capped=capped,
        carry_forward=levy.losses.carry_forward_years,
        cap_fraction=float(levy.losses.cap_fraction),
        carry_back=levy.losses.carry_back_years,
        refund=_refunds(r, deal, levy.losses.refund),
        timing=timing,
        depletion=_depletion(levy.depletion),
    )


def _depletion(d: Depletion | None) -> DepletionInputs | None:
    if d is None:
        return None
    return DepletionInputs(
        percentage={k: float(v) for k, v in d.percentage.items()},
        limit=float(d.limit_fraction),
        cost_basis=float(d.cost_basis_usd),
        less_royalties=d.less_royalties,
    )


def _fiscal(r: _Reader, deal: Deal, phases: dict[str, PhaseInputs]) -> FiscalInputs:
    f = deal.fiscal
    first = deal.first_production_any()
    producing = {s.phase for s in deal.streams.values()}
    write_off = write_off_index(r, deal)
    levies = (
        _simple_levies(r, deal)
        if f.levies is None
        else tuple(_levy(r, deal, name, levy) for name, levy in f.levies.items())
    )
    # royalties sold come first: every later base that deducts `royalties` deducts them
    levies = tuple(_royalty_levy(r, name, sale) for name, sale in deal.royalties_sold.items()) + levies
    classes = {
        name: ClassInputs(
            name=name,
            method=c.method,
            years=c.years,
            rate=c.rate,
            table=None if c.table is None else tuple(c.table),
            bonus=float(c.bonus_fraction),
            half_year=c.half_year,
            first_year=c.first_year,
            switch=c.switch_to_straight_line,
            start=c.start,
            start_index=None if c.start_year is None else r.periods.index(c.start_year),
            takes=tuple(c.takes),
            book=c.book,
            limited=c.limited_to_income,
            end=c.end,
        )
        for name, c in f.classes().items()
    }
    return FiscalInputs(
        levies=levies,
        classes=classes,
        depletion=_depletion(f.depletion),
        write_off=write_off,
        depreciation_start={
            name: (ph.first_production if name in producing else first) for name, ph in phases.items()
        },
        idc_years=int(f.depreciation_years),
        simple=f.levies is None,
        consolidated=f.consolidation == "consolidated",
    )


def _finance(
    r: _Reader, deal: Deal, timeline: TimelineInputs, company: Finance | None = None, at: str = "finance"
) -> FinanceInputs:
    """One company's finance (the deal's, or an entity's with ``at`` its path ``entities.NAME``):
    its loans, owners and terms by their paths under ``at``; the deal's common terms
    (withholding, the parties' discount rates, the debt-stress rules) under ``finance``."""
    f = company if company is not None else deal.finance
    debt = []
    # tranches sized by share first; a DSCR-sized tranche is sized on what they leave of CFADS
    for name, tranche in sorted(f.debt.items(), key=lambda item: item[1].target_dscr is not None):
        p = f"{at}.debt.{name}"
        rate = r.per_scenario(f"{p}.interest_rate", tranche.interest_rate)
        if tranche.interest_rate_basis == "real":
            rate = (1.0 + rate) * (1.0 + np.asarray(timeline.inflation).reshape(-1)) - 1.0
        debt.append(
            DebtInputs(
                name=name,
                phases=tuple(tranche.phases or deal.company_phases(at)),
                rate=np.array(np.broadcast_to(rate, (r.n,))),
                share_of_capex=None
                if tranche.share_of_capex is None
                else r.per_scenario(f"{p}.share_of_capex", tranche.share_of_capex),
                target_dscr=None
                if tranche.target_dscr is None
                else r.per_scenario(f"{p}.target_dscr", tranche.target_dscr),
                grace_years=tranche.grace_years,
                tenor_years=tranche.tenor_years,
                repayment=tranche.repayment,
                upfront_fee=r.per_scenario(f"{p}.upfront_fee", tranche.upfront_fee),
            )
        )
    first_any = deal.first_production_any()
    owners = []
    for name, h in f.equity.items():
        share = (
            r.scalar(f"{at}.equity.{name}.share", h.share)
            if h.share_by_year is None
            else r.series(f"{at}.equity.{name}.share_by_year", h.share_by_year, first_any)
        )
        if name in f.free_carried:
            carried_part = r.scalar(f"{at}.free_carried.{name}", f.free_carried[name])
            owners.append(OwnerInputs(name, share, h.carried, 0.0 if h.carried else share - carried_part))
        else:
            owners.append(OwnerInputs(name, share, h.carried))
    periods = deal.periods
    earn_in = tuple(
        EarnInInputs(
            partner,
            e.from_,
            r.per_scenario(f"{at}.earn_in.{partner}.stake", e.stake),
            None if e.funds_usd is None else r.per_scenario(f"{at}.earn_in.{partner}.funds_usd", e.funds_usd),
            None
            if e.at_first_output_of is None
            else (
                deal.first_production(e.at_first_output_of)
                if deal.phases[e.at_first_output_of].gate.go
                else None
            ),
        )
        for partner, e in f.earn_in.items()
    )
    preferred = tuple(
        PreferredInputs(
            holder,
            r.per_scenario(f"{at}.preferred.{holder}.amount_usd", p.amount_usd),
            periods.index(p.year),
            r.per_scenario(f"{at}.preferred.{holder}.coupon", p.coupon),
            r.per_scenario(f"{at}.preferred.{holder}.upside_share", p.upside_share),
            periods.size - 1 if p.redeem_year is None else periods.index(p.redeem_year),
        )
        for holder, p in f.preferred.items()
    )
    loans = tuple(
        LoanInputs(
            lender,
            r.per_scenario(f"{at}.shareholder_loans.{lender}.amount_usd", loan.amount_usd),
            periods.index(loan.year),
            r.per_scenario(f"{at}.shareholder_loans.{lender}.rate", loan.rate),
        )
        for lender, loan in f.shareholder_loans.items()
    )
    extra = {p: role for p, role in f.stress_parties().items() if p not in deal.party_names()}
    parties = (*deal.party_names(), *extra)
    v = deal.valuation
    rates = {}
    for party in parties:
        # an owner's own rate is stated where it holds equity (the first company that states one)
        held = [(a, c.equity[party]) for a, c in deal.companies().items() if party in c.equity]
        holder_at = next(((a, h) for a, h in held if h.discount_rate is not None), None)
        if holder_at is not None and holder_at[1].discount_rate is not None:
            where, own_rate = holder_at[0], holder_at[1].discount_rate
            stated: Number = r.scalar(f"{where}.equity.{party}.discount_rate", own_rate)
        elif party in f.discount_rates:
            stated = r.scalar(f"finance.discount_rates.{party}", f.discount_rates[party])
        else:
            stated = r.scalar("valuation.discount_rate", v.discount_rate)
        real = fisher(stated, timeline.inflation, stated=v.discount_rate_basis, wanted=v.basis)
        rates[party] = np.array(np.broadcast_to(np.asarray(real, dtype=np.float64).reshape(-1), (r.n,)))
    ops = deal.operations
    first = deal.first_production_any()
    return FinanceInputs(
        debt=tuple(debt),
        owners=tuple(owners),
        withholding=r.scalar("finance.dividend_withholding_rate", f.dividend_withholding_rate),
        withholding_untaxed=None
        if f.dividend_withholding_rate_untaxed is None
        else r.scalar("finance.dividend_withholding_rate_untaxed", f.dividend_withholding_rate_untaxed),
        host_government=f.host_government,
        parties=parties,
        roles={p: extra.get(p) or deal.party_role(p) for p in parties},
        discount_rates=rates,
        expropriated=r.series("operations.expropriated", ops.expropriated, first),
        compensation=r.scalar(
            "operations.expropriation_compensation_fraction", ops.expropriation_compensation_fraction
        ),
        stress=_stress(r, f) if f.stressed else None,
        earn_in=earn_in,
        preferred=preferred,
        loans=loans,
    )


def _entities(r: _Reader, deal: Deal, timeline: TimelineInputs) -> tuple[EntityInputs, ...]:
    """Each entity with its streams and finance (paths ``entities.NAME.equity...``)."""
    operator = deal.operator()
    return tuple(
        EntityInputs(
            name=name,
            phases=tuple(e.phases),
            streams=frozenset(n for n, s in deal.streams.items() if s.phase in e.phases),
            operator=name == operator,
            finance=_finance(r, deal, timeline, e.finance(deal.finance), f"entities.{name}"),
        )
        for name, e in deal.entities.items()
    )


def _transfer(r: _Reader, deal: Deal, name: str, t: TransferPrice) -> TransferInputs:
    """A transfer price's terms by path (``transfer_prices.NAME.payable_fraction``)."""
    p = f"transfer_prices.{name}"
    first = deal.first_production_any()

    def sched(field: str) -> Number | None:
        value = getattr(t, field)
        return None if value is None else r.series(f"{p}.{field}", value, first)

    return TransferInputs(
        name=name,
        source=t.source,
        to=t.to,
        seller=str(deal.entity_of(t.source)),
        buyer=str(deal.entity_of(t.to)),
        basis=t.basis,
        payable=sched("payable_fraction"),
        charges=r.series(f"{p}.charges_usd_per_unit", t.charges_usd_per_unit, first),
        margin=None if t.margin is None else r.per_scenario(f"{p}.margin", t.margin)[:, None],
        fixed=sched("price_usd_per_unit"),
        royalty_base=t.royalty_base,
    )


def _stress(r: _Reader, f: Finance) -> StressInputs:
    """The debt-stress rules, per scenario (their numbers may be overridden by path)."""
    zero = np.zeros(r.n)

    def number(path: str, value: float | None) -> FloatArray:
        return zero if value is None else r.per_scenario(f"finance.{path}", value)

    rule = f.default
    until = 0
    if f.sponsor_support is not None:
        year = f.sponsor_support.until_year
        first, last = int(r.periods.labels[0]), int(r.periods.labels[-1])
        until = 0 if year <= first else r.t if year > last else r.periods.position(year)
    return StressInputs(
        dsra_months=number("dsra.months", f.dsra.months if f.dsra else None),
        dsra_at_close=f.dsra is not None and f.dsra.funded == "close",
        sweep_share=number("sweep.share", f.sweep.share if f.sweep else None),
        sweep_when=f.sweep.when if f.sweep else "always",
        sweep_dscr=number("sweep.dscr", f.sweep.dscr if f.sweep else None),
        lockup_dscr=None if f.lockup is None else number("lockup.dscr", f.lockup.dscr),
        recourse=rule is None,
        missed_payments=None if rule is None else rule.missed_payments,
        dscr_below=None
        if rule is None or rule.dscr_below is None
        else number("default.dscr_below", rule.dscr_below),
        dscr_years=1 if rule is None else rule.dscr_years,
        recovery=number("default.recovery", rule.recovery if rule else None),
        support_usd=number(
            "sponsor_support.amount_usd", f.sponsor_support.amount_usd if f.sponsor_support else None
        ),
        support_until=until,
        guarantee_share=number("guarantee.share", f.guarantee.share if f.guarantee else None),
    )


def _cost_factors(r: _Reader, deal: Deal) -> tuple[Number, Number]:
    """(opex factor, capex factor), each 1.0 when no cost is paid in the local currency."""
    lc = deal.local_currency
    if lc is None or (
        lc.opex_share == 0.0
        and lc.capex_share == 0.0
        and "local_currency.opex_share" not in r.overrides
        and "local_currency.capex_share" not in r.overrides
    ):
        return 1.0, 1.0
    x0 = r.scalar("local_currency.units_per_usd", lc.units_per_usd)
    rate: Number
    if lc.path:  # each rate holds until the next year given; the start-year rate before the first
        keys = sorted(lc.path)
        at = [-1, *(r.periods.position(k) for k in keys)]
        rate = step_path([x0, *(r.scalar(f"local_currency.path.{k}", lc.path[k]) for k in keys)], at, r.t)
    else:
        rate = depreciating_rate(x0, r.scalar("local_currency.depreciation_rate", lc.depreciation_rate), r.t)
    opex = cost_factor(r.scalar("local_currency.opex_share", lc.opex_share), x0, rate)
    capex = cost_factor(r.scalar("local_currency.capex_share", lc.capex_share), x0, rate)
    return opex, capex


def deal_series(deal: Deal, path: str) -> FloatArray:
    """The per-period values (T,) of a deal-wide schedule in the file (a price of a deck,
    ``operations.availability``), as the engine reads it when nothing overrides it.

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.params import with_changes
    >>> deal = with_changes(dc.load(dc.example_path("ussm-fwo")), {"price_decks.base.gold": {2030: 2500.0}})
    >>> deal_series(deal, "price_decks.base.gold")[:5].tolist()
    [2500.0, 2500.0, 2500.0, 2500.0, 2500.0]
    """
    r = _Reader(deal, {}, 1)
    head, _, product = path.rpartition(".")
    if head.startswith("price_decks."):
        value = deal.price_decks[head.removeprefix("price_decks.")][product]
        out = r.series(path, value, planned_first_production(deal))
    elif path == "operations.availability":
        out = r.series(path, deal.operations.availability, deal.first_production_any())
    else:
        raise ValueError(f"{path} is not a deal-wide schedule")
    return np.array(np.broadcast_to(np.asarray(out, dtype=np.float64), (r.t,)))


def resolve(deal: Deal, overrides: Mapping[str, FloatArray], n_scenarios: int) -> EngineInputs:
    """The numbers of ``deal`` for one chunk of scenarios, as the kernels take them.

    Parameters
    ----------
    deal : Deal
        The deal (a named scenario already applied).
    overrides : mapping of path to ndarray
        Checked override arrays for this chunk, each (S,), (S, T) or with one row (the same
        for every scenario); see :class:`dealcalc.params.Scenarios`.
    n_scenarios : int
        S.

    Examples
    --------
    >>> import dealcalc as dc
    >>> inputs = resolve(dc.load(dc.example_path("ussm-fwo")), {}, 1)
    >>> inputs.timeline.shape, round(float(inputs.timeline.discount_rate[0]), 4)
    ((1, 17), 0.1122)
    """
    r = _Reader(deal, overrides, n_scenarios)
    timeline = _timeline(r, deal)
    phases = {name: _phase(r, deal, name, phase) for name, phase in deal.phases.items()}
    first = deal.first_production_any()
    availability = r.series("operations.availability", deal.operations.availability, first)
    mines = [_mine(r, deal, name, s, phases, availability) for name, s in deal.streams.items() if s.is_mine]
    processing = [
        _processing(r, deal, name, deal.streams[name], phases, availability)
        for name in deal.processing_order()
    ]
    overhead_parts: list[Number] = []
    for key, o in deal.overheads.items():
        start, end = _span(r, o.usd_per_year, o.start_year, o.end_year, first)
        amount = r.series(f"overheads.{key}.usd_per_year", o.usd_per_year, start)
        overhead_parts.append(amount * window(r.t, start, end))
    overheads: Number = sum(overhead_parts[1:], overhead_parts[0]) if overhead_parts else 0.0
    direct = tuple(_direct(r, deal, name, line, phases) for name, line in deal.lines.items())
    _check_labels(deal, direct)
    closure_cost = deal.closure.cost_usd
    if isinstance(closure_cost, dict):
        closure = r.series("closure.cost_usd", closure_cost, first)
    else:
        year = deal.closure.year
        at = r.t - 1 if year is None else r.periods.index(year)
        given = r.scalar("closure.cost_usd", closure_cost)
        whole = np.ndim(given) == 2 and np.shape(given)[1] > 1  # (S, T): the amounts by year
        closure = given if whole else given * (np.arange(r.t) == at)
    wc = deal.working_capital
    days = {
        k: r.series(f"working_capital.{k}", getattr(wc, k), first)
        for k in ("receivable_days", "inventory_days", "payable_days")
    }
    opex_fx, capex_fx = _cost_factors(r, deal)
    return EngineInputs(
        timeline=timeline,
        phases=phases,
        mines=tuple(mines),
        processing=tuple(processing),
        stream_order=tuple(deal.streams),
        direct=direct,
        overheads=overheads,
        closure=closure,
        receivable_days=days["receivable_days"],
        stock_days=days["inventory_days"] - days["payable_days"],
        opex_fx=opex_fx,
        capex_fx=capex_fx,
        fiscal=_fiscal(r, deal, phases),
        finance=_finance(r, deal, timeline),
        offtakes=tuple(_offtake(r, deal, name, o) for name, o in deal.offtakes.items()),
        metal_streams=tuple(_metal_stream(r, deal, name, m) for name, m in deal.metal_streams.items()),
        royalties_sold=tuple(
            _royalty_sale(r, deal, name, sale) for name, sale in deal.royalties_sold.items()
        ),
        entities=_entities(r, deal, timeline),
        transfers=tuple(_transfer(r, deal, name, t) for name, t in deal.transfer_prices.items()),
    )
