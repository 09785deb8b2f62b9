"""engine/financing.py against numpy-financial and by hand: the repayment profiles, and one loan
sized by a share of capex (interest capitalised while drawing, grace, annuity repayment that
clears the balance, fees), the lenders' cash, DSCR and LLCR (methodology §14)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy_financial as npf
import pytest

from dealcalc.engine.financing import debt_flows, debt_stress, repayment_profile
from dealcalc.engine.inputs import DebtInputs, StressInputs


def test_annuity_profile_is_numpy_financial_pmt() -> None:
    level = -npf.pmt(0.08, 5, 1.0)  # the level payment on 1 borrowed
    assert repayment_profile("annuity", 0.08, 5) == pytest.approx(np.full(5, level), rel=1e-14)
    per_scenario = repayment_profile("annuity", np.array([0.05, 0.10]), 3)
    assert per_scenario.shape == (2, 3)
    assert per_scenario[0] == pytest.approx(np.full(3, -npf.pmt(0.05, 3, 1.0)), rel=1e-14)
    assert per_scenario[1] == pytest.approx(np.full(3, -npf.pmt(0.10, 3, 1.0)), rel=1e-14)
    assert repayment_profile("annuity", 0.0, 4).tolist() == [0.25] * 4  # no interest: 1/n


def test_linear_profile_by_hand() -> None:
    # 1/5 of principal plus 6 % on the balance at the start of each year (1, 0.8, ... 0.2)
    expected = [0.2 + 0.06 * b for b in (1.0, 0.8, 0.6, 0.4, 0.2)]
    assert repayment_profile("linear", 0.06, 5) == pytest.approx(np.array(expected), rel=1e-14)


@pytest.mark.parametrize("kind", ["annuity", "linear"])
def test_the_service_repays_exactly_what_was_borrowed(kind: str) -> None:
    # the PV of the service at the loan rate is the 1 borrowed
    service = repayment_profile(kind, 0.07, 6)
    assert (service / 1.07 ** np.arange(1, 7)).sum() == pytest.approx(1.0, rel=1e-14)


def loan(**changes: Any) -> DebtInputs:
    """Half the capex at 10 %, one year of grace, then a 3-year annuity; a 2 % upfront fee."""
    base = DebtInputs(
        name="loan",
        phases=("mine",),
        rate=np.array([0.10]),
        share_of_capex=np.array([0.5]),
        target_dscr=None,
        grace_years=1,
        tenor_years=3,
        repayment="annuity",
        upfront_fee=np.array([0.02]),
    )
    return replace(base, **changes)


CAPEX = {"mine": np.array([100.0, 200.0, 0, 0, 0, 0, 0, 0])}
DRAWN = {"mine": np.array([1.0, 1.0, 0, 0, 0, 0, 0, 0])}
CFADS = np.array([[0.0, 0.0, 50.0, 80.0, 80.0, 80.0, 80.0, 80.0]])


def test_one_loan_drawn_with_capitalised_interest_grace_and_annuity() -> None:
    d = debt_flows((loan(),), CAPEX, DRAWN, CFADS, 1.0)
    # draws: half of 100 and 200; 10 % on the opening balance capitalised while drawing:
    # period 0: 50; period 1: 50 x 1.1 + 100 = 155
    assert d.draws.tolist() == [[50, 100, 0, 0, 0, 0, 0, 0]]
    assert d.capitalised_interest == pytest.approx(np.array([[0, 5, 0, 0, 0, 0, 0, 0]]), rel=1e-15)
    assert d.fees == pytest.approx(np.array([[3, 0, 0, 0, 0, 0, 0, 0]]), rel=1e-15)  # 2 % x 150
    # grace in period 2: interest 15.5 paid, nothing repaid; then a 3-year annuity on 155
    per = np.arange(1, 4)
    interest = -npf.ipmt(0.1, per, 3, 155.0)
    principal = -npf.ppmt(0.1, per, 3, 155.0)
    assert d.interest_paid[0] == pytest.approx(np.array([0, 0, 15.5, *interest, 0, 0]), rel=1e-12)
    assert d.principal[0] == pytest.approx(np.array([0, 0, 0, *principal, 0, 0]), abs=1e-9)
    assert d.principal.sum() == pytest.approx(155.0, rel=1e-14)  # draws + capitalised interest
    assert d.balance[0, 5:] == pytest.approx(np.zeros(3), abs=1e-9)  # cleared at the end of its tenor
    assert d.balance[0, :3] == pytest.approx(np.array([50, 155, 155]), rel=1e-15)


def test_lenders_cash_and_dscr() -> None:
    d = debt_flows((loan(),), CAPEX, DRAWN, CFADS, 1.0)
    service = -npf.pmt(0.1, 3, 155.0)  # 62.33 a year
    # lenders: -50 + fee 3, -100, interest 15.5, then three annuity payments
    expected = [-47, -100, 15.5, service, service, service, 0, 0]
    assert d.lenders_cash[0] == pytest.approx(np.array(expected), rel=1e-12, abs=1e-9)
    # DSCR = CFADS / (interest + principal), NaN where nothing is due
    assert np.isnan(d.dscr[0, [0, 1, 6, 7]]).all()
    assert d.dscr[0, 2] == pytest.approx(50 / 15.5, rel=1e-14)
    assert d.dscr[0, 3:6] == pytest.approx(np.full(3, 80 / service), rel=1e-12)
    # LLCR at the first repayment: PV at 10 % of the CFADS of the three repayment years / 155
    pv = sum(80 / 1.1**k for k in (1, 2, 3))
    assert d.llcr[0, 3] == pytest.approx(pv / 155, rel=1e-12)


def test_linear_repayment_without_grace() -> None:
    d = debt_flows((loan(grace_years=0, repayment="linear"),), CAPEX, DRAWN, CFADS, 1.0)
    # repayment from period 2: 155 / 3 a year, interest on the declining balance
    third = 155 / 3
    assert d.principal[0, 2:5] == pytest.approx(np.full(3, third), rel=1e-14)
    assert d.interest_paid[0, 2:5] == pytest.approx(0.1 * np.array([155, 2 * third, third]), rel=1e-14)
    assert d.balance[0, 4] == pytest.approx(0.0, abs=1e-12)


def test_a_tenor_past_the_horizon_is_repaid_by_the_final_period() -> None:
    d = debt_flows((loan(tenor_years=20),), CAPEX, DRAWN, CFADS, 1.0)
    # repayment starts in period 3, five periods remain: the balance is nil at the end
    assert d.balance[0, -1] == pytest.approx(0.0, abs=1e-9)
    assert d.principal.sum() == pytest.approx(155.0, rel=1e-14)


def test_a_real_deal_runs_its_loan_in_money_of_the_day() -> None:
    # capex 100 (real) in period 1 with 10 % inflation is 110 nominal; half of it drawn; it is
    # repaid in one year (tenor 1) with 10 % interest: 55 x 1.1 = 60.5 nominal in period 2,
    # which is 60.5 / 1.21 in the deal's real money
    nominal = 1.1 ** np.arange(3)
    d = debt_flows(
        (loan(grace_years=0, tenor_years=1),),
        {"mine": np.array([0.0, 100.0, 0.0])},
        {"mine": np.array([0.0, 1.0, 0.0])},
        np.zeros((1, 3)),
        nominal,
    )
    assert d.draws[0] == pytest.approx(np.array([0, 50, 0]), rel=1e-15)
    assert d.principal[0, 2] + d.interest_paid[0, 2] == pytest.approx(60.5 / 1.21, rel=1e-14)


# --------------------------------------------------------------------------- debt under stress
# A toy loan (methodology §23): 100 lent in period 0 at 10 %, no grace, five years of linear
# repayment: principal 20 a year, interest 10, 8, 6, 4, 2, so service 30, 28, 26, 24, 22.
TOY = {"mine": np.array([100.0, 0, 0, 0, 0, 0])}
TOY_DRAWN = {"mine": np.array([1.0, 0, 0, 0, 0, 0])}
TOY_LOAN = loan(
    share_of_capex=np.array([1.0]),
    grace_years=0,
    tenor_years=5,
    repayment="linear",
    upfront_fee=np.array([0.0]),
)


def contract(cfads: list[float]) -> tuple[Any, np.ndarray]:
    flows = np.array([cfads])
    return debt_flows((TOY_LOAN,), TOY, TOY_DRAWN, flows, 1.0), flows


def rules(**changes: Any) -> StressInputs:
    """Every rule off (full recourse, no reserve, no sweep, no lock-up), then ``changes``."""
    one = np.ones(1)
    base = StressInputs(
        dsra_months=0 * one,
        dsra_at_close=False,
        sweep_share=0 * one,
        sweep_when="always",
        sweep_dscr=0 * one,
        lockup_dscr=None,
        recourse=True,
        missed_payments=None,
        dscr_below=None,
        dscr_years=1,
        recovery=0 * one,
        support_usd=0 * one,
        support_until=0,
        guarantee_share=0 * one,
    )
    return replace(base, **{k: np.array([v]) if isinstance(v, float) else v for k, v in changes.items()})


def test_the_toy_contract() -> None:
    d, _ = contract([0, 60, 60, 60, 60, 60])
    assert d.lenders_cash[0] == pytest.approx(np.array([-100, 30, 28, 26, 24, 22]), rel=1e-14)


def test_without_rules_the_stressed_debt_is_the_contract() -> None:
    # full recourse: a year short of cash is paid by the owners, so the lenders get the contract
    d, cf = contract([0, 60, 10, -5, 60, 60])
    s = debt_stress(d, cf, rules(), 1.0)
    assert s.lenders[0] == pytest.approx(d.lenders_cash[0], rel=1e-14)
    assert not s.missed.any() and not s.defaulted.any() and not s.reserves.any()
    assert s.alive[0].tolist() == [1.0] * 6


def test_dsra_funded_from_cash_flow_and_drawn() -> None:
    # 12 months: a target of next year's service. Period 1: 30 paid, 28 of the 30 left funds it.
    # Period 2: 10 of the 28 due from cash, 18 from the DSRA (10 left; no cash to refill it).
    # Period 3: 26 paid, 14 of the 34 left refills it to 24; period 4: 2 released (target 22);
    # period 5: the rest (22) released, the loan being repaid.
    d, cf = contract([0, 60, 10, 60, 60, 60])
    s = debt_stress(d, cf, rules(dsra_months=12.0), 1.0)
    assert s.dsra_balance[0] == pytest.approx(np.array([0, 28, 10, 24, 22, 0]), abs=1e-12)
    assert s.dsra_drawn[0] == pytest.approx(np.array([0, 0, 18, 0, 0, 0]), abs=1e-12)
    assert s.dsra_released[0] == pytest.approx(np.array([0, 0, 0, 0, 2, 22]), abs=1e-12)
    assert s.reserves[0] == pytest.approx(np.array([0, 28, -18, 14, -2, -22]), abs=1e-12)
    assert s.lenders[0] == pytest.approx(d.lenders_cash[0], rel=1e-14)  # all paid
    assert s.dscr[0, 2] == pytest.approx(10 / 28, rel=1e-14)


def test_dsra_funded_at_close_by_the_owners() -> None:
    # financial close is period 0 (the year before the first service): 30 put in whatever the
    # cash; in period 1 the target falls to 28 and 2 is released
    d, cf = contract([0, 60, 60, 60, 60, 60])
    s = debt_stress(d, cf, rules(dsra_months=12.0, dsra_at_close=True), 1.0)
    assert s.dsra_funded[0, 0] == pytest.approx(30.0, rel=1e-14)
    assert s.dsra_balance[0, :2] == pytest.approx(np.array([30, 28]), rel=1e-14)
    assert s.reserves.sum() == pytest.approx(0.0, abs=1e-12)  # everything comes back


def test_lock_up_traps_and_releases() -> None:
    # lock-up below 1.5x: period 2 has DSCR 30/28 = 1.07, its 2 left after service is trapped;
    # period 3 (60/26 = 2.3) releases it
    d, cf = contract([0, 60, 30, 60, 60, 60])
    s = debt_stress(d, cf, rules(lockup_dscr=1.5), 1.0)
    assert s.trapped[0] == pytest.approx(np.array([0, 0, 2, 0, 0, 0]), abs=1e-12)
    assert s.reserves[0] == pytest.approx(np.array([0, 0, 2, -2, 0, 0]), abs=1e-12)
    # a lock-up still in force at the end is released in the last period
    d, cf = contract([0, 60, 60, 60, 60, 30])
    s = debt_stress(d, cf, rules(lockup_dscr=1.5), 1.0)
    assert s.trapped[0, -1] == 0.0 and s.reserves.sum() == pytest.approx(0.0, abs=1e-12)


def test_sweep_prepays_the_last_instalments_first() -> None:
    # half of the cash left after service prepays when the DSCR is at least 1.5:
    # period 1: 30 due, 30 left, 15 prepaid: balance 100 - 20 - 15 = 65;
    # period 2: interest 6.5 on 65, principal 20: 26.5 due, 33.5 left, 16.75 prepaid: 28.25;
    # period 3: interest 2.825, principal 20, 37.175 left: the last 8.25 prepaid; nothing after
    d, cf = contract([0, 60, 60, 60, 60, 60])
    s = debt_stress(d, cf, rules(sweep_share=0.5, sweep_when="above", sweep_dscr=1.5), 1.0)
    assert s.prepaid[0] == pytest.approx(np.array([0, 15, 16.75, 8.25, 0, 0]), rel=1e-12)
    assert s.interest_paid[0] == pytest.approx(np.array([0, 10, 6.5, 2.825, 0, 0]), rel=1e-12, abs=1e-12)
    assert s.balance[0] == pytest.approx(np.array([100, 65, 28.25, 0, 0, 0]), abs=1e-12)
    assert (s.principal + s.prepaid).sum() == pytest.approx(100.0, rel=1e-14)
    # a sweep only below the threshold does nothing when the cover is high
    quiet = debt_stress(d, cf, rules(sweep_share=0.5, sweep_when="below", sweep_dscr=1.5), 1.0)
    assert not quiet.prepaid.any()


def test_default_on_a_missed_payment_with_recovery_and_guarantee() -> None:
    # period 2: 28 due, 10 paid, 18 missed: default. Outstanding: the 60 scheduled after it plus
    # the 18 in arrears = 78; 40 % recovered (31.2) from the buyer; the loss 46.8, half of it
    # paid by the guarantor
    d, cf = contract([0, 60, 10, 60, 60, 60])
    s = debt_stress(d, cf, rules(recourse=False, missed_payments=1, recovery=0.4, guarantee_share=0.5), 1.0)
    assert s.defaulted[0].tolist() == [0, 0, 1, 0, 0, 0]
    assert s.missed[0, 2] == pytest.approx(18.0, rel=1e-14)
    assert s.outstanding[0, 2] == pytest.approx(78.0, rel=1e-14)
    assert s.recovery[0, 2] == pytest.approx(78 * 0.4, rel=1e-14)
    assert s.guarantee[0, 2] == pytest.approx(78 * 0.6 * 0.5, rel=1e-14)
    assert s.loss[0, 2] == pytest.approx(78 * 0.6 * 0.5, rel=1e-14)
    assert s.lenders[0] == pytest.approx(np.array([-100, 30, 10 + 31.2 + 23.4, 0, 0, 0]), rel=1e-14)
    assert s.buyer[0, 2] == pytest.approx(-31.2, rel=1e-14)
    assert s.guarantor[0, 2] == pytest.approx(-23.4, rel=1e-14)
    assert s.alive[0].tolist() == [1, 1, 1, 0, 0, 0]
    # without the guarantee the lenders bear all of outstanding x (1 - recovery)
    bare = debt_stress(d, cf, rules(recourse=False, missed_payments=1, recovery=0.4), 1.0)
    assert bare.loss[0, 2] == pytest.approx(78 * 0.6, rel=1e-14)


def test_default_after_years_with_the_reserve_exhausted_and_the_cover_below_one() -> None:
    # a 12-month DSRA (28 after period 1); period 2: no cash, 28 drawn, the DSRA is empty and
    # the DSCR 0 (first year); period 3: 26 missed (no default on missed payments), second
    # year: default. Outstanding 40 + 26 in arrears; the DSRA is empty, so the buyer pays 50 %
    d, cf = contract([0, 60, 0, 0, 60, 60])
    r = rules(recourse=False, dsra_months=12.0, dscr_below=1.0, dscr_years=2, recovery=0.5)
    s = debt_stress(d, cf, r, 1.0)
    assert s.dsra_drawn[0, 2] == pytest.approx(28.0, rel=1e-14)
    assert s.defaulted[0].tolist() == [0, 0, 0, 1, 0, 0]
    assert s.outstanding[0, 3] == pytest.approx(66.0, rel=1e-14)
    assert s.recovery[0, 3] == pytest.approx(33.0, rel=1e-14)
    # with three years needed there is no default: period 4 catches up, paying interest on
    # the 40 and on the 26 in arrears (4 + 2.6), the 20 scheduled and the 26
    late = debt_stress(d, cf, replace(r, dscr_years=3), 1.0)
    assert not late.defaulted.any()
    assert late.lenders[0, 4] == pytest.approx(4 + 2.6 + 20 + 26, rel=1e-14)
    assert late.balance[0, -1] == pytest.approx(0.0, abs=1e-12)


def test_reserves_are_paid_to_the_lenders_on_default() -> None:
    # lock-up cash trapped in period 1 (DSCR 31/30 below 1.2) is applied before the recovery
    d, cf = contract([0, 31, 0, 60, 60, 60])
    s = debt_stress(d, cf, rules(recourse=False, missed_payments=1, lockup_dscr=1.2, recovery=0.5), 1.0)
    # period 2: the 1 trapped pays part of the 28 due, 27 missed: default; outstanding 60 + 27
    assert s.trapped[0, 1] == pytest.approx(1.0, rel=1e-12)
    assert s.missed[0, 2] == pytest.approx(27.0, rel=1e-12)
    assert s.outstanding[0, 2] == pytest.approx(87.0, rel=1e-12)
    assert s.lenders[0, 2] == pytest.approx(1.0 + 0.5 * 87.0, rel=1e-12)


def test_sponsor_support_covers_shortfalls_before_completion() -> None:
    # 20 of support until period 3: period 2's 18 short is paid by the owners, no default
    d, cf = contract([0, 60, 10, 60, 60, 60])
    r = rules(recourse=False, missed_payments=1, recovery=0.4, support_usd=20.0, support_until=3)
    s = debt_stress(d, cf, r, 1.0)
    assert s.support[0, 2] == pytest.approx(18.0, rel=1e-14)
    assert not s.defaulted.any()
    assert s.lenders[0] == pytest.approx(d.lenders_cash[0], rel=1e-14)
    # 10 of support leaves 8 missed: default; support after its year does not help
    assert debt_stress(d, cf, replace(r, support_usd=np.array([10.0])), 1.0).defaulted[0, 2] == 1.0
    assert debt_stress(d, cf, replace(r, support_until=2), 1.0).defaulted[0, 2] == 1.0


def test_stress_runs_in_money_of_the_day() -> None:
    # a real-terms deal with 10 % inflation: the same nominal loan and cash, given in real money
    # with the factor to money of the day, gives the same flows once inflated back
    nominal = 1.1 ** np.arange(6)
    d, cf = contract([0, 60, 10, 60, 60, 60])
    fields = ("draws", "interest_paid", "principal", "fees", "balance", "capitalised_interest")
    deflated = replace(d, **{k: getattr(d, k) / nominal for k in fields})
    r = rules(recourse=False, missed_payments=1, recovery=0.4)
    real = debt_stress(deflated, cf / nominal, r, nominal)
    flat = debt_stress(d, cf, r, 1.0)
    assert real.defaulted.tolist() == flat.defaulted.tolist() == [[0, 0, 1, 0, 0, 0]]
    assert real.lenders * nominal == pytest.approx(flat.lenders, rel=1e-13)


def test_stress_is_vectorized_over_scenarios() -> None:
    # three scenarios at once give what each gives alone
    cfs = np.array([[0, 60, 10, 60, 60, 60], [0, 60, 60, 60, 60, 60], [0, 31, 0, 60, 60, 60.0]])
    d = debt_flows((TOY_LOAN,), TOY, TOY_DRAWN, cfs, 1.0)
    three = rules(recourse=False, missed_payments=1, lockup_dscr=1.2, dsra_months=6.0, recovery=0.5)
    three = replace(
        three,
        **{
            k: np.repeat(getattr(three, k), 3)
            for k in (
                "dsra_months",
                "sweep_share",
                "sweep_dscr",
                "recovery",
                "support_usd",
                "guarantee_share",
                "lockup_dscr",
            )
        },
    )
    together = debt_stress(d, cfs, three, 1.0)
    for i in range(3):
        alone_d = debt_flows((TOY_LOAN,), TOY, TOY_DRAWN, cfs[i : i + 1], 1.0)
        one = rules(recourse=False, missed_payments=1, lockup_dscr=1.2, dsra_months=6.0, recovery=0.5)
        alone = debt_stress(alone_d, cfs[i : i + 1], one, 1.0)
        np.testing.assert_array_equal(together.lenders[i], alone.lenders[0])
        np.testing.assert_array_equal(together.reserves[i], alone.reserves[0])
