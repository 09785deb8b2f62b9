"""Evaluate a deal: build the ledger for a chunk of scenarios, then its metrics; iterate chunks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dealcalc.engine.fiscal import depreciation, income_tax
from dealcalc.engine.inputs import Inputs, check_overrides
from dealcalc.engine.ledger import Ledger, add_lines
from dealcalc.engine.streams import stream_flows
from dealcalc.engine.timeline import (
    capex_profile,
    escalation,
    first_production_year,
    phase_active,
    production_profile,
    real_discount_rate,
    years,
)
from dealcalc.metrics import irr, npv, payback
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal

__all__ = ["METRICS", "ChunkResult", "build_ledger", "evaluate_chunks"]

#: Scenarios per engine pass: about 30 lines x 16k x 20 years x 8 bytes = 77 MiB at most.
CHUNK_SCENARIOS = 16_384


MEMO_LINES = (
    "Depreciation [USD]",
    "Taxable income after losses [USD]",
    "Losses carried forward [USD]",
    "Minimum tax or ACT floor [USD]",
)


def build_ledger(inputs: Inputs) -> Ledger:
    """Every cash and memo line for the scenarios of ``inputs``, each written once.

    Lines keep their natural shape: (T,) when no scenario changes them, (S, T) otherwise.
    """
    deal = inputs.deal
    n = inputs.num
    ys = years(deal)
    shape = (inputs.n_scenarios, ys.size)
    esc = escalation(deal, n("valuation.inflation_rate"))
    flows = [stream_flows(inputs, name, esc) for name in deal.streams]
    revenue_lines = [np.asarray(f.revenue, dtype=np.float64) for f in flows]
    revenue = add_lines(revenue_lines, shape)
    charges = add_lines([f.charges for f in flows], shape)
    royalty = n("fiscal.royalty_rate") * add_lines([f.royalty_base for f in flows], shape)
    mining = add_lines([f.mining_cost for f in flows], shape)
    refining = add_lines([f.refining_cost for f in flows], shape)
    first = first_production_year(deal)
    overheads = add_lines(
        [
            n(f"overheads.{key}.usd_per_year")
            * ((ys >= (o.start_year or first)) & (ys <= (o.end_year or ys[-1])))
            * esc
            for key, o in deal.overheads.items()
        ],
        shape,
    )
    # working capital: receivables plus inventory less payables; recovered in the final year
    costs = mining + refining + overheads
    balance = np.array(
        (
            n("working_capital.receivable_days") * revenue
            + (n("working_capital.inventory_days") - n("working_capital.payable_days")) * costs
        )
        / 365.0,
        dtype=np.float64,
    )
    balance[..., -1] = 0.0
    working_capital = -np.diff(balance, axis=-1, prepend=0.0)

    initial: dict[str, FloatArray] = {}
    sustaining_parts = []
    for name, phase in deal.phases.items():
        initial[name] = np.asarray(n(f"phases.{name}.capex_usd") * capex_profile(deal, phase) * esc)
        if phase_active(phase):
            producing = production_profile(deal, phase) > 0
            sustaining_parts.append(n(f"phases.{name}.sustaining_capex_usd_per_year") * producing * esc)
    capex = add_lines(list(initial.values()), shape)
    sustaining = add_lines(sustaining_parts, shape)
    closure_year = deal.closure.year or deal.valuation.end_year
    closure_index = int(np.searchsorted(ys, closure_year))
    at_closure = (np.arange(ys.size) == closure_index) * np.broadcast_to(esc, ys.shape)
    closure = np.asarray(n("closure.cost_usd") * at_closure, dtype=np.float64)

    dep = depreciation(inputs, initial, sustaining, closure_index)
    ebitda = revenue - charges - royalty - mining - refining - overheads
    profit = np.broadcast_to(ebitda - dep - closure, shape)
    tax = income_tax(inputs, profit, np.broadcast_to(revenue, shape))
    lines = {
        **{f"Revenue: {f.name} [USD]": r for f, r in zip(flows, revenue_lines, strict=True)},
        "Selling charges (TC/RC, freight) [USD]": -charges,
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
    return Ledger(
        years=ys,
        n_scenarios=inputs.n_scenarios,
        cash_lines=tuple(lines),
        lines=tuple(np.asarray(v, dtype=np.float64) for v in lines.values()),
        memo_lines=MEMO_LINES,
        memo_values=(
            np.asarray(dep, dtype=np.float64),
            tax.taxable_income,
            tax.losses_carried,
            tax.floor_tax,
        ),
    )


#: The per-scenario results of an evaluation, in the order of :class:`ChunkResult`'s fields.
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
    """Metrics of a chunk of scenarios, each (S,), and the ledger if it was kept."""

    npv_usd: FloatArray
    irr: FloatArray
    pre_tax_npv_usd: FloatArray
    pre_tax_irr: FloatArray
    payback_years: FloatArray
    peak_funding_usd: FloatArray
    discount_rate: FloatArray
    ledger: Ledger | None


def _metrics(inputs: Inputs, ledger: Ledger, keep: bool) -> ChunkResult:
    deal = inputs.deal
    n = inputs.num
    rate = real_discount_rate(deal, n("valuation.discount_rate"), n("valuation.inflation_rate"))
    rate_s = np.array(np.broadcast_to(np.asarray(rate, dtype=np.float64).reshape(-1), (inputs.n_scenarios,)))
    after = np.ascontiguousarray(ledger.after_tax())
    pre = after - ledger.line("Income tax [USD]")
    timing = {"end": "end", "mid": "mid", "begin": "t0"}[deal.valuation.timing]
    # flows start at start_year; the valuation date may be earlier: discount those years too
    start_gap = deal.valuation.start_year - (deal.valuation.valuation_year or deal.valuation.start_year)
    to_valuation = np.power(1.0 + rate_s, -float(start_gap))
    return ChunkResult(
        npv_usd=np.asarray(npv(rate_s, after, timing=timing), dtype=np.float64) * to_valuation,  # type: ignore[arg-type]
        irr=np.asarray(irr(after), dtype=np.float64),
        pre_tax_npv_usd=np.asarray(npv(rate_s, pre, timing=timing), dtype=np.float64) * to_valuation,  # type: ignore[arg-type]
        pre_tax_irr=np.asarray(irr(pre), dtype=np.float64),
        payback_years=np.asarray(payback(after, timing=timing), dtype=np.float64) + start_gap,  # type: ignore[arg-type]
        peak_funding_usd=np.maximum(-np.cumsum(after, axis=1).min(axis=1), 0.0),
        discount_rate=rate_s,
        ledger=ledger if keep else None,
    )


def evaluate_chunks(
    deal: Deal,
    overrides: Mapping[str, Any] | None = None,
    *,
    keep_ledger: bool | None = None,
    chunk_size: int = CHUNK_SCENARIOS,
) -> tuple[list[ChunkResult], int]:
    """Value ``deal`` for every scenario of ``overrides``, chunk by chunk (no per-scenario loop)."""
    n_years = years(deal).size
    checked, n_scenarios = check_overrides(deal, overrides or {}, n_years)
    keep = n_scenarios <= 1_000 if keep_ledger is None else keep_ledger
    results = []
    for start in range(0, n_scenarios, chunk_size):
        stop = min(start + chunk_size, n_scenarios)
        chunk = {k: v[start:stop] for k, v in checked.items()}
        inputs = Inputs(deal=deal, overrides=chunk, n_scenarios=stop - start, n_years=n_years)
        ledger = build_ledger(inputs)
        results.append(_metrics(inputs, ledger, keep))
    return results, n_scenarios
