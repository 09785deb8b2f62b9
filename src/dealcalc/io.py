"""Reading user files and writing outputs safely.

Only this module and :mod:`dealcalc.cli` touch files. Every input error is an
:class:`~dealcalc.errors.InputError` that names the file, the line and the field (or column).
Every output is written atomically (a temporary file in the same folder, then a rename), and an
existing file is kept unless ``force=True``.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dealcalc.errors import InputError, OutputExistsError
from dealcalc.metrics._common import FloatArray

__all__ = ["CashFlowTable", "read_cash_flows_csv", "write_atomic"]

#: First-column headers that label the periods rather than hold a series.
PERIOD_COLUMNS = ("period", "year", "t")
DATE_COLUMNS = ("date",)


@dataclass(frozen=True)
class CashFlowTable:
    """Cash-flow series read from a CSV file: one series per column.

    Attributes
    ----------
    names : tuple of str
        Series names (the column headers).
    values : ndarray, shape (S, T)
        One row per series, one column per period.
    labels : tuple of str
        The period labels (first column if it was ``period``/``year``/``t``/``date``, else 0..T-1).
    dates : tuple of datetime.date, optional
        The flow dates when the first column is ``date``.
    """

    names: tuple[str, ...]
    values: FloatArray
    labels: tuple[str, ...]
    dates: tuple[dt.date, ...] | None = None


def _number(text: str, source: str, line: int, column: str) -> float:
    cleaned = text.strip().replace(",", "").replace("_", "")
    if cleaned == "":
        raise InputError(
            "empty cell",
            source=source,
            line=line,
            field=f"column '{column}'",
            expected="a number (write 0 for no cash flow)",
        )
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(
            f"{text.strip()!r} is not a number",
            source=source,
            line=line,
            field=f"column '{column}'",
            expected="a number such as -1500000 or 2.5e6",
        ) from None
    if not math.isfinite(value):
        raise InputError(
            f"{text.strip()!r} is not a finite number",
            source=source,
            line=line,
            field=f"column '{column}'",
            expected="a finite number",
        )
    return value


def read_cash_flows_csv(path: str | os.PathLike[str]) -> CashFlowTable:
    """Read cash-flow series from a CSV file, one series per column.

    The first row holds the series names. An optional first column headed ``period``,
    ``year`` or ``t`` labels the periods; one headed ``date`` gives each row a date (ISO
    ``YYYY-MM-DD``), for XNPV and XIRR. Thousands separators (``1,500``) are accepted inside
    quoted cells.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    CashFlowTable

    Raises
    ------
    InputError
        The file is missing or unreadable, or a cell is empty or not a number; the message
        names the file, the line and the column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "flows.csv"
    >>> _ = p.write_text("year,Mine\\n2026,-100\\n2027,60\\n2028,60\\n")
    >>> table = read_cash_flows_csv(p)
    >>> table.names, table.values.tolist(), table.labels
    (('Mine',), [[-100.0, 60.0, 60.0]], ('2026', '2027', '2028'))
    """
    source = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", source=source) from None
    except csv.Error as exc:
        raise InputError(f"not a valid CSV file: {exc}", source=source) from None
    numbered = [(i + 1, row) for i, row in enumerate(rows) if any(cell.strip() for cell in row)]
    if not numbered:
        raise InputError(
            "the file is empty", source=source, expected="a header row of series names"
        )
    header_line, header = numbered[0]
    header = [h.strip() for h in header]
    first = header[0].lower() if header else ""
    index_kind = "date" if first in DATE_COLUMNS else "period" if first in PERIOD_COLUMNS else None
    names = header[1:] if index_kind else header
    if not names:
        raise InputError(
            "no cash-flow columns",
            source=source,
            line=header_line,
            expected="one column per series after the period column",
        )
    seen: set[str] = set()
    for name in names:
        if not name:
            raise InputError("a column has no name", source=source, line=header_line)
        if name in seen:
            raise InputError(f"column '{name}' appears twice", source=source, line=header_line)
        seen.add(name)
    body = numbered[1:]
    if not body:
        raise InputError("no data rows", source=source, expected="one row per period")
    labels: list[str] = []
    dates: list[dt.date] = []
    data = np.empty((len(names), len(body)))
    for j, (line, row) in enumerate(body):
        if len(row) != len(header):
            raise InputError(
                f"{len(row)} cells where the header has {len(header)}", source=source, line=line
            )
        cells = row
        if index_kind:
            label = row[0].strip()
            labels.append(label)
            if index_kind == "date":
                try:
                    dates.append(dt.date.fromisoformat(label))
                except ValueError:
                    raise InputError(
                        f"{label!r} is not a date",
                        source=source,
                        line=line,
                        field=f"column '{header[0]}'",
                        expected="an ISO date such as 2026-12-31",
                    ) from None
            cells = row[1:]
        else:
            labels.append(str(j))
        for i, (name, cell) in enumerate(zip(names, cells, strict=True)):
            data[i, j] = _number(cell, source, line, name)
    return CashFlowTable(
        names=tuple(names),
        values=data,
        labels=tuple(labels),
        dates=tuple(dates) if index_kind == "date" else None,
    )


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; keep an existing file unless ``force``.

    The data goes to a temporary file in the same folder, which is then renamed over the
    target, so a reader never sees half a file and a failure leaves the old file intact.

    Parameters
    ----------
    path : str or path-like
        Where to write.
    data : str or bytes
        The content (text is written as UTF-8).
    force : bool, default False
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False.
    InputError
        The folder does not exist or cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.json"
    >>> write_atomic(p, '{"npv_usd": 1.0}').read_text()
    '{"npv_usd": 1.0}'
    >>> write_atomic(p, "{}")
    Traceback (most recent call last):
    ...
    dealcalc.errors.OutputExistsError: ... exists; use --force to replace it
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputExistsError(f"{target} exists; use --force to replace it")
    if target.exists() and target.is_dir():
        raise InputError("is a directory", source=str(target), expected="a file path")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("the folder does not exist", source=str(target))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror}", source=str(target)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write: {exc.strerror}", source=str(target)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
