"""Evaluate a deal: resolve a chunk of scenarios, build its ledger and its metrics; iterate chunks.

The order of the work follows design.md: resolve → streams → trade → fiscal → ledger →
metrics → financing and parties. Each step is a kernel of the arrays the resolver made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dealcalc.engine import lines as L
from dealcalc.engine.financing import DebtFlows, debt_flows
from dealcalc.engine.fiscal import depreciation, income_tax, straight_line
from dealcalc.engine.inputs import DirectInputs, EngineInputs, MineInputs, ProcessingInputs, resolve
from dealcalc.engine.ledger import Ledger, add_lines
from dealcalc.engine.memory import check_fits
from dealcalc.engine.parties import party_flows
from dealcalc.engine.streams import (
    Balance,
    MineOutput,
    StreamFlows,
    material_balance,
    mine_flows,
    mine_output,
    processing_flows,
    stream_duties,
)
from dealcalc.engine.timeline import Number, payback_years, present_value, times
from dealcalc.engine.trade import TariffFlows, total_tariffs
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics import irr
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.models.direct import DIRECT_KINDS
from dealcalc.params import Scenarios

__all__ = [
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

    royalty: FloatArray  # positive
    profit: FloatArray  # taxable profit before losses, unlevered
    turnover: FloatArray  # realised revenue
    unlevered_tax: FloatArray
    tariff: TariffFlows
    capex_by_phase: dict[str, Number]  # positive, deal basis
    draws_by_phase: dict[str, FloatArray]  # (T,) periods each phase spends initial capital
    closure_index: int
    balance: Ledger  # the material balance, quantities by stream


def _streams(
    inputs: EngineInputs, escalate: Number
) -> tuple[list[StreamFlows], Balance, dict[str, MineOutput]]:
    """Every stream's flows (in the file's order), the material balance, and what each mine
    stream mines and recovers."""
    outputs = {s.name: mine_output(s) for s in inputs.mines}
    balance = material_balance({k: v.recovered for k, v in outputs.items()}, inputs.processing)
    by_name = {s.name: mine_flows(s, outputs[s.name], balance.sold[s.name], escalate) for s in inputs.mines}
    for p in inputs.processing:
        bought = balance.bought.get(p.name, 0.0)
        by_name[p.name] = processing_flows(p, balance.made[p.name], balance.sold[p.name], bought, escalate)
    return [by_name[name] for name in inputs.stream_order], balance, outputs


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


def build_ledger(inputs: EngineInputs) -> tuple[Ledger, ProjectParts]:
    """Every cash and memo line of the project (unlevered) for one chunk of scenarios.

    Lines keep their natural shape: (T,) when no scenario changes them, (S, T) otherwise.
    """
    tl = inputs.timeline
    shape = tl.shape
    esc = tl.escalation
    f = inputs.fiscal
    flows, balance, outputs = _streams(inputs, esc)
    streams: list[MineInputs | ProcessingInputs] = [*inputs.mines, *inputs.processing]
    duties = [d for s in streams for d in stream_duties(s, _flow_of(flows, s.name))]
    tariff = total_tariffs(duties)
    # lines given directly, in the deal's basis, with the cost factor of their kind
    direct: dict[str, list[tuple[DirectInputs, Number]]] = {}
    factors = {
        "operating_cost": inputs.opex_fx,
        "initial_capex": inputs.capex_fx,
        "sustaining_capex": inputs.capex_fx,
        "closure": inputs.capex_fx,
    }
    for d in inputs.direct:
        factor = factors.get(d.kind, 1.0)
        direct.setdefault(d.kind, []).append((d, add_lines([times(d.amount, esc)], shape, scale=factor)))

    def given(kind: str) -> list[Number]:
        return [amount for _, amount in direct.get(kind, [])]

    revenue_lines = [np.asarray(fl.revenue, dtype=np.float64) for fl in flows]
    revenue = add_lines([*revenue_lines, *given("revenue")], shape)
    charges = add_lines([fl.charges for fl in flows], shape)
    charges_given = add_lines(given("selling_charge"), shape)
    royalty_base: list[Number] = [fl.royalty_base for fl in flows] + given("revenue")
    deductions: list[Number] = []
    if f.royalty_on_nsr:  # a net smelter return: less the selling charges on royalty-bearing sales
        deductions = [fl.royalty_charges for fl in flows] + given("selling_charge")
    royalty = add_lines(royalty_base, shape, minus=deductions, scale=f.royalty_rate)
    mining = add_lines([fl.mining_cost for fl in flows], shape, scale=inputs.opex_fx)
    refining = add_lines([fl.conversion_cost for fl in flows], shape, scale=inputs.opex_fx)
    feed = add_lines([fl.feed_cost for fl in flows], shape)
    overheads = add_lines([times(inputs.overheads, esc)], shape, scale=inputs.opex_fx)
    operating_given = add_lines(given("operating_cost"), shape)
    tariff_borne = add_lines([tariff.borne_by_exporter], shape)
    turnover = add_lines([revenue], shape, minus=[tariff_borne])
    wc = working_capital(
        inputs.receivable_days,
        inputs.stock_days,
        turnover,
        add_lines([mining, refining, feed, overheads, operating_given], shape),
    )
    initial: dict[str, Number] = {}
    bases: dict[str, Number] = {}
    starts = dict(f.depreciation_start)
    for name, phase in inputs.phases.items():
        # total x its spread: a total that varies by scenario costs one (S, T) pass
        spread = add_lines([times(phase.capex_spread, esc)], shape, scale=inputs.capex_fx)
        initial[name] = np.asarray(phase.capex_total * spread, dtype=np.float64)
        bases[name] = phase.capex_total * np.sum(spread, axis=-1, keepdims=True)
    for d, amount in direct.get("initial_capex", []):  # depreciated like a phase's capital
        bases[f"direct:{d.name}"] = np.sum(amount, axis=-1, keepdims=True)
        starts[f"direct:{d.name}"] = d.depreciation_start
    capex = add_lines(list(initial.values()), shape)
    sustaining = add_lines(
        [times(p.sustaining, esc) for p in inputs.phases.values()], shape, scale=inputs.capex_fx
    )
    all_sustaining = add_lines([sustaining, *given("sustaining_capex")], shape)
    closure = add_lines([times(inputs.closure, esc)], shape, scale=inputs.capex_fx)
    all_closure = add_lines([closure, *given("closure")], shape)
    dep = depreciation(bases, starts, all_sustaining, f.depreciation_years, f.closure_index, shape)
    # taxable profit before losses: EBITDA less depreciation and closure
    profit = add_lines(
        [turnover],
        shape,
        minus=[
            charges,
            charges_given,
            royalty,
            mining,
            refining,
            feed,
            overheads,
            operating_given,
            dep,
            all_closure,
        ],
    )
    tax = income_tax(f, np.broadcast_to(profit, shape), np.broadcast_to(turnover, shape))
    signs = {kind: (1.0 if inflow else -1.0) for kind, inflow in DIRECT_KINDS.items()}
    given_lines = [
        (L.direct(d.name, d.label, d.kind), signs[d.kind] * a) for k in direct for d, a in direct[k]
    ]
    entries: list[tuple[L.Line, Number]] = [
        *((L.revenue(fl.name), r) for fl, r in zip(flows, revenue_lines, strict=True)),
        (L.SELLING_CHARGES, -charges),
        (L.TARIFF_BORNE, -tariff_borne),
        (L.ROYALTY, -royalty),
        (L.MINING, -mining),
        (L.REFINING, -refining),
        (L.PURCHASED_FEED, -feed),
        (L.OVERHEADS, -overheads),
        (L.WORKING_CAPITAL, wc),
        (L.INITIAL_CAPEX, -capex),
        (L.SUSTAINING_CAPEX, -sustaining),
        (L.CLOSURE, -closure),
        *given_lines,
        (L.INCOME_TAX, -tax.tax),
        (L.DEPRECIATION, dep),
        (L.TAXABLE_INCOME, tax.taxable_income),
        (L.LOSSES_CARRIED, tax.losses_carried),
        (L.FLOOR_TAX, tax.floor_tax),
        (L.TARIFF_BORNE_BY_BUYERS, tariff.borne_by_buyers),
        *((L.duty_collected(g), d) for g, d in tariff.duty_by_government.items()),
    ]
    ledger = Ledger.build(tl.periods.labels, tl.n_scenarios, entries)
    parts = ProjectParts(
        royalty=np.asarray(royalty, dtype=np.float64),
        profit=np.asarray(profit, dtype=np.float64),
        turnover=np.asarray(turnover, dtype=np.float64),
        unlevered_tax=tax.tax,
        tariff=tariff,
        capex_by_phase=initial,
        draws_by_phase={name: p.draw_periods for name, p in inputs.phases.items()},
        closure_index=f.closure_index,
        balance=balance_ledger(inputs, balance, outputs),
    )
    return ledger, parts


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
    """The requested metrics of a chunk of scenarios, each (S,), and the ledgers if kept."""

    values: dict[str, FloatArray]
    ledger: Ledger | None
    parties: Ledger | None = None
    balance: Ledger | None = None


def party_metrics(deal: Deal) -> tuple[str, ...]:
    """The per-party metrics of ``deal``: ``{party}.npv_usd`` and ``{party}.irr`` for every party,
    ``{government}.take`` for every state, and ``debt_usd`` and ``min_dscr`` if it borrows."""
    names = [f"{p}.{m}" for p in deal.party_names() for m in ("npv_usd", "irr")]
    names += [f"{g}.take" for g in deal.party_names() if deal.party_role(g) == "government"]
    if deal.finance.debt:
        names += ["debt_usd", "min_dscr"]
    return tuple(names)


def all_metrics(deal: Deal) -> tuple[str, ...]:
    """Every metric an evaluation of ``deal`` can compute: :data:`METRICS`, then the parties'."""
    return METRICS + party_metrics(deal)


