"""Least-squares Monte Carlo (Longstaff and Schwartz 2001) for decisions made at stated dates.

A decision problem here is a set of simulated paths observed at ``D`` decision dates. At each
date every path that is still "alive" chooses one of ``K`` actions. An action either *stops*
the problem (exercise an option, build a phase, abandon it) or *continues* it to the next date
(hold the option, defer the build). Each action has a payoff at the date it is taken, and a
continuing action also earns the value of the rest of the problem.

The value of continuing is not known at the decision date: following Longstaff and Schwartz
(2001), it is estimated by regressing the realised, discounted value of the rest of the problem
on basis functions of the state variables known at that date, backward from the last date. The
same regression estimates an action's payoff when that payoff is itself not known at the
decision date (the value of building a phase depends on prices after the gate). The estimated
rule is then applied, without refitting, to an independent set of valuation paths, so the rule
has no foresight of the paths it is valued on and the estimate is biased low (Glasserman 2004,
section 8.6).

The American put is the two-action case (hold: continue, payoff 0; exercise: stop, payoff
``max(K - S, 0)``); :func:`american_option` prices it and is how the kernel is validated
against Longstaff and Schwartz's Table 1 (``docs/decisions.md``).

References
----------
Longstaff, F. A. and Schwartz, E. S. (2001), "Valuing American Options by Simulation: A Simple
Least-Squares Approach", *Review of Financial Studies* 14(1), 113-147.
Glasserman, P. (2004), *Monte Carlo Methods in Financial Engineering*, Springer, section 8.6.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from dealcalc.errors import InputError

__all__ = [
    "LSMPolicy",
    "LSMValuation",
    "american_option",
    "apply_policy",
    "basis_functions",
    "exercise_boundary",
    "fit_policy",
    "gbm_paths",
    "longstaff_schwartz",
    "make_rng",
    "policy_map",
    "split_streams",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Seed = int | np.integer | np.random.Generator | None
BasisName = Literal["laguerre", "polynomial"]
Basis = BasisName | Callable[[FloatArray], FloatArray]
PayoffFunction = Callable[[int, FloatArray], FloatArray]


def make_rng(seed: Seed, field: str = "seed") -> np.random.Generator:
    """Turn ``seed`` (``int``, ``numpy.random.Generator`` or ``None``) into a Generator.

    A Generator is used as given (drawing from it advances it); an int seeds a new one; ``None``
    takes fresh entropy from the operating system. The global numpy random state is never used.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        The seed.
    field : str
        The name used in the error for a bad seed.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    InputError
        For a negative, boolean or non-integer seed.

    Examples
    --------
    >>> float(make_rng(7).random()) == float(make_rng(7).random())
    True
    >>> make_rng(-1)
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: seed: -1 is not a seed; expected ... a numpy Generator or None
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(
            f"{seed!r} is not a seed",
            field=field,
            expected="a whole number >= 0, a numpy Generator or None",
        )
    return np.random.default_rng(int(seed))


def split_streams(seed: Seed) -> tuple[np.random.Generator, np.random.Generator]:
    """Two independent random streams, for estimation and for valuation.

    Both are spawned from the seed's ``SeedSequence`` (``numpy.random.Generator.spawn``), so
    their draws are disjoint and the same seed always gives the same pair.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        As in :func:`make_rng`.

    Returns
    -------
    tuple of numpy.random.Generator
        ``(estimation, valuation)``.

    Examples
    --------
    >>> est, val = split_streams(3)
    >>> float(est.random()) != float(val.random())
    True
    """
    estimation, valuation = make_rng(seed).spawn(2)
    return estimation, valuation


# --------------------------------------------------------------------------------------------
# basis functions


def _laguerre(z: FloatArray, degree: int) -> list[FloatArray]:
    """Weighted Laguerre polynomials exp(-z/2) L_k(z), k = 0..degree (LS 2001, eq. 2)."""
    weight = np.exp(-z / 2.0)
    out = []
    previous, current = np.zeros_like(z), np.ones_like(z)
    for k in range(degree + 1):
        if k == 0:
            poly = current
        else:
            # (k) L_k = (2k - 1 - z) L_{k-1} - (k - 1) L_{k-2}
            poly = ((2 * k - 1 - z) * current - (k - 1) * previous) / k
            previous, current = current, poly
        out.append(weight * poly)
    return out


