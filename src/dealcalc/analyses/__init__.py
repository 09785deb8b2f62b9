"""Analyses built on the metrics (and, later, on the engine): each returns pandas objects."""

from dealcalc.analyses.flows import flow_metrics

__all__ = ["flow_metrics"]
