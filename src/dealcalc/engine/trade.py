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
from dataclasses import dataclass, field

import numpy as np

from dealcalc.engine.inputs import Inputs, Number
from dealcalc.engine.streams import StreamFlows
from dealcalc.engine.timeline import years
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal
from dealcalc.models.trade import Form, ProductTariff

__all__ = ["TariffFlows", "tariffs", "year_weights"]


def year_weights(dates: list[dt.date], ys: np.ndarray) -> FloatArray:
    """(K, T): the fraction of each calendar year during which the k-th dated rate is in force.

    Rate k applies from ``dates[k]`` until ``dates[k+1]`` (the last one for ever); before the
    first date no rate applies. Days are counted exactly (leap years included).
    """
    out = np.zeros((len(dates), ys.size))
    for k, start in enumerate(dates):
        stop = dates[k + 1] if k + 1 < len(dates) else dt.date.max
        for i, year in enumerate(ys):
            lo, hi = dt.date(int(year), 1, 1), dt.date(int(year) + 1, 1, 1)
            overlap = (min(hi, stop) - max(lo, start)).days
            out[k, i] = max(overlap, 0) / (hi - lo).days
    return out


def _path_rate(inputs: Inputs, prefix: str, path: dict[dt.date, float]) -> Number:
    """The yearly average of a dated ad-valorem path, each rate read through ``inputs``."""
    if not path:
        return 0.0
    dates = list(path)
    weights = year_weights(dates, years(inputs.deal))
    total: Number = 0.0
    for k, date in enumerate(dates):
        if weights[k].any():
            total = total + inputs.num(f"{prefix}.{date.isoformat()}") * weights[k]
    return total


def _treatment(deal: Deal, schedule: str, product: str, form: str) -> tuple[str, ProductTariff | None]:
    """The schedule's entry for ``product`` sold as ``form`` (its own form first, then ``any``),
    with the parameter path of that entry."""
    entries = deal.trade.schedules[schedule].products.get(product, {})
    key: Form = "concentrate" if form == "concentrate" and "concentrate" in entries else "any"
    if form == "refined" and "refined" in entries:
        key = "refined"
    return f"trade.schedules.{schedule}.products.{product}.{key}", entries.get(key)


@dataclass(frozen=True)
class TariffFlows:
    """Duty on the deal's exports, each amount positive and broadcastable to (S, T)."""

    borne_by_exporter: Number = 0.0
    borne_by_buyers: Number = 0.0
    duty_by_government: dict[str, Number] = field(default_factory=dict)
    borne_by_government: dict[str, Number] = field(default_factory=dict)  # the exporter's part


def tariffs(inputs: Inputs, flows: list[StreamFlows]) -> TariffFlows:
    """Duty, and its split between exporter and buyers, for every stream and destination."""
    deal = inputs.deal
    n = inputs.num
    exporter: Number = 0.0
    buyers: Number = 0.0
    by_government: dict[str, Number] = {}
    borne_by_government: dict[str, Number] = {}
    for f in flows:
        stream = deal.streams[f.name]
        form = "concentrate" if stream.is_mine else "refined"
        for dest_name in stream.sales_shares:
            dest = deal.trade.destinations[dest_name]
            if dest.schedule is None:
                continue
            share = n(f"streams.{f.name}.sales_shares.{dest_name}")
            schedule = deal.trade.schedules[dest.schedule]
            prefix, entry = _treatment(deal, dest.schedule, stream.product, form)
            rate: Number
            if entry is not None and entry.ad_valorem is not None:
                rate = _path_rate(inputs, f"{prefix}.ad_valorem", entry.ad_valorem)
            elif entry is not None and entry.exempt:
                rate = 0.0
            else:
                rate = _path_rate(inputs, f"trade.schedules.{dest.schedule}.ad_valorem", schedule.ad_valorem)
            specific = n(f"{prefix}.specific_usd_per_unit_content") if entry is not None else 0.0
            if isinstance(rate, float) and rate == 0.0 and isinstance(specific, float) and specific == 0.0:
                continue
            bears = 1.0 - n(f"trade.destinations.{dest_name}.pass_through_fraction")
            value = f.revenue * share
            units = f.contained_units_sold * share
            realised = (value - bears * specific * units) / (1.0 + bears * rate)
            duty = rate * realised + specific * units
            lost = value - realised
            exporter = exporter + lost
            buyers = buyers + (duty - lost)
            government = dest.government or f"{dest_name}_government"
            by_government[government] = by_government.get(government, 0.0) + duty
            borne_by_government[government] = borne_by_government.get(government, 0.0) + lost
    return TariffFlows(
        borne_by_exporter=exporter,
        borne_by_buyers=buyers,
        duty_by_government=by_government,
        borne_by_government=borne_by_government,
    )
