"""Evaluate a deal: build the ledger for a chunk of scenarios, then its metrics; iterate chunks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dealcalc.engine.fiscal import depreciation, income_tax
from dealcalc.engine.inputs import Inputs, Number, check_overrides
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
from dealcalc.errors import InputError, did_you_mean
from dealcalc.metrics import irr, npv
from dealcalc.metrics._common import FloatArray, Timing
from dealcalc.metrics.periodic import payback_from_cumulative
from dealcalc.models import Deal

__all__ = ["METRICS", "ChunkResult", "build_ledger", "check_metrics", "evaluate_chunks"]

#: Scenarios per engine pass: about 30 lines x 16k x 20 years x 8 bytes = 77 MiB at most.
CHUNK_SCENARIOS = 16_384


MEMO_LINES = (
    "Depreciation [USD]",
    "Taxable income after losses [USD]",
    "Losses carried forward [USD]",
    "Minimum tax or ACT floor [USD]",
)


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
    royalty = add_lines([f.royalty_base for f in flows], shape, scale=n("fiscal.royalty_rate"))
    mining = add_lines([f.mining_cost for f in flows], shape)
    refining = add_lines([f.refining_cost for f in flows], shape)
    first = first_production_year(deal)
    overheads = add_lines(
        [
            n(f"overheads.{key}.usd_per_year")
            * (((ys >= (o.start_year or first)) & (ys <= (o.end_year or ys[-1]))) * esc)
            for key, o in deal.overheads.items()
        ],
        shape,
    )
    working_capital = _working_capital(inputs, revenue, add_lines([mining, refining, overheads], shape))

    initial: dict[str, FloatArray] = {}
    bases: dict[str, Number] = {}
    sustaining_parts = []
    for name, phase in deal.phases.items():
        schedule = capex_profile(deal, phase) * esc
        bases[name] = n(f"phases.{name}.capex_usd") * np.sum(schedule, axis=-1, keepdims=True)
        initial[name] = np.asarray(n(f"phases.{name}.capex_usd") * schedule)
        if phase_active(phase):
            producing = production_profile(deal, phase) > 0
            sustaining_parts.append(n(f"phases.{name}.sustaining_capex_usd_per_year") * (producing * esc))
    capex = add_lines(list(initial.values()), shape)
    sustaining = add_lines(sustaining_parts, shape)
    closure_year = deal.closure.year or deal.valuation.end_year
    closure_index = int(np.searchsorted(ys, closure_year))
    at_closure = (np.arange(ys.size) == closure_index) * np.broadcast_to(esc, ys.shape)
    closure = np.asarray(n("closure.cost_usd") * at_closure, dtype=np.float64)

    dep = depreciation(inputs, bases, sustaining, closure_index)
    # taxable profit before losses: EBITDA less depreciation and closure
    profit = add_lines([revenue], shape, minus=[charges, royalty, mining, refining, overheads, dep, closure])
    tax = income_tax(inputs, np.broadcast_to(profit, shape), np.broadcast_to(revenue, shape))
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
    """The requested metrics of a chunk of scenarios, each (S,), and the ledger if it was kept."""

    values: dict[str, FloatArray]
    ledger: Ledger | None


def check_metrics(metrics: Sequence[str] | None) -> tuple[str, ...]:
    """The metrics to compute, in :data:`METRICS` order (the discount rate always, it is free);
    an unknown name is an InputError."""
    if metrics is None:
        return METRICS
    for m in metrics:
        if m not in METRICS:
            raise InputError(
                f"unknown metric {m!r}",
                field="metrics",
                expected=", ".join(METRICS),
                hint=did_you_mean(m, METRICS),
            )
    return tuple(m for m in METRICS if m in metrics or m == "discount_rate")


def _metrics(inputs: Inputs, ledger: Ledger, wanted: tuple[str, ...], keep: bool) -> ChunkResult:
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
            offset = {"end": 1.0, "mid": 0.5, "t0": 0.0}[timing] + start_gap
            out["payback_years"] = payback_from_cumulative(after, cumulative, offset)
        if "peak_funding_usd" in wanted:
            out["peak_funding_usd"] = np.maximum(-cumulative.min(axis=-1), 0.0)
    return ChunkResult(values={m: out[m] for m in wanted}, ledger=ledger if keep else None)


def evaluate_chunks(
    deal: Deal,
    overrides: Mapping[str, Any] | None = None,
    *,
    keep_ledger: bool | None = None,
    chunk_size: int = CHUNK_SCENARIOS,
    metrics: Sequence[str] | None = None,
) -> tuple[list[ChunkResult], int]:
    """Value ``deal`` for every scenario of ``overrides``, chunk by chunk (no per-scenario loop)."""
    wanted = check_metrics(metrics)
    n_years = years(deal).size
    checked, n_scenarios = check_overrides(deal, overrides or {}, n_years)
    keep = n_scenarios <= 1_000 if keep_ledger is None else keep_ledger
    results = []
    for start in range(0, n_scenarios, chunk_size):
        stop = min(start + chunk_size, n_scenarios)
        chunk = {k: v[start:stop] for k, v in checked.items()}
        inputs = Inputs(deal=deal, overrides=chunk, n_scenarios=stop - start, n_years=n_years)
        ledger = build_ledger(inputs)
        results.append(_metrics(inputs, ledger, wanted, keep))
    return results, n_scenarios
