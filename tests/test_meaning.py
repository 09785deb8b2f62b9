"""Issue 19, "No silent mistakes", part 1: meaning, not only type.

A value of the right type can still be a mistake that would change the numbers without a word.
Each is refused with the file, the line and the field:

1. a rate or a share above 1 is a per cent typed for a fraction: ``9 is 900 %; did you mean 0.09?``;
2. a number is never ``true`` or ``false`` (``royalty_rate: true`` used to be a 100 % royalty);
3. years come in order: a gate before its phase is built, production after construction starts,
   ends after starts;
4. the tranches that fund a phase lend at most all of its capex;
5. a pair of uncertain inputs is correlated once;
6. a problem a named scenario makes names the scenario's entry (``scenarios.S.set.PATH``);
7. an item of a list of sections is a parameter path (``fiscal.levies.L.brackets.0.rate``).

The small deal: one mine built in 2030 (periods 2030-2036), 1,000 t of ore at 1 % metal, 90 %
recovery, 10,000 US$/t.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from pydantic import BaseModel

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.errors import InputErrors
from dealcalc.io import parse_deal
from dealcalc.models import Deal
from dealcalc.models.base import NOT_BOOL
from dealcalc.params import (
    Scenarios,
    apply_scenario,
    check_range,
    get,
    limits,
    numeric_leaves,
    paths,
    schedule_paths,
    with_changes,
)

ROOT = Path(__file__).resolve().parents[1]

BASE: dict[str, Any] = {
    "name": "meaning",
    "valuation": {"start_year": 2030, "end_year": 2036, "discount_rate": 0.10},
    "products": {"metal": {"unit": "t"}},
    "price_decks": {"base": {"metal": 10_000.0}},
    "phases": {"mine": {"start_year": 2030, "capex_usd": 100_000.0}},
    "streams": {
        "ore": {"phase": "mine", "product": "metal", "ore_tpa": 1_000.0, "grade": 0.01, "recovery": 0.9}
    },
}

#: The same deal with a stack of levies: a flat royalty, a sliding-scale royalty, a graduated
#: income tax with a holiday, its cap and depletion, a minimum tax of two alternatives (one by
#: year), and a declining-balance class with a bonus.
STACK: dict[str, Any] = {
    **BASE,
    "fiscal": {
        "levies": {
            "royalty": {"base": "revenue", "rate": 0.05, "line": "royalty"},
            "sliding": {
                "base": "revenue",
                "line": "royalty",
                "scale": {"variable": "price:metal", "points": [[0, 0.01], [5000, 0.02], [20000, 0.04]]},
            },
            "tax": {
                "base": "ebitda - royalties - allowances - depletion",
                "brackets": [{"above": 0, "rate": 0.1}, {"above": 1000, "rate": 0.2}],
                "holiday": {"years": 1, "cap_after": 0.35},
                "depletion": {"percentage": {"metal": 0.15}, "limit_fraction": 0.5},
            },
            "mintax": {
                "alternatives": [
                    {"base": "revenue", "rate": 0.01},
                    {"base": "ebitda", "rate": {2031: 0.02, 2033: 0.03}},
                ]
            },
        },
        "capital_classes": {
            "plant": {
                "method": "declining_balance",
                "rate": 0.25,
                "bonus_fraction": 0.5,
                "takes": ["initial", "sustaining"],
            }
        },
    },
}

#: The small deal with owners, a loan, withholding, a US tariff and a local currency.
FULL: dict[str, Any] = {
    **BASE,
    "valuation": {**BASE["valuation"], "inflation_rate": 0.02},
    "streams": {"ore": {**BASE["streams"]["ore"], "sales_shares": {"us": 0.5}}},
    "trade": {
        "destinations": {"us": {"schedule": "s", "pass_through_fraction": 0.5}},
        "schedules": {"s": {"ad_valorem": {"2031-01-01": 0.1}}},
    },
    "finance": {
        "equity": {"a": {"share": 0.6, "discount_rate": 0.12}, "b": {"share": 0.4}},
        "debt": {"loan": {"share_of_capex": 0.5, "interest_rate": 0.07, "tenor_years": 5}},
        "dividend_withholding_rate": 0.1,
        "discount_rates": {"host_government": 0.05},
    },
    "local_currency": {"depreciation_rate": 0.03, "opex_share": 0.3},
    "fiscal": {"royalty_rate": 0.05, "income_tax_rate": 0.29},
}


def data(base: dict[str, Any] = BASE, **changes: Any) -> dict[str, Any]:
    """``base`` with ``a__b__c=value`` changes (keys made as needed; ``a__0__b`` is a list item)."""
    out = copy.deepcopy(base)
    for path, value in changes.items():
        node: Any = out
        keys = [int(k) if k.isdigit() else k for k in path.split("__")]
        for k in keys[:-1]:
            node = node[k] if isinstance(node, list) else node.setdefault(k, {})
        node[keys[-1]] = value
    return out


def deal(base: dict[str, Any] = BASE, **changes: Any) -> Deal:
    return Deal.model_validate(data(base, **changes))


def text(base: dict[str, Any] = BASE, **changes: Any) -> str:
    return yaml.safe_dump(data(base, **changes), sort_keys=False)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def refused(source: str, field: str, words: str) -> dc.InputError:
    """The error ``parse_deal(source)`` raises at ``field``, checked to name the file and a line
    that holds the field's last key."""
    with pytest.raises(dc.InputError) as info:
        parse_deal(source, source="deal.yaml")
    errors = getattr(info.value, "errors", [info.value])
    hits = [e for e in errors if e.field == field and words in e.message]
    assert hits, str(info.value)
    error = hits[0]
    assert error.source == "deal.yaml" and error.line is not None, str(error)
    last = field.rpartition(".")[2]
    line = source.splitlines()[error.line - 1]
    assert last.isdigit() or last in line, (error.line, line, str(error))
    return error


