"""examples/entities.py runs and prints what the API computes: the two-company sheet's
entities, the transfer-price sweep and the negotiation grids (docs/walkthrough.md, "Two
companies")."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

import dealcalc as dc
from dealcalc.params import apply_scenario, with_changes

EXAMPLES = Path(__file__).parents[1] / "examples"


def test_examples_entities_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / "entities.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "e+" not in out and "e-0" not in out and "-0.0" not in out
    deal = dc.load(EXAMPLES / "ussm_fwo_2025.yaml")
    sheet = dc.evaluate(deal, "terms_two_companies")
    row = next(line for line in out.splitlines() if line.startswith("project NPV "))
    assert row.split()[-1] == f"{sheet.npv_usd[0] / 1e6:.1f}"
    mines = next(line for line in out.splitlines() if line.startswith("mines "))
    assert mines.split()[5] == f"{sheet.values['mines.levies_usd'][0] / 1e6:.1f}"
    # the grids: none accepted at the file's capex; the printed count at half capex is the API's
    counts = [line.split()[0] for line in out.splitlines() if line.endswith("points accepted")]
    half = with_changes(
        apply_scenario(deal, "terms_two_companies"), {"phases.refinery.capex_usd": 150.0e6}, origin="test"
    )
    space = dc.negotiation_space(
        half,
        ("entities.refinery.earn_in.ussm.stake", np.round(np.arange(0.0, 0.61, 0.1), 2)),
        ("transfer_prices.sb_concentrate.payable_fraction", np.round(np.arange(0.30, 0.701, 0.05), 2)),
        walk_away={"ussm": 0.0, "fwo": 0.0, "government_of_pakistan": 295.6e6},
    )
    assert counts == ["0", str(int(space.accepted.to_numpy().sum()))]
    assert int(counts[1]) > 0
