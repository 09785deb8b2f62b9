"""dealcalc's metrics against numpy-financial and pyxirr as independent oracles, on many rows."""

from __future__ import annotations

import datetime as dt

import mpmath
import numpy as np
import numpy_financial as npf
import pytest
import pyxirr

import dealcalc as dc
from dealcalc.metrics import DAY_COUNTS, year_fractions


def conventional_rows(n: int, periods: int = 30, seed: int = 7) -> np.ndarray:
    """Seeded project-like rows: 1-3 years of capex, then a ramp-up and noisy operating flows."""
    rng = np.random.default_rng(seed)
    rows = np.empty((n, periods))
    build = rng.integers(1, 4, size=n)
    for k in range(periods):
        capex = -rng.uniform(50, 150, size=n)
        operating = rng.uniform(8, 40, size=n) * rng.lognormal(0.0, 0.2, size=n)
        rows[:, k] = np.where(k < build, capex, operating)
    return rows


def test_irr_matches_pyxirr_and_numpy_financial_on_conventional_rows() -> None:
    rows = conventional_rows(3000)
    ours = dc.irr(rows)
    assert isinstance(ours, np.ndarray)
    theirs = np.array([np.nan if (x := pyxirr.irr(r, silent=True)) is None else x for r in rows])
    both = ~np.isnan(theirs)
    assert both.mean() > 0.99
    assert np.all(~np.isnan(ours[both]))
    assert np.max(np.abs(ours[both] - theirs[both])) <= 1e-10
    npf_rows = rows[:300]
    npf_irr = np.array([npf.irr(r) for r in npf_rows])
    ok = ~np.isnan(npf_irr)
    assert np.max(np.abs(ours[:300][ok] - npf_irr[ok])) <= 1e-10


def test_irr_on_conventional_rows_is_flagged_conventional() -> None:
    res = dc.irr_result(conventional_rows(500))
    assert res.conventional.all() and res.solved.all()
    assert (res.sign_changes == 1).all()


def test_irr_with_closure_costs_returns_the_highest_root() -> None:
    rows = conventional_rows(2000, seed=11)
    rows[:, -1] = -np.random.default_rng(3).uniform(50, 400, size=rows.shape[0])
    ours = dc.irr(rows)
    assert isinstance(ours, np.ndarray)
    roots = dc.irr_roots(rows)
    assert isinstance(roots, list)
    expected = np.array([r.max() if r.size else np.nan for r in roots])
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-9)


def test_npv_matches_oracles() -> None:
    rows = conventional_rows(2000)
    rates = np.random.default_rng(5).uniform(0.0, 0.25, size=rows.shape[0])
    per_row = dc.npv(rates, rows)
    loop = np.array([npf.npv(r, row) for r, row in zip(rates, rows, strict=True)])
    # tolerance relative to the size of the flows, not of an NPV that may be near zero
    scale = np.abs(rows).sum(axis=1)
    assert np.all(np.abs(per_row - loop) <= 1e-13 * scale)
    shared = dc.npv(0.08, rows)
    assert np.all(np.abs(shared - [pyxirr.npv(0.08, row) for row in rows]) <= 1e-13 * scale)
    excel = dc.npv(0.08, rows, timing="end")
    theirs = [pyxirr.npv(0.08, row, start_from_zero=False) for row in rows]
    assert np.all(np.abs(excel - theirs) <= 1e-13 * scale)


def test_mirr_matches_numpy_financial() -> None:
    rng = np.random.default_rng(9)
    rows = rng.normal(0, 100, size=(500, 12))
    fr, rr = 0.07, 0.05
    ours = dc.mirr(rows, fr, rr)
    theirs = np.array([npf.mirr(row, fr, rr) for row in rows])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)


def _mp_xirr(values: np.ndarray, tau: np.ndarray, start: float) -> float:
    """The XIRR to 40 digits with mpmath: an oracle independent of both libraries."""
    mpmath.mp.dps = 40
    flows = [mpmath.mpf(float(v)) for v in values]
    times = [mpmath.mpf(float(t)) for t in tau]
    return float(
        mpmath.findroot(lambda r: sum(v * (1 + r) ** (-t) for v, t in zip(flows, times, strict=True)), start)
    )


@pytest.mark.parametrize("day_count", DAY_COUNTS)
def test_xirr_and_xnpv_match_pyxirr_and_mpmath(day_count: str) -> None:
    rng = np.random.default_rng(DAY_COUNTS.index(day_count))
    start = dt.date(2019, 1, 31)
    for _ in range(40):
        offsets = np.sort(rng.choice(np.arange(1, 3000), size=7, replace=False))
        dates = [start] + [start + dt.timedelta(days=int(o)) for o in offsets]
        values = np.concatenate(([-rng.uniform(500, 2000)], rng.uniform(50, 600, size=7)))
        ours = dc.xirr(values, dates, day_count=day_count)  # type: ignore[arg-type]
        theirs = pyxirr.xirr(dates, values, day_count=day_count)
        # pyxirr stops early (up to ~1e-9 off); the 40-digit root is the exact reference
        assert ours == pytest.approx(theirs, abs=1e-8)
        tau = year_fractions(dates, day_count)  # type: ignore[arg-type]
        assert ours == pytest.approx(_mp_xirr(values, tau, ours), abs=1e-12)
        assert dc.xnpv(0.07, values, dates, day_count=day_count) == pytest.approx(  # type: ignore[arg-type]
            pyxirr.xnpv(0.07, dates, values, day_count=day_count), rel=1e-11
        )


@pytest.mark.parametrize("day_count", DAY_COUNTS)
def test_year_fractions_match_pyxirr(day_count: str) -> None:
    rng = np.random.default_rng(1)
    base = dt.date(2000, 1, 1)
    for _ in range(200):
        a = base + dt.timedelta(days=int(rng.integers(0, 9000)))
        b = a + dt.timedelta(days=int(rng.integers(0, 4000)))
        ours = year_fractions([a, b], day_count)[1]  # type: ignore[arg-type]
        assert ours == pytest.approx(pyxirr.year_fraction(a, b, day_count), abs=1e-14), (a, b)


def test_xirr_vectorized_rows_equal_single_rows() -> None:
    dates = ["2020-01-01", "2020-06-30", "2021-03-15", "2022-12-31"]
    rows = np.array([[-100, 20, 50, 60], [-100, 0, 0, 130], [-50, -50, 70, 60]], dtype=float)
    together = dc.xirr(rows, dates)
    assert isinstance(together, np.ndarray)
    for i, row in enumerate(rows):
        assert together[i] == dc.xirr(row, dates)
