"""What a change of terms is worth to each party on the same draws (docs/methodology.md §32):
the US NdPr floor's value to USSM, FWO and the US government with its distribution, common
random numbers that make the change's standard error small, the checks, the CLI and its JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.errors import InputError
from dealcalc.models.deal import ScenarioOverlay

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "ussm_fwo_2025.yaml"
SCHEMA = json.loads((ROOT / "docs" / "schema" / "result.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def deal() -> dc.Deal:
    return dc.load(EXAMPLE)


@pytest.fixture(scope="module")
def floor(deal: dc.Deal) -> object:
    return dc.paired_change(deal, 2000, scenario="us_ndpr_floor_contract", seed=3)


def test_the_floor_s_value_to_each_party(deal: dc.Deal, floor: object) -> None:
    table = floor
    # the same draws, valued apart: the means and the distribution of the difference
    on = dc.monte_carlo(
        deal,
        2000,
        scenario="us_ndpr_floor_contract",
        seed=3,
        metrics=["us_government.npv_usd", "ussm.npv_usd"],
    )
    off = dc.monte_carlo(deal, 2000, seed=3, metrics=["us_government.npv_usd", "ussm.npv_usd"])
    for party in ("us_government", "ussm"):
        diff = on.values[f"{party}.npv_usd"] - off.values[f"{party}.npv_usd"]
        row = table.loc[party]
        assert row["change_usd"] == pytest.approx(diff.mean(), rel=1e-12)
        assert row["change_std_error_usd"] == pytest.approx(
            diff.std(ddof=1) / math.sqrt(diff.size), rel=1e-12
        )
        assert row["prob_loses"] == pytest.approx(np.mean(diff < 0))
        assert row["change_p5_usd"] <= row["change_p50_usd"] <= row["change_p95_usd"]
        assert row["with_usd"] - row["without_usd"] == pytest.approx(row["change_usd"], rel=1e-9)
    # the guarantor of the floor pays on average; the producer's owners gain
    assert table.loc["us_government", "change_usd"] < 0 < table.loc["ussm", "change_usd"]
    assert table.loc["fwo", "change_usd"] > 0
    assert table.attrs["against"] == "base" and table.attrs["draws"] == 2000


def test_common_draws_make_the_change_precise(deal: dc.Deal, floor: object) -> None:
    # the change's standard error is far below what two independent runs would give
    on = dc.monte_carlo(deal, 2000, scenario="us_ndpr_floor_contract", seed=3, metrics=["fwo.npv_usd"])
    off = dc.monte_carlo(deal, 2000, seed=4, metrics=["fwo.npv_usd"])
    independent = math.sqrt(
        on.values["fwo.npv_usd"].var(ddof=1) / 2000 + off.values["fwo.npv_usd"].var(ddof=1) / 2000
    )
    assert floor.loc["fwo", "change_std_error_usd"] < 0.2 * independent


def test_checks(deal: dc.Deal) -> None:
    with pytest.raises(InputError, match="no scenario 'us_ndpr_flor_contract'"):
        dc.paired_change(deal, 10, scenario="us_ndpr_flor_contract")
    with pytest.raises(InputError, match="the two scenarios are the same"):
        dc.paired_change(deal, 10, scenario="spot_2025", against="spot_2025")
    other = deal.model_copy(
        update={"scenarios": {**deal.scenarios, "reseeded": ScenarioOverlay(set={"uncertainty.seed": 7})}}
    )
    with pytest.raises(InputError, match="do not share their draws"):
        dc.paired_change(other, 10, scenario="reseeded")


def test_cli_and_json(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["paired", str(EXAMPLE), "-s", "us_ndpr_floor_contract", "-n", "200", "--json"])
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    jsonschema.Draft202012Validator(SCHEMA).validate(payload)
    assert payload["kind"] == "paired" and payload["against"] == "base"
    assert {row["party"] for row in payload["rows"]} >= {"project", "ussm", "fwo", "us_government"}
    text = runner.invoke(
        main, ["paired", str(EXAMPLE), "-s", "us_ndpr_floor_contract", "-n", "200"], env={"COLUMNS": "200"}
    )
    assert text.exit_code == 0 and "P(loses) (%)" in text.output and "us_government" in text.output
    bad = runner.invoke(main, ["paired", str(EXAMPLE), "-n", "200"])
    assert bad.exit_code == 2 and "--scenario" in bad.output


def test_a_party_the_change_does_not_touch_never_loses(deal: dc.Deal) -> None:
    # the two term sheets with the same loans: the lenders' values differ by rounding only
    table = dc.paired_change(
        deal, 200, scenario="terms_two_companies", against="terms_ussm_earns_refinery_stake", seed=1
    )
    assert abs(table.loc["lenders", "change_usd"]) < 1e-3 and table.loc["lenders", "prob_loses"] == 0.0
