"""Issue 19, "No silent mistakes", the leftovers: names, fiscal years, ``scale.variable``,
bounded numbers and tariff rates above 100 %.

1. A name (of a product, a phase, a party, ...) is an identifier: letters, digits, ``_`` and
   ``-``, starting with a letter or ``_`` (no ``-`` where a levy's base names it). A name with a
   dot used to load and then break its parameter paths. One name is one party of one role: an
   owner called ``lenders`` used to merge with the lenders without a word.
2. The years of the fiscal regime (``write_off_year``, a holiday's and a capital class's
   ``start_year``) are periods; one outside them used to end in a traceback in the engine.
3. A sliding scale's ``on`` key, which YAML 1.1 reads as ``true``, is now ``variable``; the old
   spelling is still read.
4. A number of money or of a quantity is at most 1e15 either way; a price of 1e306 used to
   "succeed" with absurd results.
5. A tariff rate may exceed 1 (145 %), up to 10; above 10 it is taken for a per cent.

The small deal: one mine built in 2030 (periods 2030-2036), 1,000 t of ore at 1 % metal, 90 %
recovery, 10,000 US$/t.
"""

from __future__ import annotations

import copy
import datetime as dt
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
import pytest
import yaml
from pydantic import BaseModel

import dealcalc as dc
from dealcalc.io import load_deal, parse_deal
from dealcalc.models import Deal, SlidingScale
from dealcalc.models.base import BOUNDED, MAX_MAGNITUDE, NAME, Share, name_problem
from dealcalc.params import limits, paths, with_changes

ROOT = Path(__file__).resolve().parents[1]

BASE: dict[str, Any] = {
    "name": "names and bounds",
    "valuation": {"start_year": 2030, "end_year": 2036, "discount_rate": 0.10},
    "products": {"metal": {"unit": "t"}},
    "price_decks": {"base": {"metal": 10_000.0}},
    "phases": {"mine": {"start_year": 2030, "capex_usd": 100_000.0}},
    "streams": {
        "ore": {"phase": "mine", "product": "metal", "ore_tpa": 1_000.0, "grade": 0.01, "recovery": 0.9}
    },
}

#: The small deal with owners, a loan, a US tariff, a stack of levies and a capital class.
FULL: dict[str, Any] = {
    **BASE,
    "streams": {"ore": {**BASE["streams"]["ore"], "sales_shares": {"us": 0.5}}},
    "trade": {
        "destinations": {"us": {"schedule": "s", "pass_through_fraction": 0.5}},
        "schedules": {"s": {"ad_valorem": {"2031-01-01": 0.1}}},
    },
    "finance": {
        "equity": {"a": {"share": 0.6}, "b": {"share": 0.4}},
        "debt": {"loan": {"share_of_capex": 0.5, "interest_rate": 0.07, "tenor_years": 5}},
    },
    "fiscal": {
        "levies": {
            "royalty": {"base": "revenue", "rate": 0.05, "line": "royalty"},
            "tax": {"base": "ebitda - royalties - allowances", "rate": 0.3},
        },
        "capital_classes": {
            "plant": {"method": "straight_line", "years": 3, "takes": ["initial", "sustaining"]}
        },
    },
}


def data(base: dict[str, Any] = BASE, **changes: Any) -> dict[str, Any]:
    """``base`` with ``a__b__c=value`` changes (keys made as needed)."""
    out = copy.deepcopy(base)
    for path, value in changes.items():
        node: Any = out
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return out


def text(base: dict[str, Any] = BASE, **changes: Any) -> str:
    return yaml.safe_dump(data(base, **changes), sort_keys=False, allow_unicode=True)


def refused(source: str, field: str, words: str, *, holds: str | None = None) -> dc.InputError:
    """The error ``parse_deal(source)`` raises at ``field`` with ``words`` in its message,
    checked to name the file and a line that holds ``holds`` (default: the field's last key)."""
    with pytest.raises(dc.InputError) as info:
        parse_deal(source, source="deal.yaml")
    errors = getattr(info.value, "errors", [info.value])
    hits = [e for e in errors if e.field == field and words in e.message]
    assert hits, str(info.value)
    error = hits[0]
    assert error.source == "deal.yaml" and error.line is not None, str(error)
    line = source.splitlines()[error.line - 1]
    wanted = holds if holds is not None else field.rpartition(".")[2]
    assert wanted in line, (error.line, line, str(error))
    return error


