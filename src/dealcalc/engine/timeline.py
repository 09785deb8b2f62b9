"""The period grid: years, phase production profiles, capex schedules, escalation, discounting."""

from __future__ import annotations

import numpy as np

from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal, Phase

__all__ = [
    "capex_profile",
    "escalation",
    "first_production_year",
    "phase_active",
    "production_profile",
    "real_discount_rate",
    "to_nominal",
    "years",
]


def years(deal: Deal) -> np.ndarray:
    """The calendar years valued, ``start_year`` to ``end_year`` inclusive."""
    v = deal.valuation
    return np.arange(v.start_year, v.end_year + 1)


def phase_active(phase: Phase) -> bool:
    """A phase is built when its gate says go."""
    return phase.gate.go


def production_profile(deal: Deal, phase: Phase) -> FloatArray:
    """Fraction of design capacity in each year: 0 before output, the ramp-up, then 1."""
    ys = years(deal)
    out = np.zeros(ys.size)
    if not phase_active(phase):
        return out
    k = ys - phase.first_production_year  # production year index
    producing = k >= 0
    out[producing] = 1.0
    for i, fraction in enumerate(phase.ramp_up):
        out[k == i] = fraction
    return out


def capex_profile(deal: Deal, phase: Phase) -> FloatArray:
    """Fraction of the phase's capex spent in each year (its schedule, after any delay)."""
    ys = years(deal)
    out = np.zeros(ys.size)
    if not phase_active(phase):
        return out
    for i, fraction in enumerate(phase.capex_schedule):
        out[ys == phase.start_year + phase.delay_years + i] = fraction
    return out


def first_production_year(deal: Deal) -> int:
    """The first year any built phase with streams produces (the end year if none does)."""
    starts = [
        deal.phases[s.phase].first_production_year
        for s in deal.streams.values()
        if phase_active(deal.phases[s.phase])
    ]
    return min(starts) if starts else deal.valuation.end_year


def escalation(deal: Deal, inflation: float | FloatArray) -> FloatArray | float:
    """Money-of-the-day factor per year: 1 in real terms, (1+i)^(year - start) if nominal."""
    if deal.valuation.basis == "real":
        return 1.0
    return _growth(deal, inflation)


def to_nominal(deal: Deal, inflation: float | FloatArray) -> FloatArray | float:
    """From the deal's money to money of the day: 1 for a nominal deal, (1+i)^(year - start)
    for a real one (start-year money)."""
    if deal.valuation.basis == "nominal":
        return 1.0
    return _growth(deal, inflation)


def _growth(deal: Deal, inflation: float | FloatArray) -> FloatArray:
    exponent = years(deal) - deal.valuation.start_year
    return np.power(1.0 + np.asarray(inflation), exponent)  # type: ignore[no-any-return]


def real_discount_rate(
    deal: Deal, rate: float | FloatArray, inflation: float | FloatArray
) -> float | FloatArray:
    """The discount rate in the deal's basis, by the Fisher relation (1+n) = (1+r)(1+i)."""
    v = deal.valuation
    if v.discount_rate_basis == v.basis:
        return rate
    if v.basis == "real":  # a nominal rate given for real flows
        return (1.0 + rate) / (1.0 + inflation) - 1.0
    return (1.0 + rate) * (1.0 + inflation) - 1.0
