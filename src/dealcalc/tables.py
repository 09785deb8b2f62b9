"""Year-by-year values from CSV files that a scenario file names (a mine plan, a study's rows).

A scenario file may say::

    tables:
      - file: mine_plan.csv          # relative to the scenario file
        scale: 1.0e6                 # every number times this (a table in millions)
        columns:                     # CSV header -> parameter path (default: the header is the path)
          Ore milled Mt: streams.mill.ore_tpa
          Payable Cu Mlb: {path: streams.copper.recovered_units_per_year, scale: 1.0e6}
        source: "Study table 22-6"   # provenance for every value it gives

The first column holds the period labels (``year`` or ``period``; calendar years or the study's
own numbers). Each listed column becomes a ``{year: value}`` schedule at its path, exactly as if
it were written in the YAML. Numbers are plain: a decimal comma or a thousands separator is an
error with the line, not a guess. :mod:`dealcalc.io` calls :func:`apply_tables` before the deal is
validated; a value from a table that the deal refuses is reported at its CSV line.
"""

from __future__ import annotations

import csv
import math
import os
import re
import stat
from collections.abc import Mapping
from io import StringIO
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from dealcalc.errors import InputError, did_you_mean
from dealcalc.models.base import Model

__all__ = [
    "MAX_CSV_BYTES",
    "TableColumn",
    "TableSpec",
    "apply_tables",
    "file_kind",
    "plain_number",
    "read_csv_rows",
    "read_limited",
]

#: The size a CSV file (a table, or cash-flow series) may have: 32 MiB, a few million numbers. A
#: mine plan is a few kB; a larger file is the wrong file, refused before it is read.
MAX_CSV_BYTES = 32 * 2**20
#: The size a table file may have (the limit of every CSV file).
MAX_TABLE_BYTES = MAX_CSV_BYTES


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, in words (``"a directory"``)."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


def _mib(size: int) -> str:
    return f"{size / 2**20:g} MiB"