def accepted(base: dict[str, Any] = BASE, **changes: Any) -> Deal:
    return parse_deal(text(base, **changes), source="deal.yaml")


# ------------------------------------------------------------------------------- 1. names
#: (section, its place in FULL, a valid entry to add under a bad name, what kind of name)
SECTIONS: list[tuple[str, str, Any, str | None]] = [
    ("products", "products", {"unit": "t"}, "product"),
    ("price_decks", "price_decks", {"metal": 9_000.0}, None),
    ("phases", "phases", {"start_year": 2031}, None),
    ("streams", "streams", BASE["streams"]["ore"], None),
    ("overheads", "overheads", {"usd_per_year": 1_000.0}, None),
    ("lines", "lines", {"kind": "operating_cost", "usd_per_year": 1_000.0}, "line"),
    ("fiscal.levies", "fiscal__levies", {"base": "revenue", "rate": 0.01}, "levy"),
    ("fiscal.capital_classes", "fiscal__capital_classes", {"method": "none"}, None),
    ("trade.destinations", "trade__destinations", {}, None),
    ("trade.schedules", "trade__schedules", {}, None),
    ("finance.debt", "finance__debt", {"share_of_capex": 0.1, "interest_rate": 0.07, "tenor_years": 5}, None),
    (
        "uncertainty.disruptions",
        "uncertainty__disruptions",
        {"annual_probability": 0.1, "duration_years": 1},
        None,
    ),
    (
        "uncertainty.switches",
        "uncertainty__switches",
        {"probability": 0.1, "scale": {"phases.*.capex_usd": 1.2}},
        None,
    ),
    ("scenarios", "scenarios", {"description": "nothing changes"}, None),
]


def _root(change: str, name: str, entry: Any) -> Any:
    """The top-level section of FULL with ``entry`` added under ``name`` at ``change``."""
    out = data(FULL)
    node: Any = out
    keys = change.split("__")
    for k in keys:
        node = node.setdefault(k, {})
    node[name] = copy.deepcopy(entry)
    return out[keys[0]]


def _equity(owners: dict[str, float]) -> dict[str, Any]:
    return {name: {"share": share} for name, share in owners.items()}


