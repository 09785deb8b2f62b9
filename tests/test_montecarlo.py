"""Monte Carlo against known answers: a linear model's moments, rank correlations, marginals."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

import dealcalc as dc
from dealcalc.analyses.montecarlo import marginal, sample_inputs
from dealcalc.cli import main
from dealcalc.models import Distribution
from test_engine_handworked import deal as hand_deal

DEAL = dc.load(dc.example_path("ussm-fwo"))
PRICE = "price_decks.base.metal"


def uncertain(**block: Any) -> dc.Deal:
    return hand_deal(uncertainty=block)


@pytest.mark.parametrize("method", ["random", "lhs", "sobol"])
def test_a_linear_model_has_its_analytic_mean_and_variance(method: str) -> None:
    # pre-tax NPV of the hand-worked deal is a + b * price; price ~ N(10,000, 1,500)
    base = hand_deal()
    at = {p: dc.evaluate(base, overrides={PRICE: [p]}).pre_tax_npv_usd[0] for p in (0.0, 1.0)}
    a, b = at[0.0], at[1.0] - at[0.0]
    deal = uncertain(inputs={PRICE: {"dist": "normal", "mean": 10_000.0, "sd": 1_500.0}})
    mc = dc.monte_carlo(deal, 20_000, seed=3, method=method, metrics=["pre_tax_npv_usd"])
    v = mc.values["pre_tax_npv_usd"]
    se = abs(b) * 1_500.0 / np.sqrt(v.size)
    assert abs(v.mean() - (a + b * 10_000.0)) < 4 * se
    assert v.std(ddof=1) == pytest.approx(abs(b) * 1_500.0, rel=0.03)
    s = mc.summary().loc["pre_tax_npv_usd"]
    assert s["std_error"] == pytest.approx(v.std(ddof=1) / np.sqrt(v.size))
    assert s["p50"] == pytest.approx(a + b * 10_000.0, rel=0.02)


def test_rank_correlation_is_reproduced_within_sampling_error() -> None:
    inputs = {
        "price_decks.base.metal": {"dist": "lognormal", "median": 10_000.0, "sigma": 0.3},
        "phases.mine.capex_usd": {"dist": "pert", "low": 0.9, "mode": 1.1, "high": 1.6, "factor": True},
        "streams.ore.recovery": {"dist": "uniform", "low": 0.8, "high": 0.95},
    }
    correlations = [
        ["price_decks.base.metal", "phases.mine.capex_usd", 0.6],
        ["phases.mine.capex_usd", "streams.ore.recovery", -0.3],
    ]
    draws = sample_inputs(uncertain(inputs=inputs, correlations=correlations), 20_000, seed=5)
    rho = stats.spearmanr(draws.to_numpy()).statistic
    # sampling error of Spearman's rho at n = 20,000 is about (1 - rho^2) / sqrt(n) < 0.01
    assert rho[0, 1] == pytest.approx(0.6, abs=0.02)
    assert rho[1, 2] == pytest.approx(-0.3, abs=0.02)
    assert rho[0, 2] == pytest.approx(0.0, abs=0.03)


@pytest.mark.parametrize("method", ["lhs", "sobol", "random"])
@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 1.0, "sd": 0.2},
        {"dist": "lognormal", "median": 30_000.0, "sigma": 0.35},
        {"dist": "triangular", "low": 0.9, "mode": 1.0, "high": 1.3},
        {"dist": "pert", "low": 0.9, "mode": 1.1, "high": 1.7},
        {"dist": "uniform", "low": 0.0, "high": 1.0},
    ],
)
def test_marginals_pass_a_ks_test(method: str, spec: dict[str, Any]) -> None:
    d = Distribution(**spec)
    draws = sample_inputs(uncertain(inputs={PRICE: spec}), 4_000, seed=11, method=method)[PRICE].to_numpy()
    reference = marginal(d)(np.linspace(0.00005, 0.99995, 20_000))
    assert stats.ks_2samp(draws, reference).pvalue > 0.01


@pytest.mark.parametrize("low, mode, high", [(0.9, 1.1, 1.7), (0.0, 0.0, 1.0), (2.0, 5.0, 5.0), (-3, -1, 8)])
def test_pert_inverse_cdf_matches_scipys_beta(low: float, mode: float, high: float) -> None:
    """The PERT inverse CDF (numerical inversion, UNU.RAN PINV) against scipy's exact
    beta.ppf: the same values to 1e-9 of the range in the bulk, and |F(x) - u| <= 1e-13 out to
    u = 1e-12 and 1 - 1e-12 (Vose 2008: PERT = beta(1 + 4(m-a)/(b-a), 1 + 4(b-m)/(b-a)))."""
    from scipy import special

    width = high - low
    a, b = 1 + 4 * (mode - low) / width, 1 + 4 * (high - mode) / width
    ppf = marginal(Distribution(dist="pert", low=low, mode=mode, high=high))
    bulk = np.linspace(1e-6, 1 - 1e-6, 50_001)
    exact = stats.beta(a, b, loc=low, scale=width).ppf(bulk)
    np.testing.assert_allclose(ppf(bulk), exact, rtol=0, atol=1e-9 * width)
    tails = np.array([1e-12, 1e-9, 1e-7, 1 - 1e-7, 1 - 1e-9, 1 - 1e-12])
    got = (ppf(tails) - low) / width
    assert np.all(np.abs(special.betainc(a, b, got) - tails) <= 1e-13)
    assert np.all(np.diff(ppf(bulk)) >= 0)  # monotone


def test_discrete_and_empirical_draw_their_values_with_their_probabilities() -> None:
    spec = {"dist": "discrete", "values": [0.0, 0.19, 0.29], "probabilities": [0.5, 0.3, 0.2]}
    draws = sample_inputs(uncertain(inputs={"fiscal.royalty_rate": spec}), 10_000, seed=2, method="random")
    counts = draws["fiscal.royalty_rate"].value_counts(normalize=True).sort_index()
    assert counts.index.tolist() == [0.0, 0.19, 0.29]
    assert counts.tolist() == pytest.approx([0.5, 0.3, 0.2], abs=0.02)
    emp = {"dist": "empirical", "values": [1.0, 2.0, 4.0]}
    e = sample_inputs(uncertain(inputs={"fiscal.royalty_rate": emp}), 3_000, seed=2, method="lhs")
    assert e["fiscal.royalty_rate"].value_counts(normalize=True).tolist() == pytest.approx(
        [1 / 3] * 3, abs=0.01
    )


def test_the_same_seed_gives_the_same_result_whatever_the_chunk_size() -> None:
    runs = [
        dc.monte_carlo(DEAL, 6_000, seed=9, metrics=["npv_usd", "ussm.npv_usd"], chunk_size=c)
        for c in (6_000, 1_000, 4_097)
    ]
    for other in runs[1:]:
        for m in ("npv_usd", "ussm.npv_usd"):
            np.testing.assert_array_equal(runs[0].values[m], other.values[m])
    different = dc.monte_carlo(DEAL, 6_000, seed=10, metrics=["npv_usd"])
    assert not np.array_equal(different.values["npv_usd"], runs[0].values["npv_usd"])


def test_price_paths_keep_the_deck_as_their_mean() -> None:
    from dealcalc.analyses.sampling import price_path_map, price_path_slice

    mult = price_path_slice(1, 0, 20_000, price_path_map(DEAL))  # (N, products, T)
    assert mult.shape[1:] == (5, 17)
    np.testing.assert_array_equal(mult[:, :, 0], 1.0)
    np.testing.assert_allclose(mult.mean(axis=0), 1.0, atol=0.03)
    log_sd = np.log(mult[:, 4, :]).std(axis=0)  # gold: gbm at 15 %, sd grows as sqrt(t)
    np.testing.assert_allclose(log_sd[1:], 0.15 * np.sqrt(np.arange(1, 17)), rtol=0.05)


def test_mean_reverting_paths_follow_the_ornstein_uhlenbeck_recursion() -> None:
    """Antimony (sigma 0.35, kappa 0.3): Var x_t = s^2 (1 - k^(2t)) / (1 - k^2) with k = e^-kappa and
    s^2 = sigma^2 (1 - k^2) / (2 kappa), and corr(x_t, x_{t-1}) = k sd_{t-1} / sd_t, hand-derived
    from x_t = k x_{t-1} + s e_t; shocks of antimony and apt correlated at 2 sin(pi 0.4 / 6)."""
    from dealcalc.analyses.sampling import price_path_map, price_path_slice

    mult = price_path_slice(3, 0, 40_000, price_path_map(DEAL))  # correlated as the file says
    x = np.log(mult[:, 0, :]) + 0.0
    k = np.exp(-0.3)
    step2 = 0.35**2 * (1 - k**2) / 0.6
    t = np.arange(17)
    variance = step2 * (1 - k ** (2 * t)) / (1 - k**2)
    centred = x + variance / 2  # E[log M_t] = -Var/2
    np.testing.assert_allclose(centred.mean(axis=0)[1:], 0.0, atol=0.01)
    np.testing.assert_allclose(centred.var(axis=0)[1:], variance[1:], rtol=0.05)
    lag1 = [np.corrcoef(centred[:, i], centred[:, i - 1])[0, 1] for i in range(2, 17)]
    np.testing.assert_allclose(lag1, k * np.sqrt(variance[1:-1] / variance[2:]), atol=0.02)
    # first-year shocks of antimony and apt carry the shocks' correlation
    z_sb, z_apt = centred[:, 1], np.log(mult[:, 1, 1])
    assert np.corrcoef(z_sb, z_apt)[0, 1] == pytest.approx(2 * np.sin(np.pi * 0.4 / 6), abs=0.02)


def test_bad_uncertainty_blocks_get_clear_errors() -> None:
    bad = {"phases.mine.capex_usd": {"dist": "pert", "low": 0.9, "mode": 1.0, "high": 1.5, "factor": True}}
    contradict = [
        [PRICE, "phases.mine.capex_usd", 0.9],
        [PRICE, "streams.ore.recovery", 0.9],
        ["phases.mine.capex_usd", "streams.ore.recovery", -0.9],
    ]
    inputs = {
        PRICE: {"dist": "uniform", "low": 1.0, "high": 2.0},
        "streams.ore.recovery": {"dist": "uniform", "low": 0.8, "high": 0.9},
    } | bad
    with pytest.raises(ValueError, match="not positive definite"):
        uncertain(inputs=inputs, correlations=contradict)
    with pytest.raises(dc.InputError, match="did you mean"):
        dc.monte_carlo(
            uncertain(inputs={"price_decks.base.metl": {"dist": "uniform", "low": 1.0, "high": 2.0}}), 10
        )
    with pytest.raises(ValueError, match="pert takes low, mode, high; missing mode"):
        Distribution(dist="pert", low=1.0, high=2.0)
    with pytest.raises(ValueError, match="probabilities must sum to 1"):
        Distribution(dist="discrete", values=[1.0, 2.0], probabilities=[0.5, 0.6])
    # a seed numpy cannot use is an input error, in the API, the file and the CLI
    for seed in (-1, 1.5, True):
        with pytest.raises(dc.InputError, match="is not a seed; expected a whole number >= 0"):
            dc.monte_carlo(
                uncertain(inputs={PRICE: {"dist": "uniform", "low": 1.0, "high": 2.0}}), 10, seed=seed
            )  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="greater than or equal to 0"):
        uncertain(inputs={PRICE: {"dist": "uniform", "low": 1.0, "high": 2.0}}, seed=-4)
    result = CliRunner().invoke(
        main, ["montecarlo", str(dc.example_path("ussm-fwo")), "-n", "10", "--seed", "-1"]
    )
    assert result.exit_code == 2 and "x>=0" in result.output


def test_summary_and_convergence() -> None:
    mc = dc.monte_carlo(DEAL, 3_000, seed=4)
    s = mc.summary()
    assert {"npv_usd", "irr", "ussm.npv_usd", "government_of_pakistan.npv_usd"} <= set(s.index)
    v = mc.values["npv_usd"]
    assert s.loc["npv_usd", "prob_negative"] == pytest.approx((v < 0).mean())
    assert s.loc["npv_usd", "value_at_risk_95"] == pytest.approx(-np.quantile(v, 0.05))
    assert np.isnan(s.loc["irr", "value_at_risk_95"])  # a loss of money, not of a rate
    assert s.loc["irr", "no_solution"] == int(np.isnan(mc.values["irr"]).sum())
    c = mc.convergence()
    assert c.index[-1] == 3_000 and c["mean"].iloc[-1] == pytest.approx(v.mean())


def test_cli_montecarlo(tmp_path: Any) -> None:
    path = str(dc.example_path("ussm-fwo"))
    result = CliRunner().invoke(main, ["montecarlo", path, "-n", "2000", "--seed", "1"])
    assert result.exit_code == 0 and "P(< 0)" in result.output and "ussm.npv_usd" in result.output
    result = CliRunner().invoke(
        main, ["montecarlo", path, "-n", "2000", "--seed", "1", "--json", "--metric", "npv_usd"]
    )
    payload = json.loads(result.output)
    assert payload["draws"] == 2000 and 0 < payload["metrics"]["npv_usd"]["prob_negative"] < 1
    out = tmp_path / "mc.json"
    assert CliRunner().invoke(main, ["montecarlo", path, "-n", "500", "--out", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["draws"] == 500


def test_availability_scales_output_but_not_fixed_costs() -> None:
    base = hand_deal(streams__ore__fixed_opex_usd_per_year=5_000.0)
    half = dc.evaluate(base, overrides={"operations.availability": [0.5]}).table()
    full = dc.evaluate(base).table()
    np.testing.assert_allclose(half["Revenue: ore [USD]"], full["Revenue: ore [USD]"] / 2)
    mining_var = full["Mining and processing [USD]"] + 5_000.0 * (full["Revenue: ore [USD]"] > 0)
    np.testing.assert_allclose(
        half["Mining and processing [USD]"], mining_var / 2 - 5_000.0 * (full["Revenue: ore [USD]"] > 0)
    )


def test_disruptions_take_their_expected_share_of_output() -> None:
    from dealcalc.analyses.sampling import availability_slice

    events = {"incident": {"annual_probability": 0.1, "duration_years": 0.5, "output_loss": 0.8}}
    deal = uncertain(disruptions=events, inputs={})
    a = availability_slice(deal, 7, 0, 40_000)
    # after the first year every year receives 0.1 x 0.8 x 0.5 = 4 % expected loss
    np.testing.assert_allclose(1.0 - a[:, 1:].mean(axis=0), 0.04, atol=0.003)
    # the first year only holds what starts in it: E[min(u + 0.5, 1) - u] = 0.375 of a half-year event
    assert 1.0 - a[:, 0].mean() == pytest.approx(0.1 * 0.8 * 0.375, abs=0.003)
    none = uncertain(disruptions={"x": {"annual_probability": 0.0, "duration_years": 1.0}})
    np.testing.assert_array_equal(availability_slice(none, 7, 0, 5_000), 1.0)


def test_a_gate_builds_with_its_continuity_probability() -> None:
    deal = hand_deal(phases__mine__gate={"probability": 0.7})
    built = float(dc.evaluate(deal).npv_usd[0])
    off = float(dc.evaluate(dc.params.with_changes(deal, {"phases.mine.gate.go": False})).npv_usd[0])
    mc = dc.monte_carlo(deal, 20_000, seed=2, metrics=["npv_usd"])
    v = mc.values["npv_usd"]
    assert set(np.unique(v)) == {built, off}
    np.testing.assert_array_equal(v == built, mc.built["mine"])
    assert mc.gate_summary().loc["mine", "p_built"] == pytest.approx(0.7, abs=0.01)
    assert v.mean() == pytest.approx(0.7 * built + 0.3 * off, rel=0.05)
    assert mc.option_value()["npv_usd"] == pytest.approx(0.0)  # no hurdle: no choice to value


def test_a_price_hurdle_stops_the_phase_only_when_prices_fall_short() -> None:
    inputs = {PRICE: {"dist": "uniform", "low": 5_000.0, "high": 15_000.0}}
    deal = hand_deal(
        phases__mine__gate={"min_price_usd": {"metal": 9_000.0}, "decision_year": 2030},
        uncertainty={"inputs": inputs},
    )
    mc = dc.monte_carlo(deal, 4_000, seed=3, metrics=["npv_usd"])
    price = mc.inputs[PRICE].to_numpy()
    np.testing.assert_array_equal(mc.built["mine"], price >= 9_000.0)
    assert (mc.values["npv_usd"][price < 9_000.0] == 0.0).all()  # nothing built, nothing spent
    assert mc.option_value()["npv_usd"] > 0  # stopping below 9,000 avoids the losses


def test_a_switch_scales_its_paths_with_its_probability() -> None:
    switch = {"china": {"probability": 0.25, "scale": {PRICE: 1.5}}}
    mc = dc.monte_carlo(uncertain(switches=switch), 8_000, seed=4, metrics=["pre_tax_npv_usd"])
    high = float(dc.evaluate(hand_deal(), overrides={PRICE: [15_000.0]}).pre_tax_npv_usd[0])
    v = mc.values["pre_tax_npv_usd"]
    assert np.isclose(v, high).mean() == pytest.approx(0.25, abs=0.015)


def test_expropriation_moves_the_owners_cash_to_the_state_with_compensation() -> None:
    deal = dc.load(dc.example_path("ussm-fwo"))
    t = 8  # expropriated from 2034 on, with half of book value paid
    taken = np.zeros((1, 17))
    taken[0, t:] = 1.0
    over = {"operations.expropriated": taken, "operations.expropriation_compensation_fraction": [0.5]}
    v = dc.evaluate(deal, overrides=over, keep_ledger=True)
    base = dc.evaluate(deal, keep_ledger=True)
    p, q = v.party_table(), base.party_table()
    owners = ["ussm [USD]", "fwo [USD]"]
    book = np.cumsum(
        -(base.table()["Initial capex [USD]"] + base.table()["Sustaining capex [USD]"])
        - base.table()["Depreciation [USD]"]
    )
    np.testing.assert_allclose(p[owners].sum(axis=1).iloc[t], 0.5 * book.iloc[t], rtol=1e-12)
    assert (p[owners].iloc[t + 1 :] == 0).all().all()
    np.testing.assert_allclose(p[owners].iloc[:t], q[owners].iloc[:t], rtol=1e-12)
    parties = [f"{name} [USD]" for name in deal.party_names()]
    np.testing.assert_allclose(
        p[parties].sum(axis=1), p["Cash before state take [USD]"], rtol=1e-12, atol=1e-3
    )
    assert v.npv_usd[0] == base.npv_usd[0]  # the project's value is unchanged; who gets it is not
    mc = dc.monte_carlo(deal, 4_000, seed=6, metrics=["ussm.npv_usd"])
    assert mc.values["ussm.npv_usd"].size == 4_000


def test_dask_gives_the_same_result_as_one_process() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = dc.monte_carlo(
            DEAL,
            3_000,
            seed=12,
            metrics=["npv_usd", "ussm.irr"],
            chunk_size=250,  # 12 chunks: more than are kept in flight, so tasks are refilled
            scheduler=cluster.scheduler_address,
        )
    local = dc.monte_carlo(DEAL, 3_000, seed=12, metrics=["npv_usd", "ussm.irr"])
    for m in ("npv_usd", "ussm.irr"):
        np.testing.assert_array_equal(on_dask.values[m], local.values[m])
    np.testing.assert_array_equal(on_dask.built["refinery"], local.built["refinery"])


def test_a_missing_dask_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real = builtins.__import__

    def no_dask(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(dc.MissingExtraError, match=r"pip install 'dealcalc\[dask\]'"):
        dc.monte_carlo(DEAL, 100, workers=2)


@pytest.mark.parametrize(("low", "high"), [(None, 1.0), (0.7, None), (0.7, 1.0)])
def test_a_truncated_normal_is_scipys_truncnorm(low: float | None, high: float | None) -> None:
    d = Distribution(dist="normal", mean=0.88, sd=0.1, low=low, high=high)
    a = -np.inf if low is None else (low - 0.88) / 0.1
    b = np.inf if high is None else (high - 0.88) / 0.1
    u = np.linspace(0.0005, 0.9995, 999)
    np.testing.assert_allclose(
        marginal(d)(u), stats.truncnorm(a, b, loc=0.88, scale=0.1).ppf(u), rtol=0, atol=1e-12
    )


def test_a_truncated_lognormal_follows_the_conditional_distribution() -> None:
    d = Distribution(dist="lognormal", median=100.0, sigma=0.5, low=60.0, high=250.0)
    x = marginal(d)(np.random.default_rng(7).random(20_000))
    assert x.min() >= 60.0 and x.max() <= 250.0
    full = stats.lognorm(s=0.5, scale=100.0)
    lo, hi = full.cdf(60.0), full.cdf(250.0)
    assert stats.kstest(x, lambda v: (full.cdf(v) - lo) / (hi - lo)).pvalue > 0.01
    with pytest.raises(ValueError, match="bounds keep"):
        marginal(Distribution(dist="normal", mean=0.0, sd=1.0, low=40.0))


def test_draws_outside_a_fields_limits_are_refused_with_the_inputs_name() -> None:
    unbounded = uncertain(inputs={"streams.ore.recovery": {"dist": "normal", "mean": 0.88, "sd": 0.1}})
    with pytest.raises(dc.InputError) as info:
        dc.monte_carlo(unbounded, 2_000, seed=1)
    message = str(info.value)
    assert message.startswith(
        "uncertainty.inputs.streams.ore.recovery: the draws of streams.ore.recovery run"
    )
    assert "less than or equal to 1" in message and "low/high" in message
    bounded = uncertain(
        inputs={"streams.ore.recovery": {"dist": "normal", "mean": 0.88, "sd": 0.1, "high": 1.0}}
    )
    mc = dc.monte_carlo(bounded, 2_000, seed=1)
    drawn = mc.inputs["streams.ore.recovery"]
    assert drawn.max() <= 1.0 and 0.84 < drawn.mean() < 0.88  # the mass above 1 is cut, not piled at 1
    # a factor input is checked at the values it produces (base x draw), not the draw itself
    factor = {"dist": "uniform", "low": 0.9, "high": 1.2, "factor": True}
    with pytest.raises(dc.InputError, match=r"the draws of streams\.ore\.recovery run from 0\.81"):
        dc.monte_carlo(uncertain(inputs={"streams.ore.recovery": factor}), 500, seed=1)


def test_a_deal_with_nothing_uncertain_says_so(tmp_path: Any) -> None:
    with pytest.warns(UserWarning, match="nothing in the deal is uncertain"):
        mc = dc.monte_carlo(hand_deal(), 50, seed=1, metrics=["npv_usd"])
    assert np.ptp(mc.values["npv_usd"]) == 0.0  # every draw is the base case
    path = tmp_path / "certain.yaml"
    path.write_text(dc.io.dump_deal(hand_deal()), encoding="utf-8")
    result = CliRunner().invoke(main, ["montecarlo", str(path), "-n", "50"])
    assert result.exit_code == 0, result.output
    assert "note: " in result.output and "every draw is the base case" in result.output


@pytest.mark.parametrize("size", [0, -5])
def test_a_chunk_of_no_draws_is_refused(size: int) -> None:
    # range(0, n, -5) is empty: the results used to come back as unwritten memory
    with pytest.raises(dc.InputError, match="chunk_size: chunks of"):
        dc.monte_carlo(DEAL, 10, seed=1, chunk_size=size)
    from dealcalc.engine.run import evaluate_chunks
    from dealcalc.params import Scenarios

    with pytest.raises(dc.InputError, match="chunk_size: chunks of"):
        evaluate_chunks(Scenarios.build(DEAL, {"fiscal.royalty_rate": [0.1, 0.2]}), chunk_size=size)


@pytest.mark.parametrize("n", [0, -3, 10.5, True])
def test_a_number_of_draws_is_a_whole_number_from_one(n: Any) -> None:
    with pytest.raises(dc.InputError, match="expected a whole number, at least 1"):
        dc.monte_carlo(DEAL, n, seed=1)


def _with_input(deal: dc.Deal, path: str, dist: Distribution) -> dc.Deal:
    inputs = dict(deal.uncertainty.inputs) | {path: dist}
    return deal.model_copy(update={"uncertainty": deal.uncertainty.model_copy(update={"inputs": inputs})})


def test_an_uncertain_gate_probability_or_hurdle_is_drawn_per_draw() -> None:
    """A gate's continuity probability and price hurdles may be uncertain inputs themselves;
    they used to be read from the file, so the draws were silently ignored."""
    n = 4_000
    low_odds = _with_input(
        DEAL, "phases.refinery.gate.probability", Distribution(dist="uniform", low=0.0, high=0.1)
    )
    share = (
        dc.monte_carlo(low_odds, n, seed=1, metrics=["npv_usd"])
        .gate_summary()
        .loc["refinery", "p_continuity"]
    )
    assert abs(share - 0.05) < 4 * np.sqrt(0.05 * 0.95 / n)  # E[U(0, 0.1)] = 0.05
    high_bar = Distribution(dist="uniform", low=9e4, high=1e5)  # antimony almost never clears it
    built = dc.monte_carlo(
        _with_input(DEAL, "phases.refinery.gate.min_price_usd.antimony", high_bar),
        n,
        seed=1,
        metrics=["npv_usd"],
    ).gate_summary()
    assert built.loc["refinery", "p_built"] < 0.01 < built.loc["refinery", "p_continuity"]
    # a gate certain in the file but uncertain in the draws is a gate
    certain = dc.params.with_changes(
        DEAL, {"phases.refinery.gate.probability": 1.0, "phases.refinery.gate.min_price_usd": {}}
    )
    drawn = _with_input(
        certain, "phases.refinery.gate.probability", Distribution(dist="uniform", low=0.4, high=0.6)
    )
    share = (
        dc.monte_carlo(drawn, n, seed=1, metrics=["npv_usd"]).gate_summary().loc["refinery", "p_continuity"]
    )
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / n)


@pytest.mark.parametrize("drawn", [False, True])
def test_disruptions_take_their_share_of_the_planned_availability(drawn: bool) -> None:
    """The file's availability (or a drawn one) stays: disruptions multiply it. They used to
    replace it, so a deal planned at 50 % ran at 100 % in every draw without a disruption."""
    never = {"never": {"annual_probability": 0.0, "duration_years": 1.0, "output_loss": 1.0}}
    if drawn:
        deal = uncertain(
            disruptions=never,
            inputs={"operations.availability": {"dist": "uniform", "low": 0.5, "high": 0.5 + 1e-12}},
        )
    else:
        deal = hand_deal(operations={"availability": 0.5}, uncertainty={"disruptions": never})
    mc = dc.monte_carlo(deal, 64, seed=1, metrics=["pre_tax_npv_usd"])
    at_half = dc.evaluate(hand_deal(operations={"availability": 0.5}), metrics=["pre_tax_npv_usd"])
    np.testing.assert_allclose(mc.values["pre_tax_npv_usd"], at_half.pre_tax_npv_usd[0], rtol=1e-9)


def test_a_drawn_compensation_is_used_when_the_state_expropriates() -> None:
    """With expropriation certain, owners get more the more compensation is drawn; the event's
    stated compensation used to overwrite the draws."""
    sure = dc.params.with_changes(DEAL, {"uncertainty.expropriation.annual_probability": 1.0})

    def owners_mean(low: float) -> float:
        dist = Distribution(dist="uniform", low=low, high=low + 1e-9)
        mc = dc.monte_carlo(
            _with_input(sure, "operations.expropriation_compensation_fraction", dist),
            256,
            seed=1,
            metrics=["ussm.npv_usd"],
        )
        return float(np.mean(mc.values["ussm.npv_usd"]))

    assert owners_mean(0.9) > owners_mean(0.1)
