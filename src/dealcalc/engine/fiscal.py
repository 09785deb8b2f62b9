"""Royalty, tax depreciation, losses carried forward, and income tax with its floors.

Kernels on arrays, vectorized over scenarios; the only loop is over years, where losses and
credits carry from one year to the next. Formulas and sources: docs/methodology.md §10-11.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.inputs import FiscalInputs
from dealcalc.engine.ledger import add_lines
from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = ["TaxResult", "depreciation", "income_tax", "straight_line"]


def depreciation(
    bases: dict[str, Number],
    starts: dict[str, int],
    sustaining: FloatArray,
    n_years: int,
    write_off: int,
    shape: tuple[int, int],
) -> FloatArray:
    """Straight-line tax depreciation, (T,) or (S, T).

    Each phase's initial capital (``bases[phase]``, its total: a float or (S, 1)) is written off
    over ``n_years`` from period ``starts[phase]``. Sustaining capital (per period, ``sustaining``)
    is written off over the same number of years from the period it is spent. Whatever is
    still undepreciated in period ``write_off`` (the closure year) is written off then; capital
    spent after it is written off when it is spent.

    Examples
    --------
    >>> depreciation({"p": 100.0}, {"p": 1}, np.zeros(5), 2, 4, (1, 5)).tolist()
    [0.0, 50.0, 50.0, 0.0, 0.0]
    >>> depreciation({}, {}, np.array([0.0, 0.0, 0.0, 10.0, 10.0]), 10, 2, (1, 5)).tolist()
    [0.0, 0.0, 0.0, 10.0, 10.0]
    """
    n_periods = shape[1]
    t = np.arange(n_periods)
    parts: list[Number] = [
        straight_line(base, starts[name], n_years, write_off, n_periods) for name, base in bases.items()
    ]
    # sustaining: a rolling window of the last n_years of spend, each spread over n_years, up to
    # the write-off period; then what is left of it at once, and later spend as it is spent
    c = np.cumsum(sustaining, axis=-1)
    lagged = np.zeros_like(c)
    if n_years < c.shape[-1]:
        lagged[..., n_years:] = c[..., :-n_years]
    before = (t < write_off).astype(np.float64)
    rolling = (c - lagged) / n_years * before
    parts.append(rolling)
    remaining = c[..., write_off : write_off + 1] - rolling.sum(axis=-1, keepdims=True)
    parts.append(np.maximum(remaining, 0.0) * (t == write_off))
    parts.append(sustaining * (t > write_off))
    return add_lines(parts, shape)


def straight_line(base: Number, start: int, n_years: int, final: int, n_periods: int) -> FloatArray:
    """``base`` (a float or (S, 1)) written off over ``n_years`` from period ``start``; whatever
    is left in period ``final`` (the closure year; not before ``start``) is written off then.
    Shape (T,) or (S, T).

    Examples
    --------
    >>> straight_line(90.0, 1, 3, 2, 3).tolist()
    [0.0, 30.0, 60.0]
    >>> straight_line(90.0, 1, 3, 2, 5).tolist()
    [0.0, 30.0, 60.0, 0.0, 0.0]
    """
    t = np.arange(n_periods)
    final = max(final, start)
    window = ((t >= start) & (t < start + n_years) & (t < final)).astype(np.float64) / n_years
    rest = np.maximum(1.0 - window.sum(), 0.0) * (t == final)
    out: FloatArray = np.asarray(base * (window + rest), dtype=np.float64)
    return out


def _column(x: Number, t: int) -> Number:
    """Period t of a number that is a float, (T,), (S, 1) or (S, T)."""
    if isinstance(x, float):
        return x
    if x.ndim == 1:
        return float(x[t])
    return x[:, 0] if x.shape[1] == 1 else x[:, t]


@dataclass(frozen=True)
class TaxResult:
    """Tax and the memo lines behind it, each (S, T)."""

    tax: FloatArray
    taxable_income: FloatArray  # after losses brought forward
    losses_carried: FloatArray  # at the end of each year
    floor_tax: FloatArray  # minimum tax / ACT, whichever is larger


def income_tax(f: FiscalInputs, profit: FloatArray, turnover: FloatArray) -> TaxResult:
    """Income tax for each scenario and year.

    ``profit`` (S, T) is taxable profit before losses (EBITDA less depreciation and closure)
    and also serves as accounting profit for the alternative corporate tax; ``turnover``
    (S, T) is revenue less the tariff the exporter bears.

    Normal tax = (income tax + super tax) x taxable income after losses, where super tax applies
    in years whose taxable income exceeds its threshold. Losses are used oldest first and expire
    after ``loss_years``. The tax paid is the larger of normal tax (less credits) and the floor,
    max(minimum tax on turnover, ACT on accounting profit); floor tax paid above normal tax
    becomes a credit against later normal tax above that year's floor. In a tax holiday no
    income tax, super tax or floor is due; after it the combined rate is capped.
    """
    s_count, t_count = profit.shape
    keep = f.loss_years
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
        rate_t = _column(f.income_tax_rate, t)
        combined = rate_t + np.where(
            taxable_t > _column(f.super_tax_threshold, t), _column(f.super_tax_rate, t), 0.0
        )
        if f.after_holiday[t] and f.cap_after_holiday is not None:
            combined = np.minimum(combined, _column(f.cap_after_holiday, t))
        normal = combined * taxable_t
        floor = np.maximum(
            _column(f.minimum_tax_rate, t) * turnover_t[t],
            _column(f.alternative_tax_rate, t) * np.maximum(income, 0.0),
        )
        if f.in_holiday[t]:
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