# ------------------------------------------------------------------ 1. rates are fractions
#: (base, change, field): 9 written where a rate or a share goes. A tariff rate may reach 10
#: (1,000 %), so 9 is one: tests/test_names_and_bounds.py checks 25 there.
PERCENT_CASES = [
    (BASE, "valuation__discount_rate", "valuation.discount_rate"),
    (FULL, "valuation__inflation_rate", "valuation.inflation_rate"),
    (FULL, "finance__debt__loan__interest_rate", "finance.debt.loan.interest_rate"),
    (FULL, "finance__debt__loan__share_of_capex", "finance.debt.loan.share_of_capex"),
    (FULL, "finance__debt__loan__upfront_fee", "finance.debt.loan.upfront_fee"),
    (FULL, "finance__discount_rates__host_government", "finance.discount_rates.host_government"),
    (FULL, "finance__equity__a__discount_rate", "finance.equity.a.discount_rate"),
    (FULL, "finance__equity__a__share", "finance.equity.a.share"),
    (FULL, "finance__dividend_withholding_rate", "finance.dividend_withholding_rate"),
    (FULL, "finance__dividend_withholding_rate_untaxed", "finance.dividend_withholding_rate_untaxed"),
    (FULL, "local_currency__depreciation_rate", "local_currency.depreciation_rate"),
    (FULL, "local_currency__opex_share", "local_currency.opex_share"),
    (FULL, "trade__destinations__us__pass_through_fraction", "trade.destinations.us.pass_through_fraction"),
    (FULL, "streams__ore__sales_shares__us", "streams.ore.sales_shares.us"),
    (FULL, "fiscal__royalty_rate", "fiscal.royalty_rate"),
    (FULL, "fiscal__income_tax_rate", "fiscal.income_tax_rate"),
    (FULL, "fiscal__super_tax_rate", "fiscal.super_tax_rate"),
    (FULL, "fiscal__minimum_tax_rate", "fiscal.minimum_tax_rate"),
    (FULL, "fiscal__alternative_tax_rate", "fiscal.alternative_tax_rate"),
    (STACK, "fiscal__levies__royalty__rate", "fiscal.levies.royalty.rate"),
    (STACK, "fiscal__levies__tax__brackets__1__rate", "fiscal.levies.tax.brackets.1.rate"),
    (STACK, "fiscal__levies__mintax__alternatives__0__rate", "fiscal.levies.mintax.alternatives.0.rate"),
    (STACK, "fiscal__levies__mintax__alternatives__1__rate", "fiscal.levies.mintax.alternatives.1.rate.2033"),
    (STACK, "fiscal__levies__sliding__scale__points__1", "fiscal.levies.sliding.scale.points.1.1"),
    (STACK, "fiscal__levies__tax__holiday__cap_after", "fiscal.levies.tax.holiday.cap_after"),
    (STACK, "fiscal__levies__tax__losses__cap_fraction", "fiscal.levies.tax.losses.cap_fraction"),
    (
        STACK,
        "fiscal__levies__tax__depletion__percentage__metal",
        "fiscal.levies.tax.depletion.percentage.metal",
    ),
    (STACK, "fiscal__levies__tax__depletion__limit_fraction", "fiscal.levies.tax.depletion.limit_fraction"),
    (STACK, "fiscal__capital_classes__plant__rate", "fiscal.capital_classes.plant.rate"),
    (STACK, "fiscal__capital_classes__plant__bonus_fraction", "fiscal.capital_classes.plant.bonus_fraction"),
    (BASE, "streams__ore__recovery", "streams.ore.recovery"),
    (BASE, "streams__ore__grade", "streams.ore.grade"),
    (BASE, "operations__availability", "operations.availability"),
    (BASE, "phases__mine__gate__probability", "phases.mine.gate.probability"),
]


