"""Excel output (extra ``excel``: xlsxwriter). The ledger as values; live formulas come later."""

from __future__ import annotations

import importlib.util
import io

import pandas as pd

from dealcalc.errors import MissingExtraError

__all__ = ["ledger_workbook"]


def ledger_workbook(ledger: pd.DataFrame, *, title: str, assumptions: pd.DataFrame | None = None) -> bytes:
    """An .xlsx workbook: the annual ledger (years as rows, US$) and, optionally, the inputs
    with their provenance.

    Raises
    ------
    MissingExtraError
        xlsxwriter is not installed (``pip install 'dealcalc[excel]'``).

    Examples
    --------
    >>> import dealcalc as dc
    >>> v = dc.evaluate(dc.load(dc.example_path("ussm-fwo")))
    >>> ledger_workbook(v.table(), title="USSM-FWO")[:2]   # an xlsx file is a zip archive
    b'PK'
    """
    if importlib.util.find_spec("xlsxwriter") is None:
        raise MissingExtraError("xlsxwriter", "excel")
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        ledger.to_excel(writer, sheet_name="Ledger", startrow=2)
        sheet = writer.sheets["Ledger"]
        sheet.write(0, 0, title)
        sheet.write(1, 0, "US$; inflows positive; computed by dealcalc (values)")
        sheet.set_column(0, 0, 8)
        sheet.set_column(1, ledger.shape[1], 18, writer.book.add_format({"num_format": "#,##0"}))
        if assumptions is not None:
            assumptions.to_excel(writer, sheet_name="Inputs")
            writer.sheets["Inputs"].set_column(0, 0, 45)
            writer.sheets["Inputs"].set_column(1, assumptions.shape[1], 30)
    return buffer.getvalue()
