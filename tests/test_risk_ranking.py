"""A risk ranking that counts every source (issue 21, item 3): contribution to variance on the
Monte Carlo's draws, Sobol indices with price paths, switches, events and gates as named groups,
and the risk-weighted tornado's rows for them; each says what it held fixed."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import special

import dealcalc as dc
from dealcalc.analyses import sampling
from dealcalc.analyses.contributions import contribution_table, contributions
from dealcalc.analyses.gsa import sobol
from dealcalc.analyses.gsa_sources import source_model
from dealcalc.cli import main
from dealcalc.params import with_changes

ROOT = Path(__file__).resolve().parents[1]
DEAL = dc.load(dc.example_path("ussm-fwo"))
EXAMPLE = str(ROOT / "examples" / "ussm_fwo_2025.yaml")
SCHEMA = json.loads((ROOT / "docs" / "schema" / "result.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mc() -> dc.MonteCarlo:
    return dc.monte_carlo(DEAL, 3000, seed=1, metrics=["npv_usd", "ussm.npv_usd", "irr"])


def test_contribution_to_variance_of_a_linear_model_is_its_squared_coefficients() -> None:
    # y = 2a + b, a and b independent with equal variance: Var(y) = 5, shares 4/5 and 1/5,
    # R² = 1. A full factorial makes a and b exactly uncorrelated with equal sample variances.
    levels = np.linspace(-1.0, 1.0, 101)
    a, b = np.repeat(levels, levels.size), np.tile(levels, levels.size)
    df = pd.DataFrame({"a": a, "b": b, "y": 2 * a + b})
    t = contribution_table(df, "y", {"a": "input", "b": "input"}, ranks=False)
    assert t.index.tolist() == ["a", "b"]
    assert t.loc["a", "contribution"] == pytest.approx(0.8, abs=1e-12)
    assert t.loc["b", "contribution"] == pytest.approx(0.2, abs=1e-12)
    assert t.attrs["r_squared"] == pytest.approx(1.0, abs=1e-12)
    assert t.loc["a", "coefficient"] == pytest.approx(2 / np.sqrt(5))
    # an unrelated source takes (nearly) nothing
    noise = np.random.default_rng(3).normal(size=a.size)
    df["c"] = noise
    t = contribution_table(df, "y", {"a": "input", "b": "input", "c": "input"}, ranks=False)
    assert t.loc["c", "contribution"] == pytest.approx(0.0, abs=1e-3)
    assert t["contribution"].sum() == pytest.approx(t.attrs["r_squared"])
    # on ranks the model is not exactly linear: close, and R² says what is left
    ranked = contribution_table(df, "y", {"a": "input", "b": "input"})
    assert ranked.loc["a", "contribution"] == pytest.approx(0.8, abs=0.03)
    assert 0.95 < ranked.attrs["r_squared"] < 1.0
    assert ranked.attrs["unexplained"] == pytest.approx(1.0 - ranked.attrs["r_squared"])
    # Spearman's rho of a and y by hand: Pearson's of their ranks
    from scipy import stats

    rho = np.corrcoef(stats.rankdata(a), stats.rankdata(2 * a + b))[0, 1]
    assert ranked.loc["a", "spearman"] == pytest.approx(rho)


def test_draws_without_a_value_are_dropped_and_counted() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    y = a.copy()
    y[:7] = np.nan
    t = contribution_table(pd.DataFrame({"a": a, "k": 1.0, "y": y}), "y", {"a": "input", "k": "input"})
    assert (t.attrs["draws"], t.attrs["dropped"], t.attrs["constant"]) == (493, 7, ["k"])
    with pytest.raises(dc.InputError, match="more draws than sources"):
        contribution_table(pd.DataFrame({"a": a[:2], "y": y[:2]}), "y", {"a": "input"})


def test_the_bundled_deals_ranking_counts_the_price_paths_and_the_china_switch(mc: dc.MonteCarlo) -> None:
    t = contributions(mc, "npv_usd")
    assert set(t["kind"]) == {"input", "price path", "events", "switch", "gate"}
    shares = t["contribution"]
    assert shares.sum() == pytest.approx(t.attrs["r_squared"])
    assert shares["price.antimony.mean_usd_per_t"] > 0.1
    assert shares["switch.china_retightens"] > 0.05
    top = t.index[:4].tolist()
    assert "price.antimony.mean_usd_per_t" in top and "switch.china_retightens" in top
    # capex and opex took 77 % when only the inputs were ranked; not any more
    assert shares["phases.*.capex_usd"] + shares["streams.*.opex_usd_per_t_ore"] < 0.3
    assert t.attrs["held_fixed"] == [] and t.attrs["dropped"] == 0
    # any party's metric; an IRR's draws without a root are dropped and counted
    party = contributions(mc, "ussm.npv_usd")
    assert party.attrs["metric"] == "ussm.npv_usd" and party.attrs["draws"] == mc.n
    irr = contributions(mc, "irr")
    assert irr.attrs["dropped"] == int(np.isnan(mc.metric("irr")).sum())
    with pytest.raises(dc.InputError, match=r"no metric 'fwo\.npv'"):
        contributions(mc, "fwo.npv")


def test_a_deal_without_events_says_they_are_not_modelled() -> None:
    calm = with_changes(
        DEAL, {"uncertainty.disruptions": {}, "uncertainty.expropriation": None, "uncertainty.switches": {}}
    )
    run = dc.monte_carlo(calm, 400, seed=2, metrics=["npv_usd"])
    t = contributions(run, "npv_usd")
    held = t.attrs["held_fixed"]
    assert "disruptions (none in the file)" in held and "expropriation (none in the file)" in held
    assert "switches (none in the file)" in held
    assert not {"events", "switch"} & set(t["kind"])
    s = sobol(calm, 64)
    assert "disruption events" not in s.index and "expropriation" not in s.index
    assert "disruptions (none in the file)" in s.attrs["not_modelled"]
    assert s.attrs["held_fixed"] == []
    tornado = dc.tornado(calm, quantiles=(0.1, 0.9))
    assert "disruption events" not in tornado.index
    assert "switches (none in the file)" in tornado.attrs["not_modelled"]


def test_sobol_over_every_source_has_each_named_group() -> None:
    t = sobol(DEAL, 512)
    groups = [
        "antimony+apt+ndpr_oxide price paths",
        "copper+gold price paths",
        "china_retightens switch",
        "disruption events",
        "expropriation",
        "refinery gate continuity",
        "phases.*.capex_usd+streams.*.opex_usd_per_t_ore",
    ]
    assert set(groups) <= set(t.index)
    assert t.attrs["sources"] == "all" and t.attrs["held_fixed"] == [] and t.attrs["not_modelled"] == []
    assert t["S1"].sum() <= 1.0 + 0.1
    assert (t["ST"] >= -0.05).all()
    # the price paths and the switch now take a large share; capex and opex a small one
    assert t.loc["antimony+apt+ndpr_oxide price paths", "ST"] > 0.2
    assert t.loc["phases.*.capex_usd+streams.*.opex_usd_per_t_ore", "ST"] < 0.3
    inputs_only = sobol(DEAL, 64, sources="inputs")
    assert inputs_only.attrs["sources"] == "inputs"
    assert "antimony price path: at the deck's price" in inputs_only.attrs["held_fixed"]
    assert "refinery gate continuity: built as in the base case" in inputs_only.attrs["held_fixed"]
    with pytest.raises(dc.InputError, match="expected all or inputs"):
        sobol(DEAL, 64, sources="every")


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_the_sobol_model_values_the_monte_carlos_own_draws(method: str) -> None:
    """Feed the Sobol model the uniforms the Monte Carlo drew: the same metric, draw by draw."""
    n, seed = 300, 11
    run = dc.monte_carlo(DEAL, n, seed=seed, method=method, metrics=["npv_usd", "ussm.npv_usd"])
    model = source_model(DEAL, "ussm.npv_usd")
    u = DEAL.uncertainty
    t = DEAL.periods.size
    columns = [sampling.design(method, n, len(u.inputs), sampling.stream(seed, "inputs"))]
    shocks = sampling.price_shocks(seed, 0, n, len(u.price_paths) * t).reshape(n, -1, t)
    columns.append(special.ndtr(shocks[:, :, 1:]).reshape(n, -1))  # the first year's is unused
    columns.append(sampling.uniforms(seed, "switches", n, len(u.switches)))
    starts, moments = sampling.disruption_uniforms(DEAL, seed, 0, n)
    for s, m in zip(starts, moments, strict=True):
        columns += [s, np.nan_to_num(m, nan=0.5)]  # a moment where nothing starts is not read
    columns.append(sampling.expropriation_uniforms(DEAL, seed, 0, n))
    columns.append(sampling.uniforms(seed, "gates", n, 1))
    points = np.column_stack(columns)
    assert points.shape[1] == len(model.names)
    got = model.model(points)
    np.testing.assert_allclose(got, run.metric("ussm.npv_usd"), rtol=1e-9, atol=1e-3)
    # and the sampled inputs are the Monte Carlo's, bit for bit
    block, _ = model.randoms(points)
    recovery = block["streams.copper.recovery"]
    np.testing.assert_array_equal(recovery, run.inputs["streams.copper.recovery"].to_numpy())


def test_the_tornado_has_a_row_for_each_source_in_words() -> None:
    t = dc.tornado(DEAL, quantiles=(0.1, 0.9))
    base = t.attrs["base_metric"]
    for product in DEAL.uncertainty.price_paths:
        row = t.loc[f"{product} price path"]
        assert row["low_value"] < 1.0 < row["high_value"]
    assert (
        t.loc["antimony price path", "metric_at_low"] < base < t.loc["antimony price path", "metric_at_high"]
    )
    switch = t.loc["china_retightens switch"]
    assert switch["metric_at_low"] == pytest.approx(base, rel=1e-12)  # off: the base case
    assert switch["metric_at_high"] > base  # on: higher prices
    events = t.loc["disruption events"]
    assert events["metric_at_low"] == pytest.approx(base, rel=1e-12) and events["high_value"] >= 1
    assert events["metric_at_high"] < base
    assert t.attrs["kinds"]["china_retightens switch"] == "switch"
    assert "phase gates: built as in the base case" in t.attrs["held_fixed"]
    assert t["swing"].is_monotonic_decreasing
    # the antimony price path now outranks capex
    assert t.index.get_loc("antimony price path") < t.index.get_loc("phases.*.capex_usd")


def test_the_cli_prints_and_serializes_the_ranking() -> None:
    runner = CliRunner()
    result = runner.invoke(
        main, ["montecarlo", EXAMPLE, "-n", "600", "--seed", "2", "--contributions", "ussm.npv_usd", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    jsonschema.Draft202012Validator(SCHEMA).validate(payload)
    ranking = payload["contributions"]
    assert ranking["metric"] == "ussm.npv_usd" and ranking["draws"] == 600
    assert sum(r["contribution"] for r in ranking["rows"]) == pytest.approx(ranking["r_squared"])
    text = runner.invoke(
        main, ["montecarlo", EXAMPLE, "-n", "600", "--seed", "2", "--contributions", "npv_usd"]
    )
    assert text.exit_code == 0, text.output
    shown = " ".join(text.output.split())
    assert "Risk ranking: npv_usd" in shown and "China retightens (switch)" in shown  # in words
    plain = runner.invoke(main, ["montecarlo", EXAMPLE, "-n", "100", "--seed", "2", "--json"])
    assert "contributions" not in json.loads(plain.output)
    for sources in ("all", "inputs"):
        got = runner.invoke(
            main, ["sensitivity", "sobol", EXAMPLE, "-n", "32", "--sources", sources, "--json"]
        )
        assert got.exit_code == 0, got.output
        out = json.loads(got.output)
        jsonschema.Draft202012Validator(SCHEMA).validate(out)
        assert out["sources"] == sources
    shown = runner.invoke(main, ["sensitivity", "sobol", EXAMPLE, "-n", "32", "--sources", "inputs"])
    assert "held fixed: antimony price path: at the deck's price" in shown.output
    tornado = runner.invoke(main, ["sensitivity", "tornado", EXAMPLE, "--quantiles", "0.1:0.9", "--json"])
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(tornado.output))