class TestNames:
    def test_the_small_deals_are_valid(self) -> None:
        assert accepted(FULL).party_names() == ["a", "b", "lenders", "host_government", "us_government"]

    @pytest.mark.parametrize(("section", "change", "entry", "kind"), SECTIONS, ids=[s[0] for s in SECTIONS])
    def test_a_name_with_a_dot_is_refused_with_the_name_suggested(
        self, section: str, change: str, entry: Any, kind: str | None
    ) -> None:
        assert accepted(FULL, **{change.split("__")[0]: _root(change, "fine_name", entry)})
        source = text(FULL, **{change.split("__")[0]: _root(change, "zinc.oxide", entry)})
        # a name with a dot cannot be a part of a path: the error is at its section's line
        error = refused(
            source, section, "'zinc.oxide' is not a name dealcalc can use", holds=section.split(".")[-1]
        )
        assert error.message.endswith("did you mean 'zinc_oxide'?"), str(error)
        rule = "digits and _," if kind else "digits, _ and -,"
        assert rule in error.message and "starting with a letter or _" in error.message

    @pytest.mark.parametrize("name", ["a[0]", "phase 2", "2nd", "x*", "é", ""])
    def test_a_bracket_a_space_a_leading_digit_or_a_star_is_refused_at_the_names_line(
        self, name: str
    ) -> None:
        source = text(FULL, phases=_root("phases", name, {"start_year": 2031}))
        error = refused(source, f"phases.{name}", f"{name!r} is not a name dealcalc can use", holds=name)
        fixes = {"a[0]": "a_0", "phase 2": "phase_2", "2nd": "_2nd", "x*": "x", "é": "e"}
        if name in fixes:
            assert error.message.endswith(f"did you mean {fixes[name]!r}?"), str(error)
        else:
            assert "did you mean" not in error.message

    def test_a_dotted_name_used_to_break_its_own_parameter_paths(self) -> None:
        # the paths that would have been phases.phase.2.capex_usd are what the rule protects;
        # a name with - and capitals is a path part like any other
        deal = accepted(FULL, phases=_root("phases", "Phase-2_b", {"start_year": 2031, "capex_usd": 5.0}))
        assert "phases.Phase-2_b.capex_usd" in paths(deal)
        changed = with_changes(deal, {"phases.Phase-2_b.capex_usd": 7.0, "phases.*.delay_years": 1})
        assert changed.phases["Phase-2_b"].capex_usd == 7.0 and changed.phases["Phase-2_b"].delay_years == 1

    @pytest.mark.parametrize(
        ("change", "name", "why"),
        [
            (
                "products",
                "zinc-oxide",
                "a levy's base names a product as revenue:NAME and a sliding scale as price:NAME",
            ),
            ("lines", "off-site", "a levy's base names a line as line:NAME"),
            ("fiscal__levies", "state-royalty", "a later levy's base names it"),
        ],
    )
    def test_a_name_a_base_names_takes_no_dash(self, change: str, name: str, why: str) -> None:
        entry = next(s[2] for s in SECTIONS if s[1] == change)
        source = text(FULL, **{change.split("__")[0]: _root(change, name, entry)})
        field = f"{change.replace('__', '.')}.{name}"
        error = refused(source, field, f"{name!r} is not a name dealcalc can use", holds=name)
        assert f"{why}, where - subtracts" in error.message
        assert error.message.endswith(f"did you mean {name.replace('-', '_')!r}?")

    def test_dashes_elsewhere_are_names(self) -> None:
        deal = accepted(
            FULL,
            phases={"mine-1": FULL["phases"]["mine"]},
            streams={"ore-a": {**FULL["streams"]["ore"], "phase": "mine-1"}},
            finance__equity=_equity({"owner-a": 0.6, "b": 0.4}),
            scenarios={"capex-30": {"scale": {"phases.*.capex_usd": 1.3}}},
        )
        assert "owner-a" in deal.party_names()
        valuation = dc.evaluate(deal, metrics=["npv_usd", "owner-a.npv_usd"])
        assert np.isfinite(valuation.values["owner-a.npv_usd"][0])

    @pytest.mark.parametrize(
        ("change", "value", "field"),
        [
            ("finance__host_government", "gov.pk", "finance.host_government"),
            ("trade__destinations__us__government", "US government", "trade.destinations.us.government"),
            ("fiscal__levies__tax__collector", "alaska[state]", "fiscal.levies.tax.collector"),
        ],
    )
    def test_a_party_named_as_a_value_is_a_name_too(self, change: str, value: str, field: str) -> None:
        refused(text(FULL, **{change: value}), field, f"{value!r} is not a name dealcalc can use")

    def test_the_shipped_files_and_presets_still_load(self) -> None:
        files = ["examples/ussm_fwo_2025.yaml", "examples/mine_plan/zinc_district.yaml"]
        files += ["examples/published/arctic_2023.yaml", "examples/published/casino_2022.yaml"]
        for file in files:
            assert load_deal(ROOT / file).name
        for preset in ("pakistan_2025", "us_alaska_2023", "canada_yukon_2022", "mexico_2025"):
            deal = accepted(FULL, fiscal={"preset": preset})
            assert deal.fiscal.preset == preset and len(deal.party_names()) >= 4


