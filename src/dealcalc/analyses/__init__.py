"""Analyses built on the metrics and the engine: each returns pandas objects."""

from dealcalc.analyses.breakeven import Breakeven, breakeven
from dealcalc.analyses.decisions import GateDecisions, adaptive_gates
from dealcalc.analyses.evaluate import Valuation, compare, evaluate, tariff_attribution
from dealcalc.analyses.flows import flow_metrics
from dealcalc.analyses.gsa import morris, sobol
from dealcalc.analyses.lenders import guarantee_effect, lender_risk
from dealcalc.analyses.lsm import american_option, longstaff_schwartz
from dealcalc.analyses.montecarlo import MonteCarlo, monte_carlo, sample_inputs
from dealcalc.analyses.paired import paired_change
from dealcalc.analyses.sensitivity import default_drivers, grid, spider, tornado
from dealcalc.analyses.terms import TermsGrid, negotiation_space

__all__ = [
    "Breakeven",
    "GateDecisions",
    "MonteCarlo",
    "TermsGrid",
    "Valuation",
    "adaptive_gates",
    "american_option",
    "breakeven",
    "compare",
    "default_drivers",
    "evaluate",
    "flow_metrics",
    "grid",
    "guarantee_effect",
    "lender_risk",
    "longstaff_schwartz",
    "monte_carlo",
    "morris",
    "negotiation_space",
    "paired_change",
    "sample_inputs",
    "sobol",
    "spider",
    "tariff_attribution",
    "tornado",
]
