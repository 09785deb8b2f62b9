"""Evaluate a deal: build the ledger for a chunk of scenarios, then its metrics; iterate chunks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dealcalc.engine.fiscal import depreciation, income_tax
from dealcalc.engine.inputs import Inputs, check_overrides
from dealcalc.engine.ledger import Ledger
from dealcalc.engine.streams import stream_flows
from dealcalc.engine.timeline import (
    capex_profile,
    discount_factors,
    escalation,
    first_production_year,
    phase_active,
    production_profile,
    real_discount_rate,
    years,
)
from dealcalc.metrics import irr, payback
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal

__all__ = ["ChunkResult", "build_ledger", "evaluate_chunks"]

#: Scenarios per engine pass: about 30 lines x 16k x 20 years x 8 bytes = 77 MiB at most.
CHUNK_SCENARIOS = 16_384


def _full(x: Any, shape: tuple[int, int]) -> FloatArray:
    return np.array(np.broadcast_to(x, shape), dtype=np.float64)


def build_ledger(inputs: Inputs) -> Ledger:
    """Every cash and memo line for the scenarios of ``inputs``, (L, S, T)."""
    deal = inputs.deal
    n = inputs.num
    ys = years(deal)
    shape = (inputs.n_scenarios, ys.size)
    esc = escalation(deal, n("valuation.inflation_rate"))
    cash: dict[str, FloatArray] = {}

    flows = [stream_flows(inputs, name, esc) for name in deal.streams]
    for f in flows:
        cash[f"Revenue: {f.name} [USD]"] = _full(f.revenue, shape)
    charges = _full(sum((f.charges for f in flows), 0.0), shape)
    revenue = sum((cash[f"Revenue: {f.name} [USD]"] for f in flows), np.zeros(shape))
    royalty = _full(n("fiscal.royalty_rate") * sum((f.royalty_base for f in flows), 0.0), shape)
    mining = _full(sum((f.mining_cost for f in flows), 0.0), shape)
    refining = _full(sum((f.refining_cost for f in flows), 0.0), shape)
    first = first_production_year(deal)
    overheads = np.zeros(shape)
    for key, o in deal.overheads.items():
        active = (ys >= (o.start_year or first)) & (ys <= (o.end_year or ys[-1]))
        overheads = overheads + n(f"overheads.{key}.usd_per_year") * active * esc
    cash["Selling charges (TC/RC, freight) [USD]"] = -charges
    cash["Royalty [USD]"] = -royalty
    cash["Mining and processing [USD]"] = -mining
    cash["Refining and purchased feed [USD]"] = -refining
    cash["Overheads [USD]"] = -overheads

    # working capital: receivables less payables plus inventory; recovered in the final year
    costs = mining + refining + overheads
    balance = (
        n("working_capital.receivable_days") * revenue
        + (n("working_capital.inventory_days") - n("working_capital.payable_days")) * costs
    ) / 365.0
    balance = _full(balance, shape)
    balance[:, -1] = 0.0
    change = np.diff(balance, axis=1, prepend=0.0)
    cash["Working capital [USD]"] = -change

    initial: dict[str, FloatArray] = {}
    sustaining = np.zeros(shape)
    for name, phase in deal.phases.items():
        spend = _full(n(f"phases.{name}.capex_usd") * capex_profile(deal, phase) * esc, shape)
        initial[name] = spend
        producing = production_profile(deal, phase) > 0
        if phase_active(phase):
            sustaining = sustaining + n(f"phases.{name}.sustaining_capex_usd_per_year") * producing * esc
    cash["Initial capex [USD]"] = -sum(initial.values(), np.zeros(shape))
    cash["Sustaining capex [USD]"] = -_full(sustaining, shape)
    closure_year = deal.closure.year or deal.valuation.end_year
    closure_index = int(np.searchsorted(ys, closure_year))
    closure = np.zeros(shape)
    closure[:, closure_index] = (
        _full(n("closure.cost_usd"), (shape[0], 1))[:, 0] * _full(esc, shape)[:, closure_index]
    )
    cash["Closure [USD]"] = -closure

    dep = depreciation(inputs, initial, _full(sustaining, shape), closure_index)
    ebitda = revenue - charges - royalty - mining - refining - overheads
    profit = ebitda - dep - closure
    tax = income_tax(inputs, profit, revenue)
    cash["Income tax [USD]"] = -tax.tax

    names = tuple(cash)
    memo_names = (
        "Depreciation [USD]",
        "Taxable income after losses [USD]",
        "Losses carried forward [USD]",
        "Minimum tax or ACT floor [USD]",
    )
    return Ledger(
        years=ys,
        cash_lines=names,
        cash=np.stack([cash[k] for k in names]),
        memo_lines=memo_names,
        memo=np.stack([dep, tax.taxable_income, tax.losses_carried, tax.floor_tax]),
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
    rate_s = np.broadcast_to(np.asarray(rate, dtype=np.float64).reshape(-1), (inputs.n_scenarios,))
    df = np.broadcast_to(discount_factors(deal, np.asarray(rate_s)[:, None]), ledger.cash.shape[1:])
    after = ledger.after_tax()
    pre = ledger.pre_tax()
    cumulative = np.cumsum(after, axis=1)
    timing = {"end": "end", "mid": "mid", "begin": "t0"}[deal.valuation.timing]
    start_gap = deal.valuation.start_year - (deal.valuation.valuation_year or deal.valuation.start_year)
    return ChunkResult(
        npv_usd=(after * df).sum(axis=1),
        irr=np.asarray(irr(after) if after.shape[0] > 1 else [irr(after[0])], dtype=np.float64),
        pre_tax_npv_usd=(pre * df).sum(axis=1),
        pre_tax_irr=np.asarray(irr(pre) if pre.shape[0] > 1 else [irr(pre[0])], dtype=np.float64),
        payback_years=np.asarray(payback(after, timing=timing), dtype=np.float64).reshape(-1)  # type: ignore[arg-type]
        + start_gap,
        peak_funding_usd=np.maximum(-cumulative.min(axis=1), 0.0),
        discount_rate=np.array(rate_s, dtype=np.float64),
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
