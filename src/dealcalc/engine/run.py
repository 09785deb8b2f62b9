"""Evaluate a deal: build the ledger for a chunk of scenarios, then its metrics; iterate chunks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dealcalc.engine.currency import cost_factors
from dealcalc.engine.financing import debt_flows
from dealcalc.engine.fiscal import depreciation, income_tax, straight_line
from dealcalc.engine.inputs import Inputs, Number, check_overrides
from dealcalc.engine.ledger import Ledger, add_lines
from dealcalc.engine.memory import check_fits
from dealcalc.engine.parties import party_flows
from dealcalc.engine.streams import stream_flows
from dealcalc.engine.timeline import (
    capex_profile,
    escalation,
    first_production_year,
    phase_active,
    production_profile,
    real_discount_rate,
    to_nominal,
    years,
)
from dealcalc.engine.trade import TariffFlows, tariffs
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics import irr, npv
from dealcalc.metrics._common import FloatArray, Timing, timing_offset
from dealcalc.metrics.periodic import payback_from_cumulative
from dealcalc.models import Deal

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


def _working_capital(inputs: Inputs, revenue: FloatArray, costs: FloatArray) -> FloatArray:
    """Cash tied up in working capital: minus the change of the balance, recovered at the end.

    Balance B_t = (receivable days x revenue + (inventory - payable days) x costs) / 365, with
    B_{T-1} = 0; the cash line is B_{t-1} - B_t (B_{-1} = 0).
    """
    n = inputs.num
    receivable = n("working_capital.receivable_days") / 365.0
    stock = (n("working_capital.inventory_days") - n("working_capital.payable_days")) / 365.0
    balance = np.asarray(receivable * revenue + stock * costs, dtype=np.float64)
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
    closure_index: int


def build_ledger(inputs: Inputs) -> tuple[Ledger, ProjectParts]:
    """Every cash and memo line of the project (unlevered) for the scenarios of ``inputs``.

    Lines keep their natural shape: (T,) when no scenario changes them, (S, T) otherwise.
    """
    deal = inputs.deal
    n = inputs.num
    ys = years(deal)
    shape = (inputs.n_scenarios, ys.size)
    esc = escalation(deal, n("valuation.inflation_rate"))
    opex_fx, capex_fx = cost_factors(inputs)
    flows = [stream_flows(inputs, name, esc) for name in deal.streams]
    revenue_lines = [np.asarray(f.revenue, dtype=np.float64) for f in flows]
    revenue = add_lines(revenue_lines, shape)
    charges = add_lines([f.charges for f in flows], shape)
    royalty = add_lines([f.royalty_base for f in flows], shape, scale=n("fiscal.royalty_rate"))
    mining = add_lines([f.mining_cost for f in flows], shape, scale=opex_fx)
    conversion = add_lines([f.conversion_cost for f in flows], shape, scale=opex_fx)
    refining = add_lines([conversion, *(f.feed_cost for f in flows)], shape)
    first = first_production_year(deal)
    overheads = add_lines(
        [
            n(f"overheads.{key}.usd_per_year")
            * (((ys >= (o.start_year or first)) & (ys <= (o.end_year or ys[-1]))) * esc)
            for key, o in deal.overheads.items()
        ],
        shape,
        scale=opex_fx,
    )
    tariff = tariffs(inputs, flows)
    tariff_borne = add_lines([tariff.borne_by_exporter], shape)
    turnover = add_lines([revenue], shape, minus=[tariff_borne])
    working_capital = _working_capital(inputs, turnover, add_lines([mining, refining, overheads], shape))

    initial: dict[str, Number] = {}
    bases: dict[str, Number] = {}
    sustaining_parts = []
    for name, phase in deal.phases.items():
        schedule = add_lines([capex_profile(deal, phase) * esc], shape, scale=capex_fx)
        bases[name] = n(f"phases.{name}.capex_usd") * np.sum(schedule, axis=-1, keepdims=True)
        initial[name] = np.asarray(n(f"phases.{name}.capex_usd") * schedule)
        if phase_active(phase):
            producing = production_profile(deal, phase) > 0
            sustaining_parts.append(n(f"phases.{name}.sustaining_capex_usd_per_year") * (producing * esc))
    capex = add_lines(list(initial.values()), shape)
    sustaining = add_lines(sustaining_parts, shape, scale=capex_fx)
    closure_year = deal.closure.year or deal.valuation.end_year
    closure_index = int(np.searchsorted(ys, closure_year))
    at_closure = (np.arange(ys.size) == closure_index) * np.broadcast_to(esc, ys.shape)
    closure = add_lines([n("closure.cost_usd") * at_closure], shape, scale=capex_fx)

    dep = depreciation(inputs, bases, sustaining, closure_index)
    # taxable profit before losses: EBITDA less depreciation and closure
    profit = add_lines([turnover], shape, minus=[charges, royalty, mining, refining, overheads, dep, closure])
    tax = income_tax(inputs, np.broadcast_to(profit, shape), np.broadcast_to(turnover, shape))
    lines = {
        **{f"Revenue: {f.name} [USD]": r for f, r in zip(flows, revenue_lines, strict=True)},
        "Selling charges (TC/RC, freight) [USD]": -charges,
        "Tariff borne by the exporter [USD]": -tariff_borne,
        "Royalty [USD]": -royalty,
        "Mining and processing [USD]": -mining,
        "Refining and purchased feed [USD]": -refining,
        "Overheads [USD]": -overheads,
        "Working capital [USD]": working_capital,
        "Initial capex [USD]": -capex,
        "Sustaining capex [USD]": -sustaining,
        "Closure [USD]": -closure,
        "Income tax [USD]": -tax.tax,
    }
    memo = {
        "Depreciation [USD]": dep,
        "Taxable income after losses [USD]": tax.taxable_income,
        "Losses carried forward [USD]": tax.losses_carried,
        "Minimum tax or ACT floor [USD]": tax.floor_tax,
        "Tariff borne by buyers [USD]": tariff.borne_by_buyers,
        **{f"Duty collected by {g} [USD]": d for g, d in tariff.duty_by_government.items()},
    }
    ledger = Ledger(
        years=ys,
        n_scenarios=inputs.n_scenarios,
        cash_lines=tuple(lines),
        lines=tuple(np.asarray(v, dtype=np.float64) for v in lines.values()),
        memo_lines=tuple(memo),
        memo_values=tuple(np.asarray(v, dtype=np.float64) for v in memo.values()),
    )
    parts = ProjectParts(
        royalty=np.asarray(royalty, dtype=np.float64),
        profit=np.asarray(profit, dtype=np.float64),
        turnover=np.asarray(turnover, dtype=np.float64),
        unlevered_tax=tax.tax,
        tariff=tariff,
        capex_by_phase=initial,
        closure_index=closure_index,
    )
    return ledger, parts


#: The metrics' timing convention for each ``valuation.timing``.
TIMINGS: dict[str, Timing] = {"end": "end", "mid": "mid", "begin": "t0"}

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


def party_metrics(deal: Deal) -> tuple[str, ...]:
    """The per-party metrics of ``deal``: ``{party}.npv_usd`` and ``{party}.irr`` for every party,
    ``{government}.take`` for every state, and ``debt_usd`` and ``min_dscr`` if it borrows."""
    names = [f"{p}.{m}" for p in deal.party_names() for m in ("npv_usd", "irr")]
    names += [f"{g}.take" for g in deal.party_names() if _is_government(deal, g)]
    if deal.finance.debt:
        names += ["debt_usd", "min_dscr"]
    return tuple(names)


def _is_government(deal: Deal, party: str) -> bool:
    return party not in deal.finance.equity and party != "lenders"


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


def party_discount_rate(inputs: Inputs, party: str) -> Number:
    """A party's discount rate in the deal's basis (stated in ``valuation.discount_rate_basis``)."""
    deal = inputs.deal
    n = inputs.num
    holder = deal.finance.equity.get(party)
    if holder is not None and holder.discount_rate is not None:
        stated = n(f"finance.equity.{party}.discount_rate")
    elif party in deal.finance.discount_rates:
        stated = n(f"finance.discount_rates.{party}")
    else:
        stated = n("valuation.discount_rate")
    return real_discount_rate(deal, stated, n("valuation.inflation_rate"))


def _book_value(ledger: Ledger) -> FloatArray:
    """Net book value at the end of each year: capital spent less tax depreciation, (S, T)."""
    spent = -(ledger.line("Initial capex [USD]") + ledger.line("Sustaining capex [USD]"))
    out: FloatArray = np.cumsum(spent - ledger.line("Depreciation [USD]"), axis=-1)
    return out


def build_parties(inputs: Inputs, ledger: Ledger, parts: ProjectParts) -> Ledger:
    """The debt schedule and each party's cash, as a ledger whose cash lines are the parties'
    (they sum to the memo line ``Cash before state take``)."""
    deal = inputs.deal
    n = inputs.num
    ys = years(deal)
    shape = (inputs.n_scenarios, ys.size)
    after = np.ascontiguousarray(ledger.after_tax())
    debt = None
    levered_tax = parts.unlevered_tax
    if deal.finance.debt:
        nominal = to_nominal(deal, n("valuation.inflation_rate"))
        # CFADS: operating cash after tax and sustaining capex; initial capex is funded by the
        # drawdowns and the owners' injections, not by the cash available for debt service
        cfads = np.ascontiguousarray(after - ledger.line("Initial capex [USD]"))
        debt = debt_flows(inputs, parts.capex_by_phase, cfads, nominal)
        idc = debt.capitalised_interest.sum(axis=1, keepdims=True)
        start = int(np.searchsorted(ys, first_production_year(deal)))
        amortised = straight_line(idc, start, deal.fiscal.depreciation_years, parts.closure_index, ys.size)
        levered_profit = add_lines([parts.profit], shape, minus=[debt.interest_paid, debt.fees, amortised])
        levered_tax = income_tax(
            inputs, np.broadcast_to(levered_profit, shape), np.broadcast_to(parts.turnover, shape)
        ).tax
    split = party_flows(
        inputs,
        after_tax=after,
        royalty=np.broadcast_to(parts.royalty, shape),
        unlevered_tax=parts.unlevered_tax,
        levered_tax=levered_tax,
        tariff=parts.tariff,
        debt=debt,
        book_value=_book_value(ledger),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        takes = {
            f"Government take: {g}": np.where(split.pie > 0, split.cash[g] / split.pie, np.nan)
            for g in split.governments
        }
    memo: dict[str, Number] = {
        "Cash before state take [USD]": split.pie,
        **takes,
        "Income tax, levered [USD]": levered_tax,
        "Dividends before withholding [USD]": split.dividends,
        "Dividend withholding tax [USD]": split.withholding,
    }
    if debt is not None:
        memo |= {
            "Debt drawn [USD]": debt.draws,
            "Interest paid [USD]": debt.interest_paid,
            "Interest capitalised [USD]": debt.capitalised_interest,
            "Principal repaid [USD]": debt.principal,
            "Debt fees [USD]": debt.fees,
            "Debt balance [USD]": debt.balance,
            "DSCR": debt.dscr,
            "LLCR": debt.llcr,
        }
    return Ledger(
        years=ys,
        n_scenarios=inputs.n_scenarios,
        cash_lines=tuple(f"{p} [USD]" for p in split.cash),
        lines=tuple(split.cash.values()),
        memo_lines=tuple(memo),
        memo_values=tuple(np.asarray(v, dtype=np.float64) for v in memo.values()),
    )


def _metrics(
    inputs: Inputs, ledger: Ledger, parts: ProjectParts, wanted: tuple[str, ...], keep: bool
) -> ChunkResult:
    deal = inputs.deal
    n = inputs.num
    rate = real_discount_rate(deal, n("valuation.discount_rate"), n("valuation.inflation_rate"))
    rate_s = np.array(np.broadcast_to(np.asarray(rate, dtype=np.float64).reshape(-1), (inputs.n_scenarios,)))
    timing = TIMINGS[deal.valuation.timing]
    # flows start at start_year; the valuation date may be earlier: discount those years too
    start_gap = deal.valuation.start_year - (deal.valuation.valuation_year or deal.valuation.start_year)
    to_valuation = np.power(1.0 + rate_s, -float(start_gap))
    after = ledger.after_tax()
    out: dict[str, FloatArray] = {"discount_rate": rate_s}
    if "npv_usd" in wanted:
        out["npv_usd"] = np.asarray(npv(rate_s, after, timing=timing), dtype=np.float64) * to_valuation
    if "irr" in wanted:
        out["irr"] = np.asarray(irr(after), dtype=np.float64)
    if "pre_tax_npv_usd" in wanted or "pre_tax_irr" in wanted:
        pre = ledger.pre_tax()
        if "pre_tax_npv_usd" in wanted:
            out["pre_tax_npv_usd"] = (
                np.asarray(npv(rate_s, pre, timing=timing), dtype=np.float64) * to_valuation
            )
        if "pre_tax_irr" in wanted:
            out["pre_tax_irr"] = np.asarray(irr(pre), dtype=np.float64)
    if "payback_years" in wanted or "peak_funding_usd" in wanted:
        cumulative = np.cumsum(after, axis=-1)
        if "payback_years" in wanted:
            offset = timing_offset(timing) + start_gap
            out["payback_years"] = payback_from_cumulative(after, cumulative, offset)
        if "peak_funding_usd" in wanted:
            out["peak_funding_usd"] = np.maximum(-cumulative.min(axis=-1), 0.0)
    parties = None
    if any(m not in METRICS for m in wanted) or keep:
        parties = build_parties(inputs, ledger, parts)
        out |= _party_values(inputs, parties, timing, start_gap, wanted)
    return ChunkResult(
        values={m: out[m] for m in wanted},
        ledger=ledger if keep else None,
        parties=parties if keep else None,
    )


def _party_values(
    inputs: Inputs, parties: Ledger, timing: Timing, start_gap: int, wanted: tuple[str, ...]
) -> dict[str, FloatArray]:
    deal = inputs.deal
    s = inputs.n_scenarios
    out: dict[str, FloatArray] = {}
    pie_total = parties.line("Cash before state take [USD]").sum(axis=1)
    solved: list[tuple[FloatArray, FloatArray]] = []  # (cash, IRR): owners with equal shares share both
    for party in deal.party_names():
        cash = np.ascontiguousarray(parties.line(f"{party} [USD]"))
        if f"{party}.npv_usd" in wanted:
            rate = np.array(
                np.broadcast_to(
                    np.asarray(party_discount_rate(inputs, party), dtype=np.float64).reshape(-1), (s,)
                )
            )
            value = np.asarray(npv(rate, cash, timing=timing), dtype=np.float64)
            out[f"{party}.npv_usd"] = value * np.power(1.0 + rate, -float(start_gap))
        if f"{party}.irr" in wanted:
            same = next((r for c, r in solved if np.array_equal(c, cash)), None)
            out[f"{party}.irr"] = same.copy() if same is not None else np.asarray(irr(cash), dtype=np.float64)
            solved.append((cash, out[f"{party}.irr"]))
        if f"{party}.take" in wanted:
            with np.errstate(divide="ignore", invalid="ignore"):
                out[f"{party}.take"] = np.where(pie_total > 0, cash.sum(axis=1) / pie_total, np.nan)
    if "debt_usd" in wanted:
        out["debt_usd"] = parties.line("Debt drawn [USD]").sum(axis=1)
    if "min_dscr" in wanted:
        dscr = parties.line("DSCR")
        has = ~np.isnan(dscr).all(axis=1)
        out["min_dscr"] = np.where(has, np.nanmin(np.where(np.isnan(dscr), np.inf, dscr), axis=1), np.nan)
    return out


def evaluate_chunks(
    deal: Deal,
    overrides: Mapping[str, Any] | None = None,
    *,
    keep_ledger: bool | None = None,
    chunk_size: int = CHUNK_SCENARIOS,
    metrics: Sequence[str] | None = None,
) -> tuple[list[ChunkResult], int]:
    """Value ``deal`` for every scenario of ``overrides``, chunk by chunk (no per-scenario loop)."""
    wanted = check_metrics(deal, metrics)
    if chunk_size < 1:
        raise InputError(f"chunks of {chunk_size} scenarios", field="chunk_size", expected="at least 1")
    n_years = years(deal).size
    checked, n_scenarios = check_overrides(deal, overrides or {}, n_years)
    keep = n_scenarios <= 1_000 if keep_ledger is None else keep_ledger
    lines = 40 + 6 * len(deal.streams) + 5 * len(deal.party_names())
    per_scenario = 8.0 * (len(wanted) + (2 * lines * n_years if keep else 0))
    check_fits(
        per_scenario * n_scenarios + 8.0 * 120 * n_years * min(chunk_size, n_scenarios),
        f"valuing {n_scenarios:,} scenarios" + (" and keeping their ledgers" if keep else ""),
        "ask for fewer metrics (metrics=[...]), keep_ledger=False, or value the scenarios in batches",
    )
    results = []
    for start in range(0, n_scenarios, chunk_size):
        stop = min(start + chunk_size, n_scenarios)
        chunk = {k: v[start:stop] for k, v in checked.items()}
        inputs = Inputs(deal=deal, overrides=chunk, n_scenarios=stop - start, n_years=n_years)
        ledger, parts = build_ledger(inputs)
        results.append(_metrics(inputs, ledger, parts, wanted, keep))
    return results, n_scenarios