class TestOneNameOneParty:
    def test_an_owner_called_lenders_is_refused(self) -> None:
        # it used to merge with the lenders: one party "lenders", an owner, paid the debt service
        for base in (FULL, BASE):  # with a loan or without one, lenders is the lenders' name
            source = text(base, finance__equity=_equity({"lenders": 0.5, "b": 0.5}))
            error = refused(source, "finance.equity.lenders", "'lenders' is the name of the lenders")
            assert "and of an owner; one party cannot play two roles" in error.message

    @pytest.mark.parametrize(
        ("changes", "field", "words"),
        [
            # the host government's default name, taken by an owner: the owner is at fault
            (
                {"finance__equity": _equity({"host_government": 0.5, "b": 0.5})},
                "finance.equity.host_government",
                "'host_government' is the name of an owner and of the host government",
            ),
            # the host government named like an owner: the name written last is at fault
            (
                {"finance__host_government": "a"},
                "finance.host_government",
                "'a' is the name of an owner and of the host government",
            ),
            (
                {"finance__host_government": "lenders"},
                "finance.host_government",
                "'lenders' is the name of the lenders (dealcalc's name for the party of the debt) and of the"
                " host government",
            ),
            (
                {"finance__equity": _equity({"us_government": 0.5, "b": 0.5})},
                "finance.equity.us_government",
                "'us_government' is the name of an owner and of the government of destination us",
            ),
            (
                {"trade__destinations__us__government": "b"},
                "trade.destinations.us.government",
                "'b' is the name of an owner and of the government of destination us",
            ),
            (
                {"fiscal__levies__tax__collector": "a"},
                "fiscal.levies.tax.collector",
                "'a' is the name of an owner and of the collector of levy tax",
            ),
            (
                {"fiscal__levies__tax__collector": "lenders"},
                "fiscal.levies.tax.collector",
                "'lenders' is the name of the lenders",
            ),
            # a royalty holder is not a government
            (
                {
                    "fiscal__levies__royalty__collector": "host_government",
                    "fiscal__levies__royalty__private": True,
                },
                "fiscal.levies.royalty.collector",
                "'host_government' is the name of the host government and of the royalty holder of levy"
                " royalty",
            ),
            (
                {
                    "fiscal__levies__tax__collector": "state",
                    "fiscal__levies__royalty__collector": "state",
                    "fiscal__levies__royalty__private": True,
                },
                "fiscal.levies.tax.collector",
                "'state' is the name of the royalty holder of levy royalty and of the collector of levy tax",
            ),
        ],
    )
    def test_two_roles_under_one_name_are_refused(
        self, changes: dict[str, Any], field: str, words: str
    ) -> None:
        refused(text(FULL, **changes), field, words)

    def test_governments_may_share_a_name_and_so_may_royalty_holders(self) -> None:
        deal = accepted(
            FULL,
            trade__destinations__us__government="host_government",  # the host collects the duty
            fiscal__levies__tax__collector="host_government",
            fiscal__levies__royalty__collector="holder",
            fiscal__levies__royalty__private=True,
            fiscal__levies__nsr={"base": "revenue", "rate": 0.01, "private": True, "collector": "holder"},
        )
        assert deal.party_names() == ["a", "b", "lenders", "host_government", "holder"]
        assert deal.party_role("holder") == "royalty_holder"
        assert deal.party_role("host_government") == "government"


# ----------------------------------------------------------------------- 2. fiscal years
class TestFiscalYears:
    @pytest.mark.parametrize(
        ("change", "value", "field"),
        [
            ("fiscal__write_off_year", 2099, "fiscal.write_off_year"),
            ("fiscal__write_off_year", 2029, "fiscal.write_off_year"),
            (
                "fiscal__levies__tax__holiday",
                {"years": 2, "start_year": 2099},
                "fiscal.levies.tax.holiday.start_year",
            ),
            ("fiscal__capital_classes__plant__start_year", 2020, "fiscal.capital_classes.plant.start_year"),
        ],
    )
    def test_a_year_outside_the_periods_is_refused(self, change: str, value: Any, field: str) -> None:
        year = value["start_year"] if isinstance(value, dict) else value
        # it used to be a ValueError traceback from the engine
        refused(text(FULL, **{change: value}), field, f"{year} is not one of the periods 2030-2036")

    def test_years_inside_the_periods_are_valued(self) -> None:
        deal = accepted(
            FULL,
            fiscal__write_off_year=2035,
            fiscal__levies__tax__holiday={"years": 1, "start_year": 2032},
            fiscal__capital_classes__plant__start_year=2031,
        )
        assert np.isfinite(dc.evaluate(deal).npv_usd[0])


# -------------------------------------------------------------------- 3. scale.variable
SCALE = """\
name: scale
valuation: {start_year: 2030, end_year: 2036, discount_rate: 0.1}
products: {metal: {unit: t}}
price_decks: {base: {metal: 10000}}
phases: {mine: {start_year: 2030, capex_usd: 100000}}
streams: {ore: {phase: mine, product: metal, ore_tpa: 1000, grade: 0.01, recovery: 0.9}}
fiscal:
  levies:
    royalty:
      base: revenue
      line: royalty
      scale:
        KEY: price:metal
        points: [[0, 0.01], [5000, 0.02], [20000, 0.04]]
"""


