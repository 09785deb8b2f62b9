"""Properties of the metrics that must hold for any input hypothesis can find.

Every test states an identity or an inequality; none merely checks that nothing crashed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dealcalc as dc

money = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_subnormal=False).map(
    lambda x: round(x, 2)
)
rates = st.floats(min_value=-0.5, max_value=2.0, allow_nan=False, allow_subnormal=False)


@st.composite
def conventional(draw: st.DrawFn) -> list[float]:
    """Outflows for 1-4 periods, then inflows: one sign change, so exactly one IRR."""
    n_out = draw(st.integers(1, 4))
    n_in = draw(st.integers(1, 30))
    outs = draw(st.lists(st.floats(1.0, 1e6), min_size=n_out, max_size=n_out))
    ins = draw(st.lists(st.floats(0.01, 1e6), min_size=n_in, max_size=n_in))
    return [-x for x in outs] + ins


@st.composite
def any_flows(draw: st.DrawFn) -> list[float]:
    return draw(st.lists(money, min_size=2, max_size=40))


def _gross(values: list[float], r: float) -> float:
    t = np.arange(len(values))
    return float(np.sum(np.abs(values) * (1.0 + r) ** -t))


def _root_tol(values: list[float], r: float, rel: float = 1e-9) -> float:
    """How far from zero the NPV at a float root r can be: the solver's relative tolerance,
    plus the representation limit of 1 + r near r = -1 (a double carries about
    eps / (1 + r) relative precision there, magnified t-fold in (1 + r)**-t)."""
    return _gross(values, r) * (rel + len(values) * 2.3e-16 / (1.0 + r))


@given(conventional())
def test_npv_at_the_irr_is_zero(values: list[float]) -> None:
    r = dc.irr(values)
    assert isinstance(r, float) and not math.isnan(r)
    assert abs(dc.npv(r, values)) <= _root_tol(values, r)


@given(any_flows())
def test_npv_at_any_reported_irr_is_zero_and_nothing_higher_is_a_root(values: list[float]) -> None:
    res = dc.irr_result(values)
    if not res.solved[0]:
        assert dc.irr_roots(values).size == 0
        return
    r = float(res.irr[0])
    assert abs(dc.npv(r, values)) <= _root_tol(values, r, rel=1e-8)
    # the highest root: above it the NPV keeps the sign of the first non-zero flow
    first = np.sign(next(v for v in values if v != 0))
    above = r + np.array([1e-4, 1e-2, 0.1, 1.0, 10.0, 1e3]) * (1.0 + abs(r))
    npvs = dc.npv(above, values)
    assert isinstance(npvs, np.ndarray)
    tiny = np.abs(npvs) <= 1e-9 * np.array([_gross(values, a) for a in above])
    assert np.all((np.sign(npvs) == first) | tiny)


@given(conventional(), st.integers(1, 10))
def test_trailing_zeros_do_not_move_the_irr(values: list[float], zeros: int) -> None:
    assert dc.irr(values + [0.0] * zeros) == pytest.approx(dc.irr(values), rel=1e-10, abs=1e-12)


@given(conventional(), st.floats(1e-3, 1e3))
def test_scaling_the_flows_leaves_the_irr_unchanged(values: list[float], c: float) -> None:
    base = dc.irr(values)
    assert dc.irr([c * v for v in values]) == pytest.approx(base, rel=1e-9, abs=1e-11)
    assert dc.irr([-c * v for v in values]) == pytest.approx(base, rel=1e-9, abs=1e-11)


@given(any_flows(), rates)
def test_excel_npv_is_numpy_financial_npv_over_one_plus_r(values: list[float], r: float) -> None:
    assert dc.npv(r, values, timing="end") == pytest.approx(
        dc.npv(r, values) / (1.0 + r), rel=1e-12, abs=1e-9
    )
    assert dc.npv(r, values, timing="mid") == pytest.approx(
        dc.npv(r, values) / math.sqrt(1.0 + r), rel=1e-12, abs=1e-9
    )


@given(conventional(), rates, rates)
def test_value_falls_as_the_rate_rises_for_a_conventional_investment(
    values: list[float], r1: float, r2: float
) -> None:
    # NPV itself need not fall when outflows span several periods (hypothesis found
    # [-1, -2, 1] at 0 % and 100 %); the value at the last outflow date k always does, since
    # every outflow term -c (1+r)^(k-t) and every inflow term c (1+r)^(k-t) falls with r.
    lo, hi = sorted((r1, r2))
    k = max(i for i, v in enumerate(values) if v < 0)
    assert (
        dc.npv(hi, values) * (1 + hi) ** k
        <= dc.npv(lo, values) * (1 + lo) ** k + 1e-9 * _gross(values, lo) * (1 + lo) ** k
    )
    # with a single outlay at t = 0 the NPV itself falls
    single = [sum(v for v in values if v < 0)] + [v for v in values if v > 0]
    assert dc.npv(hi, single) <= dc.npv(lo, single) + 1e-9 * _gross(single, lo)


@given(st.lists(st.lists(money, min_size=12, max_size=12), min_size=1, max_size=8))
def test_many_rows_equal_single_rows(rows: list[list[float]]) -> None:
    arr = np.array(rows)
    rr = np.linspace(0.01, 0.3, arr.shape[0])
    together = dc.npv(rr, arr)
    irr_together = dc.irr(arr)
    assert isinstance(together, np.ndarray) and isinstance(irr_together, np.ndarray)
    for i, row in enumerate(rows):
        assert together[i] == pytest.approx(dc.npv(rr[i], row), rel=1e-12, abs=1e-6)
        single = dc.irr(row)
        assert (math.isnan(single) and math.isnan(irr_together[i])) or irr_together[i] == single


@given(any_flows(), rates)
def test_profitability_index_is_one_plus_npv_over_pv_of_outflows(values: list[float], r: float) -> None:
    pi = dc.profitability_index(r, values)
    t = np.arange(len(values))
    discounted = np.asarray(values) * (1.0 + r) ** -t
    outflows = -discounted[discounted < 0].sum()
    if outflows == 0:
        assert math.isnan(pi)
    else:
        assert pi == pytest.approx(1.0 + dc.npv(r, values) / outflows, rel=1e-9, abs=1e-12)


@given(any_flows())
def test_payback_is_when_the_running_total_stays_non_negative(values: list[float]) -> None:
    p = dc.payback(values)
    cumulative = np.cumsum(values)
    if cumulative[-1] < 0:
        assert math.isnan(p)
        return
    assert 0.0 <= p <= len(values) - 1
    # at every whole period from ceil(p) on, the running total is non-negative
    assert np.all(cumulative[math.ceil(p - 1e-12) :] >= -1e-9)


@given(any_flows(), st.floats(0.0, 0.5))
def test_mirr_between_rates_when_all_flows_compound_alike(values: list[float], r: float) -> None:
    # With finance = reinvest = r, MIRR of (-1, flows...) solves the terminal-value identity.
    m = dc.mirr(values, r, r)
    v = np.asarray(values)
    n = len(values)
    t = np.arange(n)
    fv_pos = float(np.sum(np.where(v > 0, v, 0) * (1 + r) ** (n - 1 - t)))
    pv_neg = float(-np.sum(np.where(v < 0, v, 0) * (1 + r) ** -t))
    if fv_pos == 0 or pv_neg == 0:
        assert math.isnan(m)
    else:
        assert pv_neg * (1 + m) ** (n - 1) == pytest.approx(fv_pos, rel=1e-9)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 5), st.integers(2, 15)),
        elements=st.floats(-1e4, 1e4, allow_subnormal=False),
    )
)
def test_return_rule(values: np.ndarray) -> None:
    assert isinstance(dc.npv(0.1, values[0]), float)
    assert isinstance(dc.irr(values[0]), float)
    assert isinstance(dc.payback(values[0]), float)
    out = dc.npv(0.1, values)
    assert isinstance(out, np.ndarray) and out.shape == (values.shape[0],)
    assert dc.irr(values).shape == (values.shape[0],)  # type: ignore[union-attr]
    assert dc.mirr(values, 0.1, 0.1).shape == (values.shape[0],)  # type: ignore[union-attr]
