"""Production, the material balance between streams, net smelter return and operating cost.

Kernels of the resolved stream records (:mod:`dealcalc.engine.inputs`); every result
broadcasts to (S, T); quantities are units of a product's price unit (t, kg, mtu, oz, lb),
money is in the deal's basis (``escalate`` is 1.0 in real terms). Formulas: docs/methodology.md
§9.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dealcalc.engine.inputs import ClosureInputs, MineInputs, ProcessingInputs
from dealcalc.engine.timeline import Number, times
from dealcalc.engine.trade import Duty, duty

__all__ = [
    "Balance",
    "ClosureYears",
    "Closures",
    "MineOutput",
    "StreamFlows",
    "closure_years",
    "material_balance",
    "mine_flows",
    "mine_margin",
    "mine_output",
    "processing_flows",
    "processing_margin",
    "stream_duties",
    "temporary_closures",
]


@dataclass(frozen=True)
class MineOutput:
    """What a mine stream recovers in each year, in units of its product."""

    mined: Number  # contained in the ore mined (the recovered units for a stated output)
    recovered: Number  # into its concentrate


def mine_output(s: MineInputs) -> MineOutput:
    """Units mined and recovered: ore x grade (x recovery) x units per tonne x profile, or the
    stated output x profile.

    Examples
    --------
    >>> import numpy as np
    >>> from dealcalc.engine.inputs import resolve
    >>> import dealcalc as dc
    >>> s = resolve(dc.load(dc.example_path("ussm-fwo")), {}, 1).mines[0]  # copper, 1 Mtpa at 0.8 %
    >>> out = mine_output(s)
    >>> float(np.max(out.recovered)), float(np.max(out.mined))
    (7040.0, 8000.0)
    """
    if s.ore is None:
        assert s.recovered_units is not None
        recovered = s.recovered_units * s.profile
        return MineOutput(mined=recovered, recovered=recovered)
    contained_k = s.ore * s.grade * s.units_per_tonne
    return MineOutput(mined=contained_k * s.profile, recovered=(contained_k * s.recovery) * s.profile)


@dataclass(frozen=True)
class Balance:
    """Where every unit goes in each year (each broadcastable to (S, T)).

    ``made`` is what each stream puts out (a mine: its recovered units; a processing stream:
    its output); ``sold`` what it sells; ``fed[(source, to)]`` what a source gives a processing
    stream; ``bought`` and ``lost`` (feed not recovered in processing) per processing stream.
    For every stream, made = sold + the sum of what it feeds; for a processing stream,
    (own feed + bought) x recovery = made.
    """

    made: dict[str, Number]
    sold: dict[str, Number]
    fed: dict[tuple[str, str], Number] = field(default_factory=dict)
    bought: dict[str, Number] = field(default_factory=dict)
    lost: dict[str, Number] = field(default_factory=dict)


def material_balance(recovered: dict[str, Number], processing: Sequence[ProcessingInputs]) -> Balance:
    """Feed each processing stream from its sources, own material first, up to what it needs.

    ``recovered`` holds what each mine stream recovers; ``processing`` are in feed order (a
    stream after those that feed it). A processing stream needs ``capacity x profile /
    recovery`` units of feed; it takes what each source has left, in order, then buys the
    shortfall (up to its cap) if it may buy, and makes (own + bought) x recovery. Whatever a
    stream makes and no one takes is sold. Nothing disappears: made = sold + fed onward.

    Examples
    --------
    >>> import numpy as np
    >>> from dataclasses import replace
    >>> from dealcalc.engine.inputs import resolve
    >>> import dealcalc as dc
    >>> inputs = resolve(dc.load(dc.example_path("ussm-fwo")), {}, 1)
    >>> mined = {m.name: mine_output(m).recovered for m in inputs.mines}
    >>> b = material_balance(mined, inputs.processing)
    >>> y = 6  # 2032: refinery at 90 % of 4,000 t; it needs 3,913 t of the mine's 3,187.5 t
    >>> own, bought = b.fed["antimony_concentrate", "antimony_refined"][y], b.bought["antimony_refined"][y]
    >>> round(float(own), 1), round(float(bought), 1)
    (3187.5, 725.5)
    """
    left: dict[str, Number] = dict(recovered)
    made: dict[str, Number] = dict(recovered)
    fed: dict[tuple[str, str], Number] = {}
    bought: dict[str, Number] = {}
    lost: dict[str, Number] = {}
    for p in processing:
        output = p.capacity * p.profile
        if not p.fed:  # no feed stated: its capacity, from feed that costs nothing here
            made[p.name] = left[p.name] = output
            continue
        need: Number = output / p.recovery
        taken: Number = 0.0
        for source in p.sources:
            take = np.minimum(left[source], need)
            left[source] = left[source] - take
            need = need - take
            taken = taken + take
            fed[source, p.name] = take
        buy: Number = 0.0
        if p.purchase_price is not None:
            buy = need if p.purchase_cap is None else np.minimum(need, p.purchase_cap)
        bought[p.name] = buy
        total = taken + buy
        made[p.name] = left[p.name] = total * p.recovery
        lost[p.name] = total - made[p.name]
    return Balance(made=made, sold=left, fed=fed, bought=bought, lost=lost)


@dataclass(frozen=True)
class StreamFlows:
    """One stream's yearly money (each broadcastable to (S, T)), positive amounts."""

    name: str
    revenue: Number  # paid value of product sold
    charges: Number  # TC, RC, penalties and freight on product sold
    royalty_base: Number  # value owing royalty (a mine: all it recovers, sold or processed)
    royalty_charges: Number  # the selling charges on royalty-bearing sales (off a net smelter return)
    mining_cost: Number  # ore cost plus the stream's fixed cost
    conversion_cost: Number  # processing conversion
    feed_cost: Number  # bought feed
    contained_units_sold: Number  # units of the priced product in what is sold (before payability)