class TestScaleVariable:
    @pytest.mark.parametrize("key", ["variable", "on", '"on"'])
    def test_variable_or_the_old_on_plain_or_quoted(self, key: str) -> None:
        # a plain on: is read by YAML 1.1 as true: (it used to be "scale.on: missing")
        deal = parse_deal(SCALE.replace("KEY", key), source="deal.yaml")
        scale = deal.fiscal.levies["royalty"].scale  # type: ignore[index]
        assert scale is not None and scale.variable == "price:metal"
        assert dc.evaluate(deal).npv_usd[0] == pytest.approx(
            dc.evaluate(parse_deal(SCALE.replace("KEY", "variable"))).npv_usd[0], rel=1e-12
        )

    def test_both_spellings_at_once_are_refused(self) -> None:
        source = SCALE.replace("KEY: price:metal", "variable: price:metal\n        on: margin")
        refused(
            source,
            "fiscal.levies.royalty.scale",
            "give the scale's variable once, as variable",
            holds="scale",
        )

    def test_a_bad_variable_is_named_by_its_new_field(self) -> None:
        source = SCALE.replace("KEY: price:metal", "variable: prices")
        refused(source, "fiscal.levies.royalty.scale.variable", "'prices' is not a scale variable")

    def test_the_old_spelling_in_python(self) -> None:
        assert SlidingScale.model_validate({"on": "margin", "points": [[0, 0.1]]}).variable == "margin"
        assert SlidingScale.model_validate({True: "margin", "points": [[0, 0.1]]}).variable == "margin"


# ---------------------------------------------------------------------- 4. bounded numbers
def _number_types(tp: Any, where: str, seen: set[type]) -> Iterator[tuple[str, Any]]:
    """Every float type reachable from ``tp`` with its Annotated metadata, with where it is."""
    origin = get_origin(tp)
    if origin is Annotated:
        inner = get_args(tp)[0]
        if inner is float:
            yield where, tp
        else:
            yield from _number_types(inner, where, seen)
    elif origin in (Union, types.UnionType, list, tuple, dict):
        for k, arg in enumerate(get_args(tp)):
            yield from _number_types(arg, f"{where}[{k}]", seen)
    elif isinstance(tp, type) and issubclass(tp, BaseModel) and tp not in seen:
        seen.add(tp)
        for name, info in tp.model_fields.items():
            full = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            yield from _number_types(full, f"{tp.__name__}.{name}", seen)
    else:
        assert tp is not float, where


def _within(meta: tuple[Any, ...]) -> bool:
    """Whether the limits in ``meta`` keep a number within 1e15 either way."""
    items = [m for entry in meta for m in getattr(entry, "metadata", [entry])]
    highs = [v for m in items for v in (getattr(m, "le", None), getattr(m, "lt", None)) if v is not None]
    lows = [v for m in items for v in (getattr(m, "ge", None), getattr(m, "gt", None)) if v is not None]
    return bool(highs and lows and max(highs) <= MAX_MAGNITUDE and min(lows) >= -MAX_MAGNITUDE)


