"""The ledger: every cash line written once, signed, on one (L, S, T) array; tables are views."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dealcalc.metrics._common import FloatArray

__all__ = ["AFTER_TAX", "PRE_TAX", "Ledger"]

#: Lines that are not pre-tax cash: taxes.
TAX_LINES = ("Income tax [USD]",)
PRE_TAX = "Pre-tax cash flow [USD]"
AFTER_TAX = "After-tax cash flow [USD]"
EBITDA = "EBITDA [USD]"
#: Cash lines that are investment, not operations (excluded from EBITDA).
INVESTMENT_LINES = (
    "Initial capex [USD]",
    "Sustaining capex [USD]",
    "Closure [USD]",
    "Working capital [USD]",
)


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
    """Signed cash lines (inflows positive) and memo lines (not cash), years as columns.

    Each line is kept in its natural shape, (T,) when no scenario changes it or (S, T), and
    broadcasts to (S, T); ``cash`` materialises the (L, S, T) array. ``memo_values`` hold depreciation,
    taxable income and losses carried forward, which are not added to cash. Every subtotal is a
    sum of cash lines, so the net line always equals the sum of its parts.
    """

    years: np.ndarray
    n_scenarios: int
    cash_lines: tuple[str, ...]
    lines: tuple[FloatArray, ...]
    memo_lines: tuple[str, ...]
    memo_values: tuple[FloatArray, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """(S, T)."""
        return (self.n_scenarios, int(self.years.size))

    @property
    def cash(self) -> FloatArray:
        """All cash lines, (L, S, T)."""
        return np.stack([np.broadcast_to(a, self.shape) for a in self.lines])

    def line(self, name: str) -> FloatArray:
        """One line, (S, T)."""
        if name in self.cash_lines:
            out: FloatArray = np.broadcast_to(self.lines[self.cash_lines.index(name)], self.shape)
            return out
        if name in self.memo_lines:
            memo: FloatArray = np.broadcast_to(self.memo_values[self.memo_lines.index(name)], self.shape)
            return memo
        if name == PRE_TAX:
            return self.pre_tax()
        if name == AFTER_TAX:
            return self.after_tax()
        if name == EBITDA:
            return self.ebitda()
        raise KeyError(f"no ledger line {name!r}; lines: {', '.join(self.cash_lines)}")

    def _total(self, exclude: tuple[str, ...]) -> FloatArray:
        keep = [a for n, a in zip(self.cash_lines, self.lines, strict=True) if n not in exclude]
        total: FloatArray = np.broadcast_to(add_lines(keep, self.shape), self.shape)
        return total

    def after_tax(self) -> FloatArray:
        """Unlevered after-tax cash flow, (S, T): the sum of every cash line."""
        return self._total(())

    def pre_tax(self) -> FloatArray:
        """Unlevered pre-tax cash flow, (S, T): every cash line but taxes."""
        return self._total(TAX_LINES)

    def ebitda(self) -> FloatArray:
        """Revenue less charges, royalty and operating costs, (S, T)."""
        return self._total(TAX_LINES + INVESTMENT_LINES)

    def table(self, scenario: int = 0) -> pd.DataFrame:
        """Years by lines for one scenario, with EBITDA and the cash-flow subtotals."""
        data = {
            name: np.broadcast_to(a, self.shape)[scenario].copy()
            for name, a in zip(self.cash_lines, self.lines, strict=True)
        }
        data[EBITDA] = self.ebitda()[scenario]
        data[PRE_TAX] = self.pre_tax()[scenario]
        data[AFTER_TAX] = self.after_tax()[scenario]
        for name, a in zip(self.memo_lines, self.memo_values, strict=True):
            data[name] = np.broadcast_to(a, self.shape)[scenario].copy()
        return pd.DataFrame(data, index=pd.Index(self.years, name="year"))

    @staticmethod
    def concatenate(parts: list[Ledger]) -> Ledger:
        """Join the ledgers of consecutive chunks of scenarios."""
        first = parts[0]
        total = sum(p.n_scenarios for p in parts)
        shape = (total, int(first.years.size))

        def join(getter: str) -> tuple[FloatArray, ...]:
            columns = zip(*(getattr(p, getter) for p in parts), strict=True)
            out = []
            for pieces in columns:
                if all(np.ndim(a) < 2 for a in pieces) and all(np.array_equal(a, pieces[0]) for a in pieces):
                    out.append(pieces[0])
                else:
                    out.append(
                        np.concatenate(
                            [
                                np.broadcast_to(a, (p.n_scenarios, shape[1]))
                                for a, p in zip(pieces, parts, strict=True)
                            ]
                        )
                    )
            return tuple(out)

        return Ledger(
            first.years, total, first.cash_lines, join("lines"), first.memo_lines, join("memo_values")
        )
