"""Properties of the engine on the bundled deal: consistency between views and monotonicity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dealcalc as dc
from dealcalc.engine.lines import AFTER_TAX as _AFTER
from dealcalc.engine.lines import PRE_TAX as _PRE

AFTER_TAX, PRE_TAX = _AFTER.name, _PRE.name

DEAL = dc.load(dc.example_path("ussm-fwo"))
BASE = dc.evaluate(DEAL)


def test_bundled_file_matches_the_packaged_copy() -> None:
    from pathlib import Path

    repo = Path(__file__).parents[1] / "examples" / "ussm_fwo_2025.yaml"
    assert repo.read_bytes() == dc.example_path("ussm-fwo").read_bytes()


def test_sum_of_lines_equals_the_net_line() -> None:
    table = BASE.table()
    ledger = BASE.ledger
    assert ledger is not None
    cash = list(ledger.cash_lines)
    np.testing.assert_allclose(table[cash].sum(axis=1), table[AFTER_TAX], rtol=1e-12)
    # the (L, S, T) view holds the same lines, and sums to the same net line
    assert ledger.cash.shape == (len(cash), 1, len(table))
    np.testing.assert_allclose(ledger.cash.sum(axis=0)[0], table[AFTER_TAX], rtol=1e-12)
    np.testing.assert_allclose(table[AFTER_TAX] - table["Income tax [USD]"], table[PRE_TAX], rtol=1e-12)


def test_npv_is_the_discounted_sum_of_the_table() -> None:
    table = BASE.table()
    r = BASE.discount_rate[0]
    t = np.arange(len(table)) + 1.0  # end-year timing, valued at the start of 2026
    assert BASE.npv_usd[0] == pytest.approx((table[AFTER_TAX] / (1 + r) ** t).sum(), rel=1e-12)
    assert BASE.irr[0] == pytest.approx(dc.irr(table[AFTER_TAX].to_numpy()), rel=1e-12)


PRICES = st.lists(st.floats(5_000, 80_000), min_size=2, max_size=6)


@settings(max_examples=25)
@given(PRICES)
def test_s_scenarios_equal_s_single_evaluations(prices: list[float]) -> None:
    many = dc.evaluate(DEAL, overrides={"price_decks.base.antimony": prices})
    for i, p in enumerate(prices):
        one = dc.evaluate(DEAL, overrides={"price_decks.base.antimony": [p]})
        assert many.npv_usd[i] == pytest.approx(one.npv_usd[0], rel=1e-12, abs=1e-3)
        assert (np.isnan(many.irr[i]) and np.isnan(one.irr[0])) or many.irr[i] == one.irr[0]


@settings(max_examples=25)
@given(PRICES)
def test_higher_price_never_lowers_pre_tax_cash(prices: list[float]) -> None:
    ordered = np.sort(np.asarray(prices))
    v = dc.evaluate(DEAL, overrides={"price_decks.base.copper": ordered})
    pre = v.ledger.pre_tax()  # type: ignore[union-attr]
    assert np.all(np.diff(pre, axis=0) >= -1e-6)


@settings(max_examples=25)
@given(st.lists(st.floats(0.0, 0.2), min_size=2, max_size=6))
def test_higher_royalty_never_raises_after_tax_npv(rates: list[float]) -> None:
    ordered = np.sort(np.asarray(rates))
    v = dc.evaluate(DEAL, overrides={"fiscal.royalty_rate": ordered})
    assert np.all(np.diff(v.npv_usd) <= 1e-6)


@settings(max_examples=25)
@given(st.lists(st.floats(0.3, 3.0), min_size=2, max_size=6))
def test_more_throughput_never_lowers_pre_tax_cash(factors: list[float]) -> None:
    ordered = np.sort(np.asarray(factors)) * 1.0e6
    v = dc.evaluate(DEAL, overrides={"streams.copper.ore_tpa": ordered})
    pre = v.ledger.pre_tax()  # type: ignore[union-attr]
    # more copper ore raises copper revenue by more than its costs at any positive margin
    assert np.all(np.diff(pre.sum(axis=1)) >= -1e-6)


def test_results_do_not_depend_on_chunk_size() -> None:
    from dealcalc.engine.run import METRICS, evaluate_chunks

    rng = np.random.default_rng(3)
    overrides = {
        "price_decks.base.antimony": rng.uniform(2e4, 6e4, 50),
        "valuation.discount_rate": rng.uniform(0.08, 0.2, 50),
    }
    from dealcalc.params import Scenarios

    scenarios = Scenarios.build(DEAL, overrides)
    whole = evaluate_chunks(scenarios, chunk_size=50)
    parts = evaluate_chunks(scenarios, chunk_size=7)
    for metric in METRICS:
        joined = np.concatenate([p.values[metric] for p in parts])
        np.testing.assert_array_equal(whole[0].values[metric], joined)


def test_per_year_override_shape() -> None:
    path = np.linspace(20_000, 60_000, 17)
    v = dc.evaluate(DEAL, overrides={"price_decks.base.antimony": path[None, :]})
    assert v.table()["Revenue: antimony_refined [USD]"].iloc[-1] == pytest.approx(4000 * 0.98 * 60_000)


def test_bad_overrides_are_input_errors() -> None:
    with pytest.raises(dc.InputError, match=r"did you mean 'fiscal\.royalty_rate'"):
        dc.evaluate(DEAL, overrides={"fiscal.royalty_rat": [0.1]})
    with pytest.raises(dc.InputError, match="shape"):
        dc.evaluate(DEAL, overrides={"fiscal.royalty_rate": np.zeros((2, 3))})
    with pytest.raises(dc.InputError, match="NaN"):
        dc.evaluate(DEAL, overrides={"fiscal.royalty_rate": [np.nan]})
    with pytest.raises(dc.InputError, match="disagree"):
        dc.evaluate(DEAL, overrides={"fiscal.royalty_rate": [0.1, 0.2], "valuation.discount_rate": [0.1] * 3})


def test_every_named_scenario_evaluates_and_compare_lists_them() -> None:
    table = dc.compare(DEAL)
    assert list(table.index) == ["base", *DEAL.scenarios]
    assert table.loc["base", "npv_change_usd"] == 0
    assert (
        table.loc["spot_2025", "npv_usd"] > table.loc["base", "npv_usd"] > table.loc["low_prices", "npv_usd"]
    )
    assert table.loc["capex_overrun_60", "npv_usd"] < table.loc["capex_overrun_30", "npv_usd"] < 0
    assert table.loc["discount_10", "npv_usd"] > table.loc["discount_20", "npv_usd"]
    assert table.loc["discount_10", "irr"] == pytest.approx(table.loc["base", "irr"])


def test_metrics_on_request_equal_the_full_evaluation() -> None:
    overrides = {"price_decks.base.antimony": np.linspace(2e4, 6e4, 9)}
    full = dc.evaluate(DEAL, overrides=overrides)
    some = dc.evaluate(DEAL, overrides=overrides, metrics=["irr", "payback_years"])
    assert list(some.values) == ["irr", "payback_years", "discount_rate"]
    np.testing.assert_array_equal(some.irr, full.irr)
    np.testing.assert_array_equal(some.payback_years, full.payback_years)
    with pytest.raises(dc.InputError, match="npv_usd was not computed"):
        _ = some.npv_usd
    assert list(some.summary().columns) == list(some.values)


def test_an_unknown_metric_is_named_with_its_near_miss() -> None:
    with pytest.raises(dc.InputError, match="did you mean 'npv_usd'"):
        dc.evaluate(DEAL, metrics=["npv_us"])


@pytest.mark.parametrize("n_big_plus", [0, 1, 2])
@pytest.mark.parametrize("n_big_minus", [0, 1, 2])
@pytest.mark.parametrize("small", [True, False])
@pytest.mark.parametrize("scale", [1.0, -0.5, "rows"])
def test_add_lines_is_the_plain_signed_sum(
    n_big_plus: int, n_big_minus: int, small: bool, scale: object
) -> None:
    from dealcalc.engine.ledger import add_lines

    rng = np.random.default_rng(n_big_plus * 10 + n_big_minus)
    shape = (4, 6)
    plus = [rng.normal(size=shape) for _ in range(n_big_plus)] + ([rng.normal(size=6)] if small else [])
    minus = [rng.normal(size=shape) for _ in range(n_big_minus)] + ([rng.normal(size=6)] if small else [])
    factor = rng.normal(size=(4, 1)) if scale == "rows" else scale
    before = [a.copy() for a in plus + minus]
    got = add_lines(plus, shape, minus=minus, scale=factor)
    expected = (sum(plus, np.zeros(6)) - sum(minus, np.zeros(6))) * factor
    np.testing.assert_allclose(
        np.broadcast_to(got, shape), np.broadcast_to(expected, shape), rtol=1e-13, atol=1e-13
    )
    for a, b in zip(plus + minus, before, strict=True):  # inputs are never modified
        np.testing.assert_array_equal(a, b)


def test_a_whole_number_that_shapes_the_timeline_cannot_vary_by_scenario() -> None:
    with pytest.raises(dc.InputError, match="cannot vary by scenario") as info:
        dc.evaluate(DEAL, overrides={"phases.refinery.delay_years": [0, 1, 2]})
    assert info.value.field == "phases.refinery.delay_years"


def test_limits_are_the_ones_the_file_is_checked_against() -> None:
    """``params.limits`` (which clips tornado ends and checks overrides and draws) agrees with
    the model's own validation: just past a limit, a --set is refused as well."""
    from dealcalc.params import check_range, limits, numeric_leaves, with_changes

    checked = 0
    for path, value in numeric_leaves(DEAL).items():
        if path.startswith("uncertainty.") or isinstance(value, bool | int):
            continue
        low, high = limits(path)
        for end, beyond in ((low, np.nextafter(low, -np.inf)), (high, np.nextafter(high, np.inf))):
            if not np.isfinite(end):
                continue
            check_range(path, np.array([end]))  # the limit itself is allowed
            with pytest.raises(dc.InputError):
                check_range(path, np.array([beyond]))
            with pytest.raises(dc.InputError):
                with_changes(DEAL, {path: float(beyond)})
            checked += 1
    assert checked > 100  # prices, rates, fractions, costs: most leaves have a limit