def mine_flows(s: MineInputs, out: MineOutput, sold: Number, escalate: Number) -> StreamFlows:
    """Revenue, charges, royalty base and costs of a mine stream that sells ``sold`` units of
    the ``out.recovered`` it recovers (methodology §9)."""
    price = times(s.price, escalate)
    fixed = times(s.fixed_opex * s.producing, escalate)
    payable = s.payable * price
    # charges per recovered tonne: TC and penalties per dry tonne of concentrate, freight per wet
    # tonne, freight per tonne of product; RC per payable unit
    per_recovered_t = s.freight_per_t_product
    if s.concentrate_grade is not None:
        per_dmt = s.treatment_per_dmt + s.penalties_per_dmt
        per_wmt = s.freight_per_wmt / (1.0 - s.moisture)
        per_recovered_t = per_recovered_t + (per_dmt + per_wmt) / s.concentrate_grade
    per_unit = per_recovered_t / s.units_per_tonne + s.payable * s.refining_per_unit
    ore_cost: Number = 0.0 if s.ore is None else (s.ore * s.opex_per_t_ore) * s.profile
    return StreamFlows(
        name=s.name,
        revenue=sold * payable,
        charges=times(sold * per_unit, escalate),
        royalty_base=times(out.recovered * payable, s.royalty_share),
        royalty_charges=times(times(sold * per_unit, escalate), s.royalty_share),
        mining_cost=times(ore_cost, escalate) + fixed,
        conversion_cost=0.0,
        feed_cost=0.0,
        contained_units_sold=sold,
    )


def processing_flows(
    s: ProcessingInputs, made: Number, sold: Number, bought: Number, escalate: Number
) -> StreamFlows:
    """Revenue of what a processing stream sells, the conversion cost of all it makes, and the
    cost of the feed it buys (methodology §9)."""
    price = times(s.price, escalate)
    revenue = (sold * s.payable) * price
    feed_cost: Number = 0.0
    if s.purchase_price is not None:
        feed_cost = bought * times(s.purchase_price, escalate)
    charges = times(sold * (s.freight_per_t_product / s.units_per_tonne), escalate)
    return StreamFlows(
        name=s.name,
        revenue=revenue,
        charges=charges,
        royalty_base=times(revenue, s.royalty_share),
        royalty_charges=times(charges, s.royalty_share),
        mining_cost=times(s.fixed_opex * s.producing, escalate),
        conversion_cost=times(made * s.conversion_per_unit, escalate),
        feed_cost=feed_cost,
        contained_units_sold=sold,
    )


