"""Period kernels: production and construction profiles, escalation, the Fisher relation,
schedules as per-period arrays, and discounting to the valuation point (the one copy).

Every function is a pure function of numbers and arrays; periods are indices 0 ... T-1 (the
labels are ``models.periods``' business). Formulas: docs/methodology.md §8.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dealcalc.metrics import npv
from dealcalc.metrics._common import FloatArray, Timing, timing_offset
from dealcalc.metrics.periodic import payback_from_cumulative

__all__ = [
    "Number",
    "construction_profile",
    "fisher",
    "growth",
    "payback_years",
    "present_value",
    "production_profile",
    "step_path",
    "times",
    "totals_path",
    "window",
]

#: A number as the engine uses it: a float (the same everywhere), (T,) (per period), (S, 1)
#: (per scenario) or (S, T); each broadcasts against (S, T).
Number = float | FloatArray


def production_profile(
    n_periods: int, first: int, ramp_up: Sequence[float], last: int | None = None, *, built: bool = True
) -> FloatArray:
    """Fraction of design capacity in each period: 0 before ``first``, ``ramp_up[k]`` in the
    k-th production period, then 1, and 0 after ``last`` (an index; None: to the end).

    Examples
    --------
    >>> production_profile(6, 2, [0.5, 0.8], last=4).tolist()
    [0.0, 0.0, 0.5, 0.8, 1.0, 0.0]
    """
    out = np.zeros(n_periods)
    if not built:
        return out
    k = np.arange(n_periods) - first
    out[k >= 0] = 1.0
    for i, fraction in enumerate(ramp_up):
        out[k == i] = fraction
    if last is not None:
        out[np.arange(n_periods) > last] = 0.0
    return out


def construction_profile(
    n_periods: int, start: int, fractions: Sequence[float], *, built: bool = True
) -> FloatArray:
    """``fractions[k]`` in period ``start + k`` (the share of a capex spent each year).

    Examples
    --------
    >>> construction_profile(4, 1, [0.25, 0.75]).tolist()
    [0.0, 0.25, 0.75, 0.0]
    """
    out = np.zeros(n_periods)
    if not built:
        return out
    for i, fraction in enumerate(fractions):
        if 0 <= start + i < n_periods:
            out[start + i] = fraction
    return out


def window(n_periods: int, first: int, last: int) -> FloatArray:
    """1 in periods ``first`` to ``last`` inclusive, else 0.

    Examples
    --------
    >>> window(5, 1, 3).tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    t = np.arange(n_periods)
    return ((t >= first) & (t <= last)).astype(np.float64)


def step_path(
    values: Sequence[Number], at: Sequence[int], n_periods: int, *, first_before: bool = False
) -> Number:
    """A step path: ``values[k]`` from period ``at[k]`` until the next one, the last for ever.

    ``at`` is sorted; indices may lie before period 0 (a level set before the first period
    holds into it). Before the first index the path is 0, or ``values[0]`` with
    ``first_before`` (a price path). Values are floats, or (S, 1) arrays for values that vary
    by scenario; the result is (T,) or (S, T).

    Examples
    --------
    >>> step_path([1.0, 3.0], [1, 3], 5).tolist()
    [0.0, 1.0, 1.0, 3.0, 3.0]
    >>> step_path([1.0, 3.0], [1, 3], 5, first_before=True).tolist()
    [1.0, 1.0, 1.0, 3.0, 3.0]
    """
    t = np.arange(n_periods)
    idx = np.searchsorted(np.asarray(at), t, side="right") - 1
    if first_before:
        idx = np.maximum(idx, 0)
    if all(isinstance(v, float) for v in values):
        table = np.concatenate([[0.0], np.asarray(values, dtype=np.float64)])
        out: FloatArray = table[idx + 1]
        return out
    n_rows = max(np.shape(v)[0] for v in values if not isinstance(v, float))
    full = np.zeros((n_rows, n_periods))
    for k, value in enumerate(values):
        here = idx == k
        if here.any():
            full[:, here] = np.broadcast_to(np.asarray(value, dtype=np.float64), (n_rows, 1))
    return full


