"""Metamorphic invariants of the engine and the I/O, using only the public strategies."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dealcalc as dc
from dealcalc.io import dump_deal, parse_deal
from dealcalc.params import get, limits, numeric_leaves, with_changes
from dealcalc.strategies import deals, overrides, scenario_files

EXAMPLE = dc.load(dc.example_path("ussm-fwo"))
# each example values whole deals: a twentieth of the profile's examples (10 in CI, 250 nightly)
SLOW = settings(deadline=None, max_examples=max(10, settings.default.max_examples // 20))


@SLOW
@given(deals())
def test_the_parties_cash_adds_up_to_the_projects(deal: dc.Deal) -> None:
    v = dc.evaluate(deal, keep_ledger=True)
    split = v.party_table()
    parties = [f"{p} [USD]" for p in deal.party_names()]
    total = split["Cash before state take [USD]"]
    np.testing.assert_allclose(split[parties].sum(axis=1), total, rtol=1e-9, atol=1e-3)


@SLOW
@given(deals(schedules=True))
def test_nothing_disappears_in_the_material_balance(deal: dc.Deal) -> None:
    # every unit a stream recovers or makes is sold or fed to a processing stream, every year;
    # a processing stream makes (own feed + bought) x recovery, the rest lost in processing
    v = dc.evaluate(deal, keep_ledger=True)
    mb = v.material_balance()
    for stream in mb.index.get_level_values("stream").unique():
        rows = mb.loc[stream]
        flows = rows.index.get_level_values("flow")
        made = rows[flows.isin(["recovered", "made"])].sum()
        onward = rows[flows.str.startswith("fed to") | (flows == "sold")].sum()
        scale = 1.0 + made.abs().max()
        np.testing.assert_allclose(onward, made, rtol=0, atol=1e-9 * scale)
        if "made" in flows and flows.str.startswith("fed from").any() | ("bought" in flows):
            into = rows[flows.str.startswith("fed from") | (flows == "bought")].sum()
            lost = rows[flows == "lost in processing"].sum()
            np.testing.assert_allclose(into, made + lost, rtol=0, atol=1e-9 * scale)
    # and what a source feeds is what the processing stream is fed from it
    for (stream, flow, _unit), row in mb.iterrows():
        if str(flow).startswith("fed to "):
            target = str(flow).removeprefix("fed to ")
            fed_from = mb.loc[(target, f"fed from {stream}")].iloc[0]
            np.testing.assert_allclose(fed_from.to_numpy(), row.to_numpy(), rtol=1e-12, atol=1e-9)


@SLOW
@given(deals(), st.floats(1.0, 3.0))
def test_a_higher_price_never_lowers_pre_tax_cash(deal: dc.Deal, factor: float) -> None:
    deck = deal.price_decks["base"]
    over = {f"price_decks.base.{p}": [price, price * factor] for p, price in deck.items()}
    # hold the tariff at zero: a duty grows with the price it is charged on
    free = dc.params.with_changes(deal, {"trade.destinations.us.schedule": None})
    pre = dc.evaluate(free, overrides=over, keep_ledger=True).ledger.pre_tax()  # type: ignore[union-attr]
    assert (pre[1] >= pre[0] - 1e-6 * (1.0 + np.abs(pre[0]))).all()


@SLOW
@given(deals(), st.floats(0.0, 1.0))
def test_a_lower_tariff_never_lowers_the_exporters_cash(deal: dc.Deal, cut: float) -> None:
    schedule = deal.trade.schedules["s"]
    over = {
        f"trade.schedules.s.ad_valorem.{d.isoformat()}": [rate, rate * cut]
        for d, rate in schedule.ad_valorem.items()
    }
    v = dc.evaluate(deal, overrides=over, keep_ledger=True)
    pre = v.ledger.pre_tax()  # type: ignore[union-attr]
    assert (pre[1] >= pre[0] - 1e-6 * (1.0 + np.abs(pre[0]))).all()
    assert v.npv_usd[1] >= v.npv_usd[0] - 1e-6 * (1.0 + abs(v.npv_usd[0]))


@SLOW
@given(overrides(EXAMPLE))
def test_s_scenarios_equal_s_single_evaluations(over: dict[str, np.ndarray]) -> None:
    many = dc.evaluate(EXAMPLE, overrides=over, metrics=["npv_usd", "irr"])
    for i in range(len(next(iter(over.values())))):
        one = dc.evaluate(
            EXAMPLE, overrides={k: v[i : i + 1] for k, v in over.items()}, metrics=["npv_usd", "irr"]
        )
        assert many.npv_usd[i] == one.npv_usd[0]
        np.testing.assert_array_equal(many.irr[i], one.irr[0])


@SLOW
@given(overrides(EXAMPLE, n_scenarios=st.integers(2, 30)), st.integers(1, 7))
def test_results_do_not_depend_on_the_chunk_size(over: dict[str, np.ndarray], chunk: int) -> None:
    from dealcalc.engine.run import evaluate_chunks
    from dealcalc.params import Scenarios

    scenarios = Scenarios.build(EXAMPLE, over)
    whole = evaluate_chunks(scenarios, metrics=["npv_usd", "irr"])
    parts = evaluate_chunks(scenarios, metrics=["npv_usd", "irr"], chunk_size=chunk)
    for m in ("npv_usd", "irr"):
        joined = np.concatenate([p.values[m] for p in parts])
        np.testing.assert_array_equal(np.concatenate([w.values[m] for w in whole]), joined)


@SLOW
@given(deals())
def test_a_deal_written_to_yaml_reads_back_equal(deal: dc.Deal) -> None:
    assert parse_deal(dump_deal(deal)) == deal


@SLOW
@given(scenario_files())
def test_every_generated_file_loads_and_values(text: str) -> None:
    v = dc.evaluate(parse_deal(text), metrics=["npv_usd"])
    assert np.isfinite(v.npv_usd).all()


@SLOW
@given(st.data())
def test_an_override_equals_the_same_change_in_the_file(data: st.DataObject) -> None:
    """Every numeric parameter reaches the engine through its path: an override array gives
    what the same value written in the file gives (a dated price used to ignore overrides)."""
    deal = data.draw(deals(dated_prices=True))
    leaves = sorted(  # whole numbers (years, counts) shape the timeline: not per scenario
        (p, v)
        for p, v in numeric_leaves(deal).items()
        if not isinstance(get(deal, p), int) and not p.startswith(("uncertainty.", "scenarios."))
    )
    path, value = data.draw(st.sampled_from(leaves))
    x = float(np.clip(value * data.draw(st.floats(0.5, 1.5)), *limits(path)))
    try:
        changed = with_changes(deal, {path: x})
    except dc.InputError:  # a rule across fields (shares adding up) refuses this value
        assume(False)
    metrics = ["npv_usd", "pre_tax_npv_usd"]
    by_override = dc.evaluate(deal, overrides={path: [x]}, metrics=metrics).values
    in_the_file = dc.evaluate(changed, metrics=metrics).values
    for m in metrics:
        np.testing.assert_allclose(by_override[m], in_the_file[m], rtol=1e-9, atol=1e-3, err_msg=path)
