"""The lenders at risk (issue 21, item 1's summaries): P(DSCR < 1), P(default), the expected loss,
the lenders' IRR distribution, and each party's value with and without the DFI guarantee."""

from __future__ import annotations

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.analyses.lenders import guarantee_effect, lender_risk
from dealcalc.params import apply_scenario, with_changes

DEAL = dc.load(dc.example_path("ussm-fwo"))
STRESSED = apply_scenario(DEAL, "lenders_protected")


@pytest.fixture(scope="module")
def mc() -> dc.MonteCarlo:
    return dc.monte_carlo(STRESSED, 1500, seed=3)


def test_the_lenders_are_at_risk_when_the_rules_are_on(mc: dc.MonteCarlo) -> None:
    irr = mc.values["lenders.irr"]
    assert np.nanstd(irr) > 1e-3  # no longer 6.55 % in every draw
    risk = lender_risk(mc)
    defaulted = np.isfinite(mc.values["default_year"])
    assert risk.loc["p_default", "estimate"] == pytest.approx(defaulted.mean())
    p = defaulted.mean()
    assert risk.loc["p_default", "std_error"] == pytest.approx(np.sqrt(p * (1 - p) / mc.n))
    loss = np.nan_to_num(mc.values["lenders_loss_usd"])
    assert risk.loc["expected_loss_usd", "estimate"] == pytest.approx(loss.mean())
    assert risk.loc["expected_loss_given_default_usd", "estimate"] == pytest.approx(loss[defaulted].mean())
    assert (loss[~defaulted] == 0).all() and (loss[defaulted] > 0).all()
    dscr = mc.values["min_dscr"]
    below = (dscr[np.isfinite(dscr)] < 1).mean()
    assert risk.loc["p_dscr_below_1", "estimate"] == pytest.approx(below)
    p10, p50, p90 = (risk.loc[f"lenders_irr_p{q}", "estimate"] for q in (10, 50, 90))
    assert p10 <= p50 <= p90


def test_the_prob_question_counts_a_draw_without_default_as_never(mc: dc.MonteCarlo) -> None:
    defaulted = np.isfinite(mc.values["default_year"])
    assert mc.prob("default_year < 3000") == pytest.approx(defaulted.mean())
    assert mc.prob("default_year <= 2030") <= mc.prob("default_year < 3000")


def test_the_summary_needs_the_debt_metrics() -> None:
    plain = dc.monte_carlo(DEAL, 50, seed=1)
    with pytest.raises(dc.InputError, match="did not value"):
        lender_risk(plain)


def test_the_guarantee_moves_the_loss_from_the_lenders_to_the_guarantor() -> None:
    """On the same draws, with the guarantor discounting at the lenders' rate, what the lenders
    gain the guarantor pays, to the cent; the owners and the state are untouched."""
    rates = {**STRESSED.finance.discount_rates, "dfi_guarantor": STRESSED.finance.discount_rates["lenders"]}
    same_rate = with_changes(STRESSED, {"finance.discount_rates": rates})
    effect = guarantee_effect(same_rate, 600, seed=5)
    lenders, guarantor = effect.loc["lenders", "change_usd"], effect.loc["dfi_guarantor", "change_usd"]
    assert lenders > 0 and guarantor == pytest.approx(-lenders, rel=1e-9)
    for party in ("ussm", "fwo", "government_of_pakistan"):
        assert effect.loc[party, "change_usd"] == pytest.approx(0.0, abs=1e-3)
    assert effect.loc["dfi_guarantor", "without_usd"] == 0.0
    with pytest.raises(dc.InputError, match="no guarantee"):
        guarantee_effect(DEAL, 10, seed=1)
