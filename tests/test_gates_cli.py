"""``dealcalc gates``: adaptive phase gates from the command line (issue 21, item 2's output: the
values by rule, the value of flexibility with its standard error, the policy as a table and a
chart), and the Monte Carlo's lenders' table for a deal whose debt can default (item 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.params import with_changes

EXAMPLE = str(dc.example_path("ussm-fwo"))
CHEAP = ["--set", "phases.refinery.capex_usd=1.2e8"]


def test_gates_prints_the_rules_the_flexibility_and_the_policy(tmp_path: Path) -> None:
    chart = tmp_path / "policy.png"
    args = ["gates", EXAMPLE, "-n", "400", "--seed", "1", *CHEAP, "--chart", str(chart)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for shown in (
        "value by rule",
        "Value of flexibility",
        "The policy by Antimony price (US$/t)",
        "base + 1 change",
    ):
        assert shown in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gates_json_is_the_apis_numbers() -> None:
    result = CliRunner().invoke(main, ["gates", EXAMPLE, "-n", "300", "--seed", "4", *CHEAP, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    deal = with_changes(dc.load(EXAMPLE), {"phases.refinery.capex_usd": 1.2e8}, origin="--set")
    api = dc.adaptive_gates(deal, 300, seed=4)
    assert payload["kind"] == "gates" and payload["gate"] == "refinery"
    optimal = next(r for r in payload["values"] if r["rule"] == "optimal" and r["metric"] == "npv_usd")
    assert optimal["value_usd"] == pytest.approx(api.value("optimal"), rel=1e-12)
    assert payload["run"]["changes"] == ["--set phases.refinery.capex_usd=1.2e8"]
    years = {r["year"] for r in payload["regions"]}
    assert years == set(api.decision_years)


def test_the_regions_cover_each_years_range_without_gaps() -> None:
    deal = with_changes(dc.load(EXAMPLE), {"phases.refinery.capex_usd": 1.2e8})
    g = dc.adaptive_gates(deal, 800, seed=3)
    regions = g.regions()
    for year, block in regions.groupby("year"):
        assert (block["price_from"].to_numpy()[1:] > block["price_to"].to_numpy()[:-1]).all(), year
        switches = g.boundary[g.boundary["year"] == year]
        assert len(block) == len(switches) + 1  # one region more than switches


def test_a_montecarlo_of_a_stressed_deal_shows_the_lenders_at_risk() -> None:
    args = ["montecarlo", EXAMPLE, "-n", "400", "--seed", "2", "-s", "lenders_protected"]
    text = " ".join(CliRunner().invoke(main, args).output.split())
    assert "Lenders at risk" in text and "P(default)" in text
    payload = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    risk = payload["lenders"]
    assert 0 < risk["p_default"]["estimate"] < 1 and risk["expected_loss_usd"]["estimate"] > 0


def test_the_maximised_metric_comes_first() -> None:
    # the rule maximises the first --metric: its column leads, whatever the alphabet says
    args = [
        "gates",
        EXAMPLE,
        "-n",
        "200",
        "--seed",
        "1",
        *CHEAP,
        "--metric",
        "ussm.npv_usd",
        "--metric",
        "fwo.npv_usd",
    ]
    result = CliRunner().invoke(main, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if "NPV (US$ M)" in line)
    assert header.index("ussm") < header.index("fwo")
