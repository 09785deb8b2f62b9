"""What a result is: the record every result carries (file, scenario, changes, basis, seed).

A changed run is never labelled the base case: its label names the scenario and counts the
changes (``spot_2025 + 1 change``), and the record lists them. Terminal tables, ``--json``,
CSV headers, the HTML report and the workbook all show the same record (docs/cli.md, "What a
result says about itself").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dealcalc._version import __version__
from dealcalc.engine.timeline import fisher
from dealcalc.models import Deal
from dealcalc.params import apply_scenario

__all__ = ["RunInfo", "run_info"]


@dataclass(frozen=True)
class RunInfo:
    """The record of one run: enough to say what a number is and to run it again.

    Attributes
    ----------
    deal : str
        The deal's name.
    file : str or None
        The scenario file read (None for a deal built in Python).
    scenario : str
        The file's named scenario, or ``"base"``.
    changes : tuple of str
        Every change made after reading the file, in order: ``--set PATH=VALUE``,
        ``--scale PATH×FACTOR``, ``override PATH (S values)``.
    price_deck : str
        The price deck valued.
    basis : str
        ``"real"`` or ``"nominal"``: the money of every result.
    money_year : int or None
        For a real basis, the year whose money the results are in (the first period).
    discount_rate : float
        The project's discount rate, in ``basis`` (converted by the Fisher relation when the
        file states it in the other basis; ``discount_rate_stated`` then says how it was given).
    version : str
        The dealcalc version.
    seed, draws, method : int, int, str or None
        For random analyses: the seed, the number of draws and the sampling method.
    analysis : str
        What was run (``valuation``, ``compare``, ``tornado`` ...).

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.params import with_changes
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> deal = with_changes(deal, {"fiscal.royalty_rate": 0.07}, origin="--set")
    >>> run_info(deal).label
    'base + 1 change'
    """

    deal: str
    file: str | None
    scenario: str
    changes: tuple[str, ...]
    price_deck: str
    basis: str
    money_year: int | None
    discount_rate: float
    version: str
    discount_rate_stated: str | None = None
    analysis: str = "valuation"
    seed: int | None = None
    draws: int | None = None
    method: str | None = None

    @property
    def is_base(self) -> bool:
        """True for the file's base case, unchanged."""
        return self.scenario == "base" and not self.changes

    @property
    def label(self) -> str:
        """``base case``, ``spot_2025`` or ``spot_2025 + 2 changes``: never "base" when changed."""
        if self.is_base:
            return "base case"
        n = len(self.changes)
        return self.scenario + (f" + {n} change{'s' * (n != 1)}" if n else "")

    @property
    def basis_text(self) -> str:
        """``real (money of 2026)`` or ``nominal``."""
        return (
            f"real (money of {self.money_year})" if self.basis == "real" and self.money_year else self.basis
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON values (the ``run`` object of every JSON output)."""
        out: dict[str, Any] = {
            "analysis": self.analysis,
            "deal": self.deal,
            "file": self.file,
            "scenario": self.scenario,
            "label": self.label,
            "changes": list(self.changes),
            "price_deck": self.price_deck,
            "basis": self.basis,
            "money_year": self.money_year,
            "discount_rate": self.discount_rate,
            "discount_rate_stated": self.discount_rate_stated,
            "dealcalc_version": self.version,
        }
        if self.draws is not None:
            out.update(seed=self.seed, draws=self.draws, method=self.method)
        return out

    def lines(self) -> list[str]:
        """The record as short lines of text (table captions, CSV headers, report footers)."""
        out = [
            f"{self.deal}: {self.label}" + (f" ({self.file})" if self.file else ""),
            f"{self.basis_text} US$, price deck {self.price_deck}, "
            f"discount rate {100 * self.discount_rate:.2f} % {self.basis}"
            + (f" (stated as {self.discount_rate_stated})" if self.discount_rate_stated else ""),
        ]
        out += [f"changed: {c}" for c in self.changes]
        if self.draws is not None:
            out.append(f"{self.draws:,} draws ({self.method}), seed {self.seed}")
        out.append(f"dealcalc {self.version}")
        return out

    def with_(self, **changes: Any) -> RunInfo:
        """A copy with some fields replaced (an analysis names itself, adds its draws)."""
        fields = {**self.__dict__, **changes}
        return RunInfo(**fields)


def _money_year(deal: Deal) -> int | None:
    v = deal.valuation
    if v.calendar_start_year is not None:
        return int(v.calendar_start_year)
    year = int(v.start_year)
    return year if year > 1800 else None


def run_info(
    deal: Deal,
    scenario: str | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    analysis: str = "valuation",
    seed: int | None = None,
    draws: int | None = None,
    method: str | None = None,
) -> RunInfo:
    """The record of a run of ``deal`` (under ``scenario`` if named, with array ``overrides``).

    Examples
    --------
    >>> import dealcalc as dc
    >>> info = run_info(dc.load(dc.example_path("ussm-fwo")), "spot_2025")
    >>> info.label, info.basis_text, info.price_deck
    ('spot_2025', 'real (money of 2026)', 'spot_2025')
    """
    if scenario not in (None, "base") and deal.scenario_name != scenario:
        deal = apply_scenario(deal, scenario)
    named = deal.scenario_name
    v = deal.valuation
    changes = deal.changes + tuple(
        f"override {path} ({_count(value)})" for path, value in (overrides or {}).items()
    )
    return RunInfo(
        deal=deal.name,
        file=deal.source,
        scenario=named or "base",
        changes=changes,
        price_deck=v.price_deck,
        basis=v.basis,
        money_year=_money_year(deal),
        discount_rate=float(
            fisher(v.discount_rate, v.inflation_rate, stated=v.discount_rate_basis, wanted=v.basis)
        ),
        discount_rate_stated=(
            None
            if v.discount_rate_basis == v.basis
            else f"{100 * v.discount_rate:.2f} % {v.discount_rate_basis}"
        ),
        version=__version__,
        analysis=analysis,
        seed=seed,
        draws=draws,
        method=method,
    )


def _count(value: Any) -> str:
    shape = getattr(value, "shape", None)
    if shape is None:
        try:
            return f"{len(value)} values"
        except TypeError:
            return "1 value"
    return "×".join(str(n) for n in shape) + " values" if shape else "1 value"


def stamp() -> str:
    """The time of a run, UTC, to the minute (report footers)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
