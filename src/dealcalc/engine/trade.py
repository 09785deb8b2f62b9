"""Import duties on what each stream sells into each destination, and who bears them.

For sales of deck value V and contained units U into a destination with ad-valorem rate tau
(the year's time-weighted average of the dated path), specific duty d per contained unit and
pass-through phi (the buyer's share), the exporter's realised value V_s solves
V_s = V - (1 - phi) * (tau * V_s + d * U): the duty is charged on the transaction value
(what the exporter invoices). Duty D = tau * V_s + d * U; the exporter bears V - V_s, the buyer
D - (V - V_s). Formulas and sources: docs/methodology.md §13.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = ["Duty", "TariffFlows", "duty", "total_tariffs", "year_weights"]


def year_weights(dates: Sequence[dt.date], calendar_years: np.ndarray) -> FloatArray:
    """(K, T): the fraction of each calendar year during which the k-th dated rate is in force.

    Rate k applies from ``dates[k]`` until ``dates[k+1]`` (the last one for ever); before the
    first date no rate applies. Days are counted exactly (leap years included).

    Examples
    --------
    >>> import numpy as np
    >>> year_weights([dt.date(2025, 7, 2)], np.array([2025, 2026])).round(3).tolist()
    [[0.501, 1.0]]
    """
    out = np.zeros((len(dates), calendar_years.size))
    for k, start in enumerate(dates):
        stop = dates[k + 1] if k + 1 < len(dates) else dt.date.max
        for i, year in enumerate(calendar_years):
            lo, hi = dt.date(int(year), 1, 1), dt.date(int(year) + 1, 1, 1)
            overlap = (min(hi, stop) - max(lo, start)).days
            out[k, i] = max(overlap, 0) / (hi - lo).days
    return out


@dataclass(frozen=True)
class Duty:
    """The duty on one stream's sales into one destination, each amount positive."""

    borne_by_exporter: Number  # V - V_s
    collected: Number  # D


def duty(value: Number, units: Number, rate: Number, specific: Number, bears: Number) -> Duty:
    """The duty on sales of deck value ``value`` and contained units ``units`` at ad-valorem
    ``rate`` and ``specific`` duty per unit, of which the exporter ``bears`` a share.

    Examples
    --------
    >>> d = duty(100.0, 0.0, 0.25, 0.0, 1.0)   # the exporter bears it all: V_s = 100 / 1.25
    >>> d.borne_by_exporter, d.collected
    (20.0, 20.0)
    """
    realised = (value - bears * specific * units) / (1.0 + bears * rate)
    collected = rate * realised + specific * units
    return Duty(borne_by_exporter=value - realised, collected=collected)


@dataclass(frozen=True)
class TariffFlows:
    """Duty on the deal's exports, each amount positive and broadcastable to (S, T)."""

    borne_by_exporter: Number = 0.0
    borne_by_buyers: Number = 0.0
    duty_by_government: dict[str, Number] = field(default_factory=dict)
    borne_by_government: dict[str, Number] = field(default_factory=dict)  # the exporter's part


def total_tariffs(duties: Sequence[tuple[str, Duty]]) -> TariffFlows:
    """Add up ``(government, duty)`` pairs: what the exporter and buyers bear, and what each
    government collects and how much of that the exporter bears."""
    exporter: Number = 0.0
    buyers: Number = 0.0
    by_government: dict[str, Number] = {}
    borne_by_government: dict[str, Number] = {}
    for government, d in duties:
        exporter = exporter + d.borne_by_exporter
        buyers = buyers + (d.collected - d.borne_by_exporter)
        by_government[government] = by_government.get(government, 0.0) + d.collected
        borne_by_government[government] = borne_by_government.get(government, 0.0) + d.borne_by_exporter
    return TariffFlows(
        borne_by_exporter=exporter,
        borne_by_buyers=buyers,
        duty_by_government=by_government,
        borne_by_government=borne_by_government,
    )
