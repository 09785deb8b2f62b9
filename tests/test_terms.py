"""The negotiation space of two terms (issue 22, item 5): each party's value over a grid of two
terms, and the region where every party is at least at its walk-away value."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.analyses.terms import negotiation_space
from dealcalc.cli import main
from dealcalc.params import with_changes

DEAL = dc.load(dc.example_path("ussm-fwo"))
EXAMPLE = str(dc.example_path("ussm-fwo"))
ROYALTY, SB = "fiscal.royalty_rate", "price_decks.base.antimony"
X = (ROYALTY, [0.0, 0.05, 0.10])
Y = (SB, [25_000.0, 32_000.0, 40_000.0])
LIMITS = {"ussm": 0.0, "fwo": 0.0, "government_of_pakistan": 2.8e8}


def test_each_point_is_the_deal_valued_at_those_terms() -> None:
    space = negotiation_space(DEAL, X, Y, walk_away=LIMITS)
    for x in X[1]:
        for y in Y[1]:
            alone = dc.evaluate(with_changes(DEAL, {ROYALTY: x, SB: y}))
            for party in ("ussm", "fwo", "government_of_pakistan", "us_government"):
                assert space.values[party].loc[x, y] == pytest.approx(
                    float(alone.values[f"{party}.npv_usd"][0]), rel=1e-9, abs=1e-3
                )
            accepts = all(float(alone.values[f"{p}.npv_usd"][0]) >= v for p, v in LIMITS.items())
            assert bool(space.accepted.loc[x, y]) == accepts


def test_the_owners_want_prices_the_state_wants_royalty() -> None:
    """Monotone in the right directions: a higher price helps everyone; a higher royalty moves
    value from the owners to the state."""
    space = negotiation_space(DEAL, X, Y, walk_away=LIMITS)
    ussm, state = space.values["ussm"].to_numpy(), space.values["government_of_pakistan"].to_numpy()
    assert (np.diff(ussm, axis=1) > 0).all() and (np.diff(ussm, axis=0) < 0).all()
    assert (np.diff(state, axis=0) > 0).all()
    assert 0.0 < space.share_accepted() < 1.0
    default = negotiation_space(DEAL, X, Y)  # every owner at zero, no limit for the others
    assert default.walk_away == {"ussm": 0.0, "fwo": 0.0}
    table = space.table()
    assert len(table) == 9 and table["accepted"].sum() == space.accepted.to_numpy().sum()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": (ROYALTY, [0.05]), "y": Y}, "at least two"),
        ({"x": X, "y": X}, "same path"),
        ({"x": X, "y": Y, "walk_away": {"usm": 0.0}}, "did you mean 'ussm'"),
        ({"x": X, "y": Y, "metric": "payback_years"}, "not a party metric"),
        ({"x": ("fiscal.royalty_rat", [0.0, 0.1]), "y": Y}, "not a numeric parameter"),
    ],
)
def test_mistakes_are_one_clear_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(dc.InputError, match=message):
        negotiation_space(DEAL, **kwargs)  # type: ignore[arg-type]


def test_the_cli_marks_the_space_writes_json_and_a_chart(tmp_path: Path) -> None:
    chart = tmp_path / "space.png"
    args = ["terms", EXAMPLE, "--x", f"{ROYALTY}=0,0.05,0.1", "--y", f"{SB}=25000,32000,40000"]
    limits = [a for p, v in LIMITS.items() for a in ("--walk-away", f"{p}={v}")]
    result = CliRunner().invoke(main, [*args, *limits, "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Where every party accepts" in text and "✓" in text and "government_of_pakistan" in text
    assert chart.read_bytes()[:4] == b"\x89PNG"
    payload = json.loads(CliRunner().invoke(main, [*args, *limits, "--json"]).output)
    assert payload["kind"] == "terms" and payload["x"]["path"] == ROYALTY
    space = negotiation_space(DEAL, X, Y, walk_away=LIMITS)
    assert payload["accepted"] == space.accepted.to_numpy().tolist()
    bad = CliRunner().invoke(main, [*args, "--walk-away", "ussm"])
    assert bad.exit_code == 2 and "PARTY=VALUE" in bad.output
