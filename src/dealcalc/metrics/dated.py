"""Metrics of dated cash flows: year fractions by day count, XNPV and XIRR.

Dates may be given in any order, as ``datetime.date``, ``numpy.datetime64`` or ISO strings.
Year fractions are measured from the earliest date, which is where Excel's XNPV places its
"0th payment date" whenever its inputs are valid (Excel requires the first date to be earliest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, TypeAlias

import numpy as np
from numpy.typing import ArrayLike

from dealcalc.errors import ConvergenceError
from dealcalc.metrics._common import (
    BoolArray,
    FloatArray,
    IntArray,
    as_rate,
    as_values,
    finish,
    overflow_error,
    rescale_rows,
    row_exponents,
    sign_changes,
)
from dealcalc.metrics._roots import safeguarded_newton

__all__ = ["DAY_COUNTS", "DatesLike", "DayCount", "xirr", "xnpv", "year_fractions"]

DayCount: TypeAlias = Literal["ACT/365F", "ACT/360", "ACT/365.25", "ACT/ACT ISDA", "30/360 ISDA", "30E/360"]
#: Dates as ``datetime.date`` objects, ISO strings or a ``datetime64`` array.
DatesLike: TypeAlias = Sequence[dt.date] | Sequence[str] | ArrayLike

#: The day-count conventions understood by :func:`year_fractions`.
DAY_COUNTS: tuple[str, ...] = (
    "ACT/365F",
    "ACT/360",
    "ACT/365.25",
    "ACT/ACT ISDA",
    "30/360 ISDA",
    "30E/360",
)


def _as_dates(dates: DatesLike) -> np.ndarray:
    try:
        arr = np.asarray(dates, dtype="datetime64[D]")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"dates must be dates or ISO 'YYYY-MM-DD' strings: {exc}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"dates must have shape (T,), got shape {arr.shape}")
    if np.isnat(arr).any():
        raise ValueError("dates contain NaT")
    return arr


def _ymd(d: np.ndarray) -> tuple[IntArray, IntArray, IntArray]:
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month_start = d.astype("datetime64[M]")
    months = month_start.astype(np.int64) % 12 + 1
    days = (d - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    return years, months, days


def _is_leap(year: IntArray) -> BoolArray:
    leap: BoolArray = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    return leap


def year_fractions(dates: DatesLike, day_count: DayCount = "ACT/365F") -> FloatArray:
    r"""Years from the earliest date to each date, by a day-count convention.

    Parameters
    ----------
    dates : array_like, shape (T,)
        Dates, in any order.
    day_count : str, default 'ACT/365F'
        One of :data:`DAY_COUNTS`:

        - ``ACT/365F``, ``ACT/360``, ``ACT/365.25``: actual days over 365, 360 or 365.25;
        - ``ACT/ACT ISDA``: days in leap years over 366 plus days in other years over 365;
        - ``30/360 ISDA`` (bond basis): day 31 becomes 30; the end day 31 becomes 30 only when
          the start day is 30 or 31;
        - ``30E/360`` (Eurobond basis): any day 31 becomes 30.

        The 30/360 fraction is ``(360 (Y2-Y1) + 30 (M2-M1) + (D2-D1)) / 360``.

    Returns
    -------
    ndarray, shape (T,)
        Year fractions, 0 at the earliest date.

    References
    ----------
    .. [1] ISDA 2006 Definitions, section 4.16 (day count fractions).

    Examples
    --------
    >>> from dealcalc.metrics import year_fractions
    >>> year_fractions(["2024-01-01", "2024-07-01", "2025-01-01"]).round(6)
    array([0.     , 0.49863, 1.00274])
    >>> year_fractions(["2024-01-01", "2024-07-01", "2025-01-01"], "ACT/ACT ISDA").round(6)
    array([0.      , 0.497268, 1.      ])
    """
    return np.asarray(_year_fractions(_as_dates(dates), day_count), dtype=np.float64)


def _year_fractions(d: np.ndarray, day_count: str) -> FloatArray:
    d0 = d.min()
    days: FloatArray = np.asarray((d - d0).astype(np.int64), dtype=np.float64)
    if day_count == "ACT/365F":
        return days / 365.0
    if day_count == "ACT/360":
        return days / 360.0
    if day_count == "ACT/365.25":
        return days / 365.25
    if day_count == "ACT/ACT ISDA":
        y, _, _ = _ymd(d)
        y0 = int(_ymd(d0[None])[0][0])
        day_of_year = (d - d.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
        doy0 = int((d0 - d0.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64))
        length = np.where(_is_leap(y), 366.0, 365.0)
        length0 = 366.0 if _is_leap(np.array([y0]))[0] else 365.0
        act_act: FloatArray = (y - y0) + day_of_year / length - doy0 / length0
        return act_act
    if day_count in ("30/360 ISDA", "30E/360"):
        y2, m2, d2 = _ymd(d)
        y1, m1, d1 = (a[0] for a in _ymd(d0[None]))
        d1 = min(int(d1), 30)
        if day_count == "30/360 ISDA":
            d2 = np.where((d2 == 31) & (d1 >= 30), 30, d2)
        else:
            d2 = np.minimum(d2, 30)
        thirty: FloatArray = (360 * (y2 - y1) + 30 * (m2 - m1) + (d2 - d1)) / 360.0
        return thirty
    raise ValueError(f"day_count must be one of {', '.join(DAY_COUNTS)}; got {day_count!r}")


def xnpv(
    rate: ArrayLike, values: ArrayLike, dates: DatesLike, *, day_count: DayCount = "ACT/365F"
) -> float | FloatArray:
    r"""Net present value of dated cash flows, at the earliest date.

    Parameters
    ----------
    rate : array_like, shape () or (S,)
        Annual discount rate as a fraction, greater than -1.
    values : array_like, shape (T,) or (S, T)
        Cash flows, one per date.
    dates : array_like, shape (T,)
        The dates of the flows, in any order, shared by every row.
    day_count : str, default 'ACT/365F'
        See :func:`year_fractions`.

    Returns
    -------
    float or ndarray, shape (S,)

    Notes
    -----
    .. math:: \mathrm{XNPV} = \sum_i v_i (1+r)^{-\tau_i}

    with :math:`\tau_i` the year fraction from the earliest date to :math:`d_i` (Excel ``XNPV``).

    Examples
    --------
    >>> import dealcalc as dc
    >>> dates = ["2015-06-11", "2015-07-21", "2018-06-10", "2015-10-17"]
    >>> round(dc.xnpv(0.10, [-1000, -9000, 20000, -3000], dates), 6)
    2218.425664
    """
    v = as_values(values)
    tau = year_fractions(dates, day_count)
    if tau.shape[0] != v.shape[-1]:
        raise ValueError(f"{tau.shape[0]} dates for {v.shape[-1]} cash flows")
    r = as_rate(rate, v)
    r_col = r[..., None] if r.ndim else r
    with np.errstate(over="ignore", invalid="ignore"):
        result = (v * np.power(1.0 + r_col, -tau)).sum(axis=-1)
        if not np.isfinite(result).all():  # sums near 1e308: value rescaled rows (XNPV is linear)
            e = row_exponents(v)
            result = np.ldexp((rescale_rows(v, e) * np.power(1.0 + r_col, -tau)).sum(axis=-1), e)
            if not np.isfinite(result).all():
                # errors.md: is too large for floating point
                raise overflow_error("the XNPV")
    return finish(result)


class _DatedProblem:
    def __init__(self, flows: FloatArray, tau: FloatArray) -> None:
        self.flows = flows  # (T, n), time-major, dates merged and sorted
        self.tau = tau[:, None]

    def evaluate(self, r: FloatArray) -> tuple[FloatArray, FloatArray]:
        terms = self.flows * np.exp(-self.tau * np.log1p(r))
        return terms.sum(axis=0), -(terms * self.tau).sum(axis=0) / (1.0 + r)

    def keep(self, mask: BoolArray) -> None:
        self.flows = self.flows[:, mask]


def _dated_upper_bound(flows: FloatArray, tau: FloatArray) -> FloatArray:
    """A rate above every root: |v_0| x^tau_0 must be matched by the later flows."""
    nonzero = flows != 0.0
    first = np.argmax(nonzero, axis=0)
    cols = np.arange(flows.shape[1])
    lead = np.abs(flows[first, cols])
    later_mask = np.arange(flows.shape[0])[:, None] > first[None, :]
    rest = np.where(later_mask, np.abs(flows), 0.0).sum(axis=0)
    gaps = np.where(later_mask & nonzero, tau[:, None] - tau[first][None, :], np.inf).min(axis=0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bound = np.power(rest / lead, 1.0 / gaps) - 1.0
    bound = np.where(np.isfinite(bound), np.maximum(bound, 0.0), 1e9)
    return np.minimum(bound, 1e9) * (1.0 + 1e-9) + 1e-9


def _laguerre_certified(flows: FloatArray, tau: FloatArray, r: FloatArray) -> BoolArray:
    """No root above r if the partial sums of v_i x0^tau_i never change sign (Laguerre)."""
    r0 = r + 1e-7 * (1.0 + np.abs(r))
    terms = flows * np.exp(-tau[:, None] * np.log1p(r0))
    partial = np.cumsum(terms, axis=0)
    gross = np.abs(terms).sum(axis=0)
    partial = np.where(np.abs(partial) > 1e-11 * gross, partial, 0.0)
    certified: BoolArray = sign_changes(partial) == 0
    return certified


def _scan_highest(flows: FloatArray, tau: FloatArray, upper: FloatArray) -> FloatArray:
    """Highest sign change of XNPV on a fine grid of log(1+r), refined by bisection."""
    n = flows.shape[1]
    grid = np.linspace(0.0, 1.0, 1025)
    lo_u = np.full(n, np.log(1e-6))
    hi_u = np.log1p(upper)
    u = lo_u[:, None] + grid[None, :] * (hi_u - lo_u)[:, None]  # (n, G)
    values = np.einsum("tn,tng->ng", flows, np.exp(-tau[:, None, None] * u[None, :, :]))
    s = np.sign(values)
    change = (s[:, :-1] * s[:, 1:]) < 0
    has = change.any(axis=1)
    j = change.shape[1] - 1 - np.argmax(change[:, ::-1], axis=1)
    rows = np.arange(n)
    a, b = u[rows, j], u[rows, j + 1]
    sa = s[rows, j]
    for _ in range(200):
        m = 0.5 * (a + b)
        fm = (flows * np.exp(-tau[:, None] * m[None, :])).sum(axis=0)
        left = np.sign(fm) == sa
        a = np.where(left, m, a)
        b = np.where(left, b, m)
    return np.where(has, np.expm1(0.5 * (a + b)), np.nan)


def xirr(
    values: ArrayLike,
    dates: DatesLike,
    *,
    day_count: DayCount = "ACT/365F",
    on_failure: Literal["nan", "raise"] = "nan",
) -> float | FloatArray:
    r"""Internal rate of return of dated cash flows (annual, by the day count).

    Parameters
    ----------
    values : array_like, shape (T,) or (S, T)
        Cash flows, one per date; at least one positive and one negative.
    dates : array_like, shape (T,)
        Dates in any order, shared by every row.
    day_count : str, default 'ACT/365F'
        See :func:`year_fractions`.
    on_failure : {'nan', 'raise'}, default 'nan'
        NaN for a row with no root, or :class:`~dealcalc.errors.ConvergenceError`.

    Returns
    -------
    float or ndarray, shape (S,)

    Notes
    -----
    Solves :math:`\sum_i v_i (1+r)^{-\tau_i} = 0` with the highest-root policy of
    :func:`irr`. Flows on the same date are added first. Rows with several sign changes are
    certified by Laguerre's rule (partial sums of :math:`v_i x_0^{\tau_i}` never change sign
    above the root); others are re-solved by a fine scan in :math:`\log(1+r)` and bisection.

    References
    ----------
    .. [1] Microsoft Excel ``XIRR``; pyxirr ``xirr`` (the test oracle).
    .. [2] G. J. O. Jameson, "Counting zeros of generalised polynomials: Descartes' rule of signs
       and Laguerre's extensions", Mathematical Gazette 90 (2006).

    Examples
    --------
    >>> import dealcalc as dc
    >>> dates = ["2015-06-11", "2015-07-21", "2018-06-10", "2015-10-17"]
    >>> round(dc.xirr([-1000, -9000, 20000, -3000], dates), 10)
    0.1635371584
    """
    if on_failure not in ("nan", "raise"):
        raise ValueError(f"on_failure must be 'nan' or 'raise', got {on_failure!r}")
    v = as_values(values, min_periods=2)
    tau_all = year_fractions(dates, day_count)
    if tau_all.shape[0] != v.shape[-1]:
        raise ValueError(f"{tau_all.shape[0]} dates for {v.shape[-1]} cash flows")
    tau, inverse = np.unique(tau_all, return_inverse=True)
    rows = np.atleast_2d(v)
    rows = rescale_rows(rows, row_exponents(rows))  # exact; the XIRR does not depend on scale
    flows = np.zeros((tau.size, rows.shape[0]))
    np.add.at(flows, inverse, rows.T)
    with np.errstate(all="ignore"):  # see irr_result: extreme rows overflow harmlessly
        result = _solve_dated(flows, tau)
    if on_failure == "raise" and np.isnan(result).any():
        raise ConvergenceError(f"no XIRR for {int(np.isnan(result).sum())} series")
    return finish(result[0] if v.ndim == 1 else result)


def _solve_dated(flows: FloatArray, tau: FloatArray) -> FloatArray:
    """XIRR by the highest-root policy for each column of a (T, n) block of merged flows."""
    result = np.full(flows.shape[1], np.nan)
    changes = sign_changes(flows)
    cand = np.flatnonzero(changes > 0)
    if cand.size:
        sub = flows[:, cand]
        upper = _dated_upper_bound(sub, tau)
        first = np.argmax(sub != 0.0, axis=0)
        upper_sign = np.sign(sub[first, np.arange(sub.shape[1])])
        roots, ok = safeguarded_newton(
            _DatedProblem(sub, tau),
            np.minimum(np.full(cand.size, 0.1), 0.5 * upper),
            upper,
            upper_sign,
            maxiter=100,
            xtol=1e-13,
        )
        multi = ok & (changes[cand] > 1)
        if multi.any():
            ok[multi] = _laguerre_certified(sub[:, multi], tau, roots[multi])
        result[cand[ok]] = roots[ok]
        rest = np.flatnonzero(~ok)
        if rest.size:
            result[cand[rest]] = _scan_highest(sub[:, rest], tau, upper[rest])
    return result
