"""Every metric of plain cash-flow series, side by side, as a DataFrame."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from dealcalc import metrics
from dealcalc.metrics._common import Timing

__all__ = ["flow_metrics"]


def flow_metrics(
    values: ArrayLike,
    rate: float,
    *,
    names: Sequence[str] | None = None,
    timing: Timing = "t0",
    finance_rate: float | None = None,
    reinvest_rate: float | None = None,
    dates: Sequence[dt.date] | None = None,
) -> pd.DataFrame:
    """NPV, IRR, MIRR, paybacks and profitability index of each series, one row per series.

    Parameters
    ----------
    values : array_like, shape (T,) or (S, T)
        Cash-flow series, one row per series.
    rate : float
        Discount rate per period, as a fraction.
    names : sequence of str, optional
        Series names (the index); default ``series 0``, ``series 1``...
    timing : {'t0', 'end', 'mid'}, default 't0'
        Where ``values[0]`` sits; see :func:`dealcalc.npv`.
    finance_rate, reinvest_rate : float, optional
        MIRR's rates; both default to ``rate``.
    dates : sequence of datetime.date, optional
        One date per period; adds ``xnpv`` (at the earliest date) and ``xirr`` (annual, ACT/365F).

    Returns
    -------
    pandas.DataFrame
        Columns ``npv``, ``irr``, ``mirr``, ``payback_periods``, ``discounted_payback_periods``,
        ``profitability_index``, ``sign_changes``, ``conventional`` (and ``xnpv``, ``xirr``).
        NaN means no solution (no IRR; never pays back).

    Examples
    --------
    >>> import dealcalc as dc
    >>> df = dc.flow_metrics([[-5.0, 1.5, 2.0, 2.0, 1.5]], 0.10, names=["M2"])
    >>> df.loc["M2", ["npv", "irr", "payback_periods"]].round(4).to_dict()
    {'npv': 0.5437, 'irr': 0.149, 'payback_periods': 2.75}
    """
    v = np.atleast_2d(metrics._common.as_values(values, min_periods=2))
    labels = list(names) if names is not None else [f"series {i}" for i in range(v.shape[0])]
    if len(labels) != v.shape[0]:
        raise ValueError(f"{len(labels)} names for {v.shape[0]} series")
    fr = rate if finance_rate is None else finance_rate
    rr = rate if reinvest_rate is None else reinvest_rate
    diagnostics = metrics.irr_result(v)
    columns: dict[str, object] = {
        "npv": metrics.npv(rate, v, timing=timing),
        "irr": diagnostics.irr,
        "mirr": metrics.mirr(v, fr, rr),
        "payback_periods": metrics.payback(v, timing=timing),
        "discounted_payback_periods": metrics.discounted_payback(rate, v, timing=timing),
        "profitability_index": metrics.profitability_index(rate, v),
        "sign_changes": diagnostics.sign_changes,
        "conventional": diagnostics.conventional,
    }
    if dates is not None:
        columns["xnpv"] = metrics.xnpv(rate, v, list(dates))
        columns["xirr"] = metrics.xirr(v, list(dates))
    return pd.DataFrame(columns, index=pd.Index(labels, name="series"))
