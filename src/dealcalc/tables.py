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
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from dealcalc.errors import InputError, did_you_mean
from dealcalc.models.base import Model

__all__ = ["TableColumn", "TableSpec", "apply_tables"]

#: The size a table file may have; a mine plan is a few kB.
MAX_TABLE_BYTES = 10_000_000


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


def _number(text: str, where: str, line: int, column: str) -> float:
    cell = text.strip()
    if cell == "":
        raise InputError(
            "empty cell", source=where, line=line, field=f"column '{column}'", expected="a number (write 0)"
        )
    if "," in cell:
        raise InputError(
            f"{cell!r} has a comma",
            source=where,
            line=line,
            field=f"column '{column}'",
            expected="a plain number: a point for decimals and no thousands separators (1500000.5)",
        )
    try:
        value = float(cell.replace("_", ""))
    except ValueError:
        raise InputError(
            f"{cell!r} is not a number",
            source=where,
            line=line,
            field=f"column '{column}'",
            expected="a number",
        ) from None
    if not math.isfinite(value):
        raise InputError(
            f"{cell!r} is not a finite number", source=where, line=line, field=f"column '{column}'"
        )
    return value


def _label(text: str, where: str, line: int, column: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(
            f"{text.strip()!r} is not a period label",
            source=where,
            line=line,
            field=f"column '{column}'",
            expected="a whole number: a calendar year or the study's year number",
        ) from None


def _read(path: Path, shown: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the numbered rows of a CSV file (blank rows skipped)."""
    try:
        if path.stat().st_size > MAX_TABLE_BYTES:
            raise InputError(
                f"the table is larger than {MAX_TABLE_BYTES // 1_000_000} MB",
                source=shown,
                expected="a table of years",
            )
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
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
                values[label] = _number(row[col], shown, line, name) * column.scale * spec.scale
                origins[(*column.path.split("."), label)] = (shown, line)
            origins[tuple(column.path.split("."))] = (shown, 1)
            _place(data, column.path, values, shown)
            note = {
                key: getattr(spec, key) for key in ("source", "as_of", "label", "note") if getattr(spec, key)
            }
            if note:
                provenance[column.path] = note