def _nine(base: dict[str, Any], change: str, field: str) -> str:
    """The file with 9 where ``field`` is (inside a pair, a mapping by date or by year)."""
    if field.endswith(".2033"):
        return text(base, **{change: {2031: 0.02, 2033: 9}})
    if field.endswith(".points.1.1"):
        return text(base, **{change: [5000, 9]})
    return text(base, **{change: 9})


class TestRatesAreFractions:
    @pytest.mark.parametrize(("base", "change", "field"), PERCENT_CASES, ids=[c[2] for c in PERCENT_CASES])
    def test_nine_is_nine_hundred_per_cent(self, base: dict[str, Any], change: str, field: str) -> None:
        assert deal(base).name  # the base deal is valid
        error = refused(_nine(base, change, field), field, "9 is 900 %")
        assert error.message.startswith("9 is 900 %; did you mean 0.09?"), str(error)

    def test_the_cli_names_file_line_and_field(self, tmp_path: Path) -> None:
        source = text(FULL, fiscal__royalty_rate=9)
        file = tmp_path / "deal.yaml"
        file.write_text(source, encoding="utf-8")
        line = 1 + next(i for i, s in enumerate(source.splitlines()) if "royalty_rate" in s)
        code, out, err = run("validate", str(file))
        assert code == 2 and out == ""
        assert f"{file}:{line}: fiscal.royalty_rate: 9 is 900 %; did you mean 0.09?" in err

    def test_a_rate_below_minus_one_is_a_per_cent_too(self) -> None:
        error = refused(text(valuation__discount_rate=-9), "valuation.discount_rate", "-9 is -900 %")
        assert "did you mean -0.09?" in error.message
        # a real rate may be negative, above -1, as before
        assert deal(valuation__discount_rate=-0.5).valuation.discount_rate == -0.5
        refused(text(valuation__discount_rate=-1), "valuation.discount_rate", "greater than -1")

    def test_a_negative_share_is_not_read_as_a_per_cent(self) -> None:
        refused(text(FULL, fiscal__royalty_rate=-5), "fiscal.royalty_rate", "greater than or equal to 0")

    def test_no_suggestion_where_even_the_fraction_would_not_do(self) -> None:
        error = refused(text(FULL, fiscal__royalty_rate=500), "fiscal.royalty_rate", "500 is 50000 %")
        assert "did you mean" not in error.message
        assert "expected a fraction (from 0 to 1)" in error.message

    def test_a_rate_is_at_most_one_now(self) -> None:
        # the discount rate used to go up to 10 (1,000 %)
        error = refused(text(valuation__discount_rate=1.5), "valuation.discount_rate", "1.5 is 150 %")
        assert "did you mean 0.015?" in error.message
        assert deal(valuation__discount_rate=1.0).valuation.discount_rate == 1.0
        assert limits("valuation.discount_rate") == (float(np.nextafter(-1.0, 0.0)), 1.0)
        assert limits("finance.debt.x.interest_rate")[1] == 1.0
        assert limits("local_currency.depreciation_rate")[1] == 1.0

    def test_factors_that_may_exceed_one_are_left_alone(self) -> None:
        loan = {"target_dscr": 1.3, "interest_rate": 0.07, "tenor_years": 5, "repayment": "sculpted"}
        ok = deal(
            STACK,
            phases__mine__ramp_up=[0.5, 1.5],
            finance={"debt": {"loan": loan}},
            fiscal__capital_classes__plant__first_year_factor=1.5,
            fiscal__levies__tax__holiday__years=3.5,
            scenarios={"dear": {"scale": {"phases.*.capex_usd": 1.3}}},
        )
        assert ok.phases["mine"].ramp_up == [0.5, 1.5]
        assert ok.finance.debt["loan"].target_dscr == 1.3
        refused(text(phases__mine__ramp_up=[2.5]), "phases.mine.ramp_up.0", "less than or equal to 2")

    def test_values_no_one_typed_keep_the_plain_message(self) -> None:
        d = deal()
        # an override range (a tornado's +20 % of a recovery of 0.9), a Monte Carlo draw
        with pytest.raises(dc.InputError, match=r"Input should be less than or equal to 1 \(1.08\)"):
            Scenarios.build(d, {"streams.ore.recovery": [0.72, 1.08]})
        with pytest.raises(dc.InputError) as info:
            check_range("fiscal.royalty_rate", np.array([0.03, 1.2]))
        assert "did you mean" not in str(info.value)
        assert "Input should be less than or equal to 1 (1.2)" in str(info.value)
        # a scenario that scales a recovery past 1
        scaled = deal(scenarios={"rich": {"scale": {"streams.ore.recovery": 1.2}}})
        with pytest.raises(dc.InputError) as info:
            apply_scenario(scaled, "rich")
        assert info.value.field == "scenarios.rich.scale.streams.ore.recovery"
        assert info.value.message == "Input should be less than or equal to 1 (1.08)"


