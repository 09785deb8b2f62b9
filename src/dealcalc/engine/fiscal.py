"""Royalty, tax depreciation, losses carried forward, and income tax with its floors.

Vectorized over scenarios; the only loop is over years, where losses and credits carry from one
year to the next. Formulas and sources: docs/methodology.md §Fiscal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.inputs import Inputs
from dealcalc.engine.timeline import first_production_year, years
from dealcalc.metrics._common import FloatArray

__all__ = ["TaxResult", "depreciation", "income_tax"]


def depreciation(
    inputs: Inputs, initial: dict[str, FloatArray], sustaining: FloatArray, closure_year_index: int
) -> FloatArray:
    """Straight-line tax depreciation, (S, T).

    Each phase's initial capex is written off over ``fiscal.depreciation_years`` from the phase's
    first production year (a phase without output, such as exploration, from the deal's first
    production year). Sustaining capex is written off over the same years from the year it is
    spent. What remains undepreciated at the end is written off in the final year.
    """
    deal = inputs.deal
    n_years = int(deal.fiscal.depreciation_years)
    ys = years(deal)
    producing_phases = {s.phase for s in deal.streams.values()}
    first_any = first_production_year(deal)
    total = np.zeros_like(sustaining)
    for name, spend in initial.items():
        phase = deal.phases[name]
        start = phase.first_production_year if name in producing_phases else first_any
        base = spend.sum(axis=-1, keepdims=True)
        window = ((ys >= start) & (ys < start + n_years)).astype(np.float64)
        total = total + base * window / n_years
    # sustaining: a rolling window of the last n_years of spend, each spread over n_years
    c = np.cumsum(sustaining, axis=-1)
    lagged = np.zeros_like(c)
    if n_years < c.shape[-1]:
        lagged[..., n_years:] = c[..., :-n_years]
    total = total + (c - lagged) / n_years
    # write off the remaining tax base in the final year
    spent = sum((s.sum(axis=-1) for s in initial.values()), np.zeros(total.shape[0])) + sustaining.sum(
        axis=-1
    )
    remaining = spent - total.sum(axis=-1)
    total[..., closure_year_index] += np.maximum(remaining, 0.0)
    return total


@dataclass(frozen=True)
class TaxResult:
    """Tax and the memo lines behind it, each (S, T)."""

    tax: FloatArray
    taxable_income: FloatArray  # after losses brought forward
    losses_carried: FloatArray  # at the end of each year
    floor_tax: FloatArray  # minimum tax / ACT, whichever is larger


def income_tax(inputs: Inputs, profit: FloatArray, turnover: FloatArray) -> TaxResult:
    """Income tax for each scenario and year.

    ``profit`` is taxable profit before losses (EBITDA less depreciation and closure) and also
    serves as accounting profit for the alternative corporate tax; ``turnover`` is revenue.

    Normal tax = (income tax + super tax) x taxable income after losses, where super tax applies
    in years whose taxable income exceeds its threshold. Losses are used oldest first and expire
    after ``loss_carry_forward_years``. The tax paid is the larger of normal tax (less credits) and
    the floor, max(minimum tax on turnover, ACT on accounting profit); floor tax paid above normal
    tax becomes a credit against later normal tax above that year's floor. In a tax holiday (from
    the first production year, ``holiday_years`` long) no income tax, super tax or floor is due;
    after it the combined rate is capped at ``income_tax_cap_after_holiday``.
    """
    deal = inputs.deal
    f = deal.fiscal
    n = inputs.num
    ys = years(deal)
    s_count, t_count = profit.shape
    holiday_start = first_production_year(deal)
    in_holiday = (ys >= holiday_start) & (ys < holiday_start + f.holiday_years)
    after_holiday = (ys >= holiday_start + f.holiday_years) & (f.holiday_years > 0)
    rate = np.broadcast_to(n("fiscal.income_tax_rate"), (s_count, t_count))
    super_rate = np.broadcast_to(n("fiscal.super_tax_rate"), (s_count, t_count))
    threshold = np.broadcast_to(n("fiscal.super_tax_threshold_usd"), (s_count, t_count))
    min_rate = np.broadcast_to(n("fiscal.minimum_tax_rate"), (s_count, t_count))
    act_rate = np.broadcast_to(n("fiscal.alternative_tax_rate"), (s_count, t_count))
    keep = f.loss_carry_forward_years
    pool = np.zeros((s_count, max(keep, 1)))  # losses by age (0 = this year's)
    credit = np.zeros(s_count)
    tax = np.zeros((s_count, t_count))
    taxable = np.zeros((s_count, t_count))
    carried = np.zeros((s_count, t_count))
    floor_out = np.zeros((s_count, t_count))
    for t in range(t_count):
        income = profit[:, t]
        # use losses, oldest first
        remaining = np.maximum(income, 0.0)
        for age in range(pool.shape[1] - 1, -1, -1):
            used = np.minimum(pool[:, age], remaining)
            pool[:, age] -= used
            remaining -= used
        taxable_t = remaining
        # age the pool; losses older than `keep` years expire; this year's loss enters at age 0
        if keep > 0:
            pool[:, 1:] = pool[:, :-1].copy()
            pool[:, 0] = np.maximum(-income, 0.0)
        combined = rate[:, t] + np.where(taxable_t > threshold[:, t], super_rate[:, t], 0.0)
        if after_holiday[t] and f.income_tax_cap_after_holiday is not None:
            combined = np.minimum(combined, n("fiscal.income_tax_cap_after_holiday"))
        normal = combined * taxable_t
        floor = np.maximum(
            min_rate[:, t] * np.maximum(turnover[:, t], 0.0),
            act_rate[:, t] * np.maximum(income, 0.0),
        )
        if in_holiday[t]:
            normal = np.zeros(s_count)
            floor = np.zeros(s_count)
        usable = np.minimum(credit, np.maximum(normal - floor, 0.0))
        paid = np.maximum(normal - usable, floor)
        credit = credit - usable + np.maximum(floor - normal, 0.0)
        tax[:, t] = paid
        taxable[:, t] = taxable_t
        carried[:, t] = pool.sum(axis=1)
        floor_out[:, t] = floor
    return TaxResult(tax=tax, taxable_income=taxable, losses_carried=carried, floor_tax=floor_out)
