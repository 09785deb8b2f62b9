"""Draws an analyst can audit (issue 21, item 4): ``MonteCarlo.draws()``, ``montecarlo --out
draws.csv|draws.parquet``, probabilities with standard errors (``--prob``, ``MonteCarlo.prob``)
and convergence monitoring (``--until``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.analyses.montecarlo import parse_prob, relative_half_widths
from dealcalc.cli import main
from dealcalc.params import numeric_leaves

DEAL = dc.load(dc.example_path("ussm-fwo"))
PATH = str(dc.example_path("ussm-fwo"))


class TestDraws:
    def test_one_row_per_draw_with_inputs_paths_events_gates_and_metrics(self) -> None:
        mc = dc.monte_carlo(DEAL, 800, seed=4)
        df = mc.draws()
        assert df.shape[0] == 800 and df.index.name == "draw"
        for name in DEAL.uncertainty.inputs:
            np.testing.assert_array_equal(df[name].to_numpy(), mc.inputs[name].to_numpy())
        for product in DEAL.uncertainty.price_paths:
            unit = DEAL.products[product].unit
            assert f"price.{product}.mean_usd_per_{unit}" in df
            assert f"price.{product}.at_gate.refinery_usd_per_{unit}" in df
        for metric, values in mc.values.items():
            np.testing.assert_array_equal(df[metric].to_numpy(), values)
        np.testing.assert_array_equal(df["gate.refinery.built"].to_numpy(), mc.built["refinery"])
        np.testing.assert_array_equal(df["gate.refinery.continued"].to_numpy(), mc.continued["refinery"])
        assert {"events.disruption_years", "events.expropriated", "switch.china_retightens"} <= set(df)

    def test_a_gate_is_built_only_where_its_price_at_the_gate_clears_the_hurdle(self) -> None:
        df = dc.monte_carlo(DEAL, 2_000, seed=5).draws()
        for product, hurdle in DEAL.phases["refinery"].gate.min_price_usd.items():
            unit = DEAL.products[product].unit
            at_gate = df[f"price.{product}.at_gate.refinery_usd_per_{unit}"]
            assert (at_gate[df["gate.refinery.built"]] >= hurdle).all()
        # and built means continuity held
        assert not (df["gate.refinery.built"] & ~df["gate.refinery.continued"]).any()

    def test_events_happen_at_their_stated_rates(self) -> None:
        df = dc.monte_carlo(DEAL, 20_000, seed=6, metrics=["npv_usd"]).draws()
        switch = DEAL.uncertainty.switches["china_retightens"]
        p = df["switch.china_retightens"].mean()
        assert abs(p - switch.probability) < 4 * math.sqrt(
            switch.probability * (1 - switch.probability) / 20_000
        )
        t = DEAL.periods.size
        expropriation = DEAL.uncertainty.expropriation
        assert expropriation is not None
        ever = 1 - (1 - expropriation.annual_probability) ** t
        assert abs(df["events.expropriated"].mean() - ever) < 4 * math.sqrt(ever * (1 - ever) / 20_000)
        assert (df["events.disruption_years"] >= 0).all() and df["events.disruption_years"].max() <= t
        assert df["events.disruption_years"].mean() > 0

    def test_a_draws_path_summaries_are_the_prices_the_engine_used(self) -> None:
        """A path's mean over the periods with the deck held flat is the deck price times the
        mean multiplier; the multipliers have mean 1 in every year, so over many draws the mean
        price is the deck price."""
        df = dc.monte_carlo(DEAL, 20_000, seed=8, metrics=["npv_usd"]).draws()
        path = f"price_decks.{DEAL.valuation.price_deck}.gold"
        assert path not in DEAL.uncertainty.inputs  # the deck price itself is not drawn
        gold = numeric_leaves(DEAL)[path]
        column = f"price.gold.mean_usd_per_{DEAL.products['gold'].unit}"
        assert df[column].mean() == pytest.approx(gold, rel=0.02)

    @pytest.mark.parametrize("chunk_size", [97, 1_000])
    def test_the_same_whatever_the_chunk_size(self, chunk_size: int) -> None:
        a = dc.monte_carlo(DEAL, 1_500, seed=9, metrics=["npv_usd", "ussm.irr"]).draws()
        b = dc.monte_carlo(
            DEAL, 1_500, seed=9, metrics=["npv_usd", "ussm.irr"], chunk_size=chunk_size
        ).draws()
        pd.testing.assert_frame_equal(a, b, check_exact=True)

    def test_the_same_on_two_dask_workers(self) -> None:
        distributed = pytest.importorskip("distributed")
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster:
            on_dask = dc.monte_carlo(
                DEAL, 2_000, seed=3, metrics=["npv_usd"], chunk_size=300, scheduler=cluster.scheduler_address
            )
        local = dc.monte_carlo(DEAL, 2_000, seed=3, metrics=["npv_usd"])
        pd.testing.assert_frame_equal(on_dask.draws(), local.draws(), check_exact=True)


class TestProbabilities:
    def test_a_question_is_read_strictly(self) -> None:
        assert parse_prob(" ussm.irr<=0.19 ") == ("ussm.irr", "<=", 0.19)
        assert parse_prob("npv_usd > -1.5e8") == ("npv_usd", ">", -1.5e8)
        for bad in [
            "irr = 0.1",
            "irr < ",
            "< 0.1",
            "irr < 19%",
            "irr < nan",
            "irr < 0.1 0.2",
            "ussm.irr.x < 1",
            "",
        ]:
            with pytest.raises(dc.InputError, match="is not a probability question"):
                parse_prob(bad)

    def test_shares_and_their_standard_errors(self) -> None:
        mc = dc.monte_carlo(DEAL, 3_000, seed=2)
        npv = mc.metric("npv_usd")
        table = mc.probabilities(["npv_usd < 0", "npv_usd >= 1e8", "ussm.irr < 0.19", "ussm.irr >= 0.19"])
        p = float(np.mean(npv < 0))
        assert table.loc["npv_usd < 0", "probability"] == p
        assert table.loc["npv_usd < 0", "std_error"] == pytest.approx(math.sqrt(p * (1 - p) / 3_000))
        assert table.loc["npv_usd >= 100,000,000", "probability"] == float(np.mean(npv >= 1e8))
        below, above = (
            table.loc["ussm.irr < 0.19 real", "probability"],
            table.loc["ussm.irr >= 0.19 real", "probability"],
        )
        assert below == mc.prob_below("ussm.irr", 0.19) and below + above == pytest.approx(1.0)
        assert mc.prob("npv_usd < 0") == mc.summary().loc["npv_usd", "prob_negative"]

    def test_an_unknown_metric_is_named(self) -> None:
        mc = dc.monte_carlo(DEAL, 100, seed=2, metrics=["npv_usd"])
        with pytest.raises(dc.InputError, match=r"no metric 'ussm\.irr' in this run"):
            mc.prob("ussm.irr < 0.19")

    def test_the_cli_prints_them_and_puts_them_in_the_json(self) -> None:
        args = [
            "montecarlo",
            PATH,
            "-n",
            "1000",
            "--seed",
            "1",
            "--prob",
            "ussm.irr < 0.19",
            "--prob",
            "npv_usd<0",
        ]
        shown = CliRunner().invoke(main, args)
        assert shown.exit_code == 0, shown.output
        assert "Probabilities" in shown.output and "ussm.irr < 0.19" in shown.output
        payload = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
        mc = dc.monte_carlo(DEAL, 1000, seed=1)
        got = payload["probabilities"]["ussm.irr < 0.19 real"]  # a rate says its basis
        assert got["probability"] == mc.prob("ussm.irr < 0.19") and got["draws"] == 1000
        assert got["std_error"] == pytest.approx(
            math.sqrt(got["probability"] * (1 - got["probability"]) / 1000)
        )
        assert payload["probabilities"]["npv_usd < 0"]["op"] == "<"

    def test_a_metric_only_in_a_question_is_valued(self) -> None:
        args = ["montecarlo", PATH, "-n", "300", "--metric", "npv_usd", "--prob", "fwo.irr > 0.1", "--json"]
        payload = json.loads(CliRunner().invoke(main, args).output)
        assert 0.0 <= payload["probabilities"]["fwo.irr > 0.1 real"]["probability"] <= 1.0

    def test_a_bad_question_is_refused_before_any_work(self) -> None:
        result = CliRunner().invoke(main, ["montecarlo", PATH, "-n", "100", "--prob", "irr == 0.1"])
        assert result.exit_code == 2 and "is not a probability question" in result.output


class TestUntil:
    def test_the_relative_half_widths_shrink_as_one_over_root_n(self) -> None:
        rng = np.random.default_rng(1)
        small, large = rng.normal(10.0, 2.0, 2_000), rng.normal(10.0, 2.0, 200_000)
        ratio = relative_half_widths(small)["mean"] / relative_half_widths(large)["mean"]
        assert ratio == pytest.approx(10.0, rel=0.1)
        # the mean's: 1.96 s / sqrt(n) / |mean|
        assert relative_half_widths(small)["mean"] == pytest.approx(
            1.959963984540054 * small.std(ddof=1) / math.sqrt(2_000) / abs(small.mean())
        )
        w = relative_half_widths(large, [0.5])
        assert w["p50"] == pytest.approx(
            1.96 * 2.0 * math.sqrt(math.pi / 2) / math.sqrt(200_000) / 10.0, rel=0.1
        )

    def test_it_stops_when_converged_with_the_first_draws_of_the_full_run(self) -> None:
        full = dc.monte_carlo(DEAL, 40_000, seed=11, metrics=["npv_usd"], method="random")
        mc = dc.monte_carlo(DEAL, 40_000, seed=11, metrics=["npv_usd"], method="random", until=0.05)
        assert mc.converged and mc.planned == 40_000 and mc.n < 40_000
        np.testing.assert_array_equal(mc.metric("npv_usd"), full.metric("npv_usd")[: mc.n])
        assert (mc.precision()["relative_half_width"] <= 0.05).all()
        assert mc.inputs.shape[0] == mc.n and mc.draws().shape[0] == mc.n and mc.run.draws == mc.n

    def test_it_runs_to_n_when_the_tolerance_is_not_met(self) -> None:
        mc = dc.monte_carlo(DEAL, 1_500, seed=11, metrics=["npv_usd"], until=1e-6)
        assert mc.n == 1_500 and mc.converged is False
        assert not mc.precision()["within"].all()

    @pytest.mark.parametrize(
        ("until", "percentiles"), [(0.0, (0.5,)), (1.5, (0.5,)), (0.01, (1.0,)), (-1, ())]
    )
    def test_bad_tolerances_and_percentiles_are_refused(self, until: float, percentiles: Any) -> None:
        with pytest.raises(dc.InputError, match=r"is not a (tolerance|percentile)"):
            dc.monte_carlo(DEAL, 100, until=until, percentiles=percentiles)

    def test_the_cli_reports_the_draws_used(self) -> None:
        args = ["montecarlo", PATH, "-n", "50000", "--seed", "2", "--method", "random", "--until", "0.05"]
        shown = CliRunner().invoke(main, args)
        assert shown.exit_code == 0, shown.output
        assert "converged to ±5.00%" in shown.output and "of at most 50,000 draws used" in shown.output
        payload = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
        assert payload["until"]["converged"] is True
        assert payload["until"]["draws_used"] == payload["draws"] < 50_000
        assert payload["until"]["metrics"] == ["npv_usd"]


class TestOut:
    def test_csv_holds_every_draw_and_every_metric_of_every_party(self, tmp_path: Path) -> None:
        out = tmp_path / "draws.csv"
        result = CliRunner().invoke(main, ["montecarlo", PATH, "-n", "300", "--seed", "3", "--out", str(out)])
        assert result.exit_code == 0, result.output
        df = pd.read_csv(out, comment="#", index_col="draw")
        assert df.shape[0] == 300
        for party in DEAL.party_names():
            assert f"{party}.npv_usd" in df and f"{party}.irr" in df
        assert {"min_dscr", "payback_years", "gate.refinery.built"} <= set(df)
        mc = dc.monte_carlo(DEAL, 300, seed=3)
        np.testing.assert_allclose(df["npv_usd"].to_numpy(), mc.metric("npv_usd"), rtol=1e-14)
        assert out.read_text().startswith("# ")  # the run's record

    def test_parquet_round_trips_exactly(self, tmp_path: Path) -> None:
        pytest.importorskip("pyarrow")
        out = tmp_path / "draws.parquet"
        result = CliRunner().invoke(
            main, ["montecarlo", PATH, "-n", "300", "--seed", "3", "--metric", "npv_usd", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        df = pd.read_parquet(out)
        mc = dc.monte_carlo(DEAL, 300, seed=3, metrics=["npv_usd"])
        pd.testing.assert_frame_equal(df, mc.draws(), check_exact=True)
        import pyarrow.parquet as pq

        run = json.loads(pq.read_schema(out).metadata[b"dealcalc.run"])
        assert run["seed"] == 3 and run["draws"] == 300

    def test_json_is_still_the_summary(self, tmp_path: Path) -> None:
        out = tmp_path / "mc.json"
        assert CliRunner().invoke(main, ["montecarlo", PATH, "-n", "200", "--out", str(out)]).exit_code == 0
        payload = json.loads(out.read_text())
        assert payload["kind"] == "montecarlo" and payload["probabilities"] == {} and payload["until"] is None

    def test_an_unknown_suffix_is_refused_at_parse_time(self, tmp_path: Path) -> None:
        result = CliRunner().invoke(main, ["montecarlo", PATH, "--out", str(tmp_path / "x.xlsx")])
        assert result.exit_code == 2 and ".parquet" in result.output

    def test_a_missing_pyarrow_names_the_install_command(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import builtins

        real = builtins.__import__

        def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
            if name == "pyarrow" or name.startswith("pyarrow."):
                raise ImportError(name)
            return real(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", no_pyarrow)
        out = tmp_path / "draws.parquet"
        result = CliRunner().invoke(main, ["montecarlo", PATH, "-n", "100", "--out", str(out)])
        assert result.exit_code != 0 and "pip install 'dealcalc[parquet]'" in result.output
        assert not out.exists()
