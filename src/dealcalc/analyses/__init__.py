"""Analyses built on the metrics and the engine: each returns pandas objects."""

from dealcalc.analyses.evaluate import Valuation, compare, evaluate, tariff_attribution
from dealcalc.analyses.flows import flow_metrics

__all__ = ["Valuation", "compare", "evaluate", "flow_metrics", "tariff_attribution"]
