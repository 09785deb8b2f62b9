"""Debt: drawdown with the capex, capitalised interest, grace, repayment, fees, DSCR and LLCR.

Kernels on arrays, vectorized over scenarios; the loop is over years, where each balance
carries to the next. Schedules run in money of the day (nominal US$) and are deflated back for
a real-terms deal. Formulas and sources: docs/methodology.md §14.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.inputs import DebtInputs
from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = ["DebtFlows", "debt_flows", "repayment_profile"]


@dataclass(frozen=True)
class DebtFlows:
    """All tranches together, each (S, T) in the deal's basis; amounts positive."""

    draws: FloatArray
    interest_paid: FloatArray
    capitalised_interest: FloatArray
    principal: FloatArray
    fees: FloatArray
    balance: FloatArray  # at the end of each year
    dscr: FloatArray  # CFADS / debt service, NaN without debt service
    llcr: FloatArray  # PV of CFADS over the remaining loan life / opening balance, NaN after

    @property
    def lenders_cash(self) -> FloatArray:
        """What the lenders receive: debt service and fees less what they lend."""
        out: FloatArray = self.interest_paid + self.principal + self.fees - self.draws
        return out


def repayment_profile(kind: str, rate: float | FloatArray, n: int) -> FloatArray:
    """Debt service per unit of the balance at the start of repayment, for each of n years.

    ``annuity``: the level payment r / (1 - (1+r)^-n) (numpy-financial ``pmt``); ``linear``:
    1/n of principal plus interest on the declining balance. Shape (n,) or (S, n).

    Examples
    --------
    >>> repayment_profile("linear", 0.1, 4).round(3).tolist()
    [0.35, 0.325, 0.3, 0.275]
    """
    r = np.asarray(rate, dtype=np.float64)[..., None]
    j = np.arange(n, dtype=np.float64)
    if kind == "annuity":
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            level = np.where(r == 0.0, 1.0 / n, r / (1.0 - np.power(1.0 + r, -float(n))))
        return np.broadcast_to(level, np.broadcast_shapes(r.shape, (n,))).copy()
    return 1.0 / n + r * (1.0 - j / n)


def _as_rows(x: Number, shape: tuple[int, int]) -> FloatArray:
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.float64), shape))


