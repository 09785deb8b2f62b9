"""Turning results into things people read: rich tables now; plots, Excel and HTML later."""

from dealcalc.report.tables import flow_metrics_table

__all__ = ["flow_metrics_table"]
