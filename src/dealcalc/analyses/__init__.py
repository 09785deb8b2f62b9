"""Analyses built on the metrics and the engine: each returns pandas objects."""

from dealcalc.analyses.breakeven import Breakeven, breakeven
from dealcalc.analyses.evaluate import Valuation, compare, evaluate, tariff_attribution
from dealcalc.analyses.flows import flow_metrics
from dealcalc.analyses.gsa import morris, sobol
from dealcalc.analyses.montecarlo import MonteCarlo, monte_carlo, sample_inputs
from dealcalc.analyses.sensitivity import default_drivers, grid, spider, tornado

__all__ = [
    "Breakeven",
    "MonteCarlo",
    "Valuation",
    "breakeven",
    "compare",
    "default_drivers",
    "evaluate",
    "flow_metrics",
    "grid",
    "monte_carlo",
    "morris",
    "sample_inputs",
    "sobol",
    "spider",
    "tariff_attribution",
    "tornado",
]
