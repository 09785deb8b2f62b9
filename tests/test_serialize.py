"""One serializer for every result (issue 20): every ``--json`` output validates against the
documented schema (docs/schema/result.schema.json), ``--out .json`` is the same payload, CSV
files carry the run's record, numbers equal the API's, and a changed run is never "base"."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.analyses.provenance import run_info
from dealcalc.cli import commands, main
from dealcalc.params import with_changes
from dealcalc.report.serialize import csv_text, dumps, to_frame, to_json

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "schema" / "result.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
EXAMPLE = str(dc.example_path("ussm-fwo"))
FLOWS = str(ROOT / "examples" / "cashflows.csv")
SB = "price_decks.base.antimony"
CAPEX = "phases.refinery.capex_usd"

COMMANDS = {
    "valuation": ["npv", EXAMPLE],
    "valuation-changed": ["irr", EXAMPLE, "-s", "spot_2025", "--set", "fiscal.royalty_rate=0.07"],
    "comparison": ["compare", EXAMPLE],
    "tornado": ["sensitivity", "tornado", EXAMPLE, "--param", SB, "--param", "fiscal.royalty_rate"],
    "spider": ["sensitivity", "spider", EXAMPLE, "--param", SB],
    "grid-1d": ["sensitivity", "grid", EXAMPLE, "--x", f"{SB}=20000,40000"],
    "grid-2d": ["sensitivity", "grid", EXAMPLE, "--x", f"{SB}=20000,40000", "--y", f"{CAPEX}=3e8,4e8,5e8"],
    "sobol": ["sensitivity", "sobol", EXAMPLE, "-n", "32"],
    "morris": ["sensitivity", "morris", EXAMPLE, "-n", "4"],
    "breakeven": ["breakeven", EXAMPLE, SB],
    "montecarlo": ["montecarlo", EXAMPLE, "-n", "300", "--seed", "3"],
    "montecarlo-lenders": ["montecarlo", EXAMPLE, "-n", "300", "--seed", "3", "-s", "lenders_protected"],
    "gates": ["gates", EXAMPLE, "-n", "200", "--seed", "2", "--set", f"{CAPEX}=1.2e8"],
    "terms": ["terms", EXAMPLE, "--x", "fiscal.royalty_rate=0,0.1", "--y", f"{SB}=25000,40000"],
    "flows": ["flows", FLOWS, "--rate", "0.1"],
}


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def payloads() -> dict[str, dict[str, Any]]:
    return {name: json.loads(invoke(*args, "--json").output) for name, args in COMMANDS.items()}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_json_output_follows_the_documented_schema(payloads: dict[str, Any], name: str) -> None:
    payload = payloads[name]
    errors = sorted(VALIDATOR.iter_errors(payload), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert payload["schema_version"] == 1 and payload["run"]["dealcalc_version"] == dc.__version__
    text = json.dumps(payload)
    assert ": reciprocal" not in text and "NaN" not in text  # keys, not display headers; null, not NaN


def test_the_schema_refuses_what_it_should() -> None:
    """The schema is not a rubber stamp: a payload with a display header, a missing run or a
    rate as a string fails."""
    good = to_json(dc.evaluate(dc.load(EXAMPLE)))
    assert VALIDATOR.is_valid(good)
    for broken in (
        {**good, "run": {**good["run"], "npv_usd: reciprocal_29": 1.0}},
        {k: v for k, v in good.items() if k != "run"},
        {**good, "metrics": {**good["metrics"], "irr": "11.5 %"}},
        {**good, "kind": "valuations"},
    ):
        assert not VALIDATOR.is_valid(broken)


def test_json_numbers_are_the_apis(payloads: dict[str, Any]) -> None:
    deal = dc.load(EXAMPLE)
    v = dc.evaluate(deal)
    assert payloads["valuation"]["metrics"]["npv_usd"] == pytest.approx(float(v.npv_usd[0]), rel=1e-12)
    assert payloads["valuation"]["parties"]["ussm"]["npv_usd"] == pytest.approx(
        float(v.values["ussm.npv_usd"][0]), rel=1e-12
    )
    grid = dc.grid(deal, (SB, [20000, 40000]), (CAPEX, [3e8, 4e8, 5e8]))
    np.testing.assert_allclose(np.array(payloads["grid-2d"]["values"]), grid.to_numpy(), rtol=1e-12)
    assert payloads["grid-2d"]["y"]["path"] == CAPEX and payloads["grid-1d"]["y"] is None
    spider = dc.spider(deal, [SB], [-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3])
    assert payloads["spider"]["parameters"][SB] == pytest.approx(spider[SB].tolist(), rel=1e-12)
    b = dc.breakeven(deal, SB)
    assert payloads["breakeven"]["value"] == pytest.approx(float(b.value[0]), rel=1e-12)
    mc = dc.monte_carlo(deal, 300, seed=3)
    assert payloads["montecarlo"]["metrics"]["npv_usd"]["mean"] == pytest.approx(
        float(mc.summary().loc["npv_usd", "mean"]), rel=1e-12
    )
    assert payloads["montecarlo"]["run"]["draws"] == 300 and payloads["montecarlo"]["run"]["seed"] == 3


def test_a_changed_run_names_its_scenario_and_every_change(payloads: dict[str, Any]) -> None:
    base = payloads["valuation"]["run"]
    assert base["label"] == "base case" and base["changes"] == [] and base["scenario"] == "base"
    changed = payloads["valuation-changed"]["run"]
    assert changed["scenario"] == "spot_2025" and changed["price_deck"] == "spot_2025"
    assert changed["changes"] == ["--set fiscal.royalty_rate=0.07"]
    assert changed["label"] == "spot_2025 + 1 change" and "base" not in changed["label"]
    assert changed["basis"] == "real" and changed["money_year"] == 2026
    # the terminal says the same
    shown = " ".join(
        invoke("npv", EXAMPLE, "-s", "spot_2025", "--set", "fiscal.royalty_rate=0.07").output.split()
    )
    assert "spot_2025 + 1 change" in shown and "--set fiscal.royalty_rate=0.07" in shown
    assert "base case" not in shown.replace(dc.load(EXAMPLE).name, "")  # the deal's name has it


def test_a_changed_deal_is_labelled_by_its_changes_in_the_api() -> None:
    deal = with_changes(dc.load(EXAMPLE), {"fiscal.royalty_rate": 0.07}, origin="--set")
    v = dc.evaluate(deal)
    assert v.info.label == "base + 1 change" and not v.info.is_base
    many = dc.evaluate(dc.load(EXAMPLE), overrides={SB: [20000.0, 30000.0]})
    assert many.info.changes == (f"override {SB} (2 values)",)
    assert "changed:" in "\n".join(many.info.lines())
    same = with_changes(dc.load(EXAMPLE), {}, origin="--set")  # a record, but the same fields
    assert same == dc.load(EXAMPLE) and same.source == EXAMPLE


def test_out_json_is_the_printed_payload_and_csv_carries_the_record(tmp_path: Path) -> None:
    args = COMMANDS["tornado"]
    printed = json.loads(invoke(*args, "--json").output)
    out = tmp_path / "t.json"
    invoke(*args, "--out", str(out))
    assert json.loads(out.read_text(encoding="utf-8")) == printed
    csv = tmp_path / "t.csv"
    invoke(*args, "--out", str(csv))
    text = csv.read_text(encoding="utf-8")
    assert text.startswith("# USSM") and "# dealcalc " in text and "discount rate 11.22 % real" in text
    frame = pd.read_csv(io.StringIO(text), comment="#", index_col=0)
    assert list(frame.index) == printed_order(printed)


def printed_order(payload: dict[str, Any]) -> list[str]:
    return [row["parameter"] for row in payload["rows"]]


@pytest.mark.parametrize(
    "args",
    [
        ["montecarlo", EXAMPLE, "-n", "100000"],
        ["sensitivity", "sobol", EXAMPLE, "-n", "1024"],
        ["npv", EXAMPLE],
        ["compare", EXAMPLE],
    ],
    ids=["montecarlo", "sobol", "npv", "compare"],
)
def test_out_refuses_an_existing_file_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    """The existing file is refused when the options are parsed: no deal is even read."""
    out = tmp_path / "existing.json"
    out.write_text("keep me", encoding="utf-8")

    def no_work(*a: Any, **k: Any) -> Any:
        raise AssertionError("work started before --out was checked")

    from dealcalc.cli import options

    monkeypatch.setattr(options, "load_deal", no_work)
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 2 and "--force" in result.output
    assert out.read_text(encoding="utf-8") == "keep me"
    for bad, expected in (
        (tmp_path / "r.txt", "unknown output type"),
        (tmp_path / "no" / "r.json", "folder"),
    ):
        result = CliRunner().invoke(main, [*args, "--out", str(bad)])
        assert result.exit_code == 2 and expected in result.output


def test_force_may_come_after_out(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("old", encoding="utf-8")
    invoke("npv", EXAMPLE, "--out", str(out), "--force")
    assert json.loads(out.read_text(encoding="utf-8"))["kind"] == "valuation"


def test_each_analysis_takes_only_its_own_options() -> None:
    for args, option in (
        (["sensitivity", "grid", EXAMPLE, "--x", f"{SB}=1,2", "--param", SB], "--param"),
        (["sensitivity", "tornado", EXAMPLE, "--x", f"{SB}=1,2"], "--x"),
        (["sensitivity", "sobol", EXAMPLE, "--quantiles", "0.1:0.9"], "--quantiles"),
        (["sensitivity", "spider", EXAMPLE, "-n", "8"], "-n"),
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and "No such option" in result.output and option in result.output
    result = CliRunner().invoke(main, ["sensitivity", EXAMPLE])
    assert result.exit_code == 2 and "dealcalc sensitivity tornado" in result.output


def test_to_frame_and_csv_text_round_trip() -> None:
    v = dc.evaluate(dc.load(EXAMPLE))
    frame = to_frame(v)
    assert frame.attrs["run"] == v.info and frame.loc[0, "npv_usd"] == v.npv_usd[0]
    back = pd.read_csv(io.StringIO(csv_text(frame)), comment="#", index_col=0)
    assert back.loc[0, "npv_usd"] == pytest.approx(float(v.npv_usd[0]), rel=1e-15)
    with pytest.raises(TypeError, match="no JSON form"):
        to_json(object())
    with pytest.raises(TypeError, match="attrs"):
        to_json(pd.DataFrame({"a": [1.0]}))
    assert json.loads(dumps({"x": float("nan"), "y": [float("inf")]})) == {"x": None, "y": [None]}


def test_the_commands_build_no_json_by_hand() -> None:
    """The CLI's modules never call json.dumps: every payload comes from the serializer."""
    source = Path(commands.__file__).parent
    for module in source.glob("*.py"):
        assert "json.dumps" not in module.read_text(encoding="utf-8"), module.name


def test_run_info_states_the_discount_rate_in_the_basis() -> None:
    info = run_info(dc.load(EXAMPLE))
    assert info.discount_rate == pytest.approx(1.14 / 1.025 - 1) and info.discount_rate_stated
    assert info.to_dict()["discount_rate"] == pytest.approx(
        float(dc.evaluate(dc.load(EXAMPLE)).discount_rate[0])
    )
