"""dealcalc: value cross-border critical-minerals deals.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

from dealcalc.analyses import flow_metrics
from dealcalc.errors import (
    ConvergenceError,
    DealcalcError,
    InputError,
    MissingExtraError,
    OutputExistsError,
)
from dealcalc.metrics import (
    IRRResult,
    discounted_payback,
    irr,
    irr_result,
    irr_roots,
    mirr,
    npv,
    payback,
    profitability_index,
    xirr,
    xnpv,
)

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "DealcalcError",
    "IRRResult",
    "InputError",
    "MissingExtraError",
    "OutputExistsError",
    "__version__",
    "discounted_payback",
    "flow_metrics",
    "irr",
    "irr_result",
    "irr_roots",
    "mirr",
    "npv",
    "payback",
    "profitability_index",
    "xirr",
    "xnpv",
]