# ---------------------------------------------------------------- 2. numbers are not booleans
def _numeric_types(tp: Any, where: str, seen: set[type]) -> Iterator[tuple[str, Any]]:
    """Every number type reachable from ``tp`` (a float or int leaf, with its Annotated
    metadata), with where it is."""
    origin = get_origin(tp)
    if origin is Annotated:
        inner = get_args(tp)[0]
        if inner in (float, int):
            yield where, tp
        else:
            yield from _numeric_types(inner, where, seen)
    elif tp in (float, int):
        yield where, tp
    elif origin in (Union, types.UnionType, list, tuple, dict):
        for k, arg in enumerate(get_args(tp)):
            yield from _numeric_types(arg, f"{where}[{k}]", seen)
    elif isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
        seen.add(tp)
        for name, info in tp.model_fields.items():
            full = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            yield from _numeric_types(full, f"{tp.__name__}.{name}", seen)
    else:
        assert tp in (bool, str, type(None), Any) or origin is Literal or isinstance(tp, type), (where, tp)


class TestNumbersAreNotBooleans:
    def test_every_number_type_of_the_models_refuses_a_boolean(self) -> None:
        found = list(_numeric_types(Deal, "Deal", set()))
        assert len(found) > 100  # a guard against a walk that finds nothing
        bare = [
            where for where, tp in found if get_origin(tp) is not Annotated or NOT_BOOL not in get_args(tp)
        ]
        assert not bare, f"number fields that would read true as 1: {bare}"

    def test_royalty_rate_true_is_refused(self) -> None:
        error = refused(text(FULL, fiscal__royalty_rate=True), "fiscal.royalty_rate", "true is not a number")
        assert "expected a number" in error.message

    @pytest.mark.parametrize(
        ("change", "value", "field"),
        [
            ("streams__ore__ore_tpa", {2031: True}, "streams.ore.ore_tpa.2031"),
            ("streams__ore__ore_tpa", [1000.0, False], "streams.ore.ore_tpa.1"),
            ("phases__mine__capex_usd", True, "phases.mine.capex_usd"),
            ("phases__mine__start_year", True, "phases.mine.start_year"),
            ("phases__mine__delay_years", True, "phases.mine.delay_years"),
            ("phases__mine__ramp_up", [True], "phases.mine.ramp_up.0"),
            ("price_decks__base__metal", True, "price_decks.base.metal"),
            (
                "scenarios",
                {"s": {"scale": {"phases.*.capex_usd": True}}},
                "scenarios.s.scale.phases.*.capex_usd",
            ),
            (
                "uncertainty",
                {"inputs": {"x": {"dist": "normal", "mean": True, "sd": 1.0}}},
                "uncertainty.inputs.x.mean",
            ),
        ],
    )
    def test_booleans_are_refused_everywhere(self, change: str, value: Any, field: str) -> None:
        refused(text(**{change: value}), field, "is not a number")

    def test_yes_is_a_boolean_in_yaml(self) -> None:
        source = text(FULL).replace("royalty_rate: 0.05", "royalty_rate: yes")
        assert "royalty_rate: yes" in source
        refused(source, "fiscal.royalty_rate", "true is not a number")

    def test_every_numeric_parameter_refuses_true_through_set(self) -> None:
        for base in (FULL, STACK):
            d = deal(base)
            for path in numeric_leaves(d):
                if path in schedule_paths(d):
                    continue  # a whole schedule: true over it is "one number over a schedule"
                with pytest.raises(dc.InputError, match="true is not a number"):
                    with_changes(d, {path: True}, origin="--set")

    def test_set_true_on_the_command_line(self, tmp_path: Path) -> None:
        file = tmp_path / "deal.yaml"
        file.write_text(text(FULL), encoding="utf-8")
        code, _, err = run("npv", str(file), "--set", "fiscal.royalty_rate=true")
        assert code == 2 and "fiscal.royalty_rate: --set: true is not a number" in err


