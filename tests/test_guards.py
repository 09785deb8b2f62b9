"""Requests that would not fit in memory are refused up front, with the estimate."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.engine import memory

DEAL = dc.load(dc.example_path("ussm-fwo"))


def test_a_billion_draws_are_refused_before_any_sampling() -> None:
    result = CliRunner().invoke(main, ["montecarlo", str(dc.example_path("ussm-fwo")), "-n", "1000000000"])
    assert result.exit_code == 2
    assert "a Monte Carlo of 1,000,000,000 draws needs about" in result.output
    assert "GB of memory" in result.output and "Traceback" not in result.output


def test_evaluate_refuses_what_would_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 50_000_000)
    prices = np.full(200_000, 30_000.0)
    with pytest.raises(
        dc.InputError, match="valuing 200,000 scenarios and keeping their ledgers needs about"
    ):
        dc.evaluate(DEAL, overrides={"price_decks.base.antimony": prices}, keep_ledger=True)
    # the way out the message names works
    v = dc.evaluate(DEAL, overrides={"price_decks.base.antimony": prices[:2_000]}, metrics=["npv_usd"])
    assert v.npv_usd.size == 2_000


def test_the_estimate_reads_this_machine() -> None:
    assert memory.available_bytes() > 0
    assert memory.describe_bytes(2.5e9) == "2.5 GB"
