"""dealcalc: value cross-border critical-minerals deals.

The public API is what ``__all__`` lists; everything else is private and may change.
"""

from dealcalc._version import __version__
from dealcalc.analyses import (
    Breakeven,
    GateDecisions,
    MonteCarlo,
    Valuation,
    adaptive_gates,
    breakeven,
    compare,
    evaluate,
    flow_metrics,
    grid,
    guarantee_effect,
    lender_risk,
    monte_carlo,
    negotiation_space,
    paired_change,
    spider,
    tariff_attribution,
    tornado,
)
from dealcalc.errors import (
    ConvergenceError,
    DealcalcError,
    InputError,
    MissingExtraError,
    OutputExistsError,
)
from dealcalc.io import example_path
from dealcalc.io import load_deal as load
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
from dealcalc.models import Deal

__all__ = [
    "Breakeven",
    "ConvergenceError",
    "Deal",
    "DealcalcError",
    "GateDecisions",
    "IRRResult",
    "InputError",
    "MissingExtraError",
    "MonteCarlo",
    "OutputExistsError",
    "Valuation",
    "__version__",
    "adaptive_gates",
    "breakeven",
    "compare",
    "discounted_payback",
    "evaluate",
    "example_path",
    "flow_metrics",
    "grid",
    "guarantee_effect",
    "irr",
    "irr_result",
    "irr_roots",
    "lender_risk",
    "load",
    "mirr",
    "monte_carlo",
    "negotiation_space",
    "npv",
    "paired_change",
    "payback",
    "profitability_index",
    "spider",
    "tariff_attribution",
    "tornado",
    "xirr",
    "xnpv",
]
