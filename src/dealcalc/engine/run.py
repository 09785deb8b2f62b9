"""Evaluate a deal: resolve a chunk of scenarios, build its ledger and its metrics; iterate chunks.

The order of the work follows design.md: resolve → streams → trade → fiscal → ledger →
metrics → financing and parties. Each step is a kernel of the arrays the resolver made.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dealcalc.engine import lines as L
from dealcalc.engine.financing import DebtFlows, StressedDebt, debt_flows, debt_stress
from dealcalc.engine.fiscal import LevyResult, straight_line
from dealcalc.engine.inputs import (
    DirectInputs,
    EngineInputs,
    EntityInputs,
    FiscalInputs,
    MineInputs,
    ProcessingInputs,
    resolve,
)
from dealcalc.engine.ledger import Ledger, add_lines
from dealcalc.engine.memory import VALUATION_HINT, check_fits, ledger_lines, valuation_bytes
from dealcalc.engine.metal_stream import recognised, sold_stream_flows, stream_price
from dealcalc.engine.offtake import contract_price, offtake_flows
from dealcalc.engine.parties import party_flows
from dealcalc.engine.streams import (
    Balance,
    Closures,
    MineOutput,
    StreamFlows,
    material_balance,
    mine_flows,
    mine_output,
    processing_flows,
    stream_duties,
    temporary_closures,
)
from dealcalc.engine.taxes import Capital, FiscalPass, fiscal_pass
from dealcalc.engine.timeline import Number, payback_years, present_value, times
from dealcalc.engine.trade import TariffFlows, total_tariffs
from dealcalc.engine.transfer import transfer_price, unit_cost
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics import irr
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.models.direct import DIRECT_KINDS
from dealcalc.params import Scenarios

__all__ = [
    "ENTITY_METRICS",
    "METRICS",
    "ChunkResult",
    "all_metrics",
    "build_ledger",
    "build_parties",
    "check_metrics",
    "evaluate_chunks",
    "party_metrics",
]

#: Scenarios per engine pass: about 30 lines x 16k x 20 years x 8 bytes = 77 MiB at most.
CHUNK_SCENARIOS = 16_384


def working_capital(
    receivable_days: Number, stock_days: Number, turnover: Number, costs: Number
) -> FloatArray:
    """Cash tied up in working capital: minus the change of the balance, recovered at the end.

    Balance B_t = (receivable days x turnover + (inventory - payable days) x costs) / 365, with
    B_{T-1} = 0; the cash line is B_{t-1} - B_t (B_{-1} = 0).

    Examples
    --------
    >>> working_capital(36.5, 0.0, np.array([0.0, 100.0, 100.0]), 0.0).tolist()
    [0.0, -10.0, 10.0]
    """
    balance = np.asarray(
        (receivable_days / 365.0) * turnover + (stock_days / 365.0) * costs, dtype=np.float64
    )
    cash = np.zeros(balance.shape)
    if balance.shape[-1] > 1:
        cash[..., 0] = -balance[..., 0]
        np.subtract(balance[..., :-2], balance[..., 1:-1], out=cash[..., 1:-1])
        cash[..., -1] = balance[..., -2]  # the final balance is recovered: B_{T-1} = 0
    return cash


@dataclass(frozen=True)
class ProjectParts:
    """What the financing and the parties need from the project build, beyond its ledger."""

    quantities: dict[str, Number]  # the levies' bases in the deal's money (interest 0)
    capital: tuple[Capital, ...]  # capital by class, the deal's money
    profile: FloatArray  # the share of the life's output in each period
    unlevered: FiscalPass
    tariff: TariffFlows
    capex_by_phase: dict[str, Number]  # positive, deal basis
    draws_by_phase: dict[str, FloatArray]  # (T,) periods each phase spends initial capital
    initial_capex: FloatArray  # all initial capital (phases and lines), positive
    capital_spent: FloatArray  # all initial and sustaining capital, positive
    balance: Ledger  # the material balance, quantities by stream
    offtake_cash: dict[str, FloatArray] = field(default_factory=dict)  # by counterparty, (S, T)
    entities: tuple[EntityPart, ...] = ()  # a deal of several entities: each one's build
    group: GroupBase | None = None  # a consolidated tax group's base


@dataclass(frozen=True)
class Offtakes:
    """What the offtake contracts change: their revenue lines, the adjustment by product, the
    royalty-bearing part of it, and each counterparty's cash (minus its contracts' adjustments)."""

    lines: list[tuple[L.Line, Number]]
    by_product: dict[str, Number]
    royalty_bearing: Number
    cash: dict[str, FloatArray]


@dataclass(frozen=True)
class SoldStreams:
    """What the streams sold for cash change: their revenue lines (stream price less spot), the
    deposits, the adjustment by product and its royalty-bearing part, each financier's cash,
    the units delivered by product and the deposits recognised as taxable income."""

    lines: list[tuple[L.Line, Number]]
    deposits: list[tuple[L.Line, Number]]
    by_product: dict[str, Number]
    royalty_bearing: Number
    cash: dict[str, FloatArray]
    taken: dict[str, FloatArray]
    income: Number


@dataclass(frozen=True)
class Built:
    """The streams of a chunk, valued once for the whole deal: each stream's flows, the
    material balance, what each mine stream mines and recovers, the temporary closures."""

    flows: list[StreamFlows]
    balance: Balance
    outputs: dict[str, MineOutput]
    closures: Closures

    def of(self, streams: frozenset[str]) -> Built:
        """The part of the build that belongs to ``streams`` (one entity's)."""
        c = self.closures
        return Built(
            [fl for fl in self.flows if fl.name in streams],
            self.balance,
            {k: v for k, v in self.outputs.items() if k in streams},
            Closures(
                tuple(m for m in c.mines if m.name in streams),
                tuple(p for p in c.processing if p.name in streams),
                {k: v for k, v in c.years.items() if k in streams},
                {k: v for k, v in c.rules.items() if k in streams},
            ),
        )


@dataclass(frozen=True)
class Transfers:
    """What the transfers between entities add to one entity: its sales (revenue lines), its
    purchases (costs, positive), the change to its royalty base and its sales by product."""

    sales: list[tuple[L.Line, FloatArray]]
    purchases: list[tuple[L.Line, FloatArray]]
    royalty: Number
    by_product: dict[str, Number]
    memos: list[tuple[L.Line, Number]] = field(default_factory=list)  # the seller's: price, market


@dataclass(frozen=True)
class EntityPart:
    """One entity's inputs (its streams, phases and finance), ledger and parts."""

    name: str
    inputs: EngineInputs
    ledger: Ledger
    parts: ProjectParts


def _transfers(inputs: EngineInputs, built: Built, escalate: Number) -> dict[str, Transfers]:
    """Each entity's transfers (docs/methodology.md §31): the units each source feeds another
    entity's stream, at the transfer price; the seller's royalty base sees the transfer value
    in place of the value a mine's royalty gives its recovered units (``royalty_base:
    transfer``) or keeps that value (``market``)."""
    shape = inputs.timeline.shape
    every: list[MineInputs | ProcessingInputs] = [*inputs.mines, *inputs.processing]
    streams = {s.name: s for s in every}
    flows = {fl.name: fl for fl in built.flows}
    out = {e.name: Transfers([], [], 0.0, {}) for e in inputs.entities}
    for t in inputs.transfers:
        src = streams[t.source]
        units = np.asarray(
            np.broadcast_to(built.balance.fed.get((t.source, t.to), 0.0), shape), dtype=np.float64
        )
        price = times(src.price, escalate)
        cost: Number = 0.0
        if t.basis == "cost_plus":
            fl = flows[t.source]
            spent = add_lines([fl.mining_cost, fl.conversion_cost], shape, scale=inputs.opex_fx)
            made = (
                built.outputs[t.source].recovered
                if t.source in built.outputs
                else built.balance.made[t.source]
            )
            cost = unit_cost(add_lines([spent, fl.feed_cost], shape), made)
        per_unit = transfer_price(
            t.basis,
            price=price,
            payable=t.payable,
            charges=times(t.charges, escalate),
            cost=cost,
            margin=t.margin,
            fixed=None if t.fixed is None else times(t.fixed, escalate),
        )
        value = np.asarray(np.broadcast_to(units * per_unit, shape), dtype=np.float64)
        seller, buyer = out[t.seller], out[t.buyer]
        seller.sales.append((L.transfer_sale(t.name), value))
        buyer.purchases.append((L.transfer_purchase(t.name), value))
        royalty: Number = 0.0
        if t.royalty_base == "transfer":  # the transfer value replaces what the mine's royalty counts
            counted = units * src.payable * price if isinstance(src, MineInputs) else 0.0
            royalty = times(value - counted, src.royalty_share)
        by_product = dict(seller.by_product)
        by_product[src.product] = add_lines([by_product.get(src.product, 0.0), value], shape)
        memos = [
            *seller.memos,
            (L.transfer_price(t.name, src.unit), per_unit),
            (L.transfer_market(t.name, src.unit), price),
        ]
        out[t.seller] = Transfers(
            seller.sales, seller.purchases, add_lines([seller.royalty, royalty], shape), by_product, memos
        )
    return out


def _scope(inputs: EngineInputs, e: EntityInputs) -> EngineInputs:
    """The inputs of one entity: its streams, phases, lines and contracts, its finance; the
    deal's overheads and closure if it is the operator."""
    own = e.streams
    # a royalty sold is on one entity's output: the other entities' stacks do not hold its levy
    elsewhere = {sale.levy for sale in inputs.royalties_sold if sale.entity != e.name}
    fiscal = inputs.fiscal
    if elsewhere:
        fiscal = replace(fiscal, levies=tuple(levy for levy in fiscal.levies if levy.name not in elsewhere))
    return replace(
        inputs,
        fiscal=fiscal,
        royalties_sold=tuple(sale for sale in inputs.royalties_sold if sale.entity == e.name),
        phases={k: v for k, v in inputs.phases.items() if k in e.phases},
        mines=tuple(m for m in inputs.mines if m.name in own),
        processing=tuple(p for p in inputs.processing if p.name in own),
        stream_order=tuple(n for n in inputs.stream_order if n in own),
        direct=tuple(
            d for d in inputs.direct if (d.phase in e.phases if d.phase is not None else e.operator)
        ),
        overheads=inputs.overheads if e.operator else 0.0,
        closure=inputs.closure if e.operator else 0.0,
        finance=e.finance,
        offtakes=tuple(
            replace(o, streams=tuple(n for n in o.streams if n in own))
            for o in inputs.offtakes
            if any(n in own for n in o.streams)
        ),
        metal_streams=tuple(m for m in inputs.metal_streams if any(n in own for n in m.streams)),
        entities=(),
        transfers=(),
    )


def _one_year(amount: Number, index: int, n_periods: int, escalate: Number) -> Number:
    """``amount`` (the deal's money before escalation, a number or (S, 1)) in period ``index``."""
    at = np.zeros(n_periods)
    at[index] = 1.0
    return times(np.asarray(amount, dtype=np.float64) * at, escalate)


def _metal_streams(
    inputs: EngineInputs, balance: Balance, escalate: Number, shape: tuple[int, int]
) -> SoldStreams:
    """Value each stream sold for cash in the file's order (docs/methodology.md, streams and
    royalties sold for cash): its share by tier of the product's payable units sold, from the
    deposit year on and from what earlier streams left, at the stream price. The adjustment
    bears royalty as the streams that sell the product do (pro rata to their paid units); the
    deposit is recognised as income in step with the units delivered."""
    if not inputs.metal_streams:
        return SoldStreams([], [], {}, 0.0, {}, {}, 0.0)
    every: list[MineInputs | ProcessingInputs] = [*inputs.mines, *inputs.processing]
    streams = {s.name: s for s in every}
    lines: list[tuple[L.Line, Number]] = []
    deposits: list[tuple[L.Line, Number]] = []
    by_product: dict[str, Number] = {}
    royalty: Number = 0.0
    cash: dict[str, FloatArray] = {}
    taken: dict[str, FloatArray] = {}
    income: list[Number] = []
    for m in inputs.metal_streams:
        paid = {n: balance.sold[n] * streams[n].payable for n in m.streams}
        total = np.asarray(np.broadcast_to(add_lines(list(paid.values()), shape), shape), dtype=np.float64)
        have = total - taken.get(m.product, 0.0)
        spot = times(m.spot, escalate)
        fixed = None if m.fixed is None else times(m.fixed, escalate)
        price = stream_price(spot, fixed=fixed, spot_share=m.spot_share)
        deposit = _one_year(m.deposit, m.deposit_index, shape[1], escalate)
        flows = sold_stream_flows(spot, have * m.active, price, deposit, m.shares, m.limits)
        taken[m.product] = taken.get(m.product, np.zeros(shape)) + flows.delivered
        adjustment = np.asarray(np.broadcast_to(flows.adjustment, shape), dtype=np.float64)
        lines.append((L.metal_stream(m.name), adjustment))
        deposits.append((L.stream_deposit(m.name), flows.deposit))
        by_product[m.product] = add_lines([by_product.get(m.product, 0.0), adjustment], shape)
        for n, units in paid.items():
            weight = np.divide(units, total, out=np.zeros(shape), where=total > 0)
            royalty = royalty + times(adjustment * weight, streams[n].royalty_share)
        cash[m.financier] = cash.get(m.financier, np.zeros(shape)) + np.broadcast_to(flows.financier, shape)
        income.append(recognised(flows.deposit, flows.delivered))
    return SoldStreams(lines, deposits, by_product, royalty, cash, taken, add_lines(income, shape))


def _offtakes(
    inputs: EngineInputs,
    balance: Balance,
    escalate: Number,
    shape: tuple[int, int],
    taken: dict[str, FloatArray] | None = None,
) -> Offtakes:
    """Value each offtake contract in the file's order (docs/methodology.md, offtake
    contracts): its contracted volume (a share of the product's paid units sold, or units a
    year) delivered from what earlier contracts (and the streams sold, ``taken``) left, at the
    contract price. The adjustment on
    the volume delivered bears royalty as the streams that sell it do (pro rata to their paid
    units); a take-or-pay payment for volume not delivered bears none."""
    if not inputs.offtakes:
        return Offtakes([], {}, 0.0, {})
    every: list[MineInputs | ProcessingInputs] = [*inputs.mines, *inputs.processing]
    streams = {s.name: s for s in every}
    left: dict[str, Number] = {}
    lines: list[tuple[L.Line, Number]] = []
    by_product: dict[str, Number] = {}
    royalty: Number = 0.0
    cash: dict[str, FloatArray] = {}

    def esc(x: Number | None) -> Number | None:
        return None if x is None else times(x, escalate)

    for o in inputs.offtakes:
        paid = {n: balance.sold[n] * streams[n].payable for n in o.streams}
        total = np.asarray(add_lines(list(paid.values()), shape), dtype=np.float64)
        have = left.get(
            o.product, total if o.product not in (taken or {}) else total - (taken or {})[o.product]
        )
        benchmark = times(o.benchmark, escalate)
        price = contract_price(
            benchmark,
            discount=o.discount,
            floor=esc(o.floor),
            cap=esc(o.cap),
            upside_share=o.upside_share,
            reference=esc(o.reference),
        )
        contracted = (total * o.share if o.share is not None else o.units) * o.active
        flows = offtake_flows(benchmark, have, price, contracted, take_or_pay=o.take_or_pay)
        left[o.product] = have - flows.delivered
        adjustment = np.asarray(np.broadcast_to(flows.adjustment, shape), dtype=np.float64)
        lines.append((L.offtake(o.name), adjustment))
        by_product[o.product] = add_lines([by_product.get(o.product, 0.0), adjustment], shape)
        on_delivered = flows.price_adjustment
        for n, units in paid.items():
            weight = np.divide(units, total, out=np.zeros(shape), where=total > 0)
            royalty = royalty + times(on_delivered * weight, streams[n].royalty_share)
        cash[o.counterparty] = cash.get(o.counterparty, np.zeros(shape)) - adjustment
    return Offtakes(lines, by_product, royalty, cash)


def _streams(inputs: EngineInputs, escalate: Number) -> Built:
    """Every stream's flows (in the file's order), the material balance, what each mine
    stream mines and recovers, and where temporary-closure rules closed streams."""
    closures = temporary_closures(
        inputs.mines, inputs.processing, escalate, inputs.opex_fx, inputs.timeline.shape
    )
    outputs = {s.name: mine_output(s) for s in closures.mines}
    balance = material_balance({k: v.recovered for k, v in outputs.items()}, closures.processing)
    by_name = {s.name: mine_flows(s, outputs[s.name], balance.sold[s.name], escalate) for s in closures.mines}
    for p in closures.processing:
        bought = balance.bought.get(p.name, 0.0)
        by_name[p.name] = processing_flows(p, balance.made[p.name], balance.sold[p.name], bought, escalate)
    return Built([by_name[name] for name in inputs.stream_order], balance, outputs, closures)


def _closure_entries(
    closures: Closures, escalate: Number, opex_fx: Number, shape: tuple[int, int]
) -> tuple[list[tuple[L.Line, Number]], list[tuple[L.Line, Number]]]:
    """The cash lines of temporary closures (care and maintenance, closing and reopening costs,
    operating costs in the deal's basis, x the local-currency cost factor) and each stream's
    memo line of the years it is closed; none without a rule."""
    if not closures.years:
        return [], []
    costs: dict[L.Line, list[Number]] = {L.CARE_AND_MAINTENANCE: [], L.TEMPORARY_CLOSING: [], L.REOPENING: []}
    for name, c in closures.years.items():
        rule = closures.rules[name]
        costs[L.CARE_AND_MAINTENANCE].append(c.closed * times(rule.care_and_maintenance, escalate))
        costs[L.TEMPORARY_CLOSING].append(c.closing * times(rule.closing_cost, escalate))
        costs[L.REOPENING].append(c.reopening * times(rule.reopening_cost, escalate))
    cash: list[tuple[L.Line, Number]] = [
        (line, -add_lines(parts, shape, scale=opex_fx)) for line, parts in costs.items()
    ]
    memo: list[tuple[L.Line, Number]] = [(L.closed(name), c.closed) for name, c in closures.years.items()]
    return cash, memo


def balance_ledger(inputs: EngineInputs, balance: Balance, outputs: dict[str, MineOutput]) -> Ledger:
    """The material balance as a ledger of quantities: per stream, units mined, recovered, fed
    from each source, bought, lost in processing, made, fed to each processing stream, sold."""
    tl = inputs.timeline
    streams: list[MineInputs | ProcessingInputs] = [*inputs.mines, *inputs.processing]
    units = {s.name: s.unit for s in streams}
    processing = {p.name: p for p in inputs.processing}
    entries: list[tuple[L.Line, Number]] = []
    for name in inputs.stream_order:
        unit = units[name]
        if name in outputs:
            entries += [
                (L.quantity(name, "mined", unit), outputs[name].mined),
                (L.quantity(name, "recovered", unit), outputs[name].recovered),
            ]
        else:
            entries += [
                (L.quantity(name, "fed from", units[src], src), v)
                for (src, to), v in balance.fed.items()
                if to == name
            ]
            if processing[name].purchase_price is not None:
                entries.append((L.quantity(name, "bought", unit), balance.bought[name]))
            if name in balance.lost:
                entries.append((L.quantity(name, "lost in processing", unit), balance.lost[name]))
            entries.append((L.quantity(name, "made", unit), balance.made[name]))
        entries += [
            (L.quantity(name, "fed to", unit, to), v) for (src, to), v in balance.fed.items() if src == name
        ]
        entries.append((L.quantity(name, "sold", unit), balance.sold[name]))
    return Ledger.build(tl.periods.labels, tl.n_scenarios, entries)


def _given(inputs: EngineInputs) -> dict[str, list[tuple[DirectInputs, FloatArray]]]:
    """The lines given directly, by kind, in the deal's basis with the cost factor of their kind."""
    tl = inputs.timeline
    factors = {
        "operating_cost": inputs.opex_fx,
        "initial_capex": inputs.capex_fx,
        "sustaining_capex": inputs.capex_fx,
        "closure": inputs.capex_fx,
    }
    out: dict[str, list[tuple[DirectInputs, FloatArray]]] = {}
    for d in inputs.direct:
        amount = add_lines([times(d.amount, tl.escalation)], tl.shape, scale=factors.get(d.kind, 1.0))
        out.setdefault(d.kind, []).append((d, amount))
    return out


def _output_profile(
    outputs: dict[str, MineOutput], n_periods: int, made: dict[str, Number] | None = None
) -> FloatArray:
    """The share of the life's output in each period: each mine stream's units mined over its
    life's, averaged over the streams (units of production, cost depletion). A company with no
    mine (a refinery of its own) takes its processing streams' output, ``made``, instead."""
    shares = []
    amounts = [out.mined for out in outputs.values()]
    if not any(np.any(np.asarray(a) > 0) for a in amounts) and made:
        amounts = list(made.values())
    for amount in amounts:
        mined = np.asarray(amount, dtype=np.float64)
        mined = mined.mean(axis=0) if mined.ndim == 2 else np.broadcast_to(mined, (n_periods,))
        total = float(mined.sum())
        if total > 0:
            shares.append(mined / total)
    if not shares:
        return np.zeros(n_periods)
    out_profile: FloatArray = np.mean(shares, axis=0)
    return out_profile


def _levy_entries(f: FiscalInputs, fp: FiscalPass, to_nominal: Number) -> list[tuple[L.Line, Number]]:
    """The levies' cash lines (levies with one label share a line) and their memo lines."""
    by_line: dict[L.Line, list[FloatArray]] = {}
    for levy in f.levies:
        by_line.setdefault(L.levy(levy.label, levy.line), []).append(fp.paid[levy.name])
    entries: list[tuple[L.Line, Number]] = [
        (line, -sum(parts[1:], parts[0])) for line, parts in by_line.items()
    ]
    allowances = [a for name, a in fp.allowances.items() if f.classes[name].book == "tax"]
    entries.append((L.DEPRECIATION, sum(allowances[1:], allowances[0]) if allowances else 0.0))
    if len(fp.allowances) > 1:
        entries += [(L.allowances(name), a) for name, a in fp.allowances.items()]

    def real(x: FloatArray) -> FloatArray:
        return x if isinstance(to_nominal, float) and to_nominal == 1.0 else x / to_nominal

    if f.simple:
        tax = fp.results["income_tax"]
        entries += [
            (L.TAXABLE_INCOME, real(tax.base)),
            (L.LOSSES_CARRIED, real(tax.losses_carried)),
            (L.FLOOR_TAX, real(fp.results["minimum_tax"].own)),
        ]
        return entries
    for levy in f.levies:
        result = fp.results[levy.name]
        entries.append((L.levy_base(levy.name), real(result.base)))
        if levy.carry_forward != 0:
            entries.append((L.levy_losses(levy.name), real(result.losses_carried)))
    return entries


def _company_ledger(
    inputs: EngineInputs,
    built: Built,
    trade: Transfers | None = None,
    balance_lines: Ledger | None = None,
    taxes: FiscalPass | None = None,
) -> tuple[Ledger, ProjectParts]:
    """Every cash and memo line of one company (the whole deal, or one entity whose inputs
    hold only its streams, phases and finance), unlevered, for one chunk of scenarios, with
    what its transfers to and from other entities add (``trade``)."""
    tl = inputs.timeline
    shape = tl.shape
    esc = tl.escalation
    f = inputs.fiscal
    flows, balance, outputs, closures = built.flows, built.balance, built.outputs, built.closures
    trade = trade if trade is not None else Transfers([], [], 0.0, {})
    internal_sales = add_lines([v for _, v in trade.sales], shape)
    internal_purchases = add_lines([v for _, v in trade.purchases], shape)
    closure_cash, closure_memo = _closure_entries(closures, esc, inputs.opex_fx, shape)
    streams: list[MineInputs | ProcessingInputs] = [*inputs.mines, *inputs.processing]
    duties = [d for s in streams for d in stream_duties(s, _flow_of(flows, s.name), esc)]
    tariff = total_tariffs(duties)
    direct = _given(inputs)

    def given(kind: str) -> list[Number]:
        return [amount for _, amount in direct.get(kind, [])]

    revenue_lines = [np.asarray(fl.revenue, dtype=np.float64) for fl in flows]
    sold = _metal_streams(inputs, balance, esc, shape)
    offtakes = _offtakes(inputs, balance, esc, shape, sold.taken)
    adjustments = [a for _, a in sold.lines] + [a for _, a in offtakes.lines]
    revenue = add_lines([*revenue_lines, *given("revenue"), *adjustments, internal_sales], shape)
    charges = add_lines([fl.charges for fl in flows], shape)
    charges_given = add_lines(given("selling_charge"), shape)
    bearing = [offtakes.royalty_bearing] if offtakes.lines else []
    bearing += [sold.royalty_bearing] if sold.lines else []
    bearing += [trade.royalty] if trade.sales else []
    mine_value = add_lines([fl.royalty_base for fl in flows] + given("revenue") + bearing, shape)
    # a net smelter return: less the selling charges on royalty-bearing sales, never below zero
    nsr = np.maximum(
        add_lines([mine_value], shape, minus=[fl.royalty_charges for fl in flows] + given("selling_charge")),
        0.0,
    )
    mining = add_lines([fl.mining_cost for fl in flows], shape, scale=inputs.opex_fx)
    refining = add_lines([fl.conversion_cost for fl in flows], shape, scale=inputs.opex_fx)
    feed = add_lines([fl.feed_cost for fl in flows], shape)
    overheads = add_lines([times(inputs.overheads, esc)], shape, scale=inputs.opex_fx)
    operating_given = add_lines(given("operating_cost"), shape)
    operating = add_lines(
        [mining, refining, feed, overheads, operating_given, internal_purchases],
        shape,
        minus=[c for _, c in closure_cash],
    )
    tariff_borne = add_lines([tariff.borne_by_exporter], shape)
    turnover = add_lines([revenue], shape, minus=[tariff_borne])
    # working capital is a balance held in money of the day: in real terms it loses value; the
    # balances between entities are settled within the year (they would cancel in the project)
    to_nominal = np.asarray(tl.to_nominal, dtype=np.float64)
    wc = working_capital(
        inputs.receivable_days,
        inputs.stock_days,
        (turnover - internal_sales) * to_nominal,
        (operating - internal_purchases) * to_nominal,
    )
    wc = wc / to_nominal
    initial: dict[str, Number] = {}
    capital: list[Capital] = []
    sustaining_by_phase: list[Number] = []
    for name, phase in inputs.phases.items():
        # total x its spread: a total that varies by scenario costs one (S, T) pass
        spread = add_lines([times(phase.capex_spread, esc)], shape, scale=inputs.capex_fx)
        initial[name] = np.asarray(phase.capex_total * spread, dtype=np.float64)
        spent = add_lines([times(phase.sustaining, esc)], shape, scale=inputs.capex_fx)
        sustaining_by_phase.append(spent)
        capital += [
            Capital("initial", phase.capital_class, initial[name], f.depreciation_start[name]),
            Capital("sustaining", phase.capital_class, spent),
        ]
    for d, amount in direct.get("initial_capex", []):
        capital.append(Capital("initial", d.capital_class, amount, d.depreciation_start))
    for d, amount in direct.get("sustaining_capex", []):
        capital.append(Capital("sustaining", d.capital_class, amount))
    capex = add_lines(list(initial.values()), shape)
    sustaining = add_lines(sustaining_by_phase, shape)
    closure = add_lines([times(inputs.closure, esc)], shape, scale=inputs.capex_fx)
    all_closure = add_lines([closure, *given("closure")], shape)
    selling = add_lines([charges, charges_given], shape)
    quantities: dict[str, Number] = {
        "revenue": revenue,
        "turnover": turnover,
        "mine_value": mine_value,
        "mine_nsr": nsr,
        "selling_charges": selling,
        "tariff_borne": tariff_borne,
        "operating_costs": operating,
        "ebitda": add_lines([turnover], shape, minus=[selling, operating]),
        "closure": all_closure,
        "salvage": add_lines(given("salvage"), shape),
        "initial_capex": add_lines([capex, *given("initial_capex")], shape),
        "sustaining_capex": add_lines([sustaining, *given("sustaining_capex")], shape),
        "interest": 0.0,
        "charges:lines": charges_given,
        **{f"line:{d.name}": amount for k in direct for d, amount in direct[k]},
    }
    needed = f.needed  # the quantities by product only where a levy reads them
    for s, fl in zip(streams, (_flow_of(flows, s.name) for s in streams), strict=True):
        gross, price, sales = f"gross:{s.product}", f"price:{s.product}", f"revenue:{s.product}"
        if "gross:*" in needed:  # sales less their own selling charges, by product
            quantities[gross] = add_lines([quantities.get(gross, 0.0), fl.revenue], shape, minus=[fl.charges])
        if price in needed:
            quantities[price] = times(s.price, esc)
        if sales in needed:
            quantities[sales] = add_lines([quantities.get(sales, 0.0), fl.revenue], shape)
    by_product = [*sold.by_product.items(), *offtakes.by_product.items(), *trade.by_product.items()]
    for product, adjustment in by_product:
        for key in (f"gross:{product}", f"revenue:{product}"):  # the contract price is the sale price
            if key in quantities:
                quantities[key] = add_lines([quantities[key], adjustment], shape)
    upfront, transfers = _upfront(inputs, quantities, sold, offtakes, esc, shape)
    made = {p.name: balance.made[p.name] for p in inputs.processing}
    profile = _output_profile(outputs, tl.n_periods, made)
    fp = taxes if taxes is not None else fiscal_pass(f, quantities, capital, tl.to_nominal, profile, shape)
    signs = {kind: (1.0 if inflow else -1.0) for kind, inflow in DIRECT_KINDS.items()}
    given_lines = [
        (L.direct(d.name, d.label, d.kind), signs[d.kind] * a) for k in direct for d, a in direct[k]
    ]
    levies = _levy_entries(f, fp, tl.to_nominal)
    royalties = [e for e in levies if e[0].group is L.Group.ROYALTY]
    others = [e for e in levies if e[0].group is not L.Group.ROYALTY]
    entries: list[tuple[L.Line, Number]] = [
        *((L.revenue(fl.name), r) for fl, r in zip(flows, revenue_lines, strict=True)),
        *sold.lines,
        *offtakes.lines,
        *trade.sales,
        (L.SELLING_CHARGES, -charges),
        (L.TARIFF_BORNE, -tariff_borne),
        *royalties,
        (L.MINING, -mining),
        (L.REFINING, -refining),
        (L.PURCHASED_FEED, -feed),
        *((line, -v) for line, v in trade.purchases),
        (L.OVERHEADS, -overheads),
        *closure_cash,
        (L.WORKING_CAPITAL, wc),
        (L.INITIAL_CAPEX, -capex),
        (L.SUSTAINING_CAPEX, -sustaining),
        (L.CLOSURE, -closure),
        *upfront,
        *given_lines,
        *others,
        (L.TARIFF_BORNE_BY_BUYERS, tariff.borne_by_buyers),
        *((L.duty_collected(g), d) for g, d in tariff.duty_by_government.items()),
        *closure_memo,
        *trade.memos,
    ]
    ledger = Ledger.build(tl.periods.labels, tl.n_scenarios, entries)
    capex_by_phase: dict[str, Number] = dict(initial)
    draws = {name: p.draw_periods for name, p in inputs.phases.items()}
    for d, amount in direct.get("initial_capex", []):  # a line of a phase's capital is its capital
        if d.phase is not None:
            capex_by_phase[d.phase] = add_lines([capex_by_phase[d.phase], amount], shape)
            paying = np.asarray(amount) > 0
            in_period = paying.any(axis=0) if paying.ndim == 2 else paying
            draws[d.phase] = np.maximum(draws[d.phase], np.asarray(in_period, dtype=np.float64))
    all_initial = quantities["initial_capex"]
    parts = ProjectParts(
        quantities=quantities,
        capital=tuple(capital),
        profile=profile,
        unlevered=fp,
        tariff=tariff,
        capex_by_phase=capex_by_phase,
        draws_by_phase=draws,
        initial_capex=np.asarray(all_initial, dtype=np.float64),
        capital_spent=np.asarray(
            add_lines([all_initial, quantities["sustaining_capex"]], shape), dtype=np.float64
        ),
        balance=balance_ledger(inputs, balance, outputs) if balance_lines is None else balance_lines,
        offtake_cash=transfers,
    )
    return ledger, parts


def build_ledger(inputs: EngineInputs) -> tuple[Ledger, ProjectParts]:
    """Every cash and memo line of the project (unlevered) for one chunk of scenarios.

    Lines keep their natural shape: (T,) when no scenario changes them, (S, T) otherwise. A
    deal of several entities is valued entity by entity on one material balance (each with
    its transfers and its own levies); the project's ledger is the sum of theirs, where the
    transfers cancel (docs/methodology.md §31).
    """
    built = _streams(inputs, inputs.timeline.escalation)
    if not inputs.entities:
        return _company_ledger(inputs, built)
    trades = _transfers(inputs, built, inputs.timeline.escalation)
    balance = balance_ledger(inputs, built.balance, built.outputs)
    entities = []
    for e in inputs.entities:
        scoped = _scope(inputs, e)
        ledger, parts = _company_ledger(scoped, built.of(e.streams), trades[e.name], balance)
        entities.append(EntityPart(e.name, scoped, ledger, parts))
    group = None
    if inputs.fiscal.consolidated:
        tl = inputs.timeline
        group = _group_base(inputs, built, entities, trades)
        own = _royalties_of(inputs.fiscal, [e.parts.unlevered for e in entities], tl.shape)
        taxed = fiscal_pass(
            inputs.fiscal, group.quantities, group.capital, tl.to_nominal, group.profile, tl.shape, own
        )
        shares = _allocate(
            inputs.fiscal, taxed, {e.name: e.parts.unlevered for e in entities}, group, tl.shape
        )
        entities = [
            EntityPart(
                e.name,
                e.inputs,
                *_company_ledger(
                    e.inputs, built.of(own.streams), trades[e.name], balance, taxes=shares[e.name]
                ),
            )
            for e, own in zip(entities, inputs.entities, strict=True)
        ]
        return _consolidate(inputs, entities, balance, group, taxed)
    return _consolidate(inputs, entities, balance)


@dataclass(frozen=True)
class GroupBase:
    """What a consolidated tax group's income taxes are computed on: the sum of its entities'
    quantities with the transfers between them taken out, all their capital, the deal's output
    profile, and the entity that bears a tax no entity has on its own (the operator)."""

    quantities: dict[str, Number]
    capital: tuple[Capital, ...]
    profile: FloatArray
    operator: str


def _group_base(
    inputs: EngineInputs, built: Built, entities: list[EntityPart], trades: dict[str, Transfers]
) -> GroupBase:
    """The group's base (docs/methodology.md §31, consolidation): each quantity summed over the
    entities (a price is a price: the first entity's), less the sales between them in revenue
    and turnover (and by product) and the purchases in operating costs; EBITDA, where they
    cancel, is the sum."""
    shape = inputs.timeline.shape
    keys = list(dict.fromkeys(k for e in entities for k in e.parts.quantities))
    q: dict[str, Number] = {}
    for k in keys:
        held = [e.parts.quantities[k] for e in entities if k in e.parts.quantities]
        q[k] = held[0] if k.startswith("price:") else add_lines(held, shape)
    sales = add_lines([v for t in trades.values() for _, v in t.sales], shape)
    for k in ("revenue", "turnover"):
        q[k] = add_lines([q[k]], shape, minus=[sales])
    purchases = add_lines([v for t in trades.values() for _, v in t.purchases], shape)
    q["operating_costs"] = add_lines([q["operating_costs"]], shape, minus=[purchases])
    for t in trades.values():
        for product, value in t.by_product.items():
            for k in (f"gross:{product}", f"revenue:{product}"):
                if k in q:
                    q[k] = add_lines([q[k]], shape, minus=[value])
    operator = next(e.name for e in inputs.entities if e.operator)
    return GroupBase(
        quantities=q,
        capital=tuple(c for e in entities for c in e.parts.capital),
        profile=_output_profile(
            built.outputs,
            inputs.timeline.n_periods,
            {p.name: built.balance.made[p.name] for p in inputs.processing},
        ),
        operator=operator,
    )


#: The memo lines of a levy's base and losses (a group's are not the sum of its entities').
_BASE_MEMOS = ("taxable_income", "losses_carried", "floor_tax", "levy_base:", "levy_losses:")


def _group_memos(inputs: EngineInputs, ledger: Ledger, taxed: FiscalPass) -> Ledger:
    """The project's ledger of a consolidated group with the bases and losses of its levies
    (memo lines) replaced by the group's: the sum of the entities' stand-alone bases is not what
    the group is taxed on."""
    group = {
        line.key: np.asarray(v, dtype=np.float64)
        for line, v in _levy_entries(inputs.fiscal, taxed, inputs.timeline.to_nominal)
        if not line.cash and line.key.startswith(_BASE_MEMOS)
    }
    values = tuple(group.get(line.key, v) for line, v in zip(ledger.lines, ledger.values, strict=True))
    return Ledger(ledger.years, ledger.n_scenarios, ledger.lines, values)


def _royalties_of(f: FiscalInputs, alone: list[FiscalPass], shape: tuple[int, int]) -> dict[str, LevyResult]:
    """A tax group's royalty-line levies: its entities' own, summed (each entity's royalty is on
    its own sales, the transfers included; the group's income taxes deduct what they pay)."""

    def total(parts: list[FloatArray]) -> FloatArray:
        out: FloatArray = np.sum([np.broadcast_to(x, shape) for x in parts], axis=0)
        return out

    out: dict[str, LevyResult] = {}
    for levy in f.levies:
        if levy.line != "royalty":
            continue
        results = [fp.results[levy.name] for fp in alone if levy.name in fp.results]
        claimed = {k for r in results for k in r.claimed}
        out[levy.name] = LevyResult(
            accrued=total([r.accrued for r in results]),
            paid=total([r.paid for r in results]),
            base=total([r.base for r in results]),
            losses_carried=total([r.losses_carried for r in results]),
            own=total([r.own for r in results]),
            claimed={k: total([r.claimed[k] for r in results if k in r.claimed]) for k in claimed},
        )
    return out


def _allocate(
    f: FiscalInputs, group: FiscalPass, alone: dict[str, FiscalPass], base: GroupBase, shape: tuple[int, int]
) -> dict[str, FiscalPass]:
    """Each entity's part of a consolidated group's income taxes (the levies on the ``tax``
    line): the group's tax of a year in proportion to the entity's stand-alone tax that year
    (the operator's when no entity has any); its royalties, allowances and memo bases are its
    own (docs/methodology.md §31)."""
    taxes = [levy.name for levy in f.levies if levy.line == "tax"]
    out: dict[str, FiscalPass] = {
        name: FiscalPass(fp.results, dict(fp.paid), fp.allowances) for name, fp in alone.items()
    }
    for levy in taxes:
        own = {n: np.maximum(np.broadcast_to(fp.paid[levy], shape), 0.0) for n, fp in alone.items()}
        total = np.sum(list(own.values()), axis=0)
        paid = np.broadcast_to(group.paid[levy], shape)
        for name in alone:
            weight = np.divide(own[name], total, out=np.zeros(shape), where=total > 0)
            if name == base.operator:
                weight = np.where(total > 0, weight, 1.0)
            out[name].paid[levy] = paid * weight
    return out


#: The lines of an entity that cancel in the project (their keys start so).
_TRANSFERS = ("transfer_sale:", "transfer_purchase:")
_INTERNAL = (*_TRANSFERS, "transfer_price:", "transfer_market:")


def _consolidate(
    inputs: EngineInputs,
    entities: list[EntityPart],
    balance: Ledger,
    group: GroupBase | None = None,
    taxed: FiscalPass | None = None,
) -> tuple[Ledger, ProjectParts]:
    """The project of several entities: every line the sum of the entities' (the transfers,
    which cancel, left out), ratios left out; its parts those the parties' build reads."""
    tl = inputs.timeline
    ledger = Ledger.sum([e.ledger for e in entities], tl.periods.labels, tl.n_scenarios, skip=_INTERNAL)
    if taxed is not None:  # a tax group: the project's bases and losses are the group's
        ledger = _group_memos(inputs, ledger, taxed)
    first = entities[0].parts
    shape = tl.shape
    parts = ProjectParts(
        quantities={},
        capital=tuple(c for e in entities for c in e.parts.capital),
        profile=first.profile,
        unlevered=first.unlevered,
        tariff=first.tariff,
        capex_by_phase={k: v for e in entities for k, v in e.parts.capex_by_phase.items()},
        draws_by_phase={k: v for e in entities for k, v in e.parts.draws_by_phase.items()},
        initial_capex=np.asarray(add_lines([e.parts.initial_capex for e in entities], shape)),
        capital_spent=np.asarray(add_lines([e.parts.capital_spent for e in entities], shape)),
        balance=balance,
        entities=tuple(entities),
        group=group,
    )
    return ledger, parts


def _upfront(
    inputs: EngineInputs,
    quantities: dict[str, Number],
    sold: SoldStreams,
    offtakes: Offtakes,
    escalate: Number,
    shape: tuple[int, int],
) -> tuple[list[tuple[L.Line, Number]], dict[str, FloatArray]]:
    """The upfront money of streams and royalties sold (the deposits and prices, cash lines of
    the project) and the transfers to each counterparty and financier (the offtakes', the
    streams', minus the royalties' prices; the royalty itself is a levy the financier
    collects). The upfront money is added to the ``ebitda`` the levies read as it is
    recognised: a deposit with the units delivered, a royalty's price with the royalty's base."""
    transfers: dict[str, FloatArray] = dict(offtakes.cash)
    for party, paid in sold.cash.items():
        transfers[party] = transfers[party] + paid if party in transfers else paid
    lines = list(sold.deposits)
    income: list[Number] = [sold.income] if sold.lines else []
    for sale in inputs.royalties_sold:
        price = np.asarray(np.broadcast_to(_one_year(sale.price, sale.index, shape[1], escalate), shape))
        lines.append((L.royalty_sale(sale.name), price))
        income.append(recognised(price, quantities.get(sale.base, 0.0)))
        transfers[sale.financier] = transfers.get(sale.financier, np.zeros(shape)) - price
    if income:
        quantities["ebitda"] = add_lines([quantities["ebitda"], *income], shape)
    return lines, transfers


def _flow_of(flows: list[StreamFlows], name: str) -> StreamFlows:
    return next(f for f in flows if f.name == name)


#: The per-scenario results an evaluation can compute; all of them by default.
METRICS = (
    "npv_usd",
    "irr",
    "pre_tax_npv_usd",
    "pre_tax_irr",
    "payback_years",
    "peak_funding_usd",
    "discount_rate",
)


@dataclass(frozen=True)
class ChunkResult:
    """The requested metrics of a chunk of scenarios, each (S,), and the ledgers if kept (with
    each entity's ledger and parties' ledger in a deal of several entities)."""

    values: dict[str, FloatArray]
    ledger: Ledger | None
    parties: Ledger | None = None
    balance: Ledger | None = None
    entities: dict[str, tuple[Ledger, Ledger]] | None = None
    rates: dict[str, FloatArray] | None = None  # each party's discount rate, (S,), with entities


#: The debt metrics beyond ``debt_usd`` and ``min_dscr``: computed by default when a debt-stress
#: rule is on, on request for any deal that borrows (docs/methodology.md §23).
DEBT_METRICS = ("mean_dscr", "llcr", "default_year", "lenders_loss_usd")


def party_metrics(deal: Deal) -> tuple[str, ...]:
    """The per-party metrics of ``deal``: ``{party}.npv_usd`` and ``{party}.irr`` for every party
    (with the buyer and guarantor of the debt-stress rules), ``{government}.take`` for every
    state, ``debt_usd`` and ``min_dscr`` if it borrows, and :data:`DEBT_METRICS` if a
    debt-stress rule is on."""
    parties = [
        *deal.party_names(),
        *(p for p in deal.finance.stress_parties() if p not in deal.party_names()),
    ]
    names = [f"{p}.{m}" for p in parties for m in ("npv_usd", "irr")]
    names += [f"{g}.take" for g in deal.party_names() if deal.party_role(g) == "government"]
    if deal.borrows:
        names += ["debt_usd", "min_dscr"]
    if deal.finance.stressed:
        names += list(DEBT_METRICS)
    names += [f"{e}.{m}" for e in deal.entities for m in ENTITY_METRICS]
    return tuple(names)


#: Each entity's results (docs/methodology.md §31), present values at the project's rate in
#: the deal's basis: its unlevered after-tax NPV, the levies it pays and its transfers (sales
#: less purchases).
ENTITY_METRICS = ("npv_usd", "levies_usd", "transfers_usd")


def all_metrics(deal: Deal) -> tuple[str, ...]:
    """The metrics an evaluation of ``deal`` computes by default: :data:`METRICS`, then the
    parties'. A deal that borrows can also be asked for :data:`DEBT_METRICS`."""
    return METRICS + party_metrics(deal)


def check_metrics(deal: Deal, metrics: Sequence[str] | None) -> tuple[str, ...]:
    """The metrics to compute, in :func:`all_metrics` order (the discount rate always, it is
    free); an unknown name is an InputError."""
    known = all_metrics(deal)
    if metrics is None:
        return known
    if deal.borrows:
        known += tuple(m for m in DEBT_METRICS if m not in known)
    for m in metrics:
        if m not in known:
            raise InputError(
                f"unknown metric {m!r}",
                field="metrics",
                expected=", ".join(known),
                hint=did_you_mean(m, known),
            )
    return tuple(m for m in known if m in metrics or m == "discount_rate")


def _collected(f: FiscalInputs, fp: FiscalPass, shape: tuple[int, int]) -> dict[str, FloatArray]:
    """What each government collects in levies in one pass, (S, T) in the deal's money."""
    out: dict[str, FloatArray] = {}
    for levy in f.levies:
        paid = np.broadcast_to(fp.paid[levy.name], shape)
        out[levy.collector] = out[levy.collector] + paid if levy.collector in out else np.array(paid)
    return out


def _taxes(f: FiscalInputs, fp: FiscalPass, shape: tuple[int, int]) -> FloatArray:
    """The levies after the pre-tax cash flow (income taxes), (S, T)."""
    return np.asarray(
        np.broadcast_to(add_lines([fp.paid[v.name] for v in f.levies if v.line == "tax"], shape), shape),
        dtype=np.float64,
    )


@dataclass(frozen=True)
class Borrowing:
    """One company's debt as scheduled and as paid under the stress rules, and the interest its
    levered income taxes deduct (interest and fees paid, capitalised interest amortised)."""

    debt: DebtFlows | None
    stressed: StressedDebt | None
    interest: Number


def _borrowing(inputs: EngineInputs, ledger: Ledger, parts: ProjectParts) -> Borrowing:
    """The debt of one company (none: no debt, no interest)."""
    fin = inputs.finance
    if not fin.debt:
        return Borrowing(None, None, 0.0)
    tl = inputs.timeline
    f = inputs.fiscal
    after = np.ascontiguousarray(ledger.after_tax())
    # CFADS: operating cash after tax and sustaining capex; initial capex is funded by the
    # drawdowns and the owners' injections, not by the cash available for debt service
    cfads = np.ascontiguousarray(after + parts.initial_capex)
    debt = debt_flows(fin.debt, parts.capex_by_phase, parts.draws_by_phase, cfads, tl.to_nominal)
    paid: DebtFlows | StressedDebt = debt
    stressed = None
    if fin.stress is not None:
        stressed = paid = debt_stress(debt, cfads, fin.stress, tl.to_nominal)
    # interest and fees are deducted when paid; capitalised interest is amortised from the
    # first production, at its cost in money of the day
    to_nominal = np.asarray(tl.to_nominal, dtype=np.float64)
    idc = (paid.capitalised_interest * to_nominal).sum(axis=1, keepdims=True)
    amortised = straight_line(idc, tl.first_production, f.idc_years, f.write_off, tl.n_periods)
    interest = add_lines([paid.interest_paid, paid.fees, amortised / to_nominal], tl.shape)
    return Borrowing(debt, stressed, interest)


def _levered(inputs: EngineInputs, parts: ProjectParts, interest: Number) -> FiscalPass:
    """The levies of one company with its interest deducted."""
    tl = inputs.timeline
    quantities = {**parts.quantities, "interest": interest}
    return fiscal_pass(inputs.fiscal, quantities, parts.capital, tl.to_nominal, parts.profile, tl.shape)


def build_parties(inputs: EngineInputs, ledger: Ledger, parts: ProjectParts) -> Ledger:
    """The debt schedule and each party's cash, as a ledger whose cash lines are the parties'
    (their total is the cash before state take). In a deal of several entities, each entity's
    cash is split among its own owners, lenders and the governments its levies go to, and each
    party's cash is the sum over the entities (:func:`entity_parties`)."""
    if parts.entities:
        return _merge_parties(inputs, entity_parties(inputs, parts))
    b = _borrowing(inputs, ledger, parts)
    levered = parts.unlevered if b.debt is None else _levered(inputs, parts, b.interest)
    return _split(inputs, ledger, parts, b, levered)


def _split(
    inputs: EngineInputs, ledger: Ledger, parts: ProjectParts, b: Borrowing, levered: FiscalPass
) -> Ledger:
    """Each party's cash from one company with its debt ``b`` and levered levies."""
    tl = inputs.timeline
    shape = tl.shape
    f = inputs.fiscal
    fin = inputs.finance
    after = np.ascontiguousarray(ledger.after_tax())
    debt, stressed = b.debt, b.stressed
    unlevered_by = _collected(f, parts.unlevered, shape)
    levered_by = _collected(f, levered, shape)
    levered_tax = _taxes(f, levered, shape)
    split = party_flows(
        fin,
        after_tax=after,
        unlevered=unlevered_by,
        levered=levered_by,
        levered_tax=levered_tax,
        tariff=parts.tariff,
        debt=debt,
        book_value=np.cumsum(parts.capital_spent - ledger.line(L.DEPRECIATION), axis=-1),
        stress=stressed,
        offtake=parts.offtake_cash,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        takes = [
            (L.government_take(g), np.where(split.pie > 0, split.cash[g] / split.pie, np.nan))
            for g in split.governments
        ]
    entries: list[tuple[L.Line, Number]] = [
        *((L.party_cash(p), cash) for p, cash in split.cash.items()),
        *takes,
        *((L.levies_collected(g), v) for g, v in levered_by.items()),
        (L.LEVERED_TAX, levered_tax),
        (L.DIVIDENDS, split.dividends),
        (L.WITHHOLDING, split.withholding),
    ]
    if stressed is not None and debt is not None:
        s = stressed
        entries += [
            (L.RESERVES, s.reserves),
            (L.DEBT_DRAWN, s.draws),
            (L.INTEREST_PAID, s.interest_paid),
            (L.INTEREST_CAPITALISED, s.capitalised_interest),
            (L.PRINCIPAL, s.principal),
            (L.SWEEP, s.prepaid),
            (L.DEBT_FEES, s.fees),
            (L.DEBT_BALANCE, s.balance),
            (L.DSCR, s.dscr),
            (L.LLCR, debt.llcr),
            (L.MISSED, s.missed),
            (L.DSRA_FUNDED, s.dsra_funded),
            (L.DSRA_DRAWN, s.dsra_drawn),
            (L.DSRA_RELEASED, s.dsra_released),
            (L.DSRA_BALANCE, s.dsra_balance),
            (L.TRAPPED, s.trapped),
            (L.SPONSOR_SUPPORT, s.support),
            (L.DEFAULT, s.defaulted),
            (L.OUTSTANDING_AT_DEFAULT, s.outstanding),
            (L.RECOVERY, s.recovery),
            (L.GUARANTEE_PAID, s.guarantee),
            (L.LENDERS_LOSS, s.loss),
        ]
    elif debt is not None:
        entries += [
            (L.DEBT_DRAWN, debt.draws),
            (L.INTEREST_PAID, debt.interest_paid),
            (L.INTEREST_CAPITALISED, debt.capitalised_interest),
            (L.PRINCIPAL, debt.principal),
            (L.DEBT_FEES, debt.fees),
            (L.DEBT_BALANCE, debt.balance),
            (L.DSCR, debt.dscr),
            (L.LLCR, debt.llcr),
        ]
    return Ledger.build(tl.periods.labels, tl.n_scenarios, entries)


def entity_parties(inputs: EngineInputs, parts: ProjectParts) -> dict[str, Ledger]:
    """Each entity's parties ledger (its debt and each party's cash from it), by entity. In a
    consolidated tax group, the levered income taxes are the group's with every entity's
    interest deducted, shared as the unlevered ones are (:func:`_allocate`)."""
    borrowed = {e.name: _borrowing(e.inputs, e.ledger, e.parts) for e in parts.entities}
    if parts.group is None or not any(b.debt is not None for b in borrowed.values()):
        levered = {
            e.name: e.parts.unlevered if b.debt is None else _levered(e.inputs, e.parts, b.interest)
            for e, b in zip(parts.entities, borrowed.values(), strict=True)
        }
    else:
        tl = inputs.timeline
        alone = {e.name: _levered(e.inputs, e.parts, borrowed[e.name].interest) for e in parts.entities}
        interest = add_lines([b.interest for b in borrowed.values()], tl.shape)
        g = parts.group
        taxed = fiscal_pass(
            inputs.fiscal,
            {**g.quantities, "interest": interest},
            g.capital,
            tl.to_nominal,
            g.profile,
            tl.shape,
            _royalties_of(inputs.fiscal, list(alone.values()), tl.shape),
        )
        levered = _allocate(inputs.fiscal, taxed, alone, g, tl.shape)
    return {
        e.name: _split(e.inputs, e.ledger, e.parts, borrowed[e.name], levered[e.name]) for e in parts.entities
    }


def _merge_parties(inputs: EngineInputs, by_entity: dict[str, Ledger]) -> Ledger:
    """The parties of a deal of several entities: every line summed over the entities; each
    government's take recomputed on the sums; DSCR and LLCR the lowest of the entities that
    borrow that year (the weakest borrower's cover); under the debt-stress rules, a default in
    a year any entity defaults (each entity's lenders, buyer and guarantor deal with its own)."""
    tl = inputs.timeline
    shape = tl.shape
    ledgers = list(by_entity.values())
    merged = Ledger.sum(ledgers, tl.periods.labels, tl.n_scenarios, skip=("take:",))
    cash = {p: merged.line(L.party_cash(p)) for p in inputs.finance.parties if merged.has(L.party_cash(p))}
    pie = merged.subtotal(L.CASH_BEFORE_STATE_TAKE)
    governments = [p for p in inputs.finance.parties if inputs.finance.roles[p] == "government"]
    with np.errstate(divide="ignore", invalid="ignore"):
        takes = [
            (L.government_take(g), np.where(pie > 0, cash[g] / pie, np.nan)) for g in governments if g in cash
        ]
    covers: list[tuple[L.Line, Number]] = []
    for line in (L.DSCR, L.LLCR):
        held = [np.broadcast_to(x.line(line), shape) for x in ledgers if x.has(line)]
        if held:
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a year no entity borrows: NaN
                covers.append((line, np.nanmin(np.stack(held), axis=0)))
    return Ledger(
        merged.years,
        merged.n_scenarios,
        (*merged.lines, *(line for line, _ in takes), *(line for line, _ in covers)),
        (*merged.values, *(np.asarray(v, dtype=np.float64) for _, v in [*takes, *covers])),
    )


def _metrics(
    inputs: EngineInputs, ledger: Ledger, parts: ProjectParts, wanted: tuple[str, ...], keep: bool
) -> ChunkResult:
    tl = inputs.timeline
    rate = tl.discount_rate
    after = ledger.after_tax()
    out: dict[str, FloatArray] = {"discount_rate": rate.copy()}
    if "npv_usd" in wanted:
        out["npv_usd"] = present_value(rate, after, tl.timing, tl.valuation_offset)
    if "irr" in wanted:
        out["irr"] = np.asarray(irr(after), dtype=np.float64)
    if "pre_tax_npv_usd" in wanted or "pre_tax_irr" in wanted:
        pre = ledger.pre_tax()
        if "pre_tax_npv_usd" in wanted:
            out["pre_tax_npv_usd"] = present_value(rate, pre, tl.timing, tl.valuation_offset)
        if "pre_tax_irr" in wanted:
            out["pre_tax_irr"] = np.asarray(irr(pre), dtype=np.float64)
    if "payback_years" in wanted or "peak_funding_usd" in wanted:
        cumulative = np.cumsum(after, axis=-1)
        if "payback_years" in wanted:
            out["payback_years"] = payback_years(after, cumulative, tl.timing, tl.payback_origin)
        if "peak_funding_usd" in wanted:
            out["peak_funding_usd"] = np.maximum(-cumulative.min(axis=-1), 0.0)
    parties = None
    by_entity: dict[str, Ledger] = {}
    if any(m not in METRICS for m in wanted) or keep:
        if parts.entities:
            by_entity = entity_parties(inputs, parts)
            parties = _merge_parties(inputs, by_entity)
        else:
            parties = build_parties(inputs, ledger, parts)
        out |= _party_values(inputs, parties, wanted)
    for e in parts.entities:
        out |= _entity_values(inputs, e, wanted)
    return ChunkResult(
        values={m: out[m] for m in wanted},
        ledger=ledger if keep else None,
        parties=parties if keep else None,
        balance=parts.balance if keep else None,
        entities={e.name: (e.ledger, by_entity[e.name]) for e in parts.entities}
        if keep and by_entity
        else None,
        rates=dict(inputs.finance.discount_rates) if keep and by_entity else None,
    )


def _entity_values(inputs: EngineInputs, e: EntityPart, wanted: tuple[str, ...]) -> dict[str, FloatArray]:
    """One entity's :data:`ENTITY_METRICS` that are wanted, at the project's rate."""
    tl = inputs.timeline

    def pv(flows: FloatArray) -> FloatArray:
        return present_value(tl.discount_rate, np.ascontiguousarray(flows), tl.timing, tl.valuation_offset)

    out: dict[str, FloatArray] = {}
    if f"{e.name}.npv_usd" in wanted:
        out[f"{e.name}.npv_usd"] = pv(e.ledger.after_tax())
    if f"{e.name}.levies_usd" in wanted:
        out[f"{e.name}.levies_usd"] = -pv(e.ledger.group_total({L.Group.ROYALTY, L.Group.TAX}))
    if f"{e.name}.transfers_usd" in wanted:
        internal = [
            a
            for line, a in zip(e.ledger.lines, e.ledger.values, strict=True)
            if line.key.startswith(_TRANSFERS)
        ]
        out[f"{e.name}.transfers_usd"] = pv(np.broadcast_to(add_lines(internal, tl.shape), tl.shape))
    return out


def _party_values(inputs: EngineInputs, parties: Ledger, wanted: tuple[str, ...]) -> dict[str, FloatArray]:
    tl = inputs.timeline
    fin = inputs.finance
    out: dict[str, FloatArray] = {}
    pie_total = parties.subtotal(L.CASH_BEFORE_STATE_TAKE).sum(axis=1)
    solved: list[tuple[FloatArray, FloatArray]] = []  # (cash, IRR): owners with equal shares share both
    for party in fin.parties:
        cash = np.ascontiguousarray(parties.line(L.party_cash(party)))
        if f"{party}.npv_usd" in wanted:
            out[f"{party}.npv_usd"] = present_value(
                fin.discount_rates[party], cash, tl.timing, tl.valuation_offset
            )
        if f"{party}.irr" in wanted:
            same = next((r for c, r in solved if np.array_equal(c, cash)), None)
            out[f"{party}.irr"] = same.copy() if same is not None else np.asarray(irr(cash), dtype=np.float64)
            solved.append((cash, out[f"{party}.irr"]))
        if f"{party}.take" in wanted:
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{party}.take"] = np.where(pie_total > 0, cash.sum(axis=1) / pie_total, np.nan)
    if "debt_usd" in wanted:
        out["debt_usd"] = parties.line(L.DEBT_DRAWN).sum(axis=1)
    if "min_dscr" in wanted or "mean_dscr" in wanted:
        dscr = parties.line(L.DSCR)
        has = ~np.isnan(dscr).all(axis=1)
        if "min_dscr" in wanted:
            low = np.nanmin(np.where(np.isnan(dscr), np.inf, dscr), axis=1)
            out["min_dscr"] = np.where(has, low, np.nan)
        if "mean_dscr" in wanted:
            count = (~np.isnan(dscr)).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                out["mean_dscr"] = np.where(has, np.nansum(dscr, axis=1) / count, np.nan)
    out |= _debt_values(inputs, parties, wanted)
    return out


def _debt_values(inputs: EngineInputs, parties: Ledger, wanted: tuple[str, ...]) -> dict[str, FloatArray]:
    """LLCR at the first year of debt service, the default year (its period label, NaN if none)
    and the lenders' loss at their rate (0 without the stress rules)."""
    tl = inputs.timeline
    out: dict[str, FloatArray] = {}
    n = parties.shape[0]
    if "llcr" in wanted:
        llcr = parties.line(L.LLCR)
        seen = ~np.isnan(llcr)
        first = np.argmax(seen, axis=1)
        out["llcr"] = np.where(seen.any(axis=1), llcr[np.arange(n), first], np.nan)
    if "default_year" in wanted:
        if parties.has(L.DEFAULT):
            hit = parties.line(L.DEFAULT) > 0
            labels = np.asarray(tl.periods.labels, dtype=np.float64)
            out["default_year"] = np.where(hit.any(axis=1), labels[np.argmax(hit, axis=1)], np.nan)
        else:
            out["default_year"] = np.full(n, np.nan)
    if "lenders_loss_usd" in wanted:
        if parties.has(L.LENDERS_LOSS):
            rate = inputs.finance.discount_rates["lenders"]
            loss = np.ascontiguousarray(parties.line(L.LENDERS_LOSS))
            out["lenders_loss_usd"] = present_value(rate, loss, tl.timing, tl.valuation_offset)
        else:
            out["lenders_loss_usd"] = np.zeros(n)
    return out


def evaluate_chunks(
    scenarios: Scenarios,
    *,
    keep_ledger: bool | None = None,
    chunk_size: int = CHUNK_SCENARIOS,
    metrics: Sequence[str] | None = None,
) -> list[ChunkResult]:
    """Value every scenario, chunk by chunk (no per-scenario loop)."""
    deal = scenarios.deal
    wanted = check_metrics(deal, metrics)
    if chunk_size < 1:
        raise InputError(f"chunks of {chunk_size} scenarios", field="chunk_size", expected="at least 1")
    n_years = deal.periods.size
    n_scenarios = scenarios.n
    keep = n_scenarios <= 1_000 if keep_ledger is None else keep_ledger
    kept = ledger_lines(len(deal.streams), len(deal.party_names())) if keep else 0
    check_fits(
        valuation_bytes(n_scenarios, n_years, n_metrics=len(wanted), kept_lines=kept, chunk=chunk_size),
        f"valuing {n_scenarios:,} scenarios" + (" and keeping their ledgers" if keep else ""),
        VALUATION_HINT,
    )
    results = []
    for chunk in scenarios.chunks(chunk_size):
        inputs = resolve(chunk.deal, chunk.overrides, chunk.n)
        # The previous chunk's ledger is freed only once this one is made (the names are
        # rebound): freed together with everything else at the end of a chunk, its memory would
        # go back to the system and every page of the next chunk would fault in anew (1.6x the
        # time of a 1e6-scenario run, measured; benchmarks/README.md).
        ledger, parts = build_ledger(inputs)
        results.append(_metrics(inputs, ledger, parts, wanted, keep))
    return results
