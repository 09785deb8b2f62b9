"""Turning results into things people read: rich tables now; plots, Excel and HTML later."""

from dealcalc.report.excel import ledger_workbook
from dealcalc.report.tables import compare_table, flow_metrics_table, valuation_table

__all__ = ["compare_table", "flow_metrics_table", "ledger_workbook", "valuation_table"]