def basis_functions(states: FloatArray, kind: BasisName = "laguerre", degree: int = 2) -> FloatArray:
    """Regression basis evaluated at normalised states.

    Parameters
    ----------
    states : ndarray, shape (N, V)
        ``V`` state variables of ``N`` paths, already normalised (of order 1).
    kind : {"laguerre", "polynomial"}
        ``"laguerre"``: a constant and, for each state variable, the weighted Laguerre polynomials
        ``exp(-z/2) L_k(z)`` for ``k = 0 .. degree`` (Longstaff and Schwartz 2001, eq. 2), no cross
        terms. ``"polynomial"``: every monomial of the state variables up to total degree
        ``degree``, the constant included.
    degree : int
        Highest degree, 1 to 5.

    Returns
    -------
    ndarray, shape (N, B)

    Examples
    --------
    >>> import numpy as np
    >>> basis_functions(np.array([[0.0], [1.0]]), "polynomial", 2)
    array([[1., 0., 0.],
           [1., 1., 1.]])
    >>> basis_functions(np.zeros((3, 2)), "laguerre", 2).shape
    (3, 7)
    """
    if not 1 <= degree <= 5:
        raise InputError(f"degree {degree} is out of range", field="degree", expected="1 to 5")
    x = np.asarray(states, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"states must be (N, V), got shape {x.shape}")
    columns: list[FloatArray] = [np.ones(x.shape[0])]
    if kind == "laguerre":
        for v in range(x.shape[1]):
            columns.extend(_laguerre(x[:, v], degree))
    elif kind == "polynomial":
        powers = [()]  # type: list[tuple[int, ...]]
        for d in range(1, degree + 1):
            powers.extend(_combinations(x.shape[1], d))
        columns = [np.prod([x[:, v] for v in p], axis=0) if p else np.ones(x.shape[0]) for p in powers]
    else:
        raise InputError(f"unknown basis {kind!r}", field="basis", expected="'laguerre' or 'polynomial'")
    return np.column_stack(columns)


def _combinations(n_vars: int, degree: int) -> list[tuple[int, ...]]:
    """Multisets of variable indices of size ``degree`` (the monomials of that total degree)."""
    from itertools import combinations_with_replacement

    return list(combinations_with_replacement(range(n_vars), degree))


# --------------------------------------------------------------------------------------------
# the policy


@dataclass(frozen=True)
class LSMPolicy:
    """An exercise (decision) rule estimated by least squares.

    At decision date ``d`` the estimated value of action ``a`` on a path with state ``x`` and
    payoffs ``P`` is ``known[a] * P[a] + phi(x / scale[d]) @ coefficients[d, a]``, where ``phi`` is the
    regression basis. The path takes the action with the highest estimate (ties go to the
    first action listed); on paths outside the regression set (out of the money, when
    ``in_the_money_only``) only continuing actions are considered.

    Attributes
    ----------
    actions : tuple of str
        Action names, ``K`` of them.
    stops : ndarray of bool, shape (K,)
        Whether each action ends the problem.
    known : ndarray of bool, shape (K,)
        Whether each action's payoff is known at the decision date (used as it is) or regressed.
    coefficients : ndarray, shape (D, K, B)
        Regression coefficients per date and action (zero for a known stopping action).
    scale : ndarray, shape (D, V)
        Each state variable's normalisation at each date (its mean over the estimation paths).
    basis : str or callable
        The basis kind, or the caller's function of the normalised states.
    degree : int
        Degree of a named basis.
    in_the_money_only : bool
        Whether regressions used only paths where a known stopping payoff was positive.
    support : ndarray, shape (D, V, 2)
        The 0.5 % and 99.5 % quantiles of each state variable over the paths each regression
        used: outside them the fitted values are extrapolations and the rule is unreliable.
    n_estimation : int
        Number of estimation paths.
    in_sample_value : float
        Value of the rule on its own estimation paths, at time 0 (biased high by foresight; for
        comparison only).
    """

    actions: tuple[str, ...]
    stops: BoolArray
    known: BoolArray
    coefficients: FloatArray
    scale: FloatArray
    basis: Basis
    degree: int
    in_the_money_only: bool
    support: FloatArray
    n_estimation: int
    in_sample_value: float

    @property
    def n_dates(self) -> int:
        """Number of decision dates ``D``."""
        return int(self.coefficients.shape[0])

    def design(self, date: int, states: FloatArray) -> FloatArray:
        """Basis matrix (N, B) of states (N, V) at decision date ``date``."""
        z = states / self.scale[date]
        if callable(self.basis):
            return np.asarray(self.basis(z), dtype=np.float64)
        return basis_functions(z, self.basis, self.degree)

    def estimates(self, date: int, states: FloatArray, payoffs: FloatArray) -> FloatArray:
        """Estimated value (N, K) of each action at ``date`` for states (N, V) and payoffs (N, K)."""
        fitted = self.design(date, states) @ self.coefficients[date].T
        return np.asarray(np.where(self.known, payoffs, 0.0) + fitted, dtype=np.float64)