def test_a_dated_price_follows_its_override() -> None:
    """A {year: price} step path: each given price is a parameter of its own, and an override
    of it moves the deal exactly as the same price written in the file (it used to be ignored)."""
    from dealcalc.params import with_changes
    from test_engine_handworked import deal as hand_deal

    deal = hand_deal(price_decks={"base": {"metal": {2030: 9000.0, 2031: 10000.0, 2033: 11000.0}}})
    for path in ("price_decks.base.metal.2031", "price_decks.base.metal.2033"):
        moved = dc.evaluate(deal, overrides={path: [5000.0, 20000.0]}, metrics=["npv_usd"]).npv_usd
        in_file = [
            dc.evaluate(with_changes(deal, {path: x}), metrics=["npv_usd"]).npv_usd[0] for x in (5e3, 2e4)
        ]
        np.testing.assert_allclose(moved, in_file, rtol=1e-12)
        assert moved[1] > moved[0]  # the price is sold at: a higher one is worth more


def test_a_field_the_stream_never_reads_is_not_a_parameter() -> None:
    from dealcalc.params import paths

    listed = set(paths(DEAL))
    assert "streams.apt.recovery" not in listed and "streams.copper.recovery" in listed
    assert "streams.gold.treatment_charge_usd_per_dmt" not in listed  # gold has no concentrate of its own
    for path in (
        "streams.apt.recovery",
        "streams.gold.treatment_charge_usd_per_dmt",
        "streams.copper.conversion_cost_usd_per_unit",
    ):
        with pytest.raises(dc.InputError, match="this stream never reads it"):
            dc.evaluate(DEAL, overrides={path: [0.5]})
    # a wildcard over every stream's unit mining cost reaches only the streams that have one
    from dealcalc.analyses.montecarlo import input_targets

    assert all(
        dc.load(dc.example_path("ussm-fwo")).streams[p.split(".")[1]].is_mine
        for p in input_targets(DEAL)["streams.*.opex_usd_per_t_ore"]
    )


def test_a_wildcard_scenario_reaches_only_the_streams_it_applies_to() -> None:
    """``scale: {streams.*.recovery: 0.95}`` lowers every mine stream's recovery and leaves the
    refinery streams, which have none, alone (it must not trip their 'does not apply' check)."""
    from dealcalc.params import with_changes

    lower = with_changes(DEAL, scale={"streams.*.recovery": 0.95}, origin="scenario 'low_recovery'")
    for name, stream in DEAL.streams.items():
        expected = stream.recovery * 0.95 if stream.is_mine else stream.recovery
        assert lower.streams[name].recovery == pytest.approx(expected), name
    assert dc.evaluate(lower).npv_usd[0] < dc.evaluate(DEAL).npv_usd[0]
    with pytest.raises(dc.InputError, match="recovery does not apply here"):
        with_changes(DEAL, {"streams.apt.recovery": 0.9})  # named, not matched: refused
