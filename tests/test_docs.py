"""The documentation stays true: every field of every model is in the scenario-file reference."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from dealcalc import models

DOCS = Path(__file__).parents[1] / "docs"


def test_every_model_field_is_documented() -> None:
    text = (DOCS / "scenario-file.md").read_text()
    missing = []
    for name in models.__all__:
        cls = getattr(models, name)
        if isinstance(cls, type) and issubclass(cls, BaseModel) and name != "Provenance":
            for field in cls.model_fields:
                if field != "provenance" and f"`{field}`" not in text and f"`gate.{field}`" not in text:
                    missing.append(f"{name}.{field}")
    assert not missing, f"undocumented fields: {missing}"


def test_every_cli_command_is_documented() -> None:
    from dealcalc.cli import main

    text = (DOCS / "cli.md").read_text()
    for command in main.commands:
        assert f"dealcalc {command}" in text, command


def test_readme_python_runs(monkeypatch: object) -> None:
    import os
    import re

    readme = (DOCS.parent / "README.md").read_text()
    code = "\n".join(re.findall(r"```python\n(.*?)```", readme, re.S))
    assert "dc.evaluate" in code
    cwd = os.getcwd()
    os.chdir(DOCS.parent)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)


def test_examples_walkthrough_runs(capsys: object) -> None:
    import runpy

    runpy.run_path(str(DOCS.parent / "examples" / "walkthrough.py"), run_name="__main__")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "P(NPV < 0)" in out and "no_refinery" in out


def test_examples_sensitivity_runs(capsys: object) -> None:
    import runpy

    runpy.run_path(str(DOCS.parent / "examples" / "sensitivity.py"), run_name="__main__")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "tornado of ussm.npv_usd" in out and "npv_usd (real) = 0 at price_decks.base.antimony" in out
    assert (
        "streams.copper.recovery from 0.704 to 1.000; held at its limit: ['streams.copper.recovery']" in out
    )


def test_examples_mine_plan_runs(capsys: object) -> None:
    import runpy

    runpy.run_path(str(DOCS.parent / "examples" / "mine_plan.py"), run_name="__main__")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "fed from underground_zinc" in out and "pit grades x 0.9 / 1.0 / 1.1" in out
    assert "NPV = 0 when the pit's grades are x" in out


def test_examples_montecarlo_runs(capsys: object) -> None:
    import runpy

    runpy.run_path(str(DOCS.parent / "examples" / "montecarlo.py"), run_name="__main__")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "prob_negative" in out and "Spearman correlation with NPV" in out
    assert "refused: uncertainty.inputs.streams.copper.recovery" in out and "bounded at 1.0" in out


def test_examples_risk_runs(capsys: object) -> None:
    import runpy

    runpy.run_path(str(DOCS.parent / "examples" / "risk.py"), run_name="__main__")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "share of draws in which the debt defaults" in out and "dfi_guarantor" in out
    assert "switch.china_retightens" in out and "unexplained" in out and "e+0" not in out


def test_examples_charts_runs(tmp_path: Path, capsys: object) -> None:
    import importlib.util

    import pytest

    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("needs dealcalc[plot]")
    import runpy

    module = runpy.run_path(str(DOCS.parent / "examples" / "charts.py"), run_name="charts")
    written = module["main"](tmp_path)
    assert {p.name for p in written} >= {"waterfall.png", "tornado.png", "ussm_fwo.xlsx", "report.html"}
    # the user guide shows every chart kind, from docs/images
    from dealcalc.report.charts import KINDS

    guide = (DOCS / "user-guide.md").read_text(encoding="utf-8")
    for kind in KINDS:
        assert f"images/{kind}.png" in guide and (DOCS / "images" / f"{kind}.png").is_file(), kind


def test_examples_fiscal_runs(capsys: object) -> None:
    import runpy

    runpy.run_path(str(DOCS.parent / "examples" / "fiscal.py"), run_name="__main__")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "us_alaska_2023" in out and "take: us_federal" in out and "a stack of two levies" in out
    real, nominal = out.split("with 3 % inflation: NPV ")[1].split(" US$ M real, ")
    assert real == nominal.split(" US$ M nominal")[0]  # the same valuation to the printed digit


def test_examples_terms_runs(capsys: object) -> None:
    import runpy

    import dealcalc as dc

    runpy.run_path(str(DOCS.parent / "examples" / "terms.py"), run_name="__main__")
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    header = out.splitlines()[1].split()
    assert header == [
        "base",
        "terms_ussm_earns_refinery_stake",
        "terms_provincial_stake",
        "terms_us_offtake_floor",
    ]
    assert "e+" not in out and "e-0" not in out  # no scientific notation
    # The printed USSM NPV of sheet 1 is the deal valued under that scenario, to the digit.
    deal = dc.load(DOCS.parent / "examples" / "ussm_fwo_2025.yaml")
    ussm = (
        dc.evaluate(deal, scenario="terms_ussm_earns_refinery_stake").party_summary().loc["ussm", "npv_usd"]
    )
    row = next(line for line in out.splitlines() if line.startswith("ussm NPV [US$ M]") and "-13.2" in line)
    assert row.split()[5] == f"{ussm / 1e6:.1f}"
    # Only the provincial sheet has a Balochistan owner; the US government pays the floor in sheet 3.
    province = (
        dc.evaluate(deal, scenario="terms_provincial_stake").party_summary().loc["balochistan", "npv_usd"]
    )
    balochistan = next(line for line in out.splitlines() if line.startswith("balochistan NPV"))
    assert balochistan.split()[4:] == ["—", "—", f"{province / 1e6:.1f}", "—"]
    share = out.split("share of the grid every party accepts: ")[1]
    accepted, total = share.split("(")[1].split(" points)")[0].split(" of ")
    assert 0 < int(accepted) < int(total) == 55
    marks = out.split("every party accepts (yes):")[1].split("share of the grid")[0]
    assert marks.split().count("yes") == int(accepted)