@dataclass(frozen=True)
class LSMValuation:
    """The value of a decision rule on valuation paths.

    Attributes
    ----------
    value : float
        Mean discounted value at time 0 over the valuation paths.
    std_error : float
        Its standard error (over antithetic pairs when the paths are antithetic).
    path_values : ndarray, shape (N,)
        Discounted value of each valuation path at time 0.
    actions : ndarray of int, shape (N, D)
        Action taken by each path at each date; ``-1`` once the path has stopped.
    stop_date : ndarray of int, shape (N,)
        Decision date at which each path stopped (``D`` if it never stopped).
    policy : LSMPolicy
        The rule that was applied.
    """

    value: float
    std_error: float
    path_values: FloatArray
    actions: IntArray
    stop_date: IntArray
    policy: LSMPolicy

    def action_shares(self) -> pd.DataFrame:
        """Share of valuation paths taking each action at each date (rows: dates)."""
        n = self.actions.shape[0]
        data = {name: (self.actions == k).sum(axis=0) / n for k, name in enumerate(self.policy.actions)}
        frame = pd.DataFrame(data)
        frame.index.name = "date"
        return frame


# --------------------------------------------------------------------------------------------
# input checks


def _as_states(states: npt.ArrayLike) -> FloatArray:
    x = np.asarray(states, dtype=np.float64)
    if x.ndim == 2:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"states must be (N, D) or (N, D, V), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise InputError("states contain NaN or infinite values", field="states")
    return x