# ----------------------------------------------------- 3. dates against the timeline and each other
class TestYearsInOrder:
    def test_a_gate_decided_after_construction_starts(self) -> None:
        error = refused(
            text(phases__mine__start_year=2031, phases__mine__gate__decision_year=2035),
            "phases.mine.gate.decision_year",
            "the gate is decided in 2035, after the phase's construction starts in 2031",
        )
        assert "expected 2031 or earlier" in error.message
        # decided before, or in the year construction starts, or by default
        for year in (2030, 2031, None):
            assert deal(phases__mine__start_year=2031, phases__mine__gate__decision_year=year)

    def test_a_delay_moves_construction_after_the_decision(self) -> None:
        late = deal(phases__mine__start_year=2031, phases__mine__gate__decision_year=2031)
        assert with_changes(late, {"phases.mine.delay_years": 1}).phases["mine"].delay_years == 1

    def test_production_before_the_phase_is_built(self) -> None:
        error = refused(
            text(phases__mine__start_year=2031, phases__mine__production_start_year=2030),
            "phases.mine.production_start_year",
            "2030 is before the phase's start_year 2031: it would produce before it is built",
        )
        assert "expected 2031 or later" in error.message
        assert deal(phases__mine__start_year=2031, phases__mine__production_start_year=2031)

    def test_a_closure_year_outside_the_horizon(self) -> None:
        refused(text(closure={"year": 2040}), "closure.year", "2040 is not one of the periods 2030-2036")

    def test_a_phase_that_ends_before_it_produces(self) -> None:
        # built in 2030-2031, so it first produces in 2032
        two_years = {"phases__mine__capex_schedule": [0.5, 0.5]}
        error = refused(
            text(**two_years, phases__mine__end_year=2031),
            "phases.mine.end_year",
            "the phase ends in 2031, before its first production in 2032",
        )
        assert "expected 2032 or later" in error.message
        assert deal(**two_years, phases__mine__end_year=2032)

    def test_a_stream_that_ends_before_its_phase_produces(self) -> None:
        refused(
            text(phases__mine__capex_schedule=[0.5, 0.5], streams__ore__end_year=2031),
            "streams.ore.end_year",
            "the stream ends in 2031, before its phase mine first produces in 2032",
        )

    def test_an_overhead_that_ends_before_it_starts(self) -> None:
        overhead = {"usd_per_year": 100.0, "start_year": 2034, "end_year": 2032}
        error = refused(
            text(overheads={"ga": overhead}), "overheads.ga.end_year", "2032 is before start_year 2034"
        )
        assert "expected 2034 or later" in error.message
        # without start_year it starts with the first production (2031 here)
        refused(
            text(overheads={"ga": {"usd_per_year": 100.0, "end_year": 2030}}),
            "overheads.ga.end_year",
            "2030 is before the first production in 2031, where it starts, so it would never run",
        )
        assert deal(overheads={"ga": {**overhead, "end_year": 2034}})

    def test_a_line_that_ends_before_it_starts(self) -> None:
        line = {"kind": "operating_cost", "usd_per_year": 100.0, "start_year": 2034, "end_year": 2033}
        refused(text(lines={"toll": line}), "lines.toll.end_year", "2033 is before start_year 2034")
        by_year = {"kind": "operating_cost", "usd_per_year": {2034: 100.0}, "end_year": 2033}
        refused(
            text(lines={"toll": by_year}), "lines.toll.end_year", "2033 is before its first amount (2034)"
        )
        of_phase = {"kind": "operating_cost", "usd_per_year": 100.0, "phase": "mine", "end_year": 2030}
        refused(
            text(lines={"toll": of_phase}), "lines.toll.end_year", "before the first production of phase mine"
        )
        assert deal(lines={"toll": {**line, "end_year": 2034}})

    def test_a_scenario_that_moves_years_out_of_order(self) -> None:
        d = deal(
            phases__mine__gate__decision_year=2030,
            scenarios={"late": {"set": {"phases.mine.start_year": 2029}}},
        )
        with pytest.raises(dc.InputError):
            apply_scenario(d, "late")  # 2029 is not a period
        d = deal(
            phases__mine__start_year=2032,
            phases__mine__gate__decision_year=2031,
            scenarios={"early": {"set": {"phases.mine.start_year": 2030}}},
        )
        with pytest.raises(dc.InputError) as info:
            apply_scenario(d, "early")
        assert info.value.field == "scenarios.early.set.phases.mine.start_year"
        assert info.value.message.startswith("phases.mine.gate.decision_year: the gate is decided in 2031")


