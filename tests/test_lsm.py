"""Least-squares Monte Carlo (dealcalc.analyses.lsm) against published and independent values.

References: Longstaff and Schwartz (2001), Table 1 (finite-difference American put values);
a Cox-Ross-Rubinstein binomial tree written here; the Black-Scholes European put.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from dealcalc.analyses.lsm import (
    american_option,
    apply_policy,
    basis_functions,
    exercise_boundary,
    fit_policy,
    gbm_paths,
    longstaff_schwartz,
    make_rng,
    split_streams,
)
from dealcalc.errors import InputError

K, R = 40.0, 0.06


def crr_put(
    s0: float, strike: float, r: float, sigma: float, t: float, steps: int, exercise_every: int
) -> float:
    """Cox-Ross-Rubinstein put, exercisable at every ``exercise_every``-th step (1: American)."""
    dt = t / steps
    u = np.exp(sigma * np.sqrt(dt))
    d = 1.0 / u
    q = (np.exp(r * dt) - d) / (u - d)
    disc = np.exp(-r * dt)
    j = np.arange(steps + 1)
    v = np.maximum(strike - s0 * u ** (steps - 2 * j), 0.0)
    for step in range(steps - 1, 0, -1):
        v = disc * (q * v[:-1] + (1 - q) * v[1:])
        if step % exercise_every == 0:
            s = s0 * u ** (step - 2 * np.arange(step + 1))
            v = np.maximum(v, strike - s)
    return float(disc * (q * v[0] + (1 - q) * v[1]))


def bs_put(s0: float, strike: float, r: float, sigma: float, t: float) -> float:
    d1 = (np.log(s0 / strike) + (r + 0.5 * sigma**2) * t) / (sigma * np.sqrt(t))
    d2 = d1 - sigma * np.sqrt(t)
    return float(strike * np.exp(-r * t) * norm.cdf(-d2) - s0 * norm.cdf(-d1))


def put_payoffs(s: np.ndarray) -> np.ndarray:
    return np.stack([np.zeros_like(s), np.maximum(K - s, 0.0)], axis=2)


class TestLongstaffSchwartzTable1:
    # LS 2001 Table 1: S, sigma, T, finite-difference American value; 50 exercise dates a year
    @pytest.mark.parametrize(
        ("s0", "sigma", "t", "reference"),
        [(36.0, 0.2, 1.0, 4.478), (40.0, 0.2, 1.0, 2.314), (44.0, 0.2, 1.0, 1.110)],
    )
    def test_american_put_within_two_standard_errors(
        self, s0: float, sigma: float, t: float, reference: float
    ) -> None:
        out = american_option(s0, K, R, sigma, t, exercise_dates=int(50 * t), n_paths=100_000, seed=2001)
        assert out.std_error < 0.015
        assert abs(out.value - reference) <= 2 * out.std_error, (out.value, out.std_error)

    def test_tree_reproduces_the_table_value(self) -> None:
        # LS's 4.478 is the value with 50 exercise dates a year: our tree gives 4.4779 for that
        # Bermudan and 4.4867 when exercise is allowed at every one of 4,000 steps
        assert crr_put(36.0, K, R, 0.2, 1.0, 4000, 4000 // 50) == pytest.approx(4.478, abs=0.001)
        assert crr_put(36.0, K, R, 0.2, 1.0, 4000, 1) == pytest.approx(4.487, abs=0.001)


class TestBermudanAgainstTree:
    def test_four_exercise_dates(self) -> None:
        steps = 2000
        tree = crr_put(36.0, K, R, 0.2, 1.0, steps, steps // 4)
        out = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=4, n_paths=100_000, seed=7)
        assert abs(out.value - tree) <= 2 * out.std_error, (out.value, out.std_error, tree)

    def test_two_exercise_dates_polynomial_basis(self) -> None:
        steps = 2400
        tree = crr_put(38.0, K, R, 0.3, 2.0, steps, steps // 2)
        out = american_option(
            38.0, K, R, 0.3, 2.0, exercise_dates=2, n_paths=60_000, seed=11, basis="polynomial", degree=3
        )
        assert abs(out.value - tree) <= 2 * out.std_error, (out.value, out.std_error, tree)


class TestBounds:
    def test_between_european_and_american(self) -> None:
        out = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=10, n_paths=40_000, seed=3)
        european = bs_put(36.0, K, R, 0.2, 1.0)
        american = crr_put(36.0, K, R, 0.2, 1.0, 2000, 1)
        assert european - 2 * out.std_error <= out.value <= american + 2 * out.std_error
        # early exercise is worth something here, and the estimate sees it
        assert out.value > european + 2 * out.std_error

    def test_single_exercise_date_is_european(self) -> None:
        out = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=1, n_paths=100_000, seed=5)
        assert abs(out.value - bs_put(36.0, K, R, 0.2, 1.0)) <= 2 * out.std_error

    def test_american_call_without_dividends_is_european(self) -> None:
        # Merton: never exercise a call early on a non-dividend stock
        out = american_option(40.0, K, R, 0.2, 1.0, kind="call", exercise_dates=10, n_paths=40_000, seed=9)
        d1 = (R + 0.5 * 0.04) / 0.2
        call = 40.0 * norm.cdf(d1) - K * np.exp(-R) * norm.cdf(d1 - 0.2)
        assert abs(out.value - call) <= 2.5 * out.std_error


class TestRandomness:
    def test_same_seed_same_number(self) -> None:
        a = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=5, n_paths=2000, seed=42)
        b = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=5, n_paths=2000, seed=42)
        c = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=5, n_paths=2000, seed=43)
        assert a.value == b.value and a.std_error == b.std_error
        assert c.value != a.value

    def test_generator_seed_is_accepted_and_advanced(self) -> None:
        a = american_option(
            36.0, K, R, 0.2, 1.0, exercise_dates=5, n_paths=2000, seed=np.random.default_rng(1)
        )
        b = american_option(
            36.0, K, R, 0.2, 1.0, exercise_dates=5, n_paths=2000, seed=np.random.default_rng(1)
        )
        assert a.value == b.value
        rng = np.random.default_rng(1)
        first = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=5, n_paths=2000, seed=rng)
        second = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=5, n_paths=2000, seed=rng)
        assert first.value != second.value
        assert np.isfinite(american_option(36.0, K, R, 0.2, 1.0, exercise_dates=2, n_paths=200).value)

    @pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
    def test_bad_seed(self, bad: object) -> None:
        with pytest.raises(InputError, match="seed"):
            make_rng(bad)  # type: ignore[arg-type]

    def test_estimation_and_valuation_draws_are_disjoint(self) -> None:
        times = np.arange(1, 6) / 5
        est_rng, val_rng = split_streams(42)
        est = gbm_paths(36.0, R, 0.2, times, 1000, est_rng, antithetic=True)
        val = gbm_paths(36.0, R, 0.2, times, 1000, val_rng, antithetic=True)
        assert np.intersect1d(est.ravel(), val.ravel()).size == 0
        # american_option values on exactly these valuation draws with a rule fitted on those
        rebuilt = longstaff_schwartz(
            (est, put_payoffs(est)),
            (val, put_payoffs(val)),
            np.exp(-R * 0.2),
            stops=[False, True],
            degree=3,
            antithetic=True,
        )
        out = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=5, n_paths=2000, seed=42)
        assert out.value == rebuilt.value

    def test_in_sample_value_differs_from_out_of_sample(self) -> None:
        # fitting and valuing on the same draws is the foresight-biased number; it is reported apart
        out = american_option(36.0, K, R, 0.2, 1.0, exercise_dates=10, n_paths=4000, seed=1)
        assert out.policy.in_sample_value != out.value


class TestGeneralActions:
    def test_deterministic_defer_then_build(self) -> None:
        # build now pays 10 at date 0 or 12 at date 1; discount 0.9 a period (time 0 -> date 0 too)
        n = 50
        states = np.ones((n, 2))
        payoffs = np.zeros((n, 2, 3))  # actions: defer (continue), build (stop), abandon (stop)
        payoffs[:, 0, 1] = 10.0
        payoffs[:, 1, 1] = 12.0
        out = longstaff_schwartz(
            (states, payoffs),
            (states, payoffs),
            0.9,
            stops=[False, True, True],
            actions=["defer", "build", "abandon"],
        )
        assert out.value == pytest.approx(0.9 * 0.9 * 12.0)
        assert (out.actions[:, 0] == 0).all() and (out.actions[:, 1] == 1).all()
        assert out.action_shares().loc[1, "build"] == 1.0

    def test_abandon_when_every_build_loses(self) -> None:
        n = 20
        states = np.ones((n, 2))
        payoffs = np.zeros((n, 2, 3))
        payoffs[:, :, 1] = -5.0
        out = longstaff_schwartz(
            (states, payoffs), (states, payoffs), 0.95, stops=[False, True, True], in_the_money_only=False
        )
        assert out.value == 0.0 and not (out.actions == 1).any()

    def test_a_dominated_action_changes_nothing(self) -> None:
        times = np.arange(1, 11) / 10
        rng = np.random.default_rng(4)
        est, val = gbm_paths(36.0, R, 0.2, times, 4000, rng), gbm_paths(36.0, R, 0.2, times, 4000, rng)

        def three(s: np.ndarray) -> np.ndarray:
            p = put_payoffs(s)
            return np.concatenate([p, 0.5 * p[:, :, 1:]], axis=2)

        two = longstaff_schwartz(
            (est, put_payoffs(est)), (val, put_payoffs(val)), np.exp(-R / 10), stops=[False, True]
        )
        extra = longstaff_schwartz(
            (est, three(est)), (val, three(val)), np.exp(-R / 10), stops=[False, True, True]
        )
        assert extra.value == pytest.approx(two.value, rel=1e-12)
        assert not (extra.actions == 2).any()

    def test_unknown_payoff_is_regressed(self) -> None:
        # the exercise payoff observed with zero-mean noise and flagged unknown: the rule is
        # fitted on its regression and the value matches the known-payoff rule within errors
        times = np.arange(1, 11) / 10
        rng = np.random.default_rng(8)
        est, val = gbm_paths(36.0, R, 0.2, times, 20_000, rng), gbm_paths(36.0, R, 0.2, times, 20_000, rng)

        def noisy(s: np.ndarray) -> np.ndarray:
            p = put_payoffs(s)
            p[:, :, 1] = (K - s) + rng.normal(0.0, 1.0, s.shape)
            return p

        known = longstaff_schwartz(
            (est, put_payoffs(est)), (val, put_payoffs(val)), np.exp(-R / 10), stops=[False, True]
        )
        unknown = longstaff_schwartz(
            (est, noisy(est)),
            (val, noisy(val)),
            np.exp(-R / 10),
            stops=[False, True],
            known=[True, False],
            degree=3,
        )
        assert not unknown.policy.in_the_money_only
        assert abs(unknown.value - known.value) < 3 * np.hypot(unknown.std_error, known.std_error)

    def test_two_state_variables(self) -> None:
        # the put's state plus an irrelevant variable: same value within errors
        times = np.arange(1, 11) / 10
        rng = np.random.default_rng(12)
        est, val = gbm_paths(36.0, R, 0.2, times, 20_000, rng), gbm_paths(36.0, R, 0.2, times, 20_000, rng)
        noise = rng.uniform(0.5, 1.5, (2, 20_000, 10))
        one = longstaff_schwartz(
            (est, put_payoffs(est)), (val, put_payoffs(val)), np.exp(-R / 10), stops=[False, True]
        )
        two = longstaff_schwartz(
            (np.stack([est, noise[0]], axis=2), put_payoffs(est)),
            (np.stack([val, noise[1]], axis=2), put_payoffs(val)),
            np.exp(-R / 10),
            stops=[False, True],
            basis="polynomial",
            degree=2,
        )
        assert two.policy.coefficients.shape == (10, 2, 6)
        assert abs(two.value - one.value) < 3 * np.hypot(one.std_error, two.std_error)


class TestBoundary:
    def test_put_boundary_below_strike_and_rising_to_it(self) -> None:
        times = np.arange(1, 11) / 10
        s = gbm_paths(36.0, R, 0.2, times, 40_000, seed=6)
        policy = fit_policy(
            s, put_payoffs(s), np.exp(-R / 10), stops=[False, True], actions=["hold", "exercise"], degree=3
        )

        def payoff(date: int, x: np.ndarray) -> np.ndarray:
            return np.column_stack([np.zeros(len(x)), np.maximum(K - x[:, 0], 0.0)])

        table = exercise_boundary(policy, payoff=payoff)
        # one switch per date, exercise below it and hold above
        first = table.groupby("date").first()
        # before expiry: one switch per date inside the estimation paths' range
        assert len(first) == 9
        assert (first["below"] == "exercise").all() and (first["above"] == "hold").all()
        crit = first["state"].to_numpy()
        # the critical price lies below the strike and rises towards it as expiry nears
        assert (crit < K).all() and crit[-1] > crit[0] and (np.diff(crit) > -0.2).all()
        assert 30.0 < crit[4] < 36.0
        # at expiry exercise whenever in the money: the switch is at the strike
        last = exercise_boundary(policy, np.linspace(30.0, 45.0, 1501), payoff=payoff)
        assert last.loc[last["date"] == 9, "state"].item() == pytest.approx(K, abs=0.01)

    def test_boundary_matches_the_rule_on_paths(self) -> None:
        times = np.arange(1, 6) / 5
        s = gbm_paths(36.0, R, 0.2, times, 20_000, seed=2)
        policy = fit_policy(
            s, put_payoffs(s), np.exp(-R / 5), stops=[False, True], actions=["hold", "exercise"]
        )
        table = (
            exercise_boundary(
                policy,
                payoff=lambda d, x: np.column_stack([np.zeros(len(x)), np.maximum(K - x[:, 0], 0.0)]),
            )
            .groupby("date")
            .first()
        )
        valued = apply_policy(policy, s, put_payoffs(s), np.exp(-R / 5))
        assert list(table.index[:4]) == [0, 1, 2, 3]
        for date in range(4):
            alive = valued.actions[:, date] >= 0
            exercised = s[alive & (valued.actions[:, date] == 1), date]
            lowest = policy.support[date, 0, 0]
            held = s[alive & (valued.actions[:, date] == 0) & (s[:, date] < K) & (s[:, date] > lowest), date]
            crit = float(table["state"].to_numpy()[date])
            low, high = (float(v) for v in policy.support[date, 0])
            step = (high - low) / 400
            assert exercised.max() <= crit + step and held.min() >= crit - step


class TestInputs:
    def test_shapes_and_values(self) -> None:
        s = np.full((10, 3), 36.0)
        with pytest.raises(ValueError, match="payoffs"):
            fit_policy(s, np.zeros((10, 2, 2)), 0.9, stops=[False, True])
        with pytest.raises(InputError, match="continue"):
            fit_policy(s, np.zeros((10, 3, 2)), 0.9, stops=[True, True])
        with pytest.raises(InputError, match="discount"):
            fit_policy(s, np.zeros((10, 3, 2)), -0.9, stops=[False, True])
        with pytest.raises(InputError, match="NaN"):
            fit_policy(np.full((10, 3), np.nan), np.zeros((10, 3, 2)), 0.9, stops=[False, True])
        with pytest.raises(InputError, match="basis"):
            basis_functions(np.ones((2, 1)), "hermite")  # type: ignore[arg-type]
        with pytest.raises(InputError, match="kind"):
            american_option(36.0, K, R, 0.2, 1.0, kind="straddle", n_paths=100)  # type: ignore[arg-type]

    def test_policy_and_valuation_must_agree(self) -> None:
        s = gbm_paths(36.0, R, 0.2, [0.5, 1.0], 100, seed=1)
        policy = fit_policy(s, put_payoffs(s), 0.97, stops=[False, True])
        with pytest.raises(ValueError, match="dates"):
            apply_policy(policy, s[:, :1], put_payoffs(s)[:, :1], 0.97)

    def test_custom_basis(self) -> None:
        s = gbm_paths(36.0, R, 0.2, [0.5, 1.0], 2000, seed=1)
        policy = fit_policy(
            s,
            put_payoffs(s),
            0.97,
            stops=[False, True],
            basis=lambda z: np.column_stack([np.ones(len(z)), z]),
        )
        assert policy.coefficients.shape == (2, 2, 2)
        assert np.isfinite(apply_policy(policy, s, put_payoffs(s), 0.97).value)