def _tranche(
    d: DebtInputs, draw_periods: FloatArray, funded: FloatArray, cfads: FloatArray, nominal: Number
) -> dict[str, FloatArray] | None:
    """One loan's schedule; ``draw_periods`` (T,) marks the periods its phases spend capital."""
    shape = cfads.shape
    n_periods = shape[1]
    draw_years = np.flatnonzero(draw_periods > 0)
    if draw_years.size == 0:
        return None
    first_draw, last_draw = int(draw_years[0]), int(draw_years[-1])
    repay_start = last_draw + 1 + d.grace_years
    n_repay = min(d.tenor_years, n_periods - repay_start)
    r = d.rate
    funded_nom = _as_rows(funded * nominal, shape)
    cfads_nom = _as_rows(cfads * nominal, shape)
    # the balance at the start of repayment per unit of share: draws compounded (IDC capitalised)
    grown = np.zeros(shape[0])
    for t in range(last_draw + 1):
        grown = grown * (1.0 + r) + funded_nom[:, t]
    if d.share_of_capex is not None:
        share = d.share_of_capex
    elif n_repay <= 0 or d.target_dscr is None:
        share = np.zeros(r.shape)
    else:
        target = d.target_dscr
        available = np.maximum(cfads_nom[:, repay_start : repay_start + n_repay], 0.0) / target[:, None]
        if d.repayment == "sculpted":
            discount = np.power(1.0 + r[:, None], -np.arange(1.0, n_repay + 1.0))
            size = (available * discount).sum(axis=1)
        else:
            size = (available / repayment_profile(d.repayment, r, n_repay)).min(axis=1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            share = np.clip(np.where(grown > 0, size / grown, 0.0), 0.0, 1.0)
    draws = funded_nom * share[:, None]
    out = {
        k: np.zeros(shape) for k in ("draws", "interest_paid", "capitalised", "principal", "fees", "balance")
    }
    out["draws"] = draws
    out["fees"][:, first_draw] = d.upfront_fee * draws.sum(axis=1)
    if d.repayment != "sculpted" and n_repay > 0:
        level = repayment_profile(d.repayment, r, n_repay)
    balance = np.zeros(shape[0])
    start_balance = np.zeros(shape[0])
    for t in range(shape[1]):
        interest = r * balance
        if t <= last_draw:
            out["capitalised"][:, t] = interest
            balance = balance + interest + draws[:, t]
        elif t < repay_start:
            out["interest_paid"][:, t] = interest
        else:
            j = t - repay_start
            if j == 0:
                start_balance = balance.copy()
            if j >= n_repay - 1:  # the last repayment year (or the horizon's end) clears the balance
                principal = balance
            elif d.repayment == "sculpted" and d.target_dscr is not None:
                service = np.maximum(cfads_nom[:, t], 0.0) / d.target_dscr
                principal = np.clip(service - interest, 0.0, balance)
            else:
                principal = np.clip(start_balance * level[..., j] - interest, 0.0, balance)
            out["interest_paid"][:, t] = interest
            out["principal"][:, t] = principal
            balance = balance - principal
        out["balance"][:, t] = balance
    return {k: v / nominal for k, v in out.items()} | {"rate": np.broadcast_to(r[:, None], shape)}


def debt_flows(
    debt: tuple[DebtInputs, ...],
    funded_by_phase: dict[str, Number],
    draws_by_phase: dict[str, FloatArray],
    cfads: FloatArray,
    nominal: Number,
) -> DebtFlows:
    """Every loan's schedule, summed, for (S, T) scenarios.

    ``funded_by_phase`` is each phase's capex line (positive, deal basis) and
    ``draws_by_phase`` (T,) marks the periods it spends; ``cfads`` is the cash flow available
    for debt service, (S, T), deal basis; ``nominal`` the factor from the deal's basis to money
    of the day (1.0 for a nominal deal). Loans are taken in order (those sized by a share of
    capex first; a DSCR-sized loan is sized on what they leave of CFADS).
    """
    shape = cfads.shape
    n_periods = shape[1]
    keys = ("draws", "interest_paid", "capitalised", "principal", "fees", "balance")
    total = {k: np.zeros(shape) for k in keys}
    weighted_rate = np.zeros(shape)
    for d in debt:
        funded = sum((funded_by_phase[ph] for ph in d.phases), np.zeros(n_periods))
        drawn = sum((draws_by_phase[ph] for ph in d.phases), np.zeros(n_periods))
        left = cfads - total["interest_paid"] - total["principal"]
        one = _tranche(d, drawn, np.asarray(funded, dtype=np.float64), left, nominal)
        if one is None:
            continue
        opening = np.concatenate([np.zeros((shape[0], 1)), one["balance"][:, :-1]], axis=1)
        weighted_rate += one["rate"] * opening
        for k in keys:
            total[k] += one[k]
    service = total["interest_paid"] + total["principal"]
    cf = np.broadcast_to(cfads, shape)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dscr = np.where(service > 0, cf / service, np.nan)
    # LLCR: CFADS over the remaining loan life, discounted at the balance-weighted loan rate
    opening = np.concatenate([np.zeros((shape[0], 1)), total["balance"][:, :-1]], axis=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate_t = np.where(opening > 0, weighted_rate / opening, 0.0)
    pv = np.zeros(shape[0])
    llcr = np.full(shape, np.nan)
    outstanding = opening > 0
    for t in range(shape[1] - 1, -1, -1):
        pv = np.where(outstanding[:, t], (cf[:, t] + pv) / (1.0 + rate_t[:, t]), 0.0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            llcr[:, t] = np.where(outstanding[:, t] & (service[:, t] > 0), pv / opening[:, t], np.nan)
    return DebtFlows(
        draws=total["draws"],
        interest_paid=total["interest_paid"],
        capitalised_interest=total["capitalised"],
        principal=total["principal"],
        fees=total["fees"],
        balance=total["balance"],
        dscr=dscr,
        llcr=llcr,
    )
