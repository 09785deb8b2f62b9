"""Turning results into things people read: rich tables now; plots, Excel and HTML later."""

from dealcalc.report.excel import excel_model, ledger_workbook
from dealcalc.report.tables import (
    attribution_table,
    compare_table,
    entity_table,
    flow_metrics_table,
    frame_table,
    indices_table,
    montecarlo_table,
    party_table,
    tornado_table,
    valuation_table,
)

__all__ = [
    "attribution_table",
    "compare_table",
    "entity_table",
    "excel_model",
    "flow_metrics_table",
    "frame_table",
    "indices_table",
    "ledger_workbook",
    "montecarlo_table",
    "party_table",
    "tornado_table",
    "valuation_table",
]
