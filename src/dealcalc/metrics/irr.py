"""Internal rate of return of periodic cash flows, vectorized over rows.

The policy (design.md §4): the IRR is the **highest** rate above -1 at which the NPV is zero.
With one sign change in the flows it is the only root (Descartes' rule of signs). For an
investment (first flow negative) it is the rate above which the NPV stays negative, the cost of
capital beyond which the deal destroys value, which is the root users expect when closure costs
add a second one (numpy-financial issue 39).

How it is found, for all rows at once on time-major (T, n) blocks:

0. A row whose largest flow is far from 1 (beyond 2**64 or below 2**-64 in size) is divided by
   a power of two first. That is exact and the IRR does not depend on a row's scale, so
   ``[-1e308, 1e308, 1e308]`` has the IRR of ``[-1, 1, 1]`` and ordinary rows keep their bits.
1. Rows whose flows never change sign have no IRR.
2. A data-driven first guess: inflows and outflows collapsed to their money-weighted mean dates.
3. Safeguarded Newton (:func:`~dealcalc.metrics._roots.safeguarded_newton`) below Cauchy's
   bound on the roots, ``r <= max_{t>k} |v_t| / |v_k|`` (k the first non-zero flow).
4. For rows with several sign changes, the root is *certified* highest: no root lies above
   ``r0 = r* + delta`` if the partial sums of ``v_t x0**t`` (``x0 = 1/(1+r0)``), or the
   partial sums of those, never change sign (Descartes' rule for the power series
   ``Q(y) / (1-y)**k``, Polya & Szego, Problems and Theorems in Analysis II, Part V, no. 38).
5. Rows not converged or not certified get the exact answer from the eigenvalues of the
   companion matrix of the NPV polynomial in ``x = 1/(1+r)`` (batched LAPACK), polished by
   Newton. This is also how :func:`irr_roots` returns every root.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from dealcalc.errors import ConvergenceError
from dealcalc.metrics._common import (
    BoolArray,
    FloatArray,
    IntArray,
    as_values,
    exponents_of,
    finish,
    horner,
    horner_with_derivative,
    rescale_rows,
    row_exponents,
    sign_changes,
    time_major_blocks,
)
from dealcalc.metrics._roots import plain_newton, safeguarded_newton

__all__ = ["IRRResult", "irr", "irr_result", "irr_roots"]

#: Newton stops when its step is below ``XTOL * (1 + r)`` (see ``_roots.step_tolerance``).
XTOL = 1e-13
#: A root is accepted when ``|NPV(r)| <= RTOL * sum_t |v_t| / (1+r)**t``: relative to the size
#: of the flows, never an absolute amount of money.
RTOL = 1e-9
MAXITER = 60
#: Rows the safeguarded driver has not bracketed after this many evaluations go to the exact
#: companion-matrix fallback: they almost always have no root (a Monte Carlo's owners who never
#: get their money back), and the driver would walk them towards -1 for MAXITER evaluations.
UNBRACKETED_LIMIT = 4


@dataclass(frozen=True)
class IRRResult:
    """IRRs of many rows with the diagnostics behind them.

    Attributes
    ----------
    irr : ndarray, shape (S,)
        The IRR of each row by the highest-root policy; NaN where there is none.
    solved : ndarray of bool, shape (S,)
        True where an IRR exists (``~solved`` is the "no solution" mask).
    sign_changes : ndarray of int, shape (S,)
        Sign changes in each row's flows (zeros skipped).
    conventional : ndarray of bool, shape (S,)
        Exactly one sign change: then the IRR is the only root. Other rows may have several
        IRRs (see :func:`irr_roots`); MIRR is the robust figure there.
    """

    irr: FloatArray
    solved: BoolArray
    sign_changes: IntArray
    conventional: BoolArray

    @property
    def n_unsolved(self) -> int:
        """Number of rows with no IRR."""
        return int((~self.solved).sum())


class _PeriodicProblem:
    """NPV(r) and its derivative for the columns of a time-major block."""

    def __init__(self, block: FloatArray) -> None:
        self.block = block

    def evaluate(self, r: FloatArray) -> tuple[FloatArray, FloatArray]:
        x = 1.0 / (1.0 + r)
        p, dp = horner_with_derivative(self.block, x)
        return p, -dp * x * x  # d/dr P(1/(1+r)) = P'(x) * (-x**2)

    def keep(self, mask: BoolArray) -> None:
        self.block = self.block[:, mask]


def _leading_flow(block: FloatArray) -> FloatArray:
    """The first non-zero flow of each column (0 for an all-zero column)."""
    lead: FloatArray = block[0].copy()
    if lead.all():  # the usual case: no leading zeros
        return lead
    for row in block[1:]:
        np.copyto(lead, row, where=lead == 0.0)
    return lead


def _largest(block: FloatArray) -> FloatArray:
    """The largest absolute flow of each column of a (T, n) block."""
    largest: FloatArray = np.abs(block[0])
    for row in block[1:]:  # period by period: no (T, n) temporary (see sign_changes)
        np.maximum(largest, np.abs(row), out=largest)
    return largest


def _upper_bound(largest: FloatArray, lead: FloatArray) -> FloatArray:
    """Cauchy's bound: no root lies above max_t |v_t| / |v_k| (k = first non-zero flow).

    (The tighter max over t > k only moves the starting bracket; this one costs one pass.)
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = largest / np.abs(lead)
    return np.where(np.isfinite(bound), bound, 0.0) * (1.0 + 1e-9) + 1e-9


