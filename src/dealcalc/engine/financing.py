"""Debt: drawdown with the capex, capitalised interest, grace, repayment, fees, DSCR and LLCR;
under stress, the reserve, sweep, lock-up, default, recovery, support and guarantee.

Kernels on arrays, vectorized over scenarios; the loop is over years, where each balance
carries to the next. Schedules run in money of the day (nominal US$) and are deflated back for
a real-terms deal. Formulas and sources: docs/methodology.md §14 and §23.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dealcalc.engine.inputs import DebtInputs, StressInputs
from dealcalc.engine.timeline import Number
from dealcalc.metrics._common import FloatArray

__all__ = ["DebtFlows", "StressedDebt", "debt_flows", "debt_stress", "repayment_profile"]


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
    rate: FloatArray | None = None  # the balance-weighted loan rate (nominal), 0 without a balance

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

    A rate too small for 1 + r to tell from 1 still gives level payments (below 1e-6,
    1 - (1+r)^-n is computed as -expm1(-n log1p(r)), which keeps every digit):

    >>> repayment_profile("annuity", 1e-20, 4).tolist()
    [0.25, 0.25, 0.25, 0.25]
    """
    r = np.asarray(rate, dtype=np.float64)[..., None]
    j = np.arange(n, dtype=np.float64)
    if kind == "annuity":
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            small = np.abs(r) < 1e-6
            paid_down = np.where(
                small, -np.expm1(-float(n) * np.log1p(r)), 1.0 - np.power(1.0 + r, -float(n))
            )
            level = np.where(r == 0.0, 1.0 / n, r / paid_down)
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
        rate=rate_t,
    )


@dataclass(frozen=True)
class StressedDebt:
    """The debt as paid under the stress rules, each (S, T) in the deal's basis unless stated.

    ``lenders`` is what the lenders receive (service paid, prepayments, fees, the reserves and
    the recovery and guarantee on default, less drawdowns); ``reserves`` the cash put into the
    reserve accounts in each year (negative when drawn or released); ``buyer`` and
    ``guarantor`` what those parties pay or receive in the year of default (the buyer also
    takes the project's cash after it, which the parties' split adds); ``alive`` is 1 up to
    and including the year of default, 0 after.
    """

    draws: FloatArray
    interest_paid: FloatArray
    capitalised_interest: FloatArray
    principal: FloatArray  # scheduled principal and arrears paid
    prepaid: FloatArray  # the sweep
    fees: FloatArray
    balance: FloatArray  # at the end of each year, arrears included (0 after default)
    missed: FloatArray  # debt service due and not paid (falls into arrears)
    dsra_balance: FloatArray
    dsra_funded: FloatArray  # put in (from cash or by the owners at close)
    dsra_drawn: FloatArray  # paid to the lenders
    dsra_released: FloatArray  # paid out to the owners
    trapped: FloatArray  # the lock-up balance at the end of each year
    support: FloatArray  # sponsor support paid
    dscr: FloatArray  # CFADS over the service due (arrears included), NaN without
    defaulted: FloatArray  # 1 in the year of default
    outstanding: FloatArray  # at default, after the reserves
    recovery: FloatArray  # paid by the buyer to the lenders at default
    guarantee: FloatArray  # paid by the guarantor to the lenders at default
    loss: FloatArray  # the lenders' loss after recovery and guarantee, at default
    lenders: FloatArray
    reserves: FloatArray
    buyer: FloatArray
    guarantor: FloatArray
    alive: FloatArray