def _as_payoffs(payoffs: npt.ArrayLike, n: int, d: int) -> FloatArray:
    p = np.asarray(payoffs, dtype=np.float64)
    if p.ndim != 3 or p.shape[:2] != (n, d):
        raise ValueError(f"payoffs must be (N, D, K) = ({n}, {d}, K), got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise InputError("payoffs contain NaN or infinite values", field="payoffs")
    return p


def _as_discount(discount: npt.ArrayLike, n: int, d: int) -> FloatArray:
    g = np.asarray(discount, dtype=np.float64)
    try:
        g = np.broadcast_to(g, (n, d))
    except ValueError:
        raise ValueError(f"discount must broadcast to (N, D) = ({n}, {d}), got shape {g.shape}") from None
    if not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise InputError("discount factors must be finite and positive", field="discount")
    return g


def _as_flags(flags: Sequence[bool] | npt.ArrayLike, k: int, field: str) -> BoolArray:
    f = np.asarray(flags, dtype=bool)
    if f.shape != (k,):
        raise ValueError(f"{field} must have one flag per action ({k}), got shape {f.shape}")
    return f


# --------------------------------------------------------------------------------------------
# fitting and applying


def fit_policy(
    states: npt.ArrayLike,
    payoffs: npt.ArrayLike,
    discount: npt.ArrayLike,
    *,
    stops: Sequence[bool],
    known: Sequence[bool] | None = None,
    actions: Sequence[str] | None = None,
    basis: Basis = "laguerre",
    degree: int = 2,
    in_the_money_only: bool | None = None,
) -> LSMPolicy:
    r"""Estimate a decision rule backward by least squares on estimation paths.

    Parameters
    ----------
    states : array_like, shape (N, D) or (N, D, V)
        State variables of ``N`` estimation paths at ``D`` decision dates, known at each date.
    payoffs : array_like, shape (N, D, K)
        Payoff of each of ``K`` actions if taken at each date, in money of that date. For an
        action not ``known`` at the date, this is its realised value (e.g. the present value at
        the gate of building a phase, on that path's later prices).
    discount : array_like, broadcastable to (N, D)
        ``discount[:, d]`` is the factor from decision date ``d`` back to date ``d - 1``, and
        ``discount[:, 0]`` from the first decision date back to time 0 (``exp(-r dt)`` for a
        constant rate; a path-wise array for stochastic rates).
    stops : sequence of bool, length K
        Whether each action ends the problem. At least one action must continue, and at the last
        date a continuing action earns only its payoff.
    known : sequence of bool, length K, optional
        Whether each payoff is known at the decision date. Default: all known (an option).
    actions : sequence of str, optional
        Action names (default ``"action 0"``, ...).
    basis : {"laguerre", "polynomial"} or callable
        Regression basis (:func:`basis_functions`), or a function of the normalised states
        (N, V) returning (N, B).
    degree : int
        Degree of a named basis (2 or 3 as in the paper).
    in_the_money_only : bool, optional
        Regress only on paths where some known stopping payoff is positive, and let the other
        paths continue (as the paper does for options). Default: True when every stopping
        action is known, else False.

    Returns
    -------
    LSMPolicy

    Notes
    -----
    Backward from the last date ``D - 1``, with :math:`V_{D} = 0`, for each date ``d``:

    .. math::

        C_d = \gamma_{d+1} V_{d+1}, \qquad
        \hat\beta_{d,a} = \arg\min_\beta \sum_{i \in I_d} (Y_{i,a} - \phi(x_{i,d})\beta)^2,

    where :math:`Y_a = C_d` for a known continuing action (its estimate is
    :math:`P_a + \phi\hat\beta`), :math:`Y_a = P_a + [a \text{ continues}] C_d` for an action whose
    payoff is not known, and :math:`\hat\beta = 0` for a known stopping action. Each path takes
    :math:`a^* = \arg\max_a \hat Q_a` and its value :math:`V_d` becomes the *realised*
    :math:`P_{a^*} + [a^* \text{ continues}] C_d`, never the fitted value (Longstaff and
    Schwartz 2001, section 1). Least squares by ``numpy.linalg.lstsq``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = gbm_paths(36.0, 0.06, 0.2, np.arange(1, 11) / 10, 2000, rng)
    >>> put = np.stack([np.zeros_like(s), np.maximum(40.0 - s, 0.0)], axis=2)
    >>> policy = fit_policy(s, put, np.exp(-0.06 * 0.1), stops=[False, True], actions=["hold", "exercise"])
    >>> policy.coefficients.shape
    (10, 2, 4)
    """
    x = _as_states(states)
    n, d, _ = x.shape
    p = _as_payoffs(payoffs, n, d)
    k = p.shape[2]
    g = _as_discount(discount, n, d)
    stop = _as_flags(stops, k, "stops")
    kn = _as_flags([True] * k if known is None else known, k, "known")
    if stop.all():
        raise InputError("at least one action must continue", field="stops")
    names = tuple(actions) if actions is not None else tuple(f"action {a}" for a in range(k))
    if len(names) != k:
        raise ValueError(f"actions must name {k} actions, got {len(names)}")
    itm = bool((kn | ~stop).all()) if in_the_money_only is None else in_the_money_only
    known_stop = stop & kn
    if itm and not known_stop.any():
        raise InputError("in_the_money_only needs a known stopping payoff", field="in_the_money_only")
    scale = np.abs(x).mean(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    b = (
        np.asarray(basis(x[:2, 0] / scale[0]), dtype=np.float64).shape[1]
        if callable(basis)
        else basis_functions(x[:2, 0] / scale[0], basis, degree).shape[1]
    )
    coefficients = np.zeros((d, k, b))
    support = np.stack([x.min(axis=0), x.max(axis=0)], axis=2)  # replaced by quantiles below
    value = np.zeros(n)
    for t in range(d - 1, -1, -1):
        continuation = g[:, t + 1] * value if t + 1 < d else np.zeros(n)
        realised = p[:, t, :] + np.where(stop, 0.0, continuation[:, None])
        mask = _regression_set(p[:, t, :], known_stop, itm)
        if mask.any():
            support[t] = np.quantile(x[mask, t, :], [0.005, 0.995], axis=0).T
        z = x[mask, t, :] / scale[t]
        phi = np.asarray(basis(z), dtype=np.float64) if callable(basis) else basis_functions(z, basis, degree)
        targets = np.where(kn & ~stop, continuation[mask, None], realised[mask])
        fit = ~(kn & stop)
        if mask.any() and fit.any():
            beta, *_ = np.linalg.lstsq(phi, targets[:, fit], rcond=None)
            coefficients[t][fit] = beta.T
        estimate = np.where(kn, p[mask, t, :], 0.0) + phi @ coefficients[t].T
        choice = _choose(estimate, mask, stop, kn, p[:, t, :])
        value = realised[np.arange(n), choice]
    in_sample = float(np.mean(g[:, 0] * value))
    return LSMPolicy(
        actions=names,
        stops=stop,
        known=kn,
        coefficients=coefficients,
        scale=scale,
        basis=basis,
        degree=degree,
        in_the_money_only=itm,
        support=support,
        n_estimation=n,
        in_sample_value=in_sample,
    )


def _regression_set(payoffs: FloatArray, known_stop: BoolArray, in_the_money_only: bool) -> BoolArray:
    """Paths (N,) the regression covers: all, or those where a known stopping payoff is > 0."""
    if not in_the_money_only:
        return np.ones(payoffs.shape[0], dtype=bool)
    return np.asarray((np.where(known_stop, payoffs, 0.0) > 0).any(axis=1), dtype=bool)


def _choose(
    estimate: FloatArray,
    mask: BoolArray,
    stop: BoolArray,
    known: BoolArray,
    payoffs: FloatArray,
) -> IntArray:
    """Best action per path: argmax of the estimates inside ``mask``; outside it, the best
    continuing action by its known payoff (the paths the regression did not cover continue)."""
    out = np.zeros(mask.size, dtype=np.int64)
    out[mask] = np.argmax(estimate, axis=1)
    if not mask.all():
        outside = np.where(stop | ~known, -np.inf, payoffs[~mask])
        best = np.argmax(outside, axis=1)
        # with no known continuing action, fall back to the first continuing one
        first_continue = int(np.flatnonzero(~stop)[0])
        out[~mask] = np.where(np.isfinite(outside.max(axis=1)), best, first_continue)
    return out


def apply_policy(
    policy: LSMPolicy,
    states: npt.ArrayLike,
    payoffs: npt.ArrayLike,
    discount: npt.ArrayLike,
    *,
    antithetic: bool = False,
) -> LSMValuation:
    r"""Value a fitted rule on (independent) valuation paths.

    Parameters
    ----------
    policy : LSMPolicy
        From :func:`fit_policy` on other paths.
    states, payoffs, discount
        As in :func:`fit_policy`, for the valuation paths (same ``D``, ``K`` and ``V``).
    antithetic : bool
        The second half of the paths mirrors the first (path ``i`` and ``i + N/2`` are an
        antithetic pair): the standard error is computed over pair means.

    Returns
    -------
    LSMValuation

    Notes
    -----
    Path ``i`` follows the rule forward until it stops at date :math:`\tau_i`; its value is

    .. math:: v_i = \Big(\prod_{j \le \tau_i} \gamma_{i,j}\Big) P_{i,\tau_i,a^*}
              + \sum_{d < \tau_i} \Big(\prod_{j \le d} \gamma_{i,j}\Big) P_{i,d,a_d}

    (payoffs of continuing actions taken on the way included). The estimate is
    :math:`\bar v` with standard error :math:`s_v/\sqrt N`. Since the rule was fixed on other
    paths, :math:`E[\bar v]` is at most the true value (Glasserman 2004, section 8.6.1).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> times = np.arange(1, 11) / 10
    >>> def put(s):
    ...     return np.stack([np.zeros_like(s), np.maximum(40.0 - s, 0.0)], axis=2)
    >>> est, val = (gbm_paths(36.0, 0.06, 0.2, times, 2000, rng) for _ in range(2))
    >>> policy = fit_policy(est, put(est), np.exp(-0.006), stops=[False, True])
    >>> result = apply_policy(policy, val, put(val), np.exp(-0.006))
    >>> 4.2 < result.value < 4.7
    True
    """
    x = _as_states(states)
    n, d, v = x.shape
    if d != policy.n_dates or v != policy.scale.shape[1]:
        raise ValueError(
            f"valuation states have {d} dates and {v} variables; the policy has "
            f"{policy.n_dates} and {policy.scale.shape[1]}"
        )
    p = _as_payoffs(payoffs, n, d)
    k = len(policy.actions)
    if p.shape[2] != k:
        raise ValueError(f"payoffs have {p.shape[2]} actions; the policy has {k}")
    g = _as_discount(discount, n, d)
    stop, kn = policy.stops, policy.known
    known_stop = stop & kn
    alive = np.ones(n, dtype=bool)
    factor = np.ones(n)
    total = np.zeros(n)
    taken = np.full((n, d), -1, dtype=np.int64)
    stop_date = np.full(n, d, dtype=np.int64)
    for t in range(d):
        factor = factor * g[:, t]
        if not alive.any():
            break
        idx = np.flatnonzero(alive)
        pt = p[idx, t, :]
        mask = _regression_set(pt, known_stop, policy.in_the_money_only)
        estimate = policy.estimates(t, x[idx[mask], t, :], pt[mask])
        choice = _choose(estimate, mask, stop, kn, pt)
        taken[idx, t] = choice
        total[idx] += factor[idx] * pt[np.arange(idx.size), choice]
        ended = stop[choice]
        stop_date[idx[ended]] = t
        alive[idx[ended]] = False
    if antithetic:
        if n % 2:
            raise ValueError("antithetic valuation needs an even number of paths")
        pairs = 0.5 * (total[: n // 2] + total[n // 2 :])
        se = float(pairs.std(ddof=1) / np.sqrt(pairs.size))
    else:
        se = float(total.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    return LSMValuation(
        value=float(total.mean()),
        std_error=se,
        path_values=total,
        actions=taken,
        stop_date=stop_date,
        policy=policy,
    )


def longstaff_schwartz(
    estimation: tuple[npt.ArrayLike, npt.ArrayLike],
    valuation: tuple[npt.ArrayLike, npt.ArrayLike],
    discount: npt.ArrayLike,
    *,
    stops: Sequence[bool],
    known: Sequence[bool] | None = None,
    actions: Sequence[str] | None = None,
    basis: Basis = "laguerre",
    degree: int = 2,
    in_the_money_only: bool | None = None,
    antithetic: bool = False,
) -> LSMValuation:
    """Fit a rule on estimation paths and value it on independent valuation paths.

    Parameters
    ----------
    estimation, valuation : tuple of (states, payoffs)
        Two independent sets of paths, shapes as in :func:`fit_policy`. They must be drawn from
        separate random streams: valuing a rule on the paths it was fitted on gives it foresight.
    discount : array_like
        Discount factors as in :func:`fit_policy`; a constant or (D,) array serves both sets.
    stops, known, actions, basis, degree, in_the_money_only
        As in :func:`fit_policy`.
    antithetic : bool
        As in :func:`apply_policy`, for the valuation paths.

    Returns
    -------
    LSMValuation

    Examples
    --------
    A Bermudan put exercisable at the end of each quarter:

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> times = np.array([0.25, 0.5, 0.75, 1.0])
    >>> def paths():
    ...     s = gbm_paths(36.0, 0.06, 0.2, times, 4000, rng)
    ...     return s, np.stack([np.zeros_like(s), np.maximum(40.0 - s, 0.0)], axis=2)
    >>> out = longstaff_schwartz(paths(), paths(), np.exp(-0.06 * 0.25), stops=[False, True])
    >>> 4.2 < out.value < 4.6 and out.std_error < 0.1
    True
    """
    policy = fit_policy(
        estimation[0],
        estimation[1],
        discount,
        stops=stops,
        known=known,
        actions=actions,
        basis=basis,
        degree=degree,
        in_the_money_only=in_the_money_only,
    )
    return apply_policy(policy, valuation[0], valuation[1], discount, antithetic=antithetic)


# --------------------------------------------------------------------------------------------
# the exercise boundary


def exercise_boundary(
    policy: LSMPolicy,
    grid: npt.ArrayLike | None = None,
    *,
    payoff: PayoffFunction | None = None,
    others: npt.ArrayLike | None = None,
    variable: int = 0,
) -> pd.DataFrame:
    """Where the rule switches action, date by date, along a grid of one state variable.

    Parameters
    ----------
    policy : LSMPolicy
        The fitted rule.
    grid : array_like, shape (G,) or (D, G), optional
        Increasing values of the state variable ``variable``, the same at every date or one row
        per date. Default: 401 points across ``policy.support`` at each date (beyond the
        estimation paths' range the regression only extrapolates).
    payoff : callable, optional
        ``payoff(date, states)`` with states (G, V) returning the known payoffs (G, K) at the
        grid points. Without it, known payoffs count as zero (right when only continuing or
        worthless actions are known, as at a phase gate).
    others : array_like, shape (V,) or (D, V), optional
        Values of the other state variables (default: their estimation means, ``policy.scale``).
    variable : int
        Which state variable varies along the grid.

    Returns
    -------
    pandas.DataFrame
        One row per switch: ``date`` (decision-date index), ``below`` (the action chosen just
        below the switch), ``above`` (just above), ``state`` (where the two estimates cross,
        linearly interpolated between grid points). A date where the rule never switches on the
        grid has no row. Grid points outside the regression set (out of the money) are treated
        as the rule treats them: they continue.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> times = np.arange(1, 5) / 4
    >>> s = gbm_paths(36.0, 0.06, 0.2, times, 4000, rng)
    >>> def put(date, x):
    ...     return np.column_stack([np.zeros(len(x)), np.maximum(40.0 - x[:, 0], 0.0)])
    >>> pay = np.stack([np.zeros_like(s), np.maximum(40.0 - s, 0.0)], axis=2)
    >>> policy = fit_policy(s, pay, np.exp(-0.015), stops=[False, True], actions=["hold", "exercise"])
    >>> table = exercise_boundary(policy, np.linspace(20, 40, 201), payoff=put)
    >>> list(table.columns)
    ['date', 'below', 'above', 'state']
    >>> bool((table["below"] == "exercise").all() and (table["state"] < 40).all())
    True
    """
    rows: list[dict[str, object]] = []
    for t, g, est, choice in _choices(policy, grid, payoff, others, variable):
        for j in np.flatnonzero(np.diff(choice) != 0):
            lo, hi = int(choice[j]), int(choice[j + 1])
            # crossing of the two estimates between grid points j and j+1 when both are finite
            # (outside the regression set the estimates are -inf: the switch is put midway)
            pair = est[j : j + 2][:, [lo, hi]]
            if np.isfinite(pair).all() and pair[0, 0] - pair[0, 1] != pair[1, 0] - pair[1, 1]:
                gap0, gap1 = pair[0, 0] - pair[0, 1], pair[1, 0] - pair[1, 1]
                w = float(np.clip(gap0 / (gap0 - gap1), 0.0, 1.0))
            else:
                w = 0.5
            state = g[j] + w * (g[j + 1] - g[j])
            rows.append({"date": t, "below": policy.actions[lo], "above": policy.actions[hi], "state": state})
    return pd.DataFrame(rows, columns=["date", "below", "above", "state"])


def _choices(
    policy: LSMPolicy,
    grid: npt.ArrayLike | None,
    payoff: PayoffFunction | None,
    others: npt.ArrayLike | None,
    variable: int,
) -> Iterator[tuple[int, FloatArray, FloatArray, IntArray]]:
    """Per date: the grid of the state variable, each action's estimate and the chosen action."""
    d, v = policy.scale.shape
    if grid is None:
        g = np.linspace(policy.support[:, variable, 0], policy.support[:, variable, 1], 401, axis=1)
    else:
        g = np.asarray(grid, dtype=np.float64)
        g = np.broadcast_to(g, (d, g.shape[-1]))
    if g.shape[1] < 2 or np.any(np.diff(g, axis=1) <= 0):
        raise InputError("the grid must have at least two increasing values", field="grid")
    base = policy.scale if others is None else np.broadcast_to(np.asarray(others, dtype=np.float64), (d, v))
    k = len(policy.actions)
    known_stop = policy.stops & policy.known
    for t in range(d):
        x = np.tile(base[t], (g.shape[1], 1))
        x[:, variable] = g[t]
        pay = np.zeros((g.shape[1], k)) if payoff is None else np.asarray(payoff(t, x), dtype=np.float64)
        mask = _regression_set(pay, known_stop, policy.in_the_money_only)
        est = np.full((g.shape[1], k), -np.inf)
        est[mask] = policy.estimates(t, x[mask], pay[mask])
        yield (
            t,
            g[t],
            est,
            np.asarray(_choose(est[mask], mask, policy.stops, policy.known, pay), dtype=np.int64),
        )


def policy_map(
    policy: LSMPolicy,
    grid: npt.ArrayLike | None = None,
    *,
    payoff: PayoffFunction | None = None,
    others: npt.ArrayLike | None = None,
    variable: int = 0,
) -> pd.DataFrame:
    """The action the rule chooses at each point of a grid of one state variable, date by date
    (the same grid, defaults and arguments as :func:`exercise_boundary`): what a chart of the
    policy draws, and where a date with no switch says which action holds everywhere.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> times = np.arange(1, 5) / 4
    >>> s = gbm_paths(36.0, 0.06, 0.2, times, 4000, rng)
    >>> def put(date, x):
    ...     return np.column_stack([np.zeros(len(x)), np.maximum(40.0 - x[:, 0], 0.0)])
    >>> pay = np.stack([np.zeros_like(s), np.maximum(40.0 - s, 0.0)], axis=2)
    >>> policy = fit_policy(s, pay, np.exp(-0.015), stops=[False, True], actions=["hold", "exercise"])
    >>> table = policy_map(policy, np.linspace(20, 50, 31), payoff=put)
    >>> table.groupby("action")["state"].max().to_dict()["exercise"] < 40
    True
    """
    frames = [
        pd.DataFrame({"date": t, "state": g, "action": np.asarray(policy.actions, dtype=object)[choice]})
        for t, g, _, choice in _choices(policy, grid, payoff, others, variable)
    ]
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# option helpers (validation)


def gbm_paths(
    s0: float,
    rate: float,
    sigma: float,
    times: npt.ArrayLike,
    n: int,
    seed: Seed = None,
    *,
    antithetic: bool = False,
) -> FloatArray:
    r"""Geometric Brownian motion under the risk-neutral measure at the given times.

    Parameters
    ----------
    s0 : float
        Price at time 0.
    rate : float
        Continuously compounded risk-free rate (fraction per year).
    sigma : float
        Volatility (fraction per square-root year).
    times : array_like, shape (D,)
        Increasing observation times in years, all > 0.
    n : int
        Number of paths (even when ``antithetic``).
    seed : int, numpy.random.Generator or None
        Random source (:func:`make_rng`).
    antithetic : bool
        Paths ``n/2 ..`` use the negated shocks of paths ``0 .. n/2``.

    Returns
    -------
    ndarray, shape (n, D)

    Notes
    -----
    :math:`S_{t_j} = S_{t_{j-1}} \exp((r - \sigma^2/2)\Delta t_j + \sigma\sqrt{\Delta t_j} Z_j)`, exact
    for each step (Glasserman 2004, section 3.2).

    Examples
    --------
    >>> gbm_paths(100.0, 0.05, 0.2, [0.5, 1.0], 4, seed=1, antithetic=True).shape
    (4, 2)
    """
    t = np.asarray(times, dtype=np.float64)
    if t.ndim != 1 or t.size == 0 or t[0] <= 0 or np.any(np.diff(t) <= 0):
        raise InputError("times must be increasing and positive", field="times")
    if n < 2 or (antithetic and n % 2):
        raise InputError(f"{n} paths", field="n", expected="at least 2 (an even number when antithetic)")
    if s0 <= 0 or sigma < 0:
        raise InputError("s0 must be positive and sigma not negative", field="s0")
    rng = make_rng(seed)
    dt = np.diff(t, prepend=0.0)
    z = rng.standard_normal((n // 2 if antithetic else n, t.size))
    if antithetic:
        z = np.concatenate([z, -z])
    log_steps = (rate - 0.5 * sigma**2) * dt + sigma * np.sqrt(dt) * z
    return np.asarray(s0 * np.exp(np.cumsum(log_steps, axis=1)), dtype=np.float64)


def american_option(
    s0: float,
    strike: float,
    rate: float,
    sigma: float,
    maturity: float,
    *,
    exercise_dates: int = 50,
    n_paths: int = 100_000,
    kind: Literal["put", "call"] = "put",
    seed: Seed = None,
    basis: Basis = "laguerre",
    degree: int = 3,
    antithetic: bool = True,
) -> LSMValuation:
    """Price a Bermudan (American, discretely exercised) option on a GBM by least squares.

    Half the paths estimate the exercise rule and the other half, from an independent random
    stream, value it.

    Parameters
    ----------
    s0, strike : float
        Spot price and strike.
    rate, sigma : float
        Risk-free rate and volatility, fractions per year.
    maturity : float
        Years to expiry.
    exercise_dates : int
        Equally spaced exercise dates in ``(0, maturity]`` (50 per year in LS 2001 Table 1).
    n_paths : int
        Total paths, split equally between estimation and valuation.
    kind : {"put", "call"}
        Option type.
    seed : int, numpy.random.Generator or None
        Random source; the estimation and valuation streams are spawned from it, so they are
        disjoint.
    basis, degree
        Regression basis (:func:`basis_functions`); the paper uses three weighted Laguerre
        polynomials and a constant.
    antithetic : bool
        Antithetic shocks within each half.

    Returns
    -------
    LSMValuation
        Actions ``("hold", "exercise")``.

    Examples
    --------
    >>> out = american_option(36.0, 40.0, 0.06, 0.2, 1.0, n_paths=4000, exercise_dates=10, seed=1)
    >>> 4.2 < out.value < 4.7
    True
    """
    if strike <= 0 or maturity <= 0 or exercise_dates < 1:
        raise InputError("strike and maturity must be positive, with at least one exercise date")
    if n_paths < 8:
        raise InputError(f"{n_paths} paths", field="n_paths", expected="at least 8")
    estimation_rng, valuation_rng = split_streams(seed)
    times = maturity * np.arange(1, exercise_dates + 1) / exercise_dates
    half = n_paths // 2
    if antithetic:
        half -= half % 2
    if kind not in ("put", "call"):
        raise InputError(f"unknown option kind {kind!r}", field="kind", expected="'put' or 'call'")
    sign = 1.0 if kind == "call" else -1.0

    def draw(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
        s = gbm_paths(s0, rate, sigma, times, half, rng, antithetic=antithetic)
        return s, np.stack([np.zeros_like(s), np.maximum(sign * (s - strike), 0.0)], axis=2)

    discount = np.exp(-rate * maturity / exercise_dates)
    return longstaff_schwartz(
        draw(estimation_rng),
        draw(valuation_rng),
        discount,
        stops=[False, True],
        actions=["hold", "exercise"],
        basis=basis,
        degree=degree,
        antithetic=antithetic,
    )