class TestBoundedNumbers:
    def test_every_number_of_the_models_is_bounded(self) -> None:
        found = list(_number_types(Deal, "Deal", set()))
        assert len(found) > 100  # a guard against a walk that finds nothing
        loose = [w for w, tp in found if BOUNDED not in get_args(tp)[1:] and not _within(get_args(tp)[1:])]
        assert not loose, f"numbers that may exceed 1e15: {loose}"
        assert any(isinstance(m, Share) for _, tp in found for m in get_args(tp)[1:])

    @pytest.mark.parametrize(
        ("change", "value", "field", "shown"),
        [
            ("price_decks__base__metal", 1e306, "price_decks.base.metal", "1e+306"),
            ("phases__mine__capex_usd", {2030: 2e15}, "phases.mine.capex_usd.2030", "2e+15"),
            ("streams__ore__ore_tpa", [1000.0, 1e16], "streams.ore.ore_tpa.1", "1e+16"),
            ("streams__ore__opex_usd_per_t_ore", 1e20, "streams.ore.opex_usd_per_t_ore", "1e+20"),
            ("closure__cost_usd", 5e15, "closure.cost_usd", "5e+15"),
        ],
    )
    def test_a_number_beyond_1e15_is_refused_at_its_line(
        self, change: str, value: Any, field: str, shown: str
    ) -> None:
        error = refused(text(**{change: value}), field, f"{shown} is beyond what dealcalc values")
        assert error.message.startswith(
            f"{shown} is beyond what dealcalc values (at most 1e15); check the units"
        )

    def test_a_negative_amount_is_bounded_too(self) -> None:
        lines = {"release": {"kind": "working_capital", "usd_per_year": {2031: -2e16}}}
        error = refused(text(lines=lines), "lines.release.usd_per_year.2031", "-2e+16 is beyond")
        assert "(at least -1e15)" in error.message

    def test_a_price_of_1e306_written_as_yaml_reads_it(self) -> None:
        # YAML 1.1 reads 1e306 (no point) as text; the model reads the text as the number
        source = text().replace("metal: 10000.0", "metal: 1e306")
        refused(source, "price_decks.base.metal", "1e+306 is beyond what dealcalc values (at most 1e15)")

    def test_large_legitimate_values_are_kept(self) -> None:
        # Arctic pays for about 2e8 lb of copper a year; a trillion-dollar capex; 1e15 itself
        deal = accepted(
            phases__mine__capex_usd=1e12,
            streams__ore__ore_tpa=2e8,
            price_decks__base__metal=MAX_MAGNITUDE,
            lines={"refund": {"kind": "working_capital", "usd_per_year": -MAX_MAGNITUDE}},
        )
        assert deal.price_decks["base"]["metal"] == 1e15
        assert load_deal(ROOT / "examples" / "published" / "arctic_2023.yaml").name

    def test_overrides_are_bounded_as_the_file_is(self) -> None:
        deal = accepted()
        with pytest.raises(dc.InputError, match=r"1e\+16 is beyond what dealcalc values \(at most 1e15\)"):
            dc.evaluate(deal, overrides={"price_decks.base.metal": np.array([1e4, 1e16])})
        # the limits a sweep reads are the field's own: the bound is no limit to scale towards
        assert limits("price_decks.base.metal") == (0.0, np.inf)


# ---------------------------------------------------------------------------- 5. tariffs
def _tariff(rate: float) -> dict[str, Any]:
    return data(FULL, trade__schedules__s__ad_valorem={"2031-01-01": rate})


class TestTariffRates:
    @pytest.mark.parametrize("rate", [1.45, 10.0])
    def test_a_duty_above_the_value_is_a_rate(self, rate: float) -> None:
        deal = parse_deal(yaml.safe_dump(_tariff(rate)), source="deal.yaml")
        assert deal.trade.schedules["s"].ad_valorem[dt.date(2031, 1, 1)] == rate
        low, high = (dc.evaluate(Deal.model_validate(_tariff(r))).npv_usd[0] for r in (0.5, rate))
        assert high < low  # more duty, less value: the exporter bears half of it

    def test_145_per_cent_gets_no_per_cent_hint(self) -> None:
        product = {"products": {"metal": {"any": {"ad_valorem": {"2025-04-10": 1.45}}}}}
        deal = accepted(FULL, trade__schedules__s=product)
        assert deal.trade.schedules["s"].products["metal"]["any"].ad_valorem == {dt.date(2025, 4, 10): 1.45}

    def test_above_ten_is_a_per_cent(self) -> None:
        error = refused(
            text(FULL, trade__schedules__s__ad_valorem={"2031-01-01": 25}),
            "trade.schedules.s.ad_valorem.2031-01-01",
            "25 is 2500 %",
            holds="2031-01-01",
        )
        assert error.message.startswith("25 is 2500 %; did you mean 0.25?")
        error = refused(
            text(FULL, trade__schedules__s__ad_valorem={"2031-01-01": 1500}),
            "trade.schedules.s.ad_valorem.2031-01-01",
            "1500 is 150000 %",
            holds="2031-01-01",
        )
        assert "expected a fraction (from 0 to 10)" in error.message
        assert limits("trade.schedules.s.ad_valorem.2031-01-01") == (0.0, 10.0)


def test_name_problem_and_the_name_rule_agree() -> None:
    for name in ("a", "_a", "A-b_1", "lenders"):
        assert NAME.fullmatch(name) and name_problem(name) is None
    for name in ("a.b", "1a", "-a", "a b", "a/b", "a:b"):
        assert not NAME.fullmatch(name) and name_problem(name) is not None