def _initial_guess(block: FloatArray, upper: FloatArray) -> FloatArray:
    """Rate that equates inflows and outflows collapsed to their money-weighted mean dates."""
    # Sums accumulated period by period: numpy's reductions (and BLAS) choose a summation
    # order by the array's shape, so a lone row would start Newton an ulp away from the same
    # row in a batch, and results must not depend on the chunk size.
    p, tp, net, tnet, inflow, scratch = (np.zeros(block.shape[1]) for _ in range(6))
    for t, row in enumerate(block):
        np.maximum(row, 0.0, out=inflow)
        p += inflow
        np.multiply(inflow, t, out=scratch)
        tp += scratch
        net += row
        np.multiply(row, t, out=scratch)
        tnet += scratch
    n = p - net  # outflows: max(-v, 0) = max(v, 0) - v
    tn = tp - tnet
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        gap = tp / p - tn / n
        guess = np.power(p / n, 1.0 / gap) - 1.0
    guess = np.where(np.isfinite(guess) & (np.abs(gap) > 1e-9), guess, 0.1)
    return np.clip(guess, -0.9, 0.5 * upper)


def _certified_highest(block: FloatArray, r: FloatArray) -> BoolArray:
    """True where no root lies above ``r`` (order-1 and order-2 partial-sum sign tests)."""
    r0 = r + 1e-7 * (1.0 + np.abs(r))
    x0 = 1.0 / (1.0 + r0)
    gross = horner(np.abs(block), x0)
    threshold = 1e-11 * gross
    power = np.ones_like(x0)
    w_sum = np.zeros_like(x0)
    c_sum = np.zeros_like(x0)
    last_w = np.zeros_like(x0)
    last_c = np.zeros_like(x0)
    changes_w = np.zeros(x0.shape, dtype=np.int64)
    changes_c = np.zeros(x0.shape, dtype=np.int64)

    def step(value: FloatArray, last: FloatArray, changes: IntArray) -> FloatArray:
        s = np.where(np.abs(value) > threshold, np.sign(value), 0.0)
        changes += (s != 0.0) & (last != 0.0) & (s != last)
        return np.where(s != 0.0, s, last)

    for row in block:
        w_sum += row * power
        power *= x0
        c_sum += w_sum
        last_w = step(w_sum, last_w, changes_w)
        last_c = step(c_sum, last_c, changes_c)
    step(w_sum, last_c, changes_c)  # the tail of Q/(1-y)^2 ends with the sign of W_n
    certified: BoolArray = (changes_w == 0) | (changes_c == 0)
    return certified