def debt_stress(debt: DebtFlows, cfads: FloatArray, rules: StressInputs, nominal: Number) -> StressedDebt:
    """Run the loans' contractual schedule through the stress rules, year by year, for (S, T).

    ``debt`` is the contract (:func:`debt_flows`, all loans together, pari passu, at their
    balance-weighted rate); ``cfads`` the cash available for debt service, (S, T) in the deal's
    basis; ``nominal`` the factor to money of the day. Each year (docs/methodology.md §23):

    1. due = interest on the balance (the contract's, less that on prepaid principal, plus that
       on arrears) + the scheduled principal (the last instalments cancelled by prepayments)
       + the arrears;
    2. paid from CFADS (if positive), then trapped cash, then the DSRA, then sponsor support
       (before its year, up to its amount); the rest is paid by the owners (no default rule:
       full recourse) or missed and falls into arrears;
    3. the DSRA is topped up from what cash is left to ``months``/12 of next year's service, the
       excess released; the sweep prepays ``share`` of what is left when the DSCR is past its
       threshold; below the lock-up DSCR (or with arrears) the rest is trapped, else the trap
       is released; everything is released in the last year;
    4. default after the stated run of missed payments or of years with the DSRA exhausted and
       the DSCR below its threshold, or with debt owed at the end: the reserves go to the
       lenders, the buyer pays ``recovery`` of the rest, the guarantor ``share`` of the loss.

    Examples
    --------
    A loan of 100 at 10 %, repaid 60 and 55 over two years, from CFADS of 80 and 30; default on
    the first missed payment, 40 % recovered, half the loss guaranteed:

    >>> z = np.zeros((1, 3))
    >>> contract = DebtFlows(
    ...     draws=np.array([[100.0, 0, 0]]), interest_paid=np.array([[0, 10.0, 5.0]]),
    ...     capitalised_interest=z, principal=np.array([[0, 50.0, 50.0]]), fees=z,
    ...     balance=np.array([[100.0, 50.0, 0]]), dscr=z, llcr=z,
    ...     rate=np.array([[0, 0.1, 0.1]]))
    >>> one = np.ones(1)
    >>> rules = StressInputs(0 * one, False, 0 * one, "always", 0 * one, None, False, 1, None, 1,
    ...                      0.4 * one, 0 * one, 0, 0.5 * one)
    >>> s = debt_stress(contract, np.array([[0, 80.0, 30.0]]), rules, 1.0)
    >>> s.missed.round(6).tolist(), s.defaulted.tolist()
    ([[0.0, 0.0, 25.0]], [[0.0, 0.0, 1.0]])
    >>> float(s.recovery[0, 2]), float(s.guarantee[0, 2]), float(s.loss[0, 2])
    (10.0, 7.5, 7.5)
    """
    shape = np.broadcast_shapes(np.shape(cfads), debt.draws.shape)
    n, n_periods = shape
    nom = np.broadcast_to(np.asarray(nominal, dtype=np.float64), shape)

    def to_nominal(x: FloatArray) -> FloatArray:
        return np.ascontiguousarray(np.broadcast_to(x, shape) * nom)

    draws, cap = to_nominal(debt.draws), to_nominal(debt.capitalised_interest)
    interest_c, principal_c = to_nominal(debt.interest_paid), to_nominal(debt.principal)
    balance_c, fees = to_nominal(debt.balance), to_nominal(debt.fees)
    cash = to_nominal(cfads)
    rate = np.broadcast_to(debt.rate if debt.rate is not None else np.zeros(shape), shape)
    service_c = interest_c + principal_c
    scale = draws.sum(axis=1) + 1.0
    tol = 1e-9 * scale  # what counts as nothing, relative to the size of the loans
    months = rules.dsra_months / 12.0
    serving = service_c > 0
    # financial close: the year before the first debt service (-1: none)
    close = np.where(serving.any(axis=1), np.argmax(serving, axis=1) - 1, -1)
    out: dict[str, FloatArray] = {}
    normal = np.zeros(n)  # the balance that is not in arrears
    arrears = np.zeros(n)
    dsra = np.zeros(n)
    trapped = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    missed_run = np.zeros(n, dtype=np.int64)
    low_run = np.zeros(n, dtype=np.int64)
    support_left = rules.support_usd.astype(np.float64).copy()  # the deal's basis
    last_rate = np.zeros(n)
    for t in range(n_periods):
        live = alive.astype(np.float64)
        r = np.where(rate[:, t] > 0, rate[:, t], last_rate)
        last_rate = r
        prepaid_so_far = np.maximum(np.where(t > 0, balance_c[:, t - 1], 0.0) - normal, 0.0)
        interest_due = np.maximum(interest_c[:, t] - r * prepaid_so_far, 0.0) + r * arrears
        scheduled = np.minimum(principal_c[:, t], np.maximum(normal + cap[:, t] + draws[:, t], 0.0))
        due = (interest_due + scheduled + arrears) * live
        # 2. pay: CFADS, trapped cash, the DSRA, sponsor support; the rest by the owners or missed
        available = np.maximum(cash[:, t], 0.0) * live
        paid = np.minimum(due, available)
        left = available - paid
        short = due - paid
        from_trap = np.minimum(short, trapped)
        trapped = trapped - from_trap
        short = short - from_trap
        from_dsra = np.minimum(short, dsra)
        dsra = dsra - from_dsra
        short = short - from_dsra
        support = np.zeros(n)
        if t < rules.support_until:
            support = np.minimum(short, support_left * nom[:, t])
            support_left = support_left - support / nom[:, t]
            short = short - support
        missed = np.zeros(n) if rules.recourse else short
        settled = due - missed
        interest = np.minimum(settled, interest_due)
        normal = normal + (cap[:, t] + draws[:, t] - scheduled) * live
        arrears = missed
        with np.errstate(divide="ignore", invalid="ignore"):
            dscr = np.where(due > tol, cash[:, t] / due, np.nan)
        # 3. the DSRA to target, the sweep, the lock-up
        nxt = service_c[:, t + 1] if t + 1 < n_periods else np.zeros(n)
        r_next = rate[:, t + 1] if t + 1 < n_periods else r
        target = months * np.minimum(nxt, (1.0 + r_next) * (normal + arrears)) * live
        gap = np.maximum(target - dsra, 0.0)
        at_close = (close == t) if rules.dsra_at_close else np.zeros(n, dtype=bool)
        funded = np.where(at_close, gap, np.minimum(gap, left))  # at close, by the owners
        left = left - np.where(at_close, 0.0, funded)
        dsra = dsra + funded
        released = np.maximum(dsra - target, 0.0)
        dsra = dsra - released
        left = left + released
        if rules.sweep_when == "always":
            sweeping = dscr == dscr  # wherever there is service
        elif rules.sweep_when == "above":
            sweeping = dscr >= rules.sweep_dscr
        else:
            sweeping = dscr < rules.sweep_dscr
        prepaid = np.where(sweeping, np.minimum(rules.sweep_share * left, np.maximum(normal, 0.0)), 0.0)
        normal = normal - prepaid
        left = left - prepaid
        lock = arrears > tol
        if rules.lockup_dscr is not None:
            lock = lock | (dscr < rules.lockup_dscr)
        last = t == n_periods - 1
        trapped = np.where(lock | last, trapped + left, 0.0) * live  # released below at the end
        # 4. default
        owed = normal + arrears
        now = np.zeros(n, dtype=bool)
        if not rules.recourse:
            missed_run = np.where(missed > tol, missed_run + 1, 0)
            if rules.missed_payments is not None:
                now = missed_run >= rules.missed_payments
            if rules.dscr_below is not None:
                low_run = np.where((dsra <= tol) & (dscr < rules.dscr_below), low_run + 1, 0)
                now = now | (low_run >= rules.dscr_years)
            if t == n_periods - 1:
                now = now | (owed > tol)
            now = now & alive
        held = dsra + trapped
        applied = np.where(now, np.minimum(held, owed), 0.0)
        excess = np.where(now, held - applied, 0.0)
        rest = np.where(now, owed - applied, 0.0)
        recovered = rules.recovery * rest
        guaranteed = rules.guarantee_share * (rest - recovered)
        dsra = np.where(now, 0.0, dsra)
        trapped = np.where(now, 0.0, trapped)
        normal = np.where(now, 0.0, normal)
        arrears = np.where(now, 0.0, arrears)
        if last:  # what is left in the reserves is released at the end
            released = released + dsra
            dsra = np.zeros(n)
            trapped = np.zeros(n)
        row = {
            "interest_paid": interest * live,
            "principal": (settled - interest) * live,
            "prepaid": prepaid * live,
            "missed": missed * live,
            "dsra_balance": dsra,
            "dsra_funded": funded * live,
            "dsra_drawn": from_dsra,
            "dsra_released": released * live,
            "trapped": trapped,
            "support": support,
            "dscr": np.where(alive, dscr, np.nan),
            "defaulted": now.astype(np.float64),
            "outstanding": rest,
            "recovery": recovered,
            "guarantee": guaranteed,
            "loss": rest - recovered - guaranteed,
            "buyer": excess - recovered,
            "guarantor": 0.0 - guaranteed,
            "alive": live,
            "balance": normal + arrears,
            "draws": draws[:, t] * live,
            "capitalised": cap[:, t] * live,
            "fees": fees[:, t] * live,
        }
        row["lenders"] = (
            row["interest_paid"]
            + row["principal"]
            + row["prepaid"]
            + row["fees"]
            - row["draws"]
            + applied
            + recovered
            + guaranteed
        )
        for k, v in row.items():
            out.setdefault(k, np.zeros(shape))[:, t] = v
        alive = alive & ~now
    held_end = out["dsra_balance"] + out["trapped"]
    out["reserves"] = np.diff(held_end, axis=1, prepend=0.0)
    real = {k: v / nom for k, v in out.items() if k not in ("dscr", "defaulted", "alive")}
    return StressedDebt(
        draws=real["draws"],
        interest_paid=real["interest_paid"],
        capitalised_interest=real["capitalised"],
        principal=real["principal"],
        prepaid=real["prepaid"],
        fees=real["fees"],
        balance=real["balance"],
        missed=real["missed"],
        dsra_balance=real["dsra_balance"],
        dsra_funded=real["dsra_funded"],
        dsra_drawn=real["dsra_drawn"],
        dsra_released=real["dsra_released"],
        trapped=real["trapped"],
        support=real["support"],
        dscr=out["dscr"],
        defaulted=out["defaulted"],
        outstanding=real["outstanding"],
        recovery=real["recovery"],
        guarantee=real["guarantee"],
        loss=real["loss"],
        lenders=real["lenders"],
        reserves=real["reserves"],
        buyer=real["buyer"],
        guarantor=real["guarantor"],
        alive=out["alive"],
    )