def totals_path(values: Sequence[Number], at: Sequence[int], n_periods: int) -> Number:
    """``values[k]`` in period ``at[k]`` and nothing elsewhere (amounts spent in given years).

    Examples
    --------
    >>> totals_path([2.0, 5.0], [0, 2], 4).tolist()
    [2.0, 0.0, 5.0, 0.0]
    """
    if all(isinstance(v, float) for v in values):
        out = np.zeros(n_periods)
        for value, k in zip(values, at, strict=True):
            out[k] += value
        return out
    n_rows = max(np.shape(v)[0] for v in values if not isinstance(v, float))
    full = np.zeros((n_rows, n_periods))
    for value, k in zip(values, at, strict=True):
        full[:, k] += np.asarray(value, dtype=np.float64).reshape(-1)
    return full


def times(x: Number, k: Number) -> Number:
    """``x * k``, skipping the (S, T) pass when ``k`` is exactly 1.0 or 0.0 (a real-terms
    escalation, a default share).

    Examples
    --------
    >>> times(3.0, 1.0), times(3.0, 0.0)
    (3.0, 0.0)
    """
    if isinstance(k, float) and k in (0.0, 1.0):
        return x if k == 1.0 else 0.0
    return x * k


def growth(n_periods: int, rate: Number) -> FloatArray:
    """(1 + rate)^t for t = 0 ... T-1: (T,), or (S, T) when ``rate`` is (S, 1).

    Examples
    --------
    >>> growth(3, 0.1).round(4).tolist()
    [1.0, 1.1, 1.21]
    """
    out: FloatArray = np.power(1.0 + np.asarray(rate), np.arange(n_periods))
    return out


def fisher(rate: Number, inflation: Number, *, stated: str, wanted: str) -> Number:
    """A rate stated in one basis (``"real"``/``"nominal"``) in the other, by the Fisher
    relation (1 + n) = (1 + r)(1 + i); unchanged when the bases agree.

    Examples
    --------
    >>> round(fisher(0.14, 0.025, stated="nominal", wanted="real"), 6)
    0.112195
    """
    if stated == wanted:
        return rate
    if wanted == "real":
        return (1.0 + rate) / (1.0 + inflation) - 1.0
    return (1.0 + rate) * (1.0 + inflation) - 1.0


def present_value(rate: FloatArray, flows: FloatArray, timing: Timing, offset: float) -> FloatArray:
    """The value of ``flows`` (S, T) at the valuation point, ``offset`` years after the start of
    the first period: period t's flow sits ``t + δ`` years after that start (δ = 1, ½, 0 for
    ``end``, ``mid``, ``t0``), so PV = Σ_t CF_t (1 + r)^-(t + δ - offset). ``rate`` is (S,).

    This is the one place the engine discounts to the valuation point (methodology §8).

    Examples
    --------
    >>> import numpy as np
    >>> float(present_value(np.array([0.1]), np.array([[0.0, 110.0]]), "end", 1.0)[0])
    100.0
    """
    value = np.asarray(npv(rate, flows, timing=timing), dtype=np.float64)
    if offset == 0.0:
        return value
    out: FloatArray = value * np.power(1.0 + rate, offset)
    return out


def payback_years(flows: FloatArray, cumulative: FloatArray, timing: Timing, origin: float) -> FloatArray:
    """Simple payback of ``flows`` (S, T) in years from ``origin`` (years after the start of the
    first period: the valuation point, or the start of the first production year); NaN where
    the running total ends below zero. ``cumulative`` is the running total along periods.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.array([[-100.0, 60.0, 60.0]])
    >>> payback_years(f, f.cumsum(axis=1), "end", 0.0).round(4).tolist()
    [2.6667]
    """
    return payback_from_cumulative(flows, cumulative, timing_offset(timing) - origin)
