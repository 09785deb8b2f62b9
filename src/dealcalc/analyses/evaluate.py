"""Value a deal: ``evaluate`` (one or many scenarios) and ``compare`` (the file's named scenarios)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from dealcalc.engine import Ledger, evaluate_chunks
from dealcalc.engine.run import METRICS
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.params import apply_scenario

__all__ = ["Valuation", "compare", "evaluate"]


@dataclass(frozen=True)
class Valuation:
    """The value of a deal in one or many scenarios.

    Attributes
    ----------
    deal : Deal
        The deal as valued (named scenario applied).
    scenario : str
        The named scenario (``"base"`` for the base case).
    npv_usd, irr, pre_tax_npv_usd, pre_tax_irr, payback_years, peak_funding_usd, discount_rate
        One value per scenario, shape (S,). NPV and IRR are of the unlevered after-tax cash
        flow unless prefixed ``pre_tax``; the discount rate is in the deal's basis; payback is in
        years from the valuation date; peak funding is the deepest cumulative after-tax deficit.
    ledger : Ledger or None
        Every line for every scenario, kept when S <= 1000 (or when asked).
    """

    deal: Deal
    scenario: str
    npv_usd: FloatArray
    irr: FloatArray
    pre_tax_npv_usd: FloatArray
    pre_tax_irr: FloatArray
    payback_years: FloatArray
    peak_funding_usd: FloatArray
    discount_rate: FloatArray
    ledger: Ledger | None

    @property
    def n_scenarios(self) -> int:
        """Number of scenarios valued."""
        return int(self.npv_usd.shape[0])

    def table(self, scenario: int = 0) -> pd.DataFrame:
        """The annual ledger of one scenario: years by lines, units in the column names."""
        if self.ledger is None:
            raise ValueError("the ledger was not kept; call evaluate(..., keep_ledger=True)")
        return self.ledger.table(scenario)

    def summary(self) -> pd.DataFrame:
        """One row per scenario: the headline metrics."""
        return pd.DataFrame(
            {m: getattr(self, m) for m in METRICS},
            index=pd.RangeIndex(self.n_scenarios, name="scenario"),
        )

    def headline(self) -> dict[str, Any]:
        """The first scenario's metrics as plain numbers (NaN as None), with the settings used."""
        v = self.deal.valuation
        out: dict[str, Any] = {"deal": self.deal.name, "scenario": self.scenario}
        for m in METRICS:
            x = float(getattr(self, m)[0])
            out[m] = None if np.isnan(x) else x
        out.update(
            {
                "timing": v.timing,
                "basis": v.basis,
                "valuation_year": v.valuation_year or v.start_year,
                "price_deck": v.price_deck,
            }
        )
        return out


def evaluate(
    deal: Deal,
    scenario: str | None = None,
    overrides: Mapping[str, ArrayLike] | None = None,
    *,
    keep_ledger: bool | None = None,
) -> Valuation:
    """Value a deal for one scenario or, with array overrides, for many at once.

    Parameters
    ----------
    deal : Deal
        From :func:`dealcalc.load`.
    scenario : str, optional
        A named scenario of the file (default: the base case).
    overrides : mapping of path to array_like, optional
        ``{"price_decks.base.antimony": prices}`` with arrays of shape (S,) or (S, T): S
        scenarios valued in chunks, with no Python loop over scenarios.
    keep_ledger : bool, optional
        Keep every line for every scenario (default: when S <= 1000).

    Returns
    -------
    Valuation

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> v = dc.evaluate(deal)
    >>> round(float(v.irr[0]), 4)
    0.1098
    >>> many = dc.evaluate(deal, overrides={"price_decks.base.antimony": [22046, 30000, 55000]})
    >>> (many.npv_usd / 1e6).round(1)
    array([-69.2,  -5.5, 194.1])
    """
    valued = apply_scenario(deal, scenario)
    chunks, _ = evaluate_chunks(valued, overrides, keep_ledger=keep_ledger)
    fields = {m: np.concatenate([getattr(c, m) for c in chunks]) for m in METRICS}
    ledgers = [c.ledger for c in chunks if c.ledger is not None]
    ledger = Ledger.concatenate(ledgers) if len(ledgers) == len(chunks) else None
    return Valuation(deal=valued, scenario=scenario or "base", ledger=ledger, **fields)


def compare(deal: Deal, scenarios: list[str] | None = None) -> pd.DataFrame:
    """The base case and every named scenario side by side, with the change against the base.

    Examples
    --------
    >>> import dealcalc as dc
    >>> table = dc.compare(dc.load(dc.example_path("ussm-fwo")), ["spot_2025"])
    >>> list(table.index)
    ['base', 'spot_2025']
    """
    names = ["base", *(scenarios if scenarios is not None else list(deal.scenarios))]
    values: dict[str, list[float]] = {m: [] for m in METRICS}
    descriptions = []
    for name in names:
        v = evaluate(deal, None if name == "base" else name, keep_ledger=False)
        descriptions.append("base case" if name == "base" else deal.scenarios[name].description)
        for m in METRICS:
            values[m].append(float(getattr(v, m)[0]))
    df = pd.DataFrame({"description": descriptions, **values}, index=pd.Index(names, name="scenario"))
    df["npv_change_usd"] = np.asarray(values["npv_usd"]) - values["npv_usd"][0]
    df["irr_change"] = np.asarray(values["irr"]) - values["irr"][0]
    return df