# ------------------------------------------------------------------ 4. debt at most the capex
class TestDebtAtMostTheCapex:
    def test_two_tranches_lending_130_per_cent_name_both(self) -> None:
        loans = {
            "senior": {"share_of_capex": 0.8, "interest_rate": 0.07, "tenor_years": 5},
            "eca": {"share_of_capex": 0.5, "interest_rate": 0.05, "tenor_years": 8},
        }
        error = refused(
            text(finance={"debt": loans}),
            "finance.debt.eca.share_of_capex",
            "the tranches that fund phase mine lend 1.3 of its capex (senior 0.8 + eca 0.5)",
        )
        assert "at most 1" in error.message

    def test_tranches_of_different_phases_or_within_the_capex_are_fine(self) -> None:
        two = {
            "phases": {
                "mine": {"start_year": 2030, "capex_usd": 100_000.0},
                "mill": {"start_year": 2031, "capex_usd": 50_000.0},
            }
        }
        loans = {
            "a": {"share_of_capex": 0.8, "interest_rate": 0.07, "tenor_years": 5, "phases": ["mine"]},
            "b": {"share_of_capex": 0.5, "interest_rate": 0.05, "tenor_years": 8, "phases": ["mill"]},
        }
        assert deal(**two, finance={"debt": loans})
        loans["b"]["phases"] = ["mine", "mill"]
        refused(
            text(**two, finance={"debt": loans}), "finance.debt.b.share_of_capex", "fund phase mine lend 1.3"
        )
        loans["b"]["share_of_capex"] = 0.2
        assert deal(**two, finance={"debt": loans})

    def test_a_tranche_sized_by_cover_does_not_count(self) -> None:
        loans = {
            "senior": {"share_of_capex": 0.8, "interest_rate": 0.07, "tenor_years": 5},
            "mezz": {"target_dscr": 1.5, "interest_rate": 0.1, "tenor_years": 5},
        }
        assert deal(finance={"debt": loans})


# ------------------------------------------------------------------ 5. a pair correlated twice
#: Two uncertain inputs.
INPUTS: dict[str, Any] = {
    "price_decks.base.metal": {"dist": "normal", "mean": 10_000.0, "sd": 1_000.0, "low": 0.0},
    "phases.mine.capex_usd": {"dist": "uniform", "low": 90_000.0, "high": 130_000.0},
}


class TestPairCorrelatedOnce:
    @pytest.mark.parametrize(
        "second",
        [
            ["price_decks.base.metal", "phases.mine.capex_usd"],
            ["phases.mine.capex_usd", "price_decks.base.metal"],
        ],
    )
    def test_the_same_pair_twice_in_either_order(self, second: list[str]) -> None:
        pairs = [["price_decks.base.metal", "phases.mine.capex_usd", 0.5], [*second, -0.5]]
        error = refused(
            text(uncertainty={"inputs": INPUTS, "correlations": pairs}),
            "uncertainty.correlations",
            "both correlate",
        )
        assert "[price_decks.base.metal, phases.mine.capex_usd, 0.5] (item 0)" in error.message
        assert f"[{second[0]}, {second[1]}, -0.5] (item 1)" in error.message
        assert "give each pair once" in error.message

    def test_price_paths_too(self) -> None:
        paths_ = {"metal": {"model": "gbm", "volatility": 0.2}, "gold": {"model": "gbm", "volatility": 0.1}}
        two = {"products": {"metal": {"unit": "t"}, "gold": {"unit": "oz"}}}
        two["price_decks"] = {"base": {"metal": 10_000.0, "gold": 2_000.0}}
        pairs = [["metal", "gold", 0.3], ["gold", "metal", 0.3]]
        refused(
            text(**two, uncertainty={"price_paths": paths_, "price_correlations": pairs}),
            "uncertainty.price_correlations",
            "both correlate gold and metal",
        )


