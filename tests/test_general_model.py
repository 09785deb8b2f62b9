"""Any deal, not only ours: schedules, study years, CSV tables, direct lines, the material balance,
worked by hand through the public API (dc.evaluate, dealcalc.io, the CLI).

The small deal: one phase built in its first year, producing from the next, 1,000 t of ore at
1 % metal, 90 % recovery, 10,000 US$/t, no tax unless a test adds one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.io import dump_deal, parse_deal
from dealcalc.models import Deal
from dealcalc.params import with_changes

BASE: dict[str, Any] = {
    "name": "general",
    "valuation": {"start_year": 2030, "end_year": 2034, "discount_rate": 0.10},
    "products": {"metal": {"unit": "t"}},
    "price_decks": {"base": {"metal": 10_000.0}},
    "phases": {"mine": {"start_year": 2030, "capex_usd": 100_000.0}},
    "streams": {
        "ore": {"phase": "mine", "product": "metal", "ore_tpa": 1_000.0, "grade": 0.01, "recovery": 0.9}
    },
}


def deal(**changes: Any) -> Deal:
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return Deal.model_validate(data)


def line(v: dc.Valuation, name: str) -> list[float]:
    return [round(x, 6) for x in v.table()[name].tolist()]


# ------------------------------------------------------------------------------------ schedules
def test_a_mine_plan_by_year_holds_each_value_until_the_next() -> None:
    # 2031: 1,000 t, 2033: 2,000 t from then on: revenue 9 t x 10,000 = 90,000, then 180,000
    v = dc.evaluate(deal(streams__ore__ore_tpa={2031: 1_000.0, 2033: 2_000.0}))
    assert line(v, "Revenue: ore [USD]") == [0, 90_000, 90_000, 180_000, 180_000]


def test_a_list_runs_over_the_production_years_and_moves_with_a_delay() -> None:
    v = dc.evaluate(deal(streams__ore__ore_tpa=[500.0, 1_000.0, 0.0]))
    assert line(v, "Revenue: ore [USD]") == [0, 45_000, 90_000, 0, 0]  # the last value (0) holds
    late = dc.evaluate(deal(streams__ore__ore_tpa=[500.0, 1_000.0, 0.0], phases__mine__delay_years=1))
    assert line(late, "Revenue: ore [USD]") == [0, 0, 45_000, 90_000, 0]


def test_a_price_path_takes_its_first_price_before_it_starts() -> None:
    v = dc.evaluate(deal(price_decks__base__metal={2033: 20_000.0}))
    assert line(v, "Revenue: ore [USD]") == [0, 90_000 * 2, 90_000 * 2, 90_000 * 2, 90_000 * 2]


def test_capex_by_year_is_spent_in_those_years_and_production_follows() -> None:
    v = dc.evaluate(deal(phases__mine__capex_usd={2030: 60_000.0, 2031: 40_000.0}))
    assert line(v, "Initial capex [USD]") == [-60_000, -40_000, 0, 0, 0]
    assert line(v, "Revenue: ore [USD]") == [0, 0, 90_000, 90_000, 90_000]  # output after the last


def test_sustaining_and_closure_by_year() -> None:
    v = dc.evaluate(
        deal(
            phases__mine__sustaining_capex_usd_per_year={2032: 5_000.0, 2034: 0.0},
            closure={"cost_usd": {2033: 7_000.0, 2034: 3_000.0}},
        )
    )
    assert line(v, "Sustaining capex [USD]") == [0, 0, -5_000, -5_000, 0]
    assert line(v, "Closure [USD]") == [0, 0, 0, -7_000, -3_000]


def test_rates_by_year() -> None:
    v = dc.evaluate(deal(fiscal={"royalty_rate": {2031: 0.02, 2033: 0.05}}))
    assert line(v, "Royalty [USD]") == [0, -1_800, -1_800, -4_500, -4_500]


def test_overrides_scale_a_whole_schedule_and_set_one_year() -> None:
    d = deal(streams__ore__ore_tpa={2031: 1_000.0, 2033: 2_000.0})
    scaled = dc.evaluate(d, overrides={"streams.ore.ore_tpa": [0.5, 2.0]})
    assert scaled.table(0)["Revenue: ore [USD]"].tolist() == pytest.approx(
        [0, 45_000, 45_000, 90_000, 90_000]
    )
    assert scaled.table(1)["Revenue: ore [USD]"].tolist() == pytest.approx(
        [0, 180_000, 180_000, 360_000, 360_000]
    )
    one_year = dc.evaluate(d, overrides={"streams.ore.ore_tpa.2033": [3_000.0]})
    assert line(one_year, "Revenue: ore [USD]") == [0, 90_000, 90_000, 270_000, 270_000]
    per_year = np.array([[0.0, 1.0, 2.0, 3.0, 4.0]]) * 1_000
    replaced = dc.evaluate(d, overrides={"streams.ore.ore_tpa": per_year})
    assert line(replaced, "Revenue: ore [USD]") == [0, 90_000, 180_000, 270_000, 360_000]


def test_set_and_scale_reach_schedules_and_their_years() -> None:
    d = deal(streams__ore__ore_tpa={2031: 1_000.0, 2033: 2_000.0})
    assert with_changes(d, {"streams.ore.ore_tpa.2033": 500.0}).streams["ore"].ore_tpa == {
        2031: 1_000.0,
        2033: 500.0,
    }
    assert with_changes(d, scale={"streams.*.ore_tpa": 2.0}).streams["ore"].ore_tpa == {
        2031: 2_000.0,
        2033: 4_000.0,
    }


def test_an_override_of_a_fixed_number_by_year_is_refused() -> None:
    with pytest.raises(dc.InputError, match="takes one value per scenario"):
        dc.evaluate(deal(), overrides={"valuation.discount_rate": np.full((2, 5), 0.1)})
    d = deal(streams__ore__ore_tpa={2031: 1_000.0})
    with pytest.raises(dc.InputError, match="one year of a schedule takes one value per scenario"):
        dc.evaluate(d, overrides={"streams.ore.ore_tpa.2031": np.full((2, 5), 1.0)})


def test_a_factor_on_a_schedule_that_leaves_its_limits_is_refused() -> None:
    d = deal(streams__ore__recovery={2031: 0.6, 2033: 0.9})
    with pytest.raises(dc.InputError, match=r"override factors 1 to 1\.2 make values"):
        dc.evaluate(d, overrides={"streams.ore.recovery": [1.0, 1.2]})  # 0.9 x 1.2 > 1


def test_sensitivity_breakeven_and_monte_carlo_work_on_a_schedule() -> None:
    d = deal(price_decks__base__metal={2031: 10_000.0, 2033: 12_000.0})
    t = dc.tornado(d, ["price_decks.base.metal"])
    assert t.loc["price_decks.base.metal", "base_value"] == 1.0  # a whole schedule: its scale
    assert (
        t.loc["price_decks.base.metal", "metric_at_high"] > t.loc["price_decks.base.metal", "metric_at_low"]
    )
    b = dc.breakeven(d, "price_decks.base.metal")
    at = dc.evaluate(d, overrides={"price_decks.base.metal": b.value}).npv_usd[0]
    assert abs(at) < 1.0  # the factor found makes NPV zero
    mc_deal = with_changes(
        d,
        {"uncertainty": {"inputs": {"price_decks.base.metal": {"dist": "uniform", "low": 0.8, "high": 1.2}}}},
    )
    with pytest.raises(dc.InputError, match="given year by year, so a draw can only scale it"):
        dc.monte_carlo(mc_deal, 16, seed=1)
    ok = with_changes(
        d,
        {
            "uncertainty": {
                "inputs": {
                    "price_decks.base.metal": {"dist": "uniform", "low": 0.8, "high": 1.2, "factor": True}
                }
            }
        },
    )
    mc = dc.monte_carlo(ok, 64, seed=1, metrics=["npv_usd"])
    draws = mc.inputs["price_decks.base.metal"].to_numpy()
    direct = dc.evaluate(d, overrides={"price_decks.base.metal": draws}, metrics=["npv_usd"]).npv_usd
    np.testing.assert_allclose(mc.metric("npv_usd"), direct, rtol=1e-12)


# -------------------------------------------------------------------------------------- periods
def test_study_years_without_year_zero() -> None:
    d = deal(
        valuation={"start_year": -1, "end_year": 3, "year_zero": False, "discount_rate": 0.10},
        phases__mine__start_year=-1,
        streams__ore__ore_tpa={1: 1_000.0, 3: 0.0},
    )
    v = dc.evaluate(d, keep_ledger=True)
    assert v.table().index.tolist() == [-1, 1, 2, 3]
    assert line(v, "Revenue: ore [USD]") == [0, 90_000, 90_000, 0]
    flows = v.table()["After-tax cash flow [USD]"].to_numpy()
    assert v.npv_usd[0] == pytest.approx((flows / 1.1 ** np.arange(1, 5)).sum(), rel=1e-12)
    with pytest.raises(dc.InputError, match=r"0 is not one of the periods -1\.\.\.-1, 1\.\.\.3"):
        with_changes(d, {"streams.ore.ore_tpa": {0: 1.0}})


def test_the_valuation_point_start_end_a_year_or_a_date() -> None:
    flows = dc.evaluate(deal()).table()["After-tax cash flow [USD]"].to_numpy()
    t = np.arange(5)
    for point, shift in (("start", 0.0), ("end", 1.0), (2031, 1.0), (2028, -2.0)):
        v = dc.evaluate(deal(valuation__valuation_point=point))
        assert v.npv_usd[0] == pytest.approx((flows / 1.1 ** (t + 1 - shift)).sum(), rel=1e-12), point
    import datetime as dt

    mid = dc.evaluate(deal(valuation__valuation_point=dt.date(2031, 7, 2)))  # 365 + 182 days in
    assert mid.npv_usd[0] == pytest.approx((flows / 1.1 ** (t + 1 - (1 + 182 / 365))).sum(), rel=1e-12)


def test_payback_from_the_valuation_point_or_from_first_production() -> None:
    # -100,000 in 2030, then 90,000 a year: pays back 100/90 = 1.11 years after 2030's end
    from_start = dc.evaluate(deal()).payback_years[0]
    from_output = dc.evaluate(deal(valuation__payback_from="first_production")).payback_years[0]
    assert from_start == pytest.approx(1 + 100 / 90)
    assert from_output == pytest.approx(from_start - 1)  # output starts a year after the start


# ----------------------------------------------------------------------------------- direct lines
def test_lines_given_directly_take_their_kinds_place() -> None:
    d = deal(
        lines={
            "road_toll": {
                "kind": "operating_cost",
                "usd_per_year": {2031: 1_000.0, 2033: 2_000.0, 2034: 0.0},
            },
            "offsite": {"kind": "selling_charge", "usd_per_year": 500.0},
            "salvage": {"kind": "salvage", "usd_per_year": {2034: 4_000.0}},
            "wc": {"kind": "working_capital", "usd_per_year": {2031: 3_000.0, 2032: 0.0, 2034: -3_000.0}},
        },
        fiscal={"income_tax_rate": 0.5, "depreciation_years": 1},
    )
    v = dc.evaluate(d)
    assert line(v, "road_toll [USD]") == [0, -1_000, -1_000, -2_000, 0]
    assert line(v, "offsite [USD]") == [0, -500, -500, -500, -500]  # a number: from first production
    assert line(v, "salvage [USD]") == [0, 0, 0, 0, 4_000]
    assert line(v, "wc [USD]") == [0, -3_000, 0, 0, 3_000]
    ebitda = v.table()["EBITDA [USD]"].tolist()
    assert ebitda == pytest.approx([0, 90_000 - 1_500, 90_000 - 1_500, 90_000 - 2_500, 90_000 - 500])
    # tax at 50 % on EBITDA less depreciation (capex 100,000 written off in 2031) plus salvage
    # (the assets are written off, so the proceeds are all taxable); working capital is not taxed
    taxable = [0, 0, 88_500 - 11_500, 87_500, 89_500 + 4_000]  # 2031: 88,500 - 100,000 carried
    assert line(v, "Income tax [USD]") == pytest.approx([-0.5 * x for x in taxable])


def test_a_negative_amount_is_refused_except_for_working_capital() -> None:
    with pytest.raises(ValueError, match="an operating_cost line takes amounts of 0 or more"):
        deal(lines={"x": {"kind": "operating_cost", "usd_per_year": -1.0}})


def test_an_nsr_royalty_is_charged_net_of_selling_charges() -> None:
    d = deal(
        fiscal={"royalty_rate": 0.10, "royalty_base": "net_smelter_return"},
        lines={"offsite": {"kind": "selling_charge", "usd_per_year": 10_000.0}},
    )
    assert line(dc.evaluate(d), "Royalty [USD]") == [0, -8_000, -8_000, -8_000, -8_000]  # (90 - 10) x 10 %


# ------------------------------------------------------------------------------------------ tables
def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


TABLE_DEAL = """
name: table
valuation: {start_year: 2030, end_year: 2034, discount_rate: 0.1}
products: {metal: {unit: t}}
price_decks: {base: {metal: 10000}}
phases: {mine: {start_year: 2030, capex_usd: 100000}}
streams: {ore: {phase: mine, product: metal, grade: 0.01, recovery: 0.9}}
tables:
  - file: plan.csv
    scale: 1000
    columns: {Ore kt: streams.ore.ore_tpa}
    source: "a test plan"
    label: assumption
