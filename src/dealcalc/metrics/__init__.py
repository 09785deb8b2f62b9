"""Financial metrics as pure functions of arrays, vectorized over rows.

``values`` has shape (T,) or (S, T) (S scenarios by T periods); rates have shape () or (S,).
A 0-d result is a Python ``float``; anything else is a ``numpy.ndarray`` of ``float64``.
NaN means "no solution" (no IRR, never pays back); bad shapes and non-finite inputs raise
``ValueError`` (programmer errors). Finite flows of any size are valued: a row whose sums would
overflow or underflow is divided by a power of two first, which is exact, so the IRR, MIRR,
payback and profitability index are those of the scaled series and an NPV is scaled back; a
result that is itself beyond floating point raises :class:`~dealcalc.errors.InputError`.
The formulas and their sources are in ``docs/methodology.md``.
"""

from dealcalc.metrics.dated import DAY_COUNTS, xirr, xnpv, year_fractions
from dealcalc.metrics.irr import IRRResult, irr, irr_result, irr_roots
from dealcalc.metrics.periodic import (
    discounted_payback,
    mirr,
    npv,
    payback,
    profitability_index,
)

__all__ = [
    "DAY_COUNTS",
    "IRRResult",
    "discounted_payback",
    "irr",
    "irr_result",
    "irr_roots",
    "mirr",
    "npv",
    "payback",
    "profitability_index",
    "xirr",
    "xnpv",
    "year_fractions",
]