# ------------------------------------------------------------------ 6. scenarios name themselves
class TestScenariosNameTheirEntry:
    def test_a_set_names_the_scenario_and_the_entry(self) -> None:
        d = deal(FULL, scenarios={"SPOT": {"set": {"fiscal.royalty_rate": 9}}})
        with pytest.raises(dc.InputError) as info:
            apply_scenario(d, "SPOT")
        assert str(info.value) == "scenarios.SPOT.set.fiscal.royalty_rate: 9 is 900 %; did you mean 0.09?"

    def test_validate_names_the_scenario(self, tmp_path: Path) -> None:
        file = tmp_path / "deal.yaml"
        file.write_text(text(FULL, scenarios={"SPOT": {"set": {"fiscal.royalty_rate": 9}}}), encoding="utf-8")
        code, _, err = run("validate", str(file))
        assert code == 2 and "scenarios.SPOT.set.fiscal.royalty_rate: 9 is 900 %; did you mean 0.09?" in err
        assert run("npv", str(file))[0] == 0  # the base case is fine

    def test_a_wildcard_names_the_path_it_reached(self) -> None:
        d = deal(scenarios={"s": {"set": {"streams.*.recovery": 2}}})
        with pytest.raises(dc.InputError) as info:
            apply_scenario(d, "s")
        assert info.value.field == "scenarios.s.set.streams.*.recovery"
        assert info.value.message == "streams.ore.recovery: 2 is 200 %; did you mean 0.02?"

    def test_a_check_of_the_section_names_the_entry_that_broke_it(self) -> None:
        d = deal(
            FULL, scenarios={"s": {"set": {"finance.equity.a.share": 0.7, "valuation.price_deck": "base"}}}
        )
        with pytest.raises(dc.InputError) as info:
            apply_scenario(d, "s")
        assert info.value.field == "scenarios.s.set.finance.equity.a.share"
        assert info.value.message == "finance: equity shares must sum to 1, they sum to 1.1"

    def test_a_misspelt_path_names_the_scenario(self) -> None:
        d = deal(FULL, scenarios={"s": {"set": {"fiscal.royalty_rat": 0.05}}})
        with pytest.raises(dc.InputError) as info:
            apply_scenario(d, "s")
        assert info.value.field == "scenarios.s.set.fiscal.royalty_rat"
        assert info.value.message == "no such parameter" and "royalty_rate" in str(info.value.hint)

    def test_every_problem_is_listed(self) -> None:
        d = deal(FULL, scenarios={"s": {"set": {"fiscal.royalty_rate": 9, "valuation.discount_rate": 12}}})
        with pytest.raises(InputErrors) as info:
            apply_scenario(d, "s")
        assert [e.field for e in info.value.errors] == [
            "scenarios.s.set.valuation.discount_rate",
            "scenarios.s.set.fiscal.royalty_rate",
        ]

    def test_set_on_the_command_line_keeps_its_form(self) -> None:
        with pytest.raises(dc.InputError) as info:
            with_changes(deal(FULL), {"fiscal.royalty_rate": 9}, origin="--set")
        assert str(info.value) == "fiscal.royalty_rate: --set: 9 is 900 %; did you mean 0.09?"