def _companion_roots(rows: FloatArray) -> list[FloatArray]:
    """All real IRRs (> -1) of each row, from companion-matrix eigenvalues, polished."""
    out: list[FloatArray] = [np.empty(0) for _ in range(rows.shape[0])]
    rows = rescale_rows(rows, row_exponents(rows))  # exact; flows near 1e308 would overflow
    # Coefficients below 1e-250 of the row's largest are dropped: their roots would sit at
    # r = -1 + 1e-250 and their companion matrices would overflow.
    scale = np.abs(rows).max(axis=1, keepdims=True)
    rows = np.where(np.abs(rows) > 1e-250 * scale, rows, 0.0)
    nonzero = rows != 0.0
    has = nonzero.any(axis=1)
    first = np.argmax(nonzero, axis=1)
    last = rows.shape[1] - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    degree = np.where(has, last - first, 0)
    owners, candidates = [], []  # every real, positive eigenvalue x and its row
    for d in np.unique(degree[degree > 0]):
        members = np.flatnonzero(degree == d)
        take = first[members, None] + np.arange(d + 1)[None, :]
        coef = rows[members[:, None], take]  # ascending powers of x, both ends non-zero
        desc = coef[:, ::-1]
        comp = np.zeros((members.size, d, d))
        if d > 1:
            comp[:, np.arange(1, d), np.arange(d - 1)] = 1.0
        comp[:, 0, :] = -desc[:, 1:] / desc[:, :1]
        z = np.linalg.eigvals(comp)
        real = (np.abs(z.imag) <= 1e-6 * np.maximum(1.0, np.abs(z))) & (z.real > 0)
        owners.append(np.broadcast_to(members[:, None], z.shape)[real])
        candidates.append(z.real[real])
    if not owners:
        return out
    row_of = np.concatenate(owners)
    xs = np.concatenate(candidates)
    # polish every candidate at once: Newton on P(x) in a block with one column per candidate
    block = np.ascontiguousarray(rows[row_of].T)
    for _ in range(4):
        p, dp = horner_with_derivative(block, xs)
        with np.errstate(divide="ignore", invalid="ignore"):
            nxt = xs - p / dp
        xs = np.where(np.isfinite(nxt) & (nxt > 0), nxt, xs)
    p = horner(block, xs)
    gross = horner(np.abs(block), xs)
    good = np.isfinite(p) & np.isfinite(gross) & (np.abs(p) <= 1e-7 * gross)
    row_of, rates = row_of[good], 1.0 / xs[good] - 1.0
    if rates.size == 0:
        return out
    order = np.lexsort((rates, row_of))  # by row, then rate
    row_of, rates = row_of[order], rates[order]
    # one root per cluster: drop a rate within 1e-10 (relative) of the one before it in its row
    same_row = np.concatenate(([False], row_of[1:] == row_of[:-1]))
    close = np.concatenate(([False], np.diff(rates) <= 1e-10 * (1.0 + np.abs(rates[1:]))))
    keep = ~(same_row & close)
    row_of, rates = row_of[keep], rates[keep]
    bounds = np.flatnonzero(np.diff(row_of)) + 1
    for r, part in zip(row_of[np.r_[0, bounds]], np.split(rates, bounds), strict=True):
        out[int(r)] = part
    return out


def _solve_block(block: FloatArray) -> tuple[FloatArray, IntArray]:
    """IRR (highest-root policy) and sign-change count for each column of a (T, n) block."""
    n = block.shape[1]
    changes = sign_changes(block)
    result = np.full(n, np.nan)
    candidates = np.flatnonzero(changes > 0)
    if candidates.size == 0:
        return result, changes
    sub = block if candidates.size == n else block[:, candidates]
    largest = _largest(sub)
    exponent = exponents_of(largest)
    if exponent.any():  # flows near 1e308 or 1e-308: the IRR of the rescaled column (exact)
        sub = np.ldexp(sub, -exponent)
        largest = np.ldexp(largest, -exponent)
    lead = _leading_flow(sub)
    upper = _upper_bound(largest, lead)
    upper_sign = np.sign(lead)
    guess = _initial_guess(sub, upper)
    # Newton stops when |f/f'| <= XTOL (1 + r); as |f'| <= T * gross / (1 + r), the residual
    # there is below XTOL * T * gross, far inside RTOL: no separate residual pass is needed.
    roots, ok = plain_newton(_PeriodicProblem(sub), guess, upper, maxiter=12, xtol=XTOL)
    hard = np.flatnonzero(~ok)
    if hard.size:
        roots[hard], ok[hard] = safeguarded_newton(
            _PeriodicProblem(sub[:, hard]),
            guess[hard],
            upper[hard],
            upper_sign[hard],
            maxiter=MAXITER,
            xtol=XTOL,
            unbracketed_limit=UNBRACKETED_LIMIT,
        )
    multi = ok & (changes[candidates] > 1)
    if multi.any():
        ok[multi] = _certified_highest(sub[:, multi], roots[multi])
    result[candidates[ok]] = roots[ok]
    rest = np.flatnonzero(~ok)
    if rest.size:
        exact = _companion_roots(np.ascontiguousarray(sub[:, rest].T))
        result[candidates[rest]] = [r.max() if r.size else np.nan for r in exact]
    return result, changes