def check_metrics(deal: Deal, metrics: Sequence[str] | None) -> tuple[str, ...]:
    """The metrics to compute, in :func:`all_metrics` order (the discount rate always, it is
    free); an unknown name is an InputError."""
    known = all_metrics(deal)
    if metrics is None:
        return known
    for m in metrics:
        if m not in known:
            raise InputError(
                f"unknown metric {m!r}",
                field="metrics",
                expected=", ".join(known),
                hint=did_you_mean(m, known),
            )
    return tuple(m for m in known if m in metrics or m == "discount_rate")


def _book_value(ledger: Ledger) -> FloatArray:
    """Net book value at the end of each year: capital spent less tax depreciation, (S, T)."""
    spent = -(ledger.line(L.INITIAL_CAPEX) + ledger.line(L.SUSTAINING_CAPEX))
    out: FloatArray = np.cumsum(spent - ledger.line(L.DEPRECIATION), axis=-1)
    return out


def build_parties(inputs: EngineInputs, ledger: Ledger, parts: ProjectParts) -> Ledger:
    """The debt schedule and each party's cash, as a ledger whose cash lines are the parties'
    (their total is the cash before state take)."""
    tl = inputs.timeline
    shape = tl.shape
    after = np.ascontiguousarray(ledger.after_tax())
    debt: DebtFlows | None = None
    levered_tax = parts.unlevered_tax
    fin = inputs.finance
    if fin.debt:
        # CFADS: operating cash after tax and sustaining capex; initial capex is funded by the
        # drawdowns and the owners' injections, not by the cash available for debt service
        cfads = np.ascontiguousarray(after - ledger.line(L.INITIAL_CAPEX))
        debt = debt_flows(fin.debt, parts.capex_by_phase, parts.draws_by_phase, cfads, tl.to_nominal)
        idc = debt.capitalised_interest.sum(axis=1, keepdims=True)
        f = inputs.fiscal
        amortised = straight_line(
            idc, tl.first_production, f.depreciation_years, parts.closure_index, tl.n_periods
        )
        levered_profit = add_lines([parts.profit], shape, minus=[debt.interest_paid, debt.fees, amortised])
        levered_tax = income_tax(
            f, np.broadcast_to(levered_profit, shape), np.broadcast_to(parts.turnover, shape)
        ).tax
    split = party_flows(
        fin,
        after_tax=after,
        royalty=np.broadcast_to(parts.royalty, shape),
        unlevered_tax=parts.unlevered_tax,
        levered_tax=levered_tax,
        tariff=parts.tariff,
        debt=debt,
        book_value=_book_value(ledger),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        takes = [
            (L.government_take(g), np.where(split.pie > 0, split.cash[g] / split.pie, np.nan))
            for g in split.governments
        ]
    entries: list[tuple[L.Line, Number]] = [
        *((L.party_cash(p), cash) for p, cash in split.cash.items()),
        *takes,
        (L.LEVERED_TAX, levered_tax),
        (L.DIVIDENDS, split.dividends),
        (L.WITHHOLDING, split.withholding),
    ]
    if debt is not None:
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
    if any(m not in METRICS for m in wanted) or keep:
        parties = build_parties(inputs, ledger, parts)
        out |= _party_values(inputs, parties, wanted)
    return ChunkResult(
        values={m: out[m] for m in wanted},
        ledger=ledger if keep else None,
        parties=parties if keep else None,
        balance=parts.balance if keep else None,
    )


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
    if "min_dscr" in wanted:
        dscr = parties.line(L.DSCR)
        has = ~np.isnan(dscr).all(axis=1)
        out["min_dscr"] = np.where(has, np.nanmin(np.where(np.isnan(dscr), np.inf, dscr), axis=1), np.nan)
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
    lines = 40 + 6 * len(deal.streams) + 5 * len(deal.party_names())
    per_scenario = 8.0 * (len(wanted) + (2 * lines * n_years if keep else 0))
    check_fits(
        per_scenario * n_scenarios + 8.0 * 120 * n_years * min(chunk_size, n_scenarios),
        f"valuing {n_scenarios:,} scenarios" + (" and keeping their ledgers" if keep else ""),
        "ask for fewer metrics (metrics=[...]), keep_ledger=False, or value the scenarios in batches",
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
