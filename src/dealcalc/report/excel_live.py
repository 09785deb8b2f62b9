"""Spreadsheet expressions that carry their own value: the building block of the live sheets.

A :class:`X` is a row of a sheet seen two ways at once: the formula of each year's cell (a
function of the year column t) and dealcalc's number for it. Arithmetic on X builds both, so a
row written from an X stores its formula and, as the cell's cached result, the number dealcalc
computes the same way: a viewer that does not recalculate shows the right numbers, and a
spreadsheet that does lands on the same ones. :class:`Grid` writes rows of X on a sheet with
years as columns and hands back an X that refers to the row's cells.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dealcalc.report.excel_stack import cell

__all__ = ["Grid", "X", "const", "xmax", "xmin", "xsum"]


def _vals(x: Any, n: int) -> np.ndarray:
    return np.asarray(np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(-1), (n,)), dtype=np.float64)


@dataclass(frozen=True)
class X:
    """A yearly expression: ``f(t)`` is the formula of year column t (no leading ``=``) and
    ``v`` its value in each year, (T,).

    Examples
    --------
    >>> import numpy as np
    >>> a = X(lambda t: f"A{t + 1}", np.array([1.0, 2.0]))
    >>> b = a * 3 - 1
    >>> b.f(0), b.v.tolist()
    ('((A1*3.0)-1.0)', [2.0, 5.0])
    """

    f: Callable[[int], str]
    v: np.ndarray

    def _bin(self, other: X | float, op: str, value: np.ndarray) -> X:
        o = other if isinstance(other, X) else const(float(other), self.v.size)
        return X(lambda t: f"({self.f(t)}{op}{o.f(t)})", value)

    def __add__(self, other: X | float) -> X:
        return self._bin(other, "+", self.v + _val(other))

    def __radd__(self, other: float) -> X:
        return const(float(other), self.v.size) + self

    def __sub__(self, other: X | float) -> X:
        return self._bin(other, "-", self.v - _val(other))

    def __rsub__(self, other: float) -> X:
        return const(float(other), self.v.size) - self

    def __mul__(self, other: X | float) -> X:
        return self._bin(other, "*", self.v * _val(other))

    def __rmul__(self, other: float) -> X:
        return const(float(other), self.v.size) * self

    def __truediv__(self, other: X | float) -> X:
        with np.errstate(divide="ignore", invalid="ignore"):
            value = self.v / _val(other)
        return self._bin(other, "/", value)

    def __pow__(self, power: float) -> X:
        return X(lambda t: f"({self.f(t)}^({float(power)!r}))", np.power(self.v, float(power)))

    def __neg__(self) -> X:
        return X(lambda t: f"(-{self.f(t)})", -self.v)


def _val(x: X | float) -> np.ndarray | float:
    return x.v if isinstance(x, X) else float(x)


def const(value: float, n: int) -> X:
    """A number written into the formula."""
    return X(lambda t: repr(float(value)), np.full(n, float(value)))


def xmin(a: X, b: X | float) -> X:
    """``MIN(a, b)``."""
    o = b if isinstance(b, X) else const(float(b), a.v.size)
    return X(lambda t: f"MIN({a.f(t)},{o.f(t)})", np.minimum(a.v, o.v))


def xmax(a: X, b: X | float) -> X:
    """``MAX(a, b)``."""
    o = b if isinstance(b, X) else const(float(b), a.v.size)
    return X(lambda t: f"MAX({a.f(t)},{o.f(t)})", np.maximum(a.v, o.v))


def xsum(items: Sequence[X], n: int) -> X:
    """The sum of ``items`` (0 when there are none)."""
    if not items:
        return const(0.0, n)
    return X(lambda t: "(" + "+".join(x.f(t) for x in items) + ")", sum((x.v for x in items), np.zeros(n)))


class Grid:
    """Rows of a sheet with years as columns from ``first_col``; each row written at once."""

    def __init__(self, sheet: Any, name: str, first_row: int, first_col: int, n_years: int) -> None:
        self.sheet, self.name, self.row, self.col, self.n = sheet, name, first_row, first_col, n_years
        self.at: dict[str, int] = {}
        self.rows: dict[str, X] = {}

    def ref(self, key: str, *, here: str | None = None) -> X:
        """Row ``key`` as an expression (sheet-qualified unless ``here`` is this sheet)."""
        r = self.at[key]
        sheet = None if here == self.name else self.name
        return X(lambda t: cell(r, self.col + t, sheet=sheet), self.rows[key].v)

    def _head(self, key: str, label: str, how: str, unit: str) -> None:
        self.at[key] = self.row
        self.sheet.write_string(self.row, 0, label)
        if unit:
            self.sheet.write_string(self.row, 1, unit)
        if how:
            self.sheet.write_string(self.row, self.col + self.n + 1, how)

    def formula(self, key: str, label: str, x: X, fmt: Any, *, unit: str = "", how: str = "") -> X:
        """A row of formulas ``x``, each cell's cached result its value."""
        self._head(key, label, how, unit)
        for t in range(self.n):
            value = float(x.v[t])
            self.sheet.write_formula(
                self.row, self.col + t, "=" + x.f(t), fmt, value if np.isfinite(value) else 0
            )
        self.rows[key] = x
        self.row += 1
        return self.ref(key)

    def columns(
        self, key: str, label: str, make: Callable[[int, Callable[[int], str]], X], fmt: Any, **kw: str
    ) -> X:
        """A row whose cell t is ``make(t, own)``, a scalar X; ``own(u)`` is this row's cell u < t
        (a recurrence, like a balance carried from year to year)."""
        self._head(key, label, kw.get("how", ""), kw.get("unit", ""))
        r = self.row
        values = np.zeros(self.n)

        def own(u: int) -> str:
            return cell(r, self.col + u)

        for t in range(self.n):
            x = make(t, own)
            value = float(np.asarray(x.v).reshape(-1)[0])
            values[t] = value
            self.sheet.write_formula(r, self.col + t, "=" + x.f(t), fmt, value if np.isfinite(value) else 0)
        self.rows[key] = X(lambda t: "", values)
        self.row += 1
        return self.ref(key)

    def values(
        self, key: str, label: str, values: Any, fmt: Any, *, unit: str = "", how: str = "", edit: Any = None
    ) -> X:
        """A row of numbers (``edit``: the format of input cells, when a reader may change them)."""
        self._head(key, label, how, unit)
        row = _vals(values, self.n)
        for t in range(self.n):
            self.sheet.write_number(self.row, self.col + t, float(row[t]), edit or fmt)
        self.rows[key] = X(lambda t: "", row)
        self.row += 1
        return self.ref(key)

    def skip(self, title: str = "", fmt: Any = None) -> None:
        self.row += 1
        if title:
            self.sheet.write_string(self.row, 0, title, fmt)
            self.row += 1


def scalar_at(x: X, t: int) -> X:
    """Year t of ``x`` as a one-cell expression (for :meth:`Grid.columns`)."""
    return X(lambda _u: x.f(t), np.asarray([x.v[t]], dtype=np.float64))