# ------------------------------------------------------------------ 7. list items as parameter paths
class TestListItemsAsPaths:
    def test_numeric_leaves_list_brackets_and_alternatives(self) -> None:
        leaves = numeric_leaves(deal(STACK))
        p = "fiscal.levies"
        assert leaves[f"{p}.tax.brackets.1.rate"] == 0.2
        assert leaves[f"{p}.tax.brackets.1.above"] == 1000.0
        assert leaves[f"{p}.mintax.alternatives.0.rate"] == 0.01
        assert leaves[f"{p}.mintax.alternatives.1.rate"] == 1.0  # a whole schedule: its scale
        assert leaves[f"{p}.mintax.alternatives.1.rate.2033"] == 0.03
        assert f"{p}.sliding.scale.points.2" in paths(deal(STACK), numeric=False)
        assert get(deal(STACK), f"{p}.sliding.scale.points.2") == (20000.0, 0.04)

    def test_limits_are_the_fields(self) -> None:
        p = "fiscal.levies.x"
        assert limits(f"{p}.brackets.0.rate") == (0.0, 1.0)
        assert limits(f"{p}.brackets.0.above") == (0.0, float("inf"))
        assert limits(f"{p}.alternatives.1.rate") == (0.0, 1.0)
        assert limits(f"{p}.scale.points.2.1") == (0.0, 1.0)

    def test_with_changes_sets_list_items(self) -> None:
        d = deal(STACK)
        p = "fiscal.levies"
        changed = with_changes(
            d,
            {
                f"{p}.tax.brackets.1.rate": 0.3,
                f"{p}.mintax.alternatives.1.rate.2033": 0.04,
                f"{p}.sliding.scale.points.1": [6000, 0.025],
                f"{p}.sliding.scale.points.2.1": 0.05,
            },
        )
        levies = changed.fiscal.levies
        assert levies is not None
        assert levies["tax"].brackets is not None and levies["tax"].brackets[1].rate == 0.3
        assert levies["mintax"].alternatives is not None
        assert levies["mintax"].alternatives[1].rate == {2031: 0.02, 2033: 0.04}
        assert levies["sliding"].scale is not None
        assert levies["sliding"].scale.points == [(0.0, 0.01), (6000.0, 0.025), (20000.0, 0.05)]
        scaled = with_changes(d, scale={f"{p}.tax.brackets.*.rate": 2})
        assert [b.rate for b in scaled.fiscal.levies["tax"].brackets] == [0.2, 0.4]  # type: ignore[index,union-attr]
        with pytest.raises(dc.InputError, match="no such parameter"):
            with_changes(d, {f"{p}.tax.brackets.5.rate": 0.3})
        with pytest.raises(
            dc.InputError, match=r"brackets.1.rate: override: 3 is 300 %; did you mean 0.03\?"
        ):
            with_changes(d, {f"{p}.tax.brackets.1.rate": 3})

    def test_an_override_of_an_item_values_as_the_changed_deal(self) -> None:
        d = deal(STACK)
        for path, values in [
            ("fiscal.levies.tax.brackets.1.rate", [0.15, 0.3]),
            ("fiscal.levies.tax.brackets.1.above", [500.0, 5000.0]),
            ("fiscal.levies.mintax.alternatives.0.rate", [0.005, 0.05]),
            ("fiscal.levies.mintax.alternatives.1.rate", [0.5, 2.0]),
        ]:
            many = dc.evaluate(d, overrides={path: values}, metrics=["npv_usd"]).npv_usd
            if path.endswith("alternatives.1.rate"):  # a whole schedule: the values scale it
                one = [{path: {k: v * f for k, v in {2031: 0.02, 2033: 0.03}.items()}} for f in values]
            else:
                one = [{path: v} for v in values]
            each = [dc.evaluate(with_changes(d, c), metrics=["npv_usd"]).npv_usd[0] for c in one]
            assert many == pytest.approx(each, rel=1e-12), path

    def test_a_scale_point_is_changed_by_set_not_by_an_override(self) -> None:
        with pytest.raises(dc.InputError, match="cannot override this parameter") as info:
            Scenarios.build(deal(STACK), {"fiscal.levies.sliding.scale.points.1.1": [0.02, 0.03]})
        assert "set" in str(info.value.hint)

    def test_set_on_the_command_line_reaches_list_items(self, tmp_path: Path) -> None:
        file = tmp_path / "deal.yaml"
        file.write_text(text(STACK), encoding="utf-8")
        base = run("npv", str(file), "--json")
        higher = run("npv", str(file), "--json", "--set", "fiscal.levies.tax.brackets.1.rate=0.3")
        assert base[0] == 0 and higher[0] == 0, higher
        assert higher[1] != base[1]
        code, _, err = run("npv", str(file), "--set", "fiscal.levies.tax.brackets.1.rate=30")
        assert (
            code == 2 and "fiscal.levies.tax.brackets.1.rate: --set: 30 is 3000 %; did you mean 0.3?" in err
        )

    def test_a_problem_in_a_list_item_has_its_line(self) -> None:
        source = text(STACK, fiscal__levies__tax__brackets__1__rate=20)
        error = refused(source, "fiscal.levies.tax.brackets.1.rate", "20 is 2000 %")
        assert source.splitlines()[error.line - 1].strip() == "rate: 20"  # type: ignore[operator]


# ------------------------------------------------------------------ what ships still loads
@pytest.mark.parametrize(
    "file",
    sorted(
        str(p.relative_to(ROOT))
        for pattern in ("examples/*.yaml", "examples/mine_plan/*.yaml", "examples/published/*.yaml")
        for p in ROOT.glob(pattern)
    ),
)
def test_the_examples_and_their_scenarios_still_load(file: str) -> None:
    d = dc.load(ROOT / file)
    for name in d.scenarios:
        assert apply_scenario(d, name)