def irr_result(values: ArrayLike) -> IRRResult:
    r"""IRRs of one or many cash-flow series, with their diagnostics.

    Parameters
    ----------
    values : array_like, shape (T,) or (S, T)
        Cash flows per period (T >= 2), inflows positive.

    Returns
    -------
    IRRResult
        Arrays of shape (S,) (shape (1,) for one series): ``irr``, ``solved``,
        ``sign_changes``, ``conventional``.

    See Also
    --------
    irr : the IRR alone, with a failure policy.
    irr_roots : every real root.

    Examples
    --------
    >>> import dealcalc as dc
    >>> res = dc.irr_result([[-100, 60, 60], [-100, 230, -132], [1, 2, 3]])
    >>> res.irr.round(6)
    array([0.130662, 0.2     ,      nan])
    >>> res.conventional, res.solved
    (array([ True, False, False]), array([ True,  True, False]))
    """
    v = as_values(values, min_periods=2)
    rows = np.atleast_2d(v)
    rates = np.empty(rows.shape[0])
    changes = np.empty(rows.shape[0], dtype=np.int64)
    # Extreme inputs (roots near r = -1) overflow in intermediate steps; such candidates are
    # rejected by the finiteness and residual checks, so the warnings carry no information.
    with np.errstate(all="ignore"):
        for sl, block in time_major_blocks(rows):
            rates[sl], changes[sl] = _solve_block(block)
    return IRRResult(irr=rates, solved=~np.isnan(rates), sign_changes=changes, conventional=changes == 1)


def irr(
    values: ArrayLike,
    *,
    on_failure: Literal["nan", "raise"] = "nan",
) -> float | FloatArray:
    r"""Internal rate of return: the highest rate above -1 at which the NPV is zero.

    Parameters
    ----------
    values : array_like, shape (T,) or (S, T)
        Cash flows per period (T >= 2), inflows positive. Trailing zeros change nothing.
    on_failure : {'nan', 'raise'}, default 'nan'
        What a row with no IRR gives: NaN (count them with :func:`irr_result`), or a
        :class:`~dealcalc.errors.ConvergenceError`.

    Returns
    -------
    float or ndarray, shape (S,)
        The IRR per period, as a fraction.

    Notes
    -----
    The IRR solves :math:`\sum_t v_t (1+r)^{-t} = 0`. The timing convention does not move it.
    With one sign change there is exactly one root. With several, this returns the highest:
    for ``[-5, 10.5, 1, -8, 1]`` it gives 0.7096, where numpy-financial and Excel give the
    root 0.0886 nearest zero. Roots are accepted when the NPV there is within ``1e-9`` of the
    flows' discounted gross size. See the module docstring for the algorithm.

    References
    ----------
    .. [1] numpy-financial ``irr``; pyxirr ``irr`` (used as oracles in the tests).
    .. [2] numpy-financial issue 39: the root an investor expects with closure costs.

    Examples
    --------
    >>> import dealcalc as dc
    >>> round(dc.irr([-70000, 12000, 15000, 18000, 21000, 26000]), 6)
    0.086631
    >>> round(dc.irr([-5, 10.5, 1, -8, 1]), 4)
    0.7096
    >>> dc.irr([[-100, 39, 59, 55, 20], [-100, 0, 0, 74, 0]]).round(6)
    array([ 0.280948, -0.095496])
    """
    if on_failure not in ("nan", "raise"):
        raise ValueError(f"on_failure must be 'nan' or 'raise', got {on_failure!r}")
    v = as_values(values, min_periods=2)
    res = irr_result(v)
    if on_failure == "raise" and res.n_unsolved:
        first = int(np.flatnonzero(~res.solved)[0])
        raise ConvergenceError(
            f"no IRR for {res.n_unsolved} of {res.irr.size} cash-flow series "
            f"(first: row {first}, {int(res.sign_changes[first])} sign changes)"
        )
    return finish(res.irr[0] if v.ndim == 1 else res.irr)


def irr_roots(values: ArrayLike) -> FloatArray | list[FloatArray]:
    r"""Every real rate above -1 at which the NPV is zero, ascending.

    Parameters
    ----------
    values : array_like, shape (T,) or (S, T)
        Cash flows per period (T >= 2).

    Returns
    -------
    ndarray or list of ndarray
        For one series, an ndarray of its roots; for (S, T), a list of S such arrays.

    Notes
    -----
    The roots of the NPV polynomial in :math:`x = 1/(1+r)` are the eigenvalues of its companion
    matrix (batched over rows with equal degree), kept where real and positive and polished by
    Newton. Use it to see why a non-conventional row's IRR is what it is.

    Examples
    --------
    >>> import dealcalc as dc
    >>> dc.irr_roots([-5, 10.5, 1, -8, 1]).round(4)
    array([-0.8702,  0.0886,  0.7096])
    """
    v = as_values(values, min_periods=2)
    with np.errstate(all="ignore"):
        roots = _companion_roots(np.atleast_2d(v))
    return roots[0] if v.ndim == 1 else roots
