"""Royalty, tax depreciation, losses carried forward, and income tax with its floors.

Vectorized over scenarios; the only loop is over years, where losses and credits carry from one
year to the next. Formulas and sources: docs/methodology.md §Fiscal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.inputs import Inputs, Number
from dealcalc.engine.ledger import add_lines
from dealcalc.engine.timeline import first_production_year, years
from dealcalc.metrics._common import FloatArray

__all__ = ["TaxResult", "depreciation", "income_tax", "straight_line"]


def depreciation(
    inputs: Inputs, bases: dict[str, Number], sustaining: FloatArray, closure_year_index: int
) -> FloatArray:
    """Straight-line tax depreciation, (T,) or (S, T).

    Each phase's initial capex (``bases[phase]``, its total, a float or (S, 1)) is written off
    over ``fiscal.depreciation_years`` from the phase's first production year (a phase without
    output, such as exploration, from the deal's first production year). Sustaining capex is
    written off over the same years from the year it is spent. What remains undepreciated at the
    end is written off in the final year.
    """
    deal = inputs.deal
    n_years = int(deal.fiscal.depreciation_years)
    ys = years(deal)
    shape = (inputs.n_scenarios, ys.size)
    producing_phases = {s.phase for s in deal.streams.values()}
    first_any = first_production_year(deal)
    parts: list[Number] = []
    for name, base in bases.items():
        phase = deal.phases[name]
        start = phase.first_production_year if name in producing_phases else first_any
        parts.append(
            straight_line(base, int(np.searchsorted(ys, start)), n_years, closure_year_index, ys.size)
        )
    # sustaining: a rolling window of the last n_years of spend, each spread over n_years
    c = np.cumsum(sustaining, axis=-1)
    lagged = np.zeros_like(c)
    if n_years < c.shape[-1]:
        lagged[..., n_years:] = c[..., :-n_years]
    rolling = (c - lagged) / n_years
    parts.append(rolling)
    remaining = c[..., -1:] - rolling.sum(axis=-1, keepdims=True)
    # write off the remaining sustaining base in the final year
    final = (np.arange(ys.size) == closure_year_index).astype(np.float64)
    parts.append(np.maximum(remaining, 0.0) * final)
    return add_lines(parts, shape)


def straight_line(base: Number, start: int, n_years: int, final: int, n_periods: int) -> FloatArray:
    """``base`` (a float or (S, 1)) written off over ``n_years`` from period ``start``; whatever
    the horizon cuts off is written off in period ``final``. Shape (T,) or (S, T)."""
    t = np.arange(n_periods)
    window = ((t >= start) & (t < start + n_years)).astype(np.float64) / n_years
    rest = np.maximum(1.0 - window.sum(), 0.0) * (t == final)
    out: FloatArray = np.asarray(base * (window + rest), dtype=np.float64)
    return out


def _column(x: Number, t: int) -> Number:
    """Year t of a parameter that is a float, (S, 1) or (S, T)."""
    if isinstance(x, float):
        return x
    return x[:, 0] if x.shape[1] == 1 else x[:, t]


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
    rate = n("fiscal.income_tax_rate")
    super_rate = n("fiscal.super_tax_rate")
    threshold = n("fiscal.super_tax_threshold_usd")
    min_rate = n("fiscal.minimum_tax_rate")
    act_rate = n("fiscal.alternative_tax_rate")
    keep = f.loss_carry_forward_years
    # Time-major working copies: each year is one contiguous (S,) vector.
    profit_t = np.ascontiguousarray(profit.T)
    turnover_t = np.ascontiguousarray(np.maximum(turnover, 0.0).T)
    # Loss vintages in a ring: slot (year mod keep) holds that year's loss; at year t the slots
    # hold years t-keep .. t-1, oldest at slot t mod keep, which expires when t's loss is stored.
    pool = np.zeros((max(keep, 1), s_count))
    credit = np.zeros(s_count)
    tax = np.zeros((t_count, s_count))
    taxable = np.zeros((t_count, s_count))
    carried = np.zeros((t_count, s_count))
    floor_out = np.zeros((t_count, s_count))
    cap = n("fiscal.income_tax_cap_after_holiday") if f.income_tax_cap_after_holiday is not None else None
    for t in range(t_count):
        income = profit_t[t]
        taxable_t = np.maximum(income, 0.0)
        if keep > 0:
            if pool.any():  # most years of most deals carry no loss: skip the matching
                for j in range(keep):  # oldest first
                    slot = pool[(t + j) % keep]
                    used = np.minimum(slot, taxable_t)
                    slot -= used
                    taxable_t = taxable_t - used
            pool[t % keep] = np.maximum(-income, 0.0)
        rate_t = _column(rate, t)
        combined = rate_t + np.where(taxable_t > _column(threshold, t), _column(super_rate, t), 0.0)
        if after_holiday[t] and cap is not None:
            combined = np.minimum(combined, _column(cap, t))
        normal = combined * taxable_t
        floor = np.maximum(
            _column(min_rate, t) * turnover_t[t], _column(act_rate, t) * np.maximum(income, 0.0)
        )
        if in_holiday[t]:
            normal = np.zeros(s_count)
            floor = np.zeros(s_count)
        usable = np.minimum(credit, np.maximum(normal - floor, 0.0))
        tax[t] = np.maximum(normal - usable, floor)
        credit = credit - usable + np.maximum(floor - normal, 0.0)
        taxable[t] = taxable_t
        carried[t] = pool.sum(axis=0) if keep > 0 else 0.0
        floor_out[t] = floor
    tax, taxable, carried, floor_out = (a.T for a in (tax, taxable, carried, floor_out))
    return TaxResult(tax=tax, taxable_income=taxable, losses_carried=carried, floor_tax=floor_out)