def stream_duties(
    s: MineInputs | ProcessingInputs, flows: StreamFlows, escalate: Number = 1.0
) -> list[tuple[str, Duty]]:
    """The duty on each of a stream's sales destinations, with the government collecting it (a
    specific duty per unit is money like any other: escalated in a nominal deal)."""
    out = []
    for sale in s.sales:
        value = flows.revenue * sale.share
        units = flows.contained_units_sold * sale.share
        out.append(
            (sale.government, duty(value, units, sale.rate, times(sale.specific, escalate), sale.bears))
        )
    return out


# ---------------------------------------------------------------------------- temporary closure


@dataclass(frozen=True)
class ClosureYears:
    """Where a temporary-closure rule closes a stream, each (S, T) of 0.0 or 1.0."""

    closed: np.ndarray  # closed that year (no output, care and maintenance paid)
    closing: np.ndarray  # the first year of a closure (closing cost paid)
    reopening: np.ndarray  # the year it reopens (reopening cost paid)


def closure_years(
    margin: Number, active: Number, threshold: Number, min_years_closed: int, shape: tuple[int, int]
) -> ClosureYears:
    """Which years a stream is closed under a rule-of-thumb closure rule.

    In an ``active`` year (a planned production year) whose ``margin`` is below ``threshold``
    an open stream closes; a closed stream reopens in the first active year whose margin
    clears the threshold once it has been closed ``min_years_closed`` years. Outside active
    years it is neither open nor closed (nothing is paid) and a closure ends without a
    reopening. The margin of year t is known at the start of t (no foresight). Vectorized over
    scenarios; a loop over years carries each scenario's state.

    Examples
    --------
    >>> m = np.array([5.0, 5.0, -1.0, -2.0, 3.0, 4.0])  # a dip in years 3 and 4
    >>> c = closure_years(m, 1.0, 0.0, 1, (1, 6))
    >>> c.closed[0].tolist(), c.closing[0].tolist(), c.reopening[0].tolist()
    ([0.0, 0.0, 1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 1.0, 0.0])
    >>> closure_years(m, 1.0, 0.0, 3, (1, 6)).closed[0].tolist()  # held closed three years
    [0.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    """
    n, t = shape
    below = np.broadcast_to(np.asarray(margin) < threshold, shape)
    on = np.broadcast_to(np.asarray(active) > 0, shape)
    closed = np.zeros(shape, dtype=bool)
    closing = np.zeros(shape, dtype=bool)
    reopening = np.zeros(shape, dtype=bool)
    was = np.zeros(n, dtype=bool)
    years = np.zeros(n, dtype=np.int64)
    for k in range(t):
        a, b = on[:, k], below[:, k]
        now = a & np.where(was, (years < min_years_closed) | b, b)
        closed[:, k] = now
        closing[:, k] = now & ~was
        reopening[:, k] = a & was & ~now
        years = np.where(now, years + 1, 0)
        was = now
    return ClosureYears(closed.astype(np.float64), closing.astype(np.float64), reopening.astype(np.float64))


def mine_margin(s: MineInputs, escalate: Number, opex_fx: Number) -> Number:
    """A mine stream's operating margin at its profile: the value of all it recovers (sold or
    fed on) less its selling charges and its ore cost (x the local-currency cost factor).

    Examples
    --------
    >>> from dealcalc.engine.inputs import resolve
    >>> import dealcalc as dc
    >>> s = resolve(dc.load(dc.example_path("ussm-fwo")), {}, 1).mines[0]  # copper
    >>> round(float(np.max(mine_margin(s, 1.0, 1.0))) / 1e6, 1)  # US$ M at full output
    37.7
    """
    out = mine_output(s)
    flows = mine_flows(s, out, out.recovered, escalate)
    ore: Number = 0.0 if s.ore is None else times((s.ore * s.opex_per_t_ore) * s.profile, escalate)
    return flows.revenue - flows.charges - ore * opex_fx