def read_limited(path: str | os.PathLike[str], limit: int, *, shown: str, what: str) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    A directory, a device (``/dev/zero``), a named pipe or a socket is refused, and so is a file
    larger than ``limit``, before anything is read; the read itself stops after ``limit + 1``
    bytes, so a file that grows (or a ``/proc`` file, whose size reads 0) cannot fill memory.

    Parameters
    ----------
    path : str or path-like
        The file.
    limit : int
        The most bytes the file may have.
    shown : str
        The file as the messages name it.
    what : str
        What the file should be, for the messages (``"a scenario file"``).

    Raises
    ------
    InputError
        Not a regular file, or larger than ``limit``.
    OSError
        The file is missing or unreadable (``FileNotFoundError``, ``PermissionError``, ...).

    Examples
    --------
    >>> read_limited("/dev/zero", 1000, shown="/dev/zero", what="a CSV file")
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: /dev/zero: is a character device, not a regular file; expected a CSV file
    """

    def check(status: os.stat_result) -> None:
        if not stat.S_ISREG(status.st_mode):
            raise InputError(
                f"is {file_kind(status.st_mode)}, not a regular file", source=shown, expected=what
            )
        if status.st_size > limit:
            raise InputError(
                f"the file is larger than {_mib(limit)}",
                source=shown,
                expected=f"{what}, at most {_mib(limit)}",
            )

    check(os.stat(path))  # before opening: opening a device or a pipe can block or act
    # O_NONBLOCK: a pipe put in the file's place since the check does not block the open
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        check(os.fstat(fh.fileno()))  # the file opened is the file checked
        data = fh.read(limit + 1)
    if len(data) > limit:  # it grew since
        raise InputError(
            f"the file is larger than {_mib(limit)}", source=shown, expected=f"{what}, at most {_mib(limit)}"
        )
    return data


def read_csv_rows(path: str | os.PathLike[str], limit: int, *, shown: str, what: str) -> list[list[str]]:
    """The rows of a UTF-8 CSV file (a byte-order mark is dropped), read with :func:`read_limited`.

    Raises ``OSError``, ``UnicodeDecodeError`` and ``csv.Error`` for the caller to word.
    """
    text = read_limited(path, limit, shown=shown, what=what).decode("utf-8-sig")
    return list(csv.reader(StringIO(text, newline="")))


def _shown(cell: str) -> str:
    """A cell for a message: quoted, and cut short if it is long."""
    return repr(cell) if len(cell) <= 40 else repr(cell[:30]) + f"... ({len(cell):,} characters)"


def plain_number(
    text: str, where: str, line: int, column: str, *, empty: str = "a number (write 0)"
) -> float:
    """A CSV cell read as a plain number: digits, an optional sign, a decimal point and an
    exponent (``-1500000.5``, ``2.5e6``); Python's ``_`` between digits is allowed.

    A comma is refused, quoted or not: ``"-1,5"`` may mean -1.5 (a decimal comma) or -15 (a
    thousands separator), and a guess would be silent. So are digits other than ASCII 0-9 and
    values that are not finite (``nan``, ``inf``, ``1e400``).

    Examples
    --------
    >>> plain_number(" -1500000.5 ", "plan.csv", 3, "capex")
    -1500000.5
    >>> plain_number('-1,5', "plan.csv", 3, "capex")
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: plan.csv:3: column 'capex': '-1,5' has a comma; expected a plain number: ...
    """
    cell = text.strip()
    if cell == "":
        raise InputError("empty cell", source=where, line=line, field=f"column '{column}'", expected=empty)
    if "," in cell:
        raise InputError(
            f"{_shown(cell)} has a comma",
            source=where,
            line=line,
            field=f"column '{column}'",
            expected="a plain number: a point for decimals and no thousands separators (1500000.5)",
        )
    try:
        value = float(cell) if cell.isascii() else None  # float() reads other scripts' digits too
    except ValueError:
        value = None
    if value is None:
        raise InputError(
            f"{_shown(cell)} is not a number",
            source=where,
            line=line,
            field=f"column '{column}'",
            expected="a number such as -1500000 or 2.5e6",
        )
    if not math.isfinite(value):
        raise InputError(
            f"{_shown(cell)} is not a finite number",
            source=where,
            line=line,
            field=f"column '{column}'",
            expected="a finite number",
        )
    return value


class TableColumn(Model):
    """One column of a table: the parameter path it fills and the factor on its numbers."""

    path: str
    scale: float = Field(default=1.0, allow_inf_nan=False)


class TableSpec(Model):
    """A CSV file of values by period (see the module docstring)."""

    file: str
    scale: float = Field(default=1.0, allow_inf_nan=False)
    columns: dict[str, str | TableColumn] | None = None
    source: str | None = None
    as_of: str | None = None
    label: str | None = None
    note: str | None = None


_LABEL = re.compile(r"[-+]?[0-9]{1,6}")


def _label(text: str, where: str, line: int, column: str) -> int:
    cell = text.strip()
    if _LABEL.fullmatch(cell):  # not int(): it reads "2_030", other scripts' digits, any length
        return int(cell)
    raise InputError(
        f"{_shown(cell)} is not a period label",
        source=where,
        line=line,
        field=f"column '{column}'",
        expected="a whole number: a calendar year or the study's year number",
    )


def _read(path: Path, shown: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the numbered rows of a CSV file (blank rows skipped)."""
    try:
        rows = read_csv_rows(path, MAX_TABLE_BYTES, shown=shown, what="a CSV table of values by year")
    except FileNotFoundError:
        raise InputError("table file not found", source=shown) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the table: {exc}", source=shown) from None
    except csv.Error as exc:
        raise InputError(f"not a valid CSV file: {exc}", source=shown) from None
    numbered = [(i + 1, row) for i, row in enumerate(rows) if any(c.strip() for c in row)]
    if len(numbered) < 2:
        raise InputError(
            "the table has no rows of values", source=shown, expected="a header row, then one row a year"
        )
    return [h.strip() for h in numbered[0][1]], numbered[1:]


def _place(data: dict[str, Any], path: str, value: dict[int, float], where: str) -> None:
    """Put a schedule at ``path`` of the scenario file's data; its parent must be there."""
    parts = path.split(".")
    node: Any = data
    for k, part in enumerate(parts[:-1]):
        keys = {str(key): key for key in node} if isinstance(node, dict) else {}
        if part not in keys:
            here = ".".join(parts[: k + 1])
            raise InputError(
                f"the table gives {path}, but the file has no {here}",
                source=where,
                line=1,
                hint=did_you_mean(part, keys)
                or f"declare {here} in the scenario file; the table gives its values",
            )
        node = node[keys[part]]
    if not isinstance(node, dict):
        raise InputError(
            f"{'.'.join(parts[:-1])} is not a section that takes {parts[-1]}", source=where, line=1
        )
    if parts[-1] in node:
        raise InputError(
            f"{path} is given both in the scenario file and in this table",
            source=where,
            line=1,
            hint="keep one",
        )
    node[parts[-1]] = value


