"""The ledger: every line written once, signed (inflows positive); subtotals and tables are views.

Lines are those of the registry (:mod:`dealcalc.engine.lines`); a subtotal is the sum of the
cash lines of its groups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dealcalc.engine.lines import AFTER_TAX, EBITDA, PRE_TAX, SUBTOTALS, Group, Line, Subtotal
from dealcalc.metrics._common import FloatArray

__all__ = ["Ledger", "add_lines"]


def add_lines(
    plus: Sequence[Any],
    shape: tuple[int, int],
    minus: Sequence[Any] = (),
    scale: Any = 1.0,
) -> FloatArray:
    """``scale * (sum(plus) - sum(minus))`` for arrays that broadcast to ``shape`` (S, T).

    Per-year (T,) pieces (no scenario changes them) are added in (T,) space, so only the
    scenario-dependent pieces cost (S, T) operations, and those accumulate in one buffer; the
    result is (T,) if nothing varies. It may be one of the inputs (a single (S, T) term with
    nothing to add); the inputs are never modified.
    """
    small = np.zeros(shape[1])
    big: list[tuple[bool, Any]] = []
    for negative, arrays in ((False, plus), (True, minus)):
        for a in arrays:
            if np.ndim(a) < 2:
                small = small - a if negative else small + a
            else:
                big.append((negative, a))
    if not big:
        return np.asarray(small * scale, dtype=np.float64)
    # acc holds the (S, T) terms, negated when ``flip``; ``owned`` once acc is our own buffer
    flip, acc = big[0]
    owned = acc.shape != shape
    if owned:
        acc = np.array(np.broadcast_to(acc, shape), dtype=np.float64)
    for negative, a in big[1:]:
        op = np.subtract if negative != flip else np.add
        acc = op(acc, a, out=acc if owned else None)
        owned = True
    if small.any():
        acc = (
            np.subtract(small, acc, out=acc if owned else None)
            if flip
            else np.add(acc, small, out=acc if owned else None)
        )
        owned, flip = True, False
    if flip:
        acc = np.negative(acc, out=acc if owned else None)
        owned = True
    if not (isinstance(scale, float) and scale == 1.0):
        acc = np.multiply(acc, scale, out=acc if owned else None)
    return np.asarray(acc, dtype=np.float64)


@dataclass(frozen=True)
class Ledger:
    """Registered lines (cash, signed with inflows positive, and memo), years as columns.

    Each line is kept in its natural shape, (T,) when no scenario changes it or (S, T), and
    broadcasts to (S, T). Every subtotal is a sum of cash lines, so the net line always equals
    the sum of its parts. Lines are found by their :class:`~dealcalc.engine.lines.Line`, their
    key or their column name.
    """

    years: np.ndarray
    n_scenarios: int
    lines: tuple[Line, ...]
    values: tuple[FloatArray, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """(S, T)."""
        return (self.n_scenarios, int(self.years.size))

    @property
    def cash_lines(self) -> tuple[str, ...]:
        """The column names of the cash lines, in order."""
        return tuple(line.name for line in self.lines if line.cash)

    @property
    def memo_lines(self) -> tuple[str, ...]:
        """The column names of the memo lines, in order."""
        return tuple(line.name for line in self.lines if not line.cash)

    @property
    def subtotals(self) -> tuple[Subtotal, ...]:
        """The subtotals this ledger's lines make up (those of groups it holds)."""
        held = {line.group for line in self.lines if line.cash}
        return tuple(s for s in SUBTOTALS if held & s.groups)

    @property
    def cash(self) -> FloatArray:
        """All cash lines, (L, S, T)."""
        return np.stack([np.broadcast_to(a, self.shape) for line, a in self._pairs() if line.cash])

    def _pairs(self) -> zip[tuple[Line, FloatArray]]:
        return zip(self.lines, self.values, strict=True)

    def find(self, which: Line | Subtotal | str) -> Line | Subtotal | None:
        """The registered line or subtotal meant by ``which`` (itself, a key or a name)."""
        if isinstance(which, Line | Subtotal):
            return which
        for line in self.lines:
            if which in (line.key, line.name):
                return line
        for subtotal in SUBTOTALS:
            if which in (subtotal.key, subtotal.name):
                return subtotal
        return None

    def has(self, which: Line | Subtotal | str) -> bool:
        """Whether the ledger holds a line (or makes up a subtotal)."""
        found = self.find(which)
        return found is not None and (found in self.lines or found in self.subtotals)

    def line(self, which: Line | Subtotal | str) -> FloatArray:
        """One line or subtotal, (S, T)."""
        found = self.find(which)
        if isinstance(found, Subtotal) and found in self.subtotals:
            return self.subtotal(found)
        if isinstance(found, Line) and found in self.lines:
            out: FloatArray = np.broadcast_to(self.values[self.lines.index(found)], self.shape)
            return out
        raise KeyError(f"no ledger line {which!r}; lines: {', '.join(line.name for line in self.lines)}")

    def subtotal(self, subtotal: Subtotal) -> FloatArray:
        """The sum of the cash lines of the subtotal's groups, (S, T)."""
        return self.group_total(subtotal.groups)

    def group_total(self, groups: frozenset[Group] | set[Group]) -> FloatArray:
        """The sum of the cash lines of ``groups``, (S, T)."""
        keep = [a for line, a in self._pairs() if line.cash and line.group in groups]
        total: FloatArray = np.broadcast_to(add_lines(keep, self.shape), self.shape)
        return total

    def after_tax(self) -> FloatArray:
        """Unlevered after-tax cash flow, (S, T): the sum of every cash line."""
        return self.subtotal(AFTER_TAX)

    def pre_tax(self) -> FloatArray:
        """Unlevered pre-tax cash flow, (S, T): every cash line but taxes."""
        return self.subtotal(PRE_TAX)

    def ebitda(self) -> FloatArray:
        """Revenue less selling charges, royalty and operating costs, (S, T)."""
        return self.subtotal(EBITDA)

    def table(self, scenario: int = 0) -> pd.DataFrame:
        """Years by lines for one scenario: cash lines, the subtotals they make up, then memos."""
        data = {
            line.name: np.broadcast_to(a, self.shape)[scenario].copy()
            for line, a in self._pairs()
            if line.cash
        }
        for subtotal in self.subtotals:
            data[subtotal.name] = self.subtotal(subtotal)[scenario]
        for line, a in self._pairs():
            if not line.cash:
                data[line.name] = np.broadcast_to(a, self.shape)[scenario].copy()
        return pd.DataFrame(data, index=pd.Index(self.years, name="year"))

    @staticmethod
    def build(years: np.ndarray, n_scenarios: int, lines: Sequence[tuple[Line, Any]]) -> Ledger:
        """A ledger of ``(line, values)`` pairs, each value broadcastable to (S, T)."""
        return Ledger(
            years=years,
            n_scenarios=n_scenarios,
            lines=tuple(line for line, _ in lines),
            values=tuple(np.asarray(v, dtype=np.float64) for _, v in lines),
        )

    @staticmethod
    def sum(
        parts: Sequence[Ledger], years: np.ndarray, n_scenarios: int, *, skip: tuple[str, ...] = ()
    ) -> Ledger:
        """The line-by-line sum of ledgers of one chunk (the entities of a deal): money and
        quantities add; a share or flag (``fraction``) takes the largest (a stream closed, a
        default in any part); ratios do not add and are left out, as are lines whose key starts
        with one of ``skip``. Lines are in the order of their groups (revenue first, memos
        last), then first seen.

        Examples
        --------
        >>> from dealcalc.engine import lines as L
        >>> a = Ledger.build(np.array([1, 2]), 1, [(L.revenue("x"), [1.0, 2.0])])
        >>> b = Ledger.build(np.array([1, 2]), 1, [(L.revenue("x"), [3.0, 4.0]), (L.OVERHEADS, [-1.0, -1.0])])
        >>> Ledger.sum([a, b], np.array([1, 2]), 1).after_tax().tolist()
        [[3.0, 5.0]]
        """
        shape = (n_scenarios, int(np.asarray(years).size))
        total: dict[Line, list[FloatArray]] = {}
        for part in parts:
            for line, a in part._pairs():
                if line.key.startswith(skip) or line.unit == "ratio":
                    continue
                total.setdefault(line, []).append(a)
        rank = {group: k for k, group in enumerate(Group)}
        ordered = sorted(total, key=lambda line: rank[line.group])  # stable: first seen within a group
        values = [
            np.max(np.broadcast_arrays(*total[line]), axis=0)
            if line.unit == "fraction"
            else add_lines(total[line], shape)
            for line in ordered
        ]
        return Ledger.build(years, n_scenarios, list(zip(ordered, values, strict=True)))

    @staticmethod
    def concatenate(parts: list[Ledger]) -> Ledger:
        """Join the ledgers of consecutive chunks of scenarios."""
        first = parts[0]
        total = sum(p.n_scenarios for p in parts)
        t = int(first.years.size)
        out = []
        for k in range(len(first.lines)):
            pieces = [p.values[k] for p in parts]
            if all(np.ndim(a) < 2 for a in pieces) and all(np.array_equal(a, pieces[0]) for a in pieces):
                out.append(pieces[0])
            else:
                out.append(
                    np.concatenate(
                        [np.broadcast_to(a, (p.n_scenarios, t)) for a, p in zip(pieces, parts, strict=True)]
                    )
                )
        return Ledger(first.years, total, first.lines, tuple(out))
