"""Metrics against published and independently recomputed reference values.

Every case lives in tests/data/metric_cases.yaml with its source (validation-cases.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import dealcalc as dc
from conftest import load_cases

CASES = load_cases("metric_cases.yaml")


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [f"{i}-{c['source'][:40]}" for i, c in enumerate(cases)]


def _check(got: float, case: dict[str, Any], rel: float = 1e-9) -> None:
    if "exact" in case:
        exact = float(case["exact"])
        if math.isnan(exact):
            assert math.isnan(got)
        else:
            assert got == pytest.approx(exact, rel=case.get("rel", rel), abs=1e-12)
    if "published_range" in case:
        low, high = case["published_range"]
        assert low <= got <= high
    if "published" in case:
        assert round(got, case["decimals"]) == pytest.approx(case["published"], abs=10 ** -case["decimals"])


@pytest.mark.parametrize("case", CASES["npv_t0"], ids=_ids(CASES["npv_t0"]))
def test_npv_t0(case: dict[str, Any]) -> None:
    _check(dc.npv(case["rate"], case["values"]), case)


def test_m3_published_answer_key_is_wrong() -> None:
    # GATE MN 2025's key says 235 crore; recomputing the PV arithmetic gives 225.16.
    got = dc.npv(0.10, [-300, 149, 212, 285.5])
    assert abs(got - 235) > 9
    assert got == pytest.approx(225.16153268219372, rel=1e-12)


@pytest.mark.parametrize("case", CASES["npv_end"], ids=_ids(CASES["npv_end"]))
def test_npv_excel_convention(case: dict[str, Any]) -> None:
    _check(dc.npv(case["rate"], case["values"], timing=case.get("timing", "end")), case)


def test_npv_aligned_broadcast() -> None:
    b = CASES["npv_broadcast"]
    expected = np.array(b["expected"])  # (rates, rows)
    for i, rate in enumerate(b["rates"]):
        # one rate for all rows
        np.testing.assert_allclose(dc.npv(rate, b["values"]), expected[i], rtol=1e-12)
        # one rate per row, aligned
        per_row = dc.npv([rate, rate], b["values"])
        np.testing.assert_allclose(per_row, expected[i], rtol=1e-12)
    # an NPV profile of one row
    np.testing.assert_allclose(dc.npv(b["rates"], b["values"][0]), expected[:, 0], rtol=1e-12)


@pytest.mark.parametrize("case", CASES["irr"], ids=_ids(CASES["irr"]))
def test_irr(case: dict[str, Any]) -> None:
    got = dc.irr(case["values"])
    _check(got, case, rel=1e-11)
    roots = dc.irr_roots(case["values"])
    assert isinstance(roots, np.ndarray)
    assert got == pytest.approx(roots.max(), rel=1e-10)  # the policy: the highest root
    for other in case.get("other_roots", []):
        assert np.min(np.abs(roots - other)) < 1e-6


@pytest.mark.parametrize("case", CASES["irr_none"], ids=_ids(CASES["irr_none"]))
def test_irr_no_solution(case: dict[str, Any]) -> None:
    assert math.isnan(dc.irr(case["values"]))
    res = dc.irr_result(case["values"])
    assert not res.solved[0] and res.n_unsolved == 1
    with pytest.raises(dc.ConvergenceError, match="no IRR"):
        dc.irr(case["values"], on_failure="raise")


@pytest.mark.parametrize("case", CASES["mirr"], ids=_ids(CASES["mirr"]))
def test_mirr(case: dict[str, Any]) -> None:
    _check(dc.mirr(case["values"], case["finance_rate"], case["reinvest_rate"]), case)


@pytest.mark.parametrize("case", CASES["payback"], ids=_ids(CASES["payback"]))
def test_payback(case: dict[str, Any]) -> None:
    _check(dc.payback(case["values"]), case)


@pytest.mark.parametrize("case", CASES["xirr"], ids=_ids(CASES["xirr"]))
def test_xirr(case: dict[str, Any]) -> None:
    _check(dc.xirr(case["values"], case["dates"], day_count=case["day_count"]), case, rel=1e-10)


@pytest.mark.parametrize("case", CASES["xnpv"], ids=_ids(CASES["xnpv"]))
def test_xnpv(case: dict[str, Any]) -> None:
    _check(dc.xnpv(case["rate"], case["values"], case["dates"]), case, rel=1e-12)


def test_trailing_zeros_do_not_move_irr() -> None:
    # numpy-financial test_trailing_zeros
    assert dc.irr([-5, 10.5, 1, -8, 1, 0, 0, 0]) == pytest.approx(dc.irr([-5, 10.5, 1, -8, 1]), rel=1e-12)


def test_hand_worked_payback_and_discounted_payback() -> None:
    # M2 by hand: discounted flows at 10 %: -5, 1.36364, 1.65289, 1.50263, 1.02452;
    # running total -5, -3.63636, -1.98347, -0.48084, +0.54368 -> 3 + 0.48084/1.02452.
    expected = 3 + (5 - 1.5 / 1.1 - 2 / 1.1**2 - 2 / 1.1**3) / (1.5 / 1.1**4)
    assert dc.discounted_payback(0.10, [-5.0, 1.5, 2.0, 2.0, 1.5]) == pytest.approx(expected, rel=1e-12)
    # measured from the valuation date: 'end' puts values[0] one period later
    assert dc.payback([-5.0, 1.5, 2.0, 2.0, 1.5], timing="end") == pytest.approx(3.75)
    # a closure cost that drags the total back below zero: never pays back
    assert math.isnan(dc.payback([-10, 6, 6, -3]))
    # pays back, dips, recovers for good: the last crossing counts
    assert dc.payback([-100, 150, -100, 100]) == pytest.approx(2.5)
    # nothing to pay back
    assert dc.payback([5, 1, 1]) == 0.0


def test_profitability_index_hand_worked() -> None:
    # PV of inflows at 10 % over the 5.0 invested: 1 + NPV/5
    assert dc.profitability_index(0.10, [-5.0, 1.5, 2.0, 2.0, 1.5]) == pytest.approx(
        1 + 0.5436787104705951 / 5, rel=1e-12
    )
    assert math.isnan(dc.profitability_index(0.1, [1.0, 2.0]))


def test_readme_one_liner() -> None:
    # The "done when" of issue 3: prints the IRR.
    got = dc.irr([-70000, 12000, 15000, 18000, 21000, 26000])
    assert isinstance(got, float)
    assert got == pytest.approx(0.08663094803653168, rel=1e-10)


def test_irr_rows_that_need_the_exact_fallback_agree_with_all_their_roots() -> None:
    """Rows Newton cannot settle (no root despite two sign changes; a root below -50 %; closure
    costs) leave the safeguarded driver early for the companion matrix; in a batch of easy
    rows each still gets the highest of its own roots (irr_roots, computed alone)."""
    rng = np.random.default_rng(7)
    hard = [
        [-100.0, 250.0, -160.0],  # -100 + 250x - 160x^2 < 0 everywhere: no IRR
        [-100.0, 10.0, 10.0],  # IRR about -58 %
        [-5.0, 10.5, 1.0, -8.0, 1.0],  # three roots; the policy takes 0.7096
    ]
    easy = np.column_stack([-np.full(50, 100.0), rng.uniform(20, 60, size=(50, 4))])
    rows = np.zeros((len(hard) * 20 + 50, 5))
    for i, h in enumerate(hard):
        rows[i * 20 : (i + 1) * 20, : len(h)] = np.outer(rng.uniform(0.5, 2.0, 20), h)
    rows[len(hard) * 20 :] = easy
    got = dc.irr(rows)
    for row, value in zip(rows, got, strict=True):
        roots = dc.irr_roots(row)
        if roots.size == 0:
            assert math.isnan(value)
        else:
            assert value == pytest.approx(roots.max(), rel=1e-10)
    assert np.isnan(got[:20]).all() and np.isfinite(got[20:]).all()