"""


def test_a_mine_plan_from_a_csv_table(tmp_path: Path) -> None:
    _write(tmp_path, "plan.csv", "year,Ore kt,ignored\n2030,0,9\n2031,1,9\n2032,2,9\n2033,2,9\n2034,0,9\n")
    d = dc.load(_write(tmp_path, "deal.yaml", TABLE_DEAL))
    assert d.streams["ore"].ore_tpa == {2030: 0.0, 2031: 1_000.0, 2032: 2_000.0, 2033: 2_000.0, 2034: 0.0}
    assert d.provenance["streams.ore.ore_tpa"].source == "a test plan"
    assert line(dc.evaluate(d), "Revenue: ore [USD]") == [0, 90_000, 180_000, 180_000, 0]
    assert parse_deal(dump_deal(d)) == d  # the values are the deal's own once read


@pytest.mark.parametrize(
    ("csv", "message"),
    [
        ("year,Ore kt\n2030,0\n2031,1,5\n", "plan.csv:3: 3 cells where the header has 2"),
        ('year,Ore kt\n2030,0\n2031,"1,5"\n', "plan.csv:3: column 'Ore kt': '1,5' has a comma"),
        ("year,Ore kt\n2030,0\n2031,\n", "plan.csv:3: column 'Ore kt': empty cell"),
        ("year,Ore kt\n2030,0\n2030,1\n", "plan.csv:3: period 2030 appears twice (also line 2)"),
        ("year,Ore Mt\n2030,0\n", "plan.csv:1: no column 'Ore kt' (did you mean 'Ore Mt'?)"),
        (
            "year,Ore kt\n2034,0\n2035,1\n",
            "plan.csv:3: streams.ore.ore_tpa.2035: 2035 is not one of the periods",
        ),
        (
            "year,Ore kt\n2030,0\n2032,1\n",
            "plan.csv:3: period 2031 is missing (the rows jump from 2030 to 2032)",
        ),
        (
            "year,Ore kt\n2030,0\n2031,-1\n",
            "plan.csv:3: streams.ore.ore_tpa.2031: Input should be greater than",
        ),
    ],
)
def test_a_bad_table_is_one_line_naming_the_csv_line(tmp_path: Path, csv: str, message: str) -> None:
    _write(tmp_path, "plan.csv", csv)
    path = _write(tmp_path, "deal.yaml", TABLE_DEAL)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output


def test_every_problem_of_a_file_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "plan.csv", "year,Ore kt\n2030,0\n2031,1\n")
    # two names that do not resolve: both reported, each with its line
    text = TABLE_DEAL.replace("phase: mine, product: metal", "phase: mien, product: metl")
    result = CliRunner().invoke(main, ["validate", str(_write(tmp_path, "deal.yaml", text))])
    assert result.exit_code == 2
    lines = [x for x in result.output.splitlines() if x.startswith("error: ")]
    assert len(lines) == 2, result.output
    assert "deal.yaml:7: streams.ore.phase: 'mien' is not a phase (did you mean 'mine'?)" in lines[0]
    assert "deal.yaml:7: streams.ore.product: 'metl' is not a product (did you mean 'metal'?)" in lines[1]
    # two values of the wrong kind: both reported too
    text = TABLE_DEAL.replace("grade: 0.01", "grade: 1.5").replace(
        "discount_rate: 0.1", "discount_rate: high"
    )
    result = CliRunner().invoke(main, ["validate", str(_write(tmp_path, "deal.yaml", text))])
    lines = [x for x in result.output.splitlines() if x.startswith("error: ")]
    assert len(lines) == 2 and "valuation.discount_rate" in lines[0] and "streams.ore.grade" in lines[1]


# ------------------------------------------------------------------------------- material balance
def test_a_refinery_fed_by_two_own_concentrates_and_bought_feed() -> None:
    d = deal(
        phases={
            "mine": {"start_year": 2030, "capex_usd": 100_000.0},
            "refinery": {"start_year": 2031, "capex_usd": 50_000.0, "ramp_up": [0.5]},
        },
        streams={
            "a": {"phase": "mine", "product": "metal", "ore_tpa": 1_000.0, "grade": 0.01, "recovery": 0.9},
            "b": {"phase": "mine", "product": "metal", "recovered_units_per_year": 4.0},
            "ref": {
                "phase": "refinery",
                "product": "metal",
                "capacity_units_per_year": 18.0,
                "feed": {"sources": ["a", "b"], "recovery": 0.9, "purchase": {"price_fraction": 0.7}},
                "payable_fraction": 1.0,
            },
        },
    )
    v = dc.evaluate(d)
    mb = v.material_balance()
    # the refinery runs from 2032: needs 9 t then 20 t of feed (capacity x ramp / 0.9)
    # a recovers 9 t a year, b states 4 t; the refinery runs from 2032 and needs 18 x 0.5 / 0.9 =
    # 10 t of feed, then 20 t: a's 9 first, then b's, then 7 t bought
    assert mb.loc[("a", "fed to ref", "t")].tolist() == pytest.approx([0, 0, 9, 9, 9])
    assert mb.loc[("b", "fed to ref", "t")].tolist() == pytest.approx([0, 0, 1, 4, 4])
    assert mb.loc[("b", "sold", "t")].tolist() == pytest.approx([0, 4, 3, 0, 0])
    assert mb.loc[("ref", "bought", "t")].tolist() == pytest.approx([0, 0, 0, 7, 7])
    assert mb.loc[("ref", "made", "t")].tolist() == pytest.approx([0, 0, 9, 18, 18])
    # money: bought feed at 70 % of 10,000 per t; a sells nothing once the refinery runs
    assert line(v, "Purchased feed [USD]") == [0, 0, 0, -49_000, -49_000]
    assert line(v, "Revenue: a [USD]") == [0, 90_000, 0, 0, 0]
    assert line(v, "Revenue: b [USD]") == [0, 40_000, 30_000, 0, 0]
    assert line(v, "Revenue: ref [USD]") == [0, 0, 90_000, 180_000, 180_000]


# ---------------------------------------------------------------- what a review of the model found
def test_an_s_by_t_override_of_a_single_capex_or_closure_is_the_amounts_by_year() -> None:
    d = deal(phases__mine__capex_schedule=[0.5, 0.5], closure={"cost_usd": 5_000.0})
    over = {
        "phases.mine.capex_usd": np.array([[30e3, 30e3, 40e3, 0, 0]]),
        "closure.cost_usd": np.array([[0, 0, 0, 3e3, 3e3]]),
    }
    t = dc.evaluate(d, overrides=over, keep_ledger=True).table()
    assert t["Initial capex [USD]"].tolist() == [-30e3, -30e3, -40e3, 0, 0]
    assert t["Closure [USD]"].tolist() == [0, 0, 0, -3e3, -3e3]
    assert t["Depreciation [USD]"].sum() == pytest.approx(100e3)


def test_a_factor_given_by_year_holds_its_first_value_before_it() -> None:
    # an availability, a recovery or a unit cost from 2033 on is that value before 2033 too, not 0
    late = dc.evaluate(deal(operations={"availability": {2033: 0.8}}))
    assert line(late, "Revenue: ore [USD]") == [0, 72_000, 72_000, 72_000, 72_000]
    grade = dc.evaluate(deal(streams__ore__concentrate_grade={2033: 0.25}))
    assert line(grade, "Revenue: ore [USD]")[1] == 90_000


def test_lines_of_a_phase_not_built_are_not_spent() -> None:
    d = deal(
        phases__expansion={"start_year": 2031, "capex_usd": 0.0, "gate": {"go": False}},
        lines={
            "exp_capex": {
                "kind": "initial_capex",
                "phase": "expansion",
                "usd_per_year": {2031: 80.0, 2032: 0.0},
            }
        },
    )
    assert line(dc.evaluate(d), "exp_capex [USD]") == [0, 0, 0, 0, 0]


def test_overheads_given_by_year_start_in_their_first_year() -> None:
    d = deal(overheads={"g": {"usd_per_year": {2030: 4_000.0, 2032: 2_000.0}}})
    assert line(dc.evaluate(d), "Overheads [USD]") == [-4_000, -4_000, -2_000, -2_000, -2_000]


def test_capital_is_written_off_only_once_it_is_spent() -> None:
    # 60 spent before production and 40 in the second production year: the 40 is written off
    # from when it is spent, never before
    d = deal(
        phases__mine__capex_usd={2030: 60_000.0, 2033: 40_000.0}, phases__mine__production_start_year=2031
    )
    t = dc.evaluate(d, keep_ledger=True).table()
    spent = np.cumsum(-t["Initial capex [USD]"].to_numpy())
    assert (np.cumsum(t["Depreciation [USD]"].to_numpy()) <= spent + 1e-9).all()


def test_a_price_list_does_not_move_when_a_phase_is_not_built() -> None:
    d = deal(
        price_decks__base__metal=[10_000.0, 12_000.0],
        phases__first={"start_year": 2030, "capex_usd": 0.0, "production_start_year": 2030},
        streams__extra={"phase": "first", "product": "metal", "ore_tpa": 1.0, "grade": 0.01},
    )
    built = dc.evaluate(d, keep_ledger=True).table()["Revenue: ore [USD]"].tolist()
    dropped = (
        dc.evaluate(with_changes(d, {"phases.first.gate.go": False}), keep_ledger=True)
        .table()["Revenue: ore [USD]"]
        .tolist()
    )
    assert built == dropped  # the ore stream's prices are the same with or without the first phase


def test_a_delay_moves_a_plan_given_by_year() -> None:
    plan = {2031: 1_000.0, 2033: 2_000.0}
    on_time = dc.evaluate(deal(streams__ore__ore_tpa=plan))
    late = dc.evaluate(deal(streams__ore__ore_tpa=plan, phases__mine__delay_years=1))
    assert line(on_time, "Revenue: ore [USD]") == [0, 90_000, 90_000, 180_000, 180_000]
    assert line(late, "Revenue: ore [USD]") == [0, 0, 90_000, 90_000, 180_000]


def test_an_nsr_royalty_is_never_a_payment_to_the_company() -> None:
    # selling charges after the mine stops would make the NSR negative: the royalty is then 0
    d = deal(
        streams__ore__ore_tpa={2031: 1_000.0, 2033: 0.0},
        fiscal={"royalty_rate": 0.05, "royalty_base": "net_smelter_return"},
        lines={"offsite": {"kind": "selling_charge", "usd_per_year": 500.0, "start_year": 2031}},
    )
    assert max(line(dc.evaluate(d), "Royalty [USD]")) <= 0.0


def test_capital_given_as_a_line_counts_for_the_parties() -> None:
    # the same project with its capex in the phase or as a line of the phase: the owners' cash
    # and the debt sized on capex agree
    phase = deal(
        phases__mine__capex_usd=100_000.0,
        finance={"debt": {"bank": {"share_of_capex": 0.5, "interest_rate": 0.08, "tenor_years": 3}}},
    )
    as_line = deal(
        phases__mine__capex_usd=0.0,
        lines={
            "capex": {"kind": "initial_capex", "phase": "mine", "usd_per_year": {2030: 100_000.0, 2031: 0.0}}
        },
        finance={"debt": {"bank": {"share_of_capex": 0.5, "interest_rate": 0.08, "tenor_years": 3}}},
    )
    a, b = dc.evaluate(phase), dc.evaluate(as_line)
    assert b.values["debt_usd"][0] == pytest.approx(a.values["debt_usd"][0])
    for p in phase.party_names():
        assert b.values[f"{p}.npv_usd"][0] == pytest.approx(
            a.values[f"{p}.npv_usd"][0], rel=1e-9, abs=1e-6
        ), p


def test_a_grade_in_per_cent_is_caught_by_its_concentrate() -> None:
    with pytest.raises(ValueError, match=r"the ore grade 0\.62 is above the concentrate grade 0\.26"):
        deal(streams__ore__grade=0.62, streams__ore__concentrate_grade=0.26)


def test_capital_that_resumes_after_the_plan_starts_is_refused() -> None:
    # a new user's mine plan from 2031 with a late capital amount in 2033: production would start
    # after 2033 and the plan's first years would be lost without a word
    with pytest.raises(ValueError, match=r"gives output in 2031, but phase mine produces only from 2034"):
        deal(
            phases__mine__capex_usd={2030: 90_000.0, 2033: 10_000.0},
            streams__ore__ore_tpa={2031: 1_000.0},
        )
    # with the first production stated, the plan stands
    ok = deal(
        phases__mine__capex_usd={2030: 90_000.0, 2033: 10_000.0},
        phases__mine__production_start_year=2031,
        streams__ore__ore_tpa={2031: 1_000.0},
    )
    assert line(dc.evaluate(ok), "Revenue: ore [USD]")[1] == 90_000


def test_a_deal_of_lines_only_starts_with_its_phases() -> None:
    # no streams: lines given as one number run from the phases' first production, not from the
    # last period
    d = deal(
        streams={},
        phases__mine__capex_usd=0.0,
        lines={"sales": {"kind": "revenue", "usd_per_year": 1_000.0}},
    )
    assert line(dc.evaluate(d), "sales [USD]") == [0, 1_000, 1_000, 1_000, 1_000]