def processing_margin(
    s: ProcessingInputs, made: Number, bought: Number, escalate: Number, opex_fx: Number
) -> Number:
    """A processing stream's operating margin: the value of all it makes less its selling
    charges, its conversion cost (x the local-currency cost factor) and the feed it buys (its
    own feed costs nothing here, as in the ledger)."""
    flows = processing_flows(s, made, made, bought, escalate)
    return flows.revenue - flows.charges - flows.conversion_cost * opex_fx - flows.feed_cost


@dataclass(frozen=True)
class Closures:
    """The streams after their temporary-closure rules, and where each rule closed its stream."""

    mines: tuple[MineInputs, ...]
    processing: tuple[ProcessingInputs, ...]
    years: dict[str, ClosureYears]  # by stream, only streams with a rule
    rules: dict[str, ClosureInputs]


def _closed(s: MineInputs | ProcessingInputs, c: ClosureYears) -> tuple[Number, np.ndarray]:
    """The profile and producing flag of a stream with its closed years taken out."""
    running = 1.0 - c.closed
    return s.profile * running, np.asarray(s.producing * running, dtype=np.float64)


def temporary_closures(
    mines: Sequence[MineInputs],
    processing: Sequence[ProcessingInputs],
    escalate: Number,
    opex_fx: Number,
    shape: tuple[int, int],
) -> Closures:
    """Apply each stream's temporary-closure rule (docs/methodology.md, temporary closure).

    A stream's margin in each year is taken at its planned profile (before availability:
    a disruption does not close a mine) and that year's prices and costs; mines first, then
    processing streams in feed order, each fed by what its sources make once their own rules
    have acted. A closed year has no output and no stream cost (profile and producing 0), so a
    closed mine feeds nothing and a processing stream buys the shortfall or makes less.

    Examples
    --------
    >>> from dealcalc.engine.inputs import resolve
    >>> import dealcalc as dc
    >>> inputs = resolve(dc.load(dc.example_path("ussm-fwo")), {}, 1)
    >>> c = temporary_closures(inputs.mines, inputs.processing, 1.0, 1.0, (1, 17))
    >>> c.years, c.mines == inputs.mines  # no rule: nothing changes
    ({}, True)
    """
    years: dict[str, ClosureYears] = {}
    rules: dict[str, ClosureInputs] = {}
    new_mines = []
    for m in mines:
        if m.closure is not None:
            margin = mine_margin(replace(m, profile=m.closure.planned), escalate, opex_fx)
            c = closure_years(margin, m.producing, m.closure.threshold, m.closure.min_years_closed, shape)
            years[m.name], rules[m.name] = c, m.closure
            profile, producing = _closed(m, c)
            m = replace(m, profile=profile, producing=producing)
        new_mines.append(m)
    new_processing = list(processing)
    if any(p.closure is not None for p in processing):
        recovered = {m.name: mine_output(m).recovered for m in new_mines}
        for k, p in enumerate(processing):
            if p.closure is None:
                continue
            planned = replace(p, profile=p.closure.planned)
            b = material_balance(recovered, [*new_processing[:k], planned])
            margin = processing_margin(planned, b.made[p.name], b.bought.get(p.name, 0.0), escalate, opex_fx)
            c = closure_years(margin, p.producing, p.closure.threshold, p.closure.min_years_closed, shape)
            years[p.name], rules[p.name] = c, p.closure
            profile, producing = _closed(p, c)
            new_processing[k] = replace(p, profile=profile, producing=producing)
    if not years:
        return Closures(tuple(mines), tuple(processing), {}, {})
    return Closures(tuple(new_mines), tuple(new_processing), years, rules)
