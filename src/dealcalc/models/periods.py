"""The periods a deal is valued over: their labels, their calendar years, and where things fall.

A deal is valued in consecutive annual periods. Their labels are calendar years (2026, 2027,
...) or a study's own year numbers; studies often number the construction years -4 ... -1 and
the production years 1 ... 27, with no year 0 (``year_zero: false``). Every year a scenario file
names (a phase's start, a schedule's keys, a closure year) is such a label. The engine works on
period indices 0 ... T-1; this module is the one place that turns labels into indices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

__all__ = ["Periods"]


@dataclass(frozen=True)
class Periods:
    """The period labels of a deal, and their calendar years when known.

    Parameters
    ----------
    start, end : int
        The labels of the first and the last period.
    year_zero : bool
        False for study numbering, where the period after -1 is 1.
    calendar_start : int or None
        The calendar year of the first period (None: unknown, so dated inputs cannot be placed).

    Examples
    --------
    >>> p = Periods(-2, 3, year_zero=False, calendar_start=2026)
    >>> p.labels.tolist(), p.index(1), p.calendar_years.tolist()[:2]
    ([-2, -1, 1, 2, 3], 2, [2026, 2027])
    """

    start: int
    end: int
    year_zero: bool = True
    calendar_start: int | None = None

    @property
    def labels(self) -> np.ndarray:
        """The label of every period, (T,) int."""
        span = np.arange(self.start, self.end + 1)
        return span if self.year_zero else span[span != 0]

    @property
    def size(self) -> int:
        """T, the number of periods."""
        return int(self.labels.size)

    @property
    def consecutive(self) -> bool:
        """Whether the labels count up by one throughout (no skipped year 0)."""
        return self.year_zero or not (self.start < 0 < self.end)

    @property
    def calendar_years(self) -> np.ndarray:
        """The calendar year of every period; a ValueError when the calendar is unknown."""
        if self.calendar_start is None:
            raise ValueError("the periods have no calendar years (set valuation.calendar_start_year)")
        return np.arange(self.calendar_start, self.calendar_start + self.size)

    def has(self, label: int) -> bool:
        """Whether ``label`` is one of the periods."""
        return self.start <= label <= self.end and (self.year_zero or label != 0)

    def index(self, label: int) -> int:
        """The index (0 ... T-1) of period ``label``; a ValueError if it is not a period."""
        if not self.has(label):
            raise ValueError(f"{label} is not one of the periods {self.describe()}")
        offset = label - self.start
        return offset - 1 if (not self.year_zero and self.start < 0 < label) else offset

    def position(self, label: int) -> int:
        """Where ``label`` falls among the periods, extended past both ends by counting years:
        the index of a period, negative before the first, T or more after the last."""
        if self.has(label):
            return self.index(label)
        if label < self.start:
            return label - self.start
        if label > self.end:
            return self.size - 1 + (label - self.end)
        raise ValueError(f"{label} is not one of the periods {self.describe()}")

    def label(self, index: int) -> int:
        """The label of period ``index`` (0 ... T-1)."""
        return int(self.labels[index])

    def describe(self) -> str:
        """``2026-2042`` or ``-4...-1, 1...27``, for messages."""
        if self.consecutive:
            return f"{self.start}-{self.end}"
        return f"{self.start}...-1, 1...{self.end}"

    def years_from_start(self, when: dt.date) -> float:
        """The time from the start of the first period to ``when``, in years (days counted in
        each calendar year, so 1 July is about half a year in)."""
        first = self.calendar_years[0]
        whole = when.year - int(first)
        days = (dt.date(when.year + 1, 1, 1) - dt.date(when.year, 1, 1)).days
        return whole + (when - dt.date(when.year, 1, 1)).days / days
