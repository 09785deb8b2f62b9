"""Global sensitivity against analytic indices (Ishigami) and on the bundled deal."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.analyses.gsa import correlation_groups, morris, sobol, sobol_indices
from dealcalc.cli import main

DEAL = dc.load(dc.example_path("ussm-fwo"))


def ishigami(u: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    x = -np.pi + 2.0 * np.pi * u
    out: np.ndarray = np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])
    return out


def test_sobol_indices_of_the_ishigami_function() -> None:
    # analytic (a = 7, b = 0.1): V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2
    a, b = 7.0, 0.1
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    total = v1 + v2 + v13
    t = sobol_indices(ishigami, ["x1", "x2", "x3"], 2**14, seed=1)
    assert t.loc["x1", "S1"] == pytest.approx(v1 / total, abs=0.02)
    assert t.loc["x2", "S1"] == pytest.approx(v2 / total, abs=0.02)
    assert t.loc["x3", "S1"] == pytest.approx(0.0, abs=0.02)
    assert t.loc["x1", "ST"] == pytest.approx((v1 + v13) / total, abs=0.02)
    assert t.loc["x2", "ST"] == pytest.approx(v2 / total, abs=0.02)
    assert t.loc["x3", "ST"] == pytest.approx(v13 / total, abs=0.02)
    assert (t["ST_conf"] < 0.05).all()


def test_correlated_inputs_are_grouped() -> None:
    assert correlation_groups(["a", "b", "c", "d"], [("a", "b", 0.5), ("b", "c", -0.2)]) == [
        "a+b+c",
        "a+b+c",
        "a+b+c",
        "d",
    ]
    grouped = sobol(DEAL, 256)
    assert "phases.*.capex_usd+streams.*.opex_usd_per_t_ore" in grouped.index
    single = sobol(DEAL, 256, group_correlated=False)
    assert "phases.*.capex_usd" in single.index and len(single) == len(grouped) + 1


def test_morris_ranks_the_deal_inputs() -> None:
    t = morris(DEAL, 30)
    assert t.index[0] == "phases.*.capex_usd"
    assert t.loc["trade.destinations.us.pass_through_fraction", "mu_star"] < 1e6
    assert np.isfinite(t.to_numpy()).all()  # the strata midpoints keep unbounded marginals finite


def test_a_missing_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def no_salib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "SALib" or name.startswith("SALib."):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_salib)
    with pytest.raises(dc.MissingExtraError, match=r"pip install 'dealcalc\[gsa\]'"):
        sobol(DEAL, 64)


def test_cli_sobol_and_morris() -> None:
    path = str(dc.example_path("ussm-fwo"))
    result = CliRunner().invoke(main, ["sensitivity", "sobol", path, "-n", "256"])
    assert result.exit_code == 0 and "ST, total (%)" in result.output
    result = CliRunner().invoke(main, ["sensitivity", "morris", path, "-n", "20", "--json"])
    assert result.exit_code == 0 and '"mu_star"' in result.output
