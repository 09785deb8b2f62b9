"""The ledger: every cash line written once, signed, on one (L, S, T) array; tables are views."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Ledger:
    """Signed cash lines (inflows positive) and memo lines (not cash), years as columns.

    ``cash`` has shape (L, S, T) for the names in ``cash_lines``; ``memo`` (M, S, T) holds
    depreciation, taxable income and losses carried forward, which are not added to cash.
    Every subtotal is a sum of cash lines, so the net line always equals the sum of its parts.
    """

    years: np.ndarray
    cash_lines: tuple[str, ...]
    cash: FloatArray
    memo_lines: tuple[str, ...]
    memo: FloatArray

    def line(self, name: str) -> FloatArray:
        """One line, (S, T)."""
        if name in self.cash_lines:
            out: FloatArray = self.cash[self.cash_lines.index(name)]
            return out
        if name in self.memo_lines:
            memo: FloatArray = self.memo[self.memo_lines.index(name)]
            return memo
        if name == PRE_TAX:
            return self.pre_tax()
        if name == AFTER_TAX:
            return self.after_tax()
        if name == EBITDA:
            return self.ebitda()
        raise KeyError(f"no ledger line {name!r}; lines: {', '.join(self.cash_lines)}")

    def after_tax(self) -> FloatArray:
        """Unlevered after-tax cash flow, (S, T): the sum of every cash line."""
        total: FloatArray = self.cash.sum(axis=0)
        return total

    def pre_tax(self) -> FloatArray:
        """Unlevered pre-tax cash flow, (S, T): every cash line but taxes."""
        keep = [i for i, n in enumerate(self.cash_lines) if n not in TAX_LINES]
        total: FloatArray = self.cash[keep].sum(axis=0)
        return total

    def ebitda(self) -> FloatArray:
        """Revenue less charges, royalty and operating costs, (S, T)."""
        keep = [i for i, n in enumerate(self.cash_lines) if n not in TAX_LINES and n not in INVESTMENT_LINES]
        total: FloatArray = self.cash[keep].sum(axis=0)
        return total

    def table(self, scenario: int = 0) -> pd.DataFrame:
        """Years by lines for one scenario, with EBITDA and the cash-flow subtotals."""
        data = {name: self.cash[i, scenario] for i, name in enumerate(self.cash_lines)}
        data[EBITDA] = self.ebitda()[scenario]
        data[PRE_TAX] = self.pre_tax()[scenario]
        data[AFTER_TAX] = self.after_tax()[scenario]
        for i, name in enumerate(self.memo_lines):
            data[name] = self.memo[i, scenario]
        return pd.DataFrame(data, index=pd.Index(self.years, name="year"))
