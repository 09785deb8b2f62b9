"""Programmer errors raise; NaN only ever means "no solution"."""

from __future__ import annotations

import numpy as np
import pytest

import dealcalc as dc


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: dc.npv(0.1, [[[1.0]]]), "shape"),
        (lambda: dc.npv(0.1, []), "at least 1"),
        (lambda: dc.npv(0.1, [1.0, np.nan]), "NaN"),
        (lambda: dc.npv(np.nan, [1.0, 2.0]), "NaN"),
        (lambda: dc.npv(-1.0, [1.0, 2.0]), "greater than -1"),
        (lambda: dc.npv([0.1, 0.2, 0.3], [[1.0, 2.0], [3.0, 4.0]]), "never crossed"),
        (lambda: dc.npv([[0.1]], [1.0, 2.0]), "scalar"),
        (lambda: dc.npv(0.1, [1.0, 2.0], timing="start"), "timing"),  # type: ignore[arg-type]
        (lambda: dc.irr([1.0]), "at least 2"),
        (lambda: dc.irr([1.0, np.inf]), "infinity"),
        (lambda: dc.irr([-1.0, 2.0], on_failure="warn"), "on_failure"),  # type: ignore[arg-type]
        (lambda: dc.xnpv(0.1, [1.0, 2.0], ["2020-01-01"]), "1 dates for 2"),
        (lambda: dc.xirr([-1.0, 2.0], ["2020-01-01", "not a date"]), "dates"),
        (
            lambda: dc.xirr([-1.0, 2.0], ["2020-01-01", "2021-01-01"], day_count="ACT/999"),
            "day_count",
        ),  # type: ignore[arg-type]
        (lambda: dc.mirr([[1.0, -2.0]], [0.1, 0.2], 0.1), "never crossed"),
    ],
)
def test_bad_calls_raise_value_error(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def test_convergence_error_is_a_dealcalc_error_and_names_the_row() -> None:
    with pytest.raises(dc.DealcalcError, match="row 1"):
        dc.irr([[-1.0, 2.0], [1.0, 1.0]], on_failure="raise")
    with pytest.raises(dc.ConvergenceError):
        dc.xirr([1.0, 1.0], ["2020-01-01", "2021-01-01"], on_failure="raise")


def test_nan_means_no_solution_and_is_counted() -> None:
    res = dc.irr_result([[-1.0, 2.0], [1.0, 1.0], [-1.0, -1.0], [0.0, 0.0]])
    assert res.n_unsolved == 3
    assert res.solved.tolist() == [True, False, False, False]
