"""Probability questions say their basis: an IRR threshold is in the deal's basis unless the
question states the other, which is converted by the Fisher relation (a 19 % nominal hurdle on a
real deal is 16.1 % real), and the question as shown names the basis it was answered in."""

from __future__ import annotations

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.analyses.montecarlo import question_basis

DEAL = dc.load(dc.example_path("ussm-fwo"))


@pytest.fixture(scope="module")
def mc() -> dc.MonteCarlo:
    return dc.monte_carlo(DEAL, 1500, seed=4, metrics=["ussm.irr", "ussm.npv_usd"])


def test_a_nominal_hurdle_is_asked_in_real_terms(mc: dc.MonteCarlo) -> None:
    real_hurdle = 1.19 / 1.025 - 1
    assert mc.prob("ussm.irr < 0.19 nominal") == pytest.approx(mc.prob(f"ussm.irr < {real_hurdle!r}"))
    assert mc.prob("ussm.irr < 0.19 real") == mc.prob("ussm.irr < 0.19")
    assert mc.prob("ussm.irr < 0.19 nominal") < mc.prob("ussm.irr < 0.19")
    table = mc.probabilities(["ussm.irr < 0.19 nominal", "ussm.irr < 0.19", "ussm.npv_usd < 0"])
    assert list(table.index) == [
        "ussm.irr < 0.19 nominal = 0.1610 real",
        "ussm.irr < 0.19 real",
        "ussm.npv_usd < 0",
    ]
    assert table["threshold"].iloc[0] == pytest.approx(real_hurdle)


def test_money_has_no_basis_and_a_basis_is_read_only_at_the_end() -> None:
    assert question_basis("npv_usd < 0") is None and question_basis("irr >= 0.1 real") == "real"
    with pytest.raises(dc.InputError, match="not a probability question"):
        dc.monte_carlo(DEAL, 20, seed=1, metrics=["irr"]).prob("irr < nominal 0.1")


def test_the_draws_agree(mc: dc.MonteCarlo) -> None:
    irr = mc.values["ussm.irr"]
    solved = np.isfinite(irr)
    below = (irr[solved] < 1.19 / 1.025 - 1).sum()
    unsolved_losing = (mc.losing["ussm.irr"] & ~solved).sum()
    assert mc.prob("ussm.irr < 0.19 nominal") == pytest.approx((below + unsolved_losing) / mc.n)
