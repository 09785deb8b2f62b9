"""Inputs that used to be taken silently or end in a traceback, each refused with a clear error.

- ``--set PATH=NUMBER`` and a scenario's ``set: {PATH: NUMBER}`` on a schedule the file gives
  year by year (or as a list) used to replace every year with that number, where an override of
  the same path scales it;
- an (S, T) override of a whole schedule beside an override of one of its years ignored the year;
- a processing stream fed a product in another unit counted tonnes as kilograms;
- a valuation point that is not a period (0 in study numbering) or far from the periods, a date
  with no calendar, and an exchange-rate path keyed by a non-period were bare ValueErrors.

The small deal is the one of tests/test_general_model.py: one phase built in 2030, 1,000 t of ore
at 1 % metal, 90 % recovery, 10,000 US$/t.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.io import load_deal, parse_deal
from dealcalc.models import Deal
from dealcalc.params import Scenarios, apply_scenario, with_changes

ROOT = Path(__file__).resolve().parents[1]

BASE: dict[str, Any] = {
    "name": "hardening",
    "valuation": {"start_year": 2030, "end_year": 2034, "discount_rate": 0.10},
    "products": {"metal": {"unit": "t"}},
    "price_decks": {"base": {"metal": 10_000.0}},
    "phases": {"mine": {"start_year": 2030, "capex_usd": 100_000.0}},
    "streams": {
        "ore": {"phase": "mine", "product": "metal", "ore_tpa": 1_000.0, "grade": 0.01, "recovery": 0.9}
    },
}

#: The same deal in study numbering: periods -2, -1, 1, ..., 5 (no year 0), no calendar.
STUDY: dict[str, Any] = {
    **BASE,
    "valuation": {"start_year": -2, "end_year": 5, "year_zero": False, "discount_rate": 0.10},
    "phases": {"mine": {"start_year": -2, "capex_usd": 100_000.0}},
}


def data(base: dict[str, Any] = BASE, **changes: Any) -> dict[str, Any]:
    """``base`` with ``a__b__c=value`` changes (keys made as needed)."""
    out = copy.deepcopy(base)
    for path, value in changes.items():
        node = out
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return out


def deal(base: dict[str, Any] = BASE, **changes: Any) -> Deal:
    return Deal.model_validate(data(base, **changes))


def text(base: dict[str, Any] = BASE, **changes: Any) -> str:
    return yaml.safe_dump(data(base, **changes), sort_keys=False)


def write(tmp_path: Path, base: dict[str, Any] = BASE, **changes: Any) -> str:
    path = tmp_path / "deal.yaml"
    path.write_text(text(base, **changes), encoding="utf-8")
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def refused(source: str, field: str, words: str) -> dc.InputError:
    """The error ``parse_deal(source)`` raises, checked to name the field and its line."""
    with pytest.raises(dc.InputError) as info:
        parse_deal(source, source="deal.yaml")
    errors = getattr(info.value, "errors", [info.value])
    hits = [e for e in errors if e.field == field and words in e.message]
    assert hits, str(info.value)
    assert hits[0].source == "deal.yaml" and hits[0].line is not None, str(hits[0])
    return hits[0]


BY_YEAR = {2031: 1_000.0, 2033: 2_000.0}


# ------------------------------------------------- 1. one number set over a schedule by year
class TestSetNumberOverSchedule:
    def test_set_refuses_a_number_over_a_schedule_given_by_year(self, tmp_path: Path) -> None:
        file = write(tmp_path, streams__ore__ore_tpa=BY_YEAR)
        code, out, err = run("npv", file, "--set", "streams.ore.ore_tpa=1.1")
        assert code == 2 and out == ""
        assert "streams.ore.ore_tpa: --set: the file gives this year by year" in err
        assert "--set streams.ore.ore_tpa.2031=V" in err  # one year
        assert "scale: {streams.ore.ore_tpa: F}" in err  # every year
        assert "write the whole mapping" in err
        assert "Traceback" not in err

    def test_set_refuses_a_number_over_a_list(self, tmp_path: Path) -> None:
        file = write(tmp_path, streams__ore__ore_tpa=[500.0, 1_000.0])
        code, _, err = run("npv", file, "--set", "streams.ore.ore_tpa=1.1")
        assert code == 2 and "as a list over the production years" in err and "write the whole list" in err

    def test_a_scenario_set_is_refused_by_validate_and_npv(self, tmp_path: Path) -> None:
        file = write(
            tmp_path,
            streams__ore__ore_tpa=BY_YEAR,
            scenarios={"flat": {"set": {"streams.ore.ore_tpa": 1.1}}},
        )
        for args in (("validate", file), ("npv", file, "--scenario", "flat")):
            code, _, err = run(*args)
            assert code == 2, args
            assert "scenarios.flat.set.streams.ore.ore_tpa: the file gives this year by year" in err
            assert "set: {streams.ore.ore_tpa.2031: V}" in err
        assert run("npv", file)[0] == 0  # the base case is fine

    def test_a_wildcard_set_is_refused_where_it_meets_a_schedule_by_year(self) -> None:
        d = deal(phases__mine__capex_usd={2030: 60_000.0, 2031: 40_000.0})
        with pytest.raises(dc.InputError, match="year by year") as info:
            with_changes(d, {"phases.*.capex_usd": 5.0}, origin="--set")
        assert info.value.field == "phases.mine.capex_usd"

    def test_python_with_changes_refuses_it_too(self) -> None:
        with pytest.raises(dc.InputError, match="would replace every year"):
            with_changes(deal(streams__ore__ore_tpa=BY_YEAR), {"streams.ore.ore_tpa": 1.1})

    def test_what_the_message_suggests_works(self, tmp_path: Path) -> None:
        d = deal(streams__ore__ore_tpa=BY_YEAR)
        # one year: --set PATH.YEAR=V is the file's value for that year
        one = with_changes(d, {"streams.ore.ore_tpa.2031": 1_500.0}, origin="--set")
        assert one.streams["ore"].ore_tpa == {2031: 1_500.0, 2033: 2_000.0}
        # scale: a scenario's scale: equals an override of the whole schedule (a factor)
        scaled = with_changes(d, scale={"streams.ore.ore_tpa": 1.1}, origin="scenario 's'")
        by_override = dc.evaluate(d, overrides={"streams.ore.ore_tpa": [1.1]}).npv_usd[0]
        assert dc.evaluate(scaled).npv_usd[0] == pytest.approx(by_override, rel=1e-12)
        # the whole mapping, and a list, may still replace it
        whole = with_changes(d, {"streams.ore.ore_tpa": {2031: 700.0}}, origin="--set")
        assert whole.streams["ore"].ore_tpa == {2031: 700.0}
        assert with_changes(d, {"streams.ore.ore_tpa": [700.0]}).streams["ore"].ore_tpa == [700.0]
        file = write(tmp_path, streams__ore__ore_tpa=BY_YEAR)
        assert run("npv", file, "--set", "streams.ore.ore_tpa.2031=1500")[0] == 0
        assert run("npv", file, "--set", "streams.ore.ore_tpa={2031: 700}")[0] == 0

    def test_a_schedule_given_as_one_number_still_takes_a_number(self, tmp_path: Path) -> None:
        d = deal()
        changed = with_changes(d, {"streams.ore.ore_tpa": 2_000.0}, origin="--set")
        assert changed.streams["ore"].ore_tpa == 2_000.0
        file = write(tmp_path)
        code, out, _ = run("npv", file, "--set", "streams.ore.ore_tpa=2000", "--json")
        assert code == 0
        expected = dc.evaluate(changed).npv_usd[0]
        assert json.loads(out)["metrics"]["npv_usd"] == pytest.approx(expected, rel=1e-12)

    def test_validate_paths_says_what_set_takes(self, tmp_path: Path) -> None:
        file = write(tmp_path, streams__ore__ore_tpa=BY_YEAR, streams__ore__grade=[0.01, 0.02])
        code, out, _ = run("validate", file, "--paths")
        assert code == 0
        lines = {line.split()[0]: line for line in out.splitlines()}
        assert "--set streams.ore.ore_tpa.YEAR=V sets one year" in lines["streams.ore.ore_tpa"]
        assert "multiplies every year" in lines["streams.ore.ore_tpa"]
        assert "--set takes a whole list" in lines["streams.ore.grade"]


# ------------------------------------- 2. a whole schedule (S, T) beside one of its years
class TestWholeScheduleAndItsYear:
    def test_refused_in_either_order(self) -> None:
        d = deal(streams__ore__ore_tpa=BY_YEAR)
        whole = np.full((2, d.periods.size), 1_000.0)
        for overrides in (
            {"streams.ore.ore_tpa": whole, "streams.ore.ore_tpa.2031": [5.0]},
            {"streams.ore.ore_tpa.2031": [5.0, 6.0], "streams.ore.ore_tpa": whole},
        ):
            with pytest.raises(dc.InputError, match="which the whole array already gives") as info:
                Scenarios.build(d, overrides)
            assert info.value.field == "streams.ore.ore_tpa"
            assert "streams.ore.ore_tpa.2031" in str(info.value)
            with pytest.raises(dc.InputError, match="already gives"):
                dc.evaluate(d, overrides=overrides)

    def test_a_factor_beside_a_year_and_either_alone_are_accepted(self) -> None:
        d = deal(streams__ore__ore_tpa=BY_YEAR)
        whole = np.full((1, d.periods.size), 1_000.0)
        assert Scenarios.build(d, {"streams.ore.ore_tpa": whole}).n == 1
        assert Scenarios.build(d, {"streams.ore.ore_tpa.2031": [5.0, 6.0]}).n == 2
        both = Scenarios.build(d, {"streams.ore.ore_tpa": [1.1, 1.2], "streams.ore.ore_tpa.2031": [5.0]})
        assert both.n == 2  # the year is set, then every year scaled: both are used
        # another schedule's year is no conflict
        other = deal(streams__ore__ore_tpa=BY_YEAR, price_decks__base__metal={2031: 9_000.0})
        got = Scenarios.build(other, {"streams.ore.ore_tpa": whole, "price_decks.base.metal.2031": [1.0]})
        assert set(got.overrides) == {"streams.ore.ore_tpa", "price_decks.base.metal.2031"}


# --------------------------------------------------------- 3. feed in another unit
REFINERY = {
    "phase": "mine",
    "product": "oxide",
    "capacity_units_per_year": 1_000.0,
    "feed": {"product": "metal", "purchase": {"price_fraction": 0.5}},
}


class TestFeedUnits:
    def test_a_feed_in_another_unit_is_refused_with_both_units(self) -> None:
        source = text(
            products={"metal": {"unit": "t"}, "oxide": {"unit": "kg"}, "salt": {"unit": "kg"}},
            price_decks={"base": {"metal": 10_000.0, "oxide": 50.0, "salt": 1.0}},
            streams__plant=REFINERY,
        )
        err = refused(source, "streams.plant.feed.product", "units are not converted")
        assert "'metal' is counted in t" in err.message and "'oxide' in kg" in err.message
        assert "products in kg: salt" in err.message  # a product in the same unit to feed

    def test_without_a_product_in_that_unit_it_says_to_declare_one(self) -> None:
        source = text(
            products={"metal": {"unit": "t"}, "oxide": {"unit": "kg"}},
            price_decks={"base": {"metal": 10_000.0, "oxide": 50.0}},
            streams__plant=REFINERY,
        )
        err = refused(source, "streams.plant.feed.product", "feed a product in kg")
        assert "declare the feed as a product in kg" in err.message

    def test_a_feed_in_the_same_unit_is_valued(self) -> None:
        d = deal(
            products={"metal": {"unit": "t"}, "oxide": {"unit": "t"}},
            price_decks={"base": {"metal": 10_000.0, "oxide": 20_000.0}},
            streams__plant=REFINERY,
        )
        assert np.isfinite(dc.evaluate(d).npv_usd[0])

    def test_a_scenario_that_changes_a_unit_is_refused_too(self) -> None:
        d = deal(
            products={"metal": {"unit": "t"}, "oxide": {"unit": "t"}},
            price_decks={"base": {"metal": 10_000.0, "oxide": 20_000.0}},
            streams__plant=REFINERY,
        )
        with pytest.raises(dc.InputError, match="units are not converted"):
            with_changes(d, {"products.oxide.unit": "kg"}, origin="--set")

    @pytest.mark.parametrize(
        "example",
        sorted(
            str(p.relative_to(ROOT))
            for pattern in ("examples/*.yaml", "examples/mine_plan/*.yaml", "examples/published/*.yaml")
            for p in ROOT.glob(pattern)
        ),
    )
    def test_the_bundled_examples_still_load_and_validate(self, example: str) -> None:
        d = load_deal(ROOT / example)
        for name in [None, *d.scenarios]:
            apply_scenario(d, name)
        code, _, err = run("validate", str(ROOT / example))
        assert code == 0, err


# ------------------------------------------- 4. valuation points, dates and calendar years
class TestValuationPointAndDates:
    def test_valuation_point_0_in_study_numbering(self, tmp_path: Path) -> None:
        source = text(STUDY, valuation__valuation_point=0)
        err = refused(source, "valuation.valuation_point", "no period 0")
        assert source.splitlines()[err.line - 1].strip() == "valuation_point: 0"  # its own line
        assert "valuation_point: 1" in err.message
        code, out, stderr = run("npv", write(tmp_path, STUDY, valuation__valuation_point=0))
        assert code == 2 and out == ""
        assert "valuation.valuation_point: with year_zero: false there is no period 0" in stderr
        assert "Traceback" not in stderr

    def test_a_label_far_from_the_periods(self, tmp_path: Path) -> None:
        err = refused(text(valuation__valuation_point=2100), "valuation.valuation_point", "more than 5 years")
        assert "2100 is more than 5 years from the periods 2030-2034" in err.message
        # a calendar year given to study-numbered periods: 2026 is far from -2...5
        refused(text(STUDY, valuation__valuation_point=2026), "valuation.valuation_point", "more than 7")
        code, _, stderr = run("npv", write(tmp_path, valuation__valuation_point=2100))
        assert code == 2 and "2100 is more than 5 years" in stderr

    @pytest.mark.parametrize("point", [2030, 2034, 2035, 2039, 2025, "start", "end"])
    def test_labels_near_the_periods_are_accepted(self, point: Any) -> None:
        assert np.isfinite(dc.evaluate(deal(valuation__valuation_point=point)).npv_usd[0])

    def test_a_study_label_is_accepted(self) -> None:
        for point in (-2, -1, 1, 5, 6):
            assert np.isfinite(dc.evaluate(deal(STUDY, valuation__valuation_point=point)).npv_usd[0])

    def test_a_valuation_date_needs_calendar_years(self, tmp_path: Path) -> None:
        point = dt.date(2026, 7, 1)
        err = refused(
            text(STUDY, valuation__valuation_point=point), "valuation.valuation_point", "no calendar years"
        )
        assert "set valuation.calendar_start_year, the calendar year of period -2" in err.message
        code, _, stderr = run("npv", write(tmp_path, STUDY, valuation__valuation_point=point))
        assert code == 2 and "have no calendar years to place a date in" in stderr
        dated = deal(STUDY, valuation__valuation_point=point, valuation__calendar_start_year=2026)
        assert dated.valuation.valuation_offset() == pytest.approx(181 / 365)

    def test_a_date_far_from_the_periods(self) -> None:
        err = refused(
            text(valuation__valuation_point=dt.date(2100, 1, 1)), "valuation.valuation_point", "more than"
        )
        assert "2100-01-01 is more than 5 years from the periods (2030-2034)" in err.message
        assert np.isfinite(dc.evaluate(deal(valuation__valuation_point=dt.date(2036, 1, 1))).npv_usd[0])

    def test_dated_tariffs_need_calendar_years(self, tmp_path: Path) -> None:
        trade = {
            "destinations": {"us": {"schedule": "s"}},
            "schedules": {
                "s": {
                    "ad_valorem": {dt.date(2027, 1, 1): 0.1},
                    "products": {"metal": {"refined": {"ad_valorem": {dt.date(2028, 1, 1): 0.2}}}},
                }
            },
        }
        changes = {"trade": trade, "streams__ore__sales_shares": {"us": 1.0}}
        source = text(STUDY, **changes)
        refused(source, "trade.schedules.s.ad_valorem", "no calendar years")
        refused(source, "trade.schedules.s.products.metal.refined.ad_valorem", "no calendar years")
        code, _, stderr = run("npv", write(tmp_path, STUDY, **changes))
        assert code == 2 and "trade.schedules.s.ad_valorem: the periods -2...-1, 1...5 have no" in stderr
        placed = deal(STUDY, valuation__calendar_start_year=2026, **changes)
        assert np.isfinite(dc.evaluate(placed).npv_usd[0])
        # a schedule without dates needs no calendar
        assert np.isfinite(
            dc.evaluate(deal(STUDY, trade={"destinations": {"us": {}}, "schedules": {"s": {}}})).npv_usd[0]
        )

    def test_local_currency_path_keys_are_periods(self, tmp_path: Path) -> None:
        for key in (0, 9, -5):
            lc = {"opex_share": 0.5, "path": {1: 300.0, key: 350.0}}
            err = refused(
                text(STUDY, local_currency=lc), f"local_currency.path.{key}", "not one of the periods"
            )
            assert err.message == f"{key} is not one of the periods -2...-1, 1...5"
        lc = {"opex_share": 0.5, "path": {0: 300.0}}
        code, _, stderr = run("npv", write(tmp_path, STUDY, local_currency=lc))
        assert code == 2 and "local_currency.path.0: 0 is not one of the periods" in stderr
        ok = deal(STUDY, local_currency={"opex_share": 0.5, "path": {-2: 281.0, 3: 350.0}})
        assert np.isfinite(dc.evaluate(ok).npv_usd[0])

    def test_set_and_scenarios_get_the_same_checks(self, tmp_path: Path) -> None:
        file = write(tmp_path, STUDY, scenarios={"zero": {"set": {"valuation.valuation_point": 0}}})
        code, _, stderr = run("validate", file)
        where = "scenarios.zero.set.valuation.valuation_point"  # the scenario's entry
        assert code == 2 and f"{where}: with year_zero: false there is no period 0" in stderr
        code, _, stderr = run("npv", write(tmp_path, STUDY), "--set", "valuation.valuation_point=2026-07-01")
        assert code == 2 and "--set: the periods -2...-1, 1...5 have no calendar years" in stderr


# ----------------------------------------------- 5. a direct line labelled like a ledger line
def test_validate_refuses_a_line_labelled_like_a_ledger_line(tmp_path: Path) -> None:
    lines = {"x": {"kind": "operating_cost", "usd_per_year": 1, "label": "Overheads"}}
    code, out, err = run("validate", write(tmp_path, lines=lines))
    assert code == 2 and "valid" not in out
    assert "lines.x.label" in err and "Traceback" not in err