def _check_consecutive(labels: list[tuple[int, int]], data: Mapping[str, Any], shown: str) -> None:
    """A table gives every period from its first row to its last: a missing row would let the
    year before it hold on, unnoticed (with ``year_zero: false`` there is no period 0)."""
    valuation = data.get("valuation")
    year_zero = not (isinstance(valuation, dict) and valuation.get("year_zero") is False)
    ordered = sorted(labels)
    for (a, _), (b, line) in pairwise(ordered):
        step = 2 if (not year_zero and a == -1 and b == 1) else 1
        if b - a != step:
            missing = a + 1 if (year_zero or a + 1 != 0) else 1
            raise InputError(
                f"period {missing} is missing (the rows jump from {a} to {b})",
                source=shown,
                line=line,
                expected="a row for every period from the table's first to its last (0 where a line stops)",
            )


def apply_tables(
    data: dict[str, Any],
    folder: Path,
    origins: dict[tuple[Any, ...], tuple[str, int]],
    provenance: dict[str, Any],
    *,
    source: str = "<string>",
    lines: Mapping[tuple[Any, ...], int] | None = None,
) -> None:
    """Fill ``data`` (a scenario file's mapping) from the tables it names, in place.

    Every value placed is recorded in ``origins`` (location parts -> (table file, line)) so a
    value the deal refuses is reported where it was written, and a table's ``source`` and
    ``label`` go into ``provenance`` for each path it fills.
    """
    raw = data.pop("tables")
    at = lines or {}
    if not isinstance(raw, list):
        raise InputError(
            "tables is a list of tables",
            source=source,
            line=at.get(("tables",)),
            field="tables",
            expected="- file: plan.csv",
        )
    for k, entry in enumerate(raw):
        try:
            spec = TableSpec.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in ("tables", k, *first["loc"]))
            # errors.md: Scenario-file checks
            raise InputError(
                str(first["msg"]), source=source, line=at.get(("tables", k)), field=where
            ) from None
        path = (folder / spec.file).resolve() if not Path(spec.file).is_absolute() else Path(spec.file)
        shown = spec.file
        header, rows = _read(path, shown)
        if len(header) < 2:
            raise InputError(
                "the table has no value columns", source=shown, line=1, expected="year, then columns"
            )
        wanted: Mapping[str, str | TableColumn] = spec.columns or {h: h for h in header[1:]}
        for name in wanted:
            if name not in header[1:]:
                raise InputError(
                    f"no column {name!r}",
                    source=shown,
                    line=1,
                    hint=did_you_mean(name, header[1:]) or f"columns: {', '.join(header[1:])}",
                )
        labels = [(_label(row[0], shown, line, header[0]), line) for line, row in rows]
        seen: dict[int, int] = {}
        for label, line in labels:
            if label in seen:
                raise InputError(
                    f"period {label} appears twice (also line {seen[label]})", source=shown, line=line
                )
            seen[label] = line
        _check_consecutive(labels, data, shown)
        for name, target in wanted.items():
            column = target if isinstance(target, TableColumn) else TableColumn(path=target)
            col = header.index(name)
            values: dict[int, float] = {}
            for (label, line), (_, row) in zip(labels, rows, strict=True):
                if len(row) != len(header):
                    raise InputError(
                        f"{len(row)} cells where the header has {len(header)}", source=shown, line=line
                    )
                values[label] = plain_number(row[col], shown, line, name) * column.scale * spec.scale
                origins[(*column.path.split("."), label)] = (shown, line)
            origins[tuple(column.path.split("."))] = (shown, 1)
            _place(data, column.path, values, shown)
            note = {
                key: getattr(spec, key) for key in ("source", "as_of", "label", "note") if getattr(spec, key)
            }
            if note:
                provenance[column.path] = note
