"""US$ cost factors from the share of costs paid in the local currency and its exchange rate.

A cost stated as C US$ at the start-year rate X_0, of which a share s is fixed in local money,
costs C * (1 - s + s * X_0 / X_t) US$ in year t. Formulas: docs/methodology.md §15.
"""

from __future__ import annotations

import numpy as np

from dealcalc.engine.timeline import Number, growth

__all__ = ["cost_factor", "depreciating_rate"]


def depreciating_rate(x0: Number, depreciation: Number, n_periods: int) -> Number:
    """Local units per US$ falling in value at ``depreciation`` a year from ``x0``.

    Examples
    --------
    >>> depreciating_rate(100.0, 0.1, 3).round(6).tolist()
    [100.0, 110.0, 121.0]
    """
    return np.asarray(x0 * growth(n_periods, depreciation), dtype=np.float64)


def cost_factor(share: Number, x0: Number, rate: Number) -> Number:
    """The US$ cost of one US$ of cost stated at ``x0`` local units per US$, a ``share`` of it
    fixed in local money, when the rate is ``rate``: ``1 - s + s x0 / x_t``.

    Examples
    --------
    >>> cost_factor(0.5, 100.0, 200.0)
    0.75
    """
    return 1.0 - share + share * (x0 / rate)
