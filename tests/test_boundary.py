"""No silent mistakes at the boundary (issue 19, parts 2 and 3).

- Every failure of the command line is one line and an exit status: a user's mistake exits 2
  with the file, line and field; anything unexpected exits 1 with one line that says it is a
  bug in dealcalc, what failed and how to see the traceback (``--debug``, ``DEALCALC_DEBUG``);
  Ctrl-C exits 130.
- The inputs that used to end in a traceback: YAML keys read as numbers, a 5,000-digit number, a
  deeply nested ``--set`` value, a price of 1e306 (refused: beyond 1e15), an unreachable dask scheduler, a
  300-character output name, and a deal name that matplotlib read as TeX.
- The metrics rescale a row by a power of two before solving: extreme magnitudes give the IRR of
  the scaled series (bit for bit), and a result beyond floating point is a clear InputError,
  never a numpy RuntimeWarning (warnings are errors in the tests).
- Names in outputs: any name a deal may use (dashes, underscores, capitals) makes valid defined
  names in the Excel workbook, whose formulas still recompute dealcalc's numbers.
"""

from __future__ import annotations

import copy
import errno
import io
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from click.testing import CliRunner, Result
from hypothesis import given
from hypothesis import strategies as st

import dealcalc as dc
from dealcalc.cli import commands, main, options
from dealcalc.errors import InputError

EXAMPLE = Path(__file__).parents[1] / "examples" / "ussm_fwo_2025.yaml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
COPPER = "copper: {value: 9500, label: assumption"  # the base deck's copper price


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def one_line(result: Result, status: int) -> str:
    """The single line on standard error of a command that failed with ``status``."""
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def deal_file(tmp_path: Path, text: str, name: str = "deal.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


# ------------------------------------------------------------------ bugs, --debug, Ctrl-C


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise ZeroDivisionError("float division by zero " + "x" * 500)


def test_an_unexpected_error_is_one_line_that_says_it_is_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(commands, "evaluate", _boom)
    line = one_line(run("npv", str(EXAMPLE)), 1)
    assert line.startswith("error: this is a bug in dealcalc (ZeroDivisionError: float division by zero")
    assert "at cli/commands.py:" in line  # where, in dealcalc, it was raised
    assert "dealcalc --debug npv ..." in line and "DEALCALC_DEBUG=1" in line and "report it" in line
    assert len(line) < 400  # the message is shortened


@pytest.mark.parametrize("how", ["option", "environment"])
def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.setattr(commands, "evaluate", _boom)
    if how == "option":
        result = run("--debug", "npv", str(EXAMPLE))
    else:
        result = run("npv", str(EXAMPLE), env={"DEALCALC_DEBUG": "1"})
    assert result.exit_code == 1 and isinstance(result.exception, ZeroDivisionError)
    assert "this is a bug" not in result.output


def test_debug_shows_the_traceback_of_a_users_mistake_too(tmp_path: Path) -> None:
    result = run("--debug", "npv", str(tmp_path / "missing.yaml"))
    assert isinstance(result.exception, InputError)


def test_ctrl_c_is_one_line_and_status_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(options, "load_deal", interrupted)
    assert one_line(run("npv", str(EXAMPLE)), 130) == "error: interrupted"


def test_a_warning_is_one_line_after_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    real = commands.evaluate

    def warns(*args: Any, **kwargs: Any) -> Any:
        warnings.warn("overflow encountered in multiply", RuntimeWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(commands, "evaluate", warns)
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # as outside the tests, where warnings are not errors
        result = run("npv", str(EXAMPLE), "--json")
    assert result.exit_code == 0 and "Traceback" not in result.output
    (line,) = result.stderr.strip().splitlines()
    assert re.fullmatch(
        r"warning: overflow encountered in multiply \(RuntimeWarning, test_boundary\.py:\d+\)", line
    )


def test_a_file_the_system_refuses_is_a_users_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def full(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(options, "write_atomic", full)
    out = tmp_path / "ledger.csv"
    line = one_line(run("table", str(EXAMPLE), "--csv", str(out)), 2)
    assert line == f"error: {out}: the operating system refused the file: No space left on device"


# ------------------------------------------------------------- the inputs that used to crash


@pytest.mark.parametrize("key", ["0x1F", "1:30"])
def test_a_yaml_key_read_as_a_number_is_one_line(tmp_path: Path, key: str) -> None:
    text = TEXT.replace(
        "scenarios:     # facts §8.6\n", f"scenarios:     # facts §8.6\n  {key}: {{set: {{}}}}\n"
    )
    path = deal_file(tmp_path, text)
    line = one_line(run("npv", str(path)), 2)
    assert line.startswith(f"error: {path}:{line_of(text, key + ':')}: ") and repr(key) in line


def test_a_number_of_5000_digits_is_one_short_line(tmp_path: Path) -> None:
    text = TEXT.replace(COPPER, COPPER.replace("9500", "9" * 5000), 1)
    path = deal_file(tmp_path, text)
    line = one_line(run("npv", str(path)), 2)
    assert line.startswith(f"error: {path}:{line_of(text, '9' * 5000)}: ") and len(line) < 500


@pytest.mark.parametrize("depth", [150, 3000])
def test_a_deeply_nested_set_value_is_one_line(depth: int) -> None:
    value = "[" * depth + "]" * depth
    line = one_line(run("npv", str(EXAMPLE), "--set", f"fiscal.royalty_rate={value}"), 2)
    assert line.startswith("error: --set fiscal.royalty_rate: values nested ")


def test_a_price_of_1e306_is_traced_to_its_line(tmp_path: Path) -> None:
    text = TEXT.replace(COPPER, COPPER.replace("9500", "1e306"), 1)
    path = deal_file(tmp_path, text)
    line = one_line(run("npv", str(path)), 2)
    # refused as it is read (it used to overflow the cash flows): a number of money is at most 1e15
    assert line.startswith(
        f"error: {path}:{line_of(text, '1e306')}: price_decks.base.copper: "
        "1e+306 is beyond what dealcalc values (at most 1e15); check the units"
    )


def test_a_price_of_1e306_in_set_is_named(tmp_path: Path) -> None:
    line = one_line(run("npv", str(EXAMPLE), "--set", "price_decks.base.copper=1e306"), 2)
    assert line.startswith("error: price_decks.base.copper: --set: 1e+306 is beyond what dealcalc values")


def test_flows_beyond_floating_point_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text("a\n1e308\n1e308\n", encoding="utf-8")
    line = one_line(run("flows", str(path), "--rate", "0.0"), 2)
    assert line.startswith(f"error: {path}: the NPV is too large for floating point")
    # a row of that size is otherwise valued as the scaled series is
    path.write_text("a\n-1e308\n1e308\n1e308\n", encoding="utf-8")
    result = run("flows", str(path), "--rate", "0.1", "--json")
    assert result.exit_code == 0 and '"irr": 0.618033988749' in result.stdout


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "not-an-address"])
def test_an_unreachable_dask_scheduler_is_one_line(address: str) -> None:
    pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = run("montecarlo", str(EXAMPLE), "-n", "20", "--scheduler", address)
    line = one_line(result, 2)
    assert line.startswith(f"error: --scheduler: cannot reach the dask scheduler at {address}: ")
    assert "dask scheduler; or run on this machine with --workers N" in line


LONG = "a" * 300


@pytest.mark.parametrize(
    "args",
    [
        ["plot", "cashflow", str(EXAMPLE), "--out", f"{LONG}.png"],
        ["table", str(EXAMPLE), "--csv", f"{LONG}.csv"],
        ["table", str(EXAMPLE), "--xlsx", f"{LONG}.xlsx"],
        ["sensitivity", "tornado", str(EXAMPLE), "--out", f"{LONG}.json"],
        ["report", str(EXAMPLE), "--out", f"{LONG}.html"],
        ["example", "ussm-fwo", "--out", f"{LONG}.yaml"],
        ["flows", str(EXAMPLE.with_name("cashflows.csv")), "-r", "0.1", "--out", f"{LONG}.csv"],
        ["npv", f"{LONG}.yaml"],
    ],
    ids=["plot", "csv", "xlsx", "sensitivity", "report", "example", "flows", "input"],
)
def test_a_300_character_file_name_is_one_short_line(tmp_path: Path, args: list[str]) -> None:
    args = [str(tmp_path / a) if a.startswith(LONG) else a for a in args]
    line = one_line(run(*args), 2)
    assert "…" in line and len(line) < 400  # the name is shortened in the middle
    assert not list(tmp_path.iterdir())


def test_an_absurd_output_path_is_refused_before_any_work(tmp_path: Path) -> None:
    line = one_line(run("table", str(EXAMPLE), "--csv", str(tmp_path / f"{LONG}.csv")), 2)
    assert "--csv: the file name is 304 bytes long; the file system takes at most" in line


# ------------------------------------------------------------------------- text in charts

TEX_NAME = r"Deal $\foo{$ and $x_$ (US$ 5)"


def test_a_name_matplotlib_would_read_as_tex_is_drawn_as_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from dealcalc.report.charts import Results, figure
    from dealcalc.report.plots import render

    text = re.sub(r"(?m)^name: .*$", lambda _: "name: " + json.dumps(TEX_NAME), TEXT)
    # (a party's name, which the charts show too, can no longer hold a $: a name is an identifier)
    path = deal_file(tmp_path, text)
    deal = dc.load(path)
    assert deal.name == TEX_NAME
    for kind in ("cashflow", "waterfall", "parties"):
        fig = figure(kind, Results(deal))
        render(fig, "png")  # used to raise matplotlib's ParseFatalException
        shown = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
        assert not any(re.search(r"(?<!\\)\$.*(?<!\\)\$", s) for s in shown if s), shown
    assert fig.axes[0].get_title() != ""
    title = figure("cashflow", Results(deal)).axes[0].get_title()
    assert title.replace("\\$", "$") == f"Cash flow: {TEX_NAME}, base case"
    for kind in ("cashflow", "parties"):
        result = run("plot", kind, str(path), "--out", str(tmp_path / f"{kind}.png"))
        assert result.exit_code == 0, result.output
    assert run("report", str(path), "--out", str(tmp_path / "r.html"), "-n", "20").exit_code == 0


def test_the_charts_api_refuses_bad_arguments_with_input_errors() -> None:
    pytest.importorskip("matplotlib")
    from dealcalc.report import plots
    from dealcalc.report.charts import Results, figure

    with pytest.raises(InputError, match="fmt: unknown chart format 'bmp'; expected png, svg or pdf"):
        plots.render(plots.new_figure(), "bmp")
    with pytest.raises(InputError, match="width: 0 is not a size"):
        plots.new_figure(0, 4)
    with pytest.raises(InputError, match="dpi: -1 is not a size"):
        plots.render(plots.new_figure(), "png", dpi=-1)
    valuation = dc.evaluate(dc.load(EXAMPLE))
    with pytest.raises(InputError, match=r"rates: .* are not discount rates"):
        plots.npv_profile_chart(valuation, rates=[0.1, -2.0], ax=plots.new_figure().add_subplot())
    with pytest.raises(InputError, match="top: 0 is not a number of parameters"):
        plots.spider_chart(dc.spider(dc.load(EXAMPLE), ["fiscal.royalty_rate"]), top=0)
    with pytest.raises(InputError, match="kind: unknown chart 'pie'"):
        figure("pie", Results(dc.load(EXAMPLE)))
    from dealcalc.report import tornado_table

    with pytest.raises(InputError, match="width: -3 is not a bar width"):
        tornado_table(dc.tornado(dc.load(EXAMPLE), ["fiscal.royalty_rate"]), width=-3)


# ---------------------------------------------------------- metrics rescale before solving

DATES = np.datetime64("2020-01-01") + np.array([0, 365, 731, 1100, 1461, 1900])


def test_irr_of_flows_near_1e308_is_that_of_the_scaled_series() -> None:
    assert dc.irr([-1e308, 1e308, 1e308]) == pytest.approx((1 + 5**0.5) / 2 - 1, rel=1e-15)
    assert dc.irr([-5e-324, 5e-324, 5e-324]) == pytest.approx(0.6180339887498949, rel=1e-15)
    assert dc.irr_roots([-1e308, 1e308, 1e308]) == pytest.approx([0.6180339887498949], rel=1e-12)
    one = [-1.0, 1.0, 1.0, -0.5, 2.0, 1.0]
    big = [8e307 * x for x in one]  # its sums overflow
    assert dc.mirr(big, 0.1, 0.12) == pytest.approx(dc.mirr(one, 0.1, 0.12), rel=1e-14)
    assert dc.payback(big) == pytest.approx(dc.payback(one), rel=1e-14)
    assert dc.discounted_payback(0.1, big) == pytest.approx(dc.discounted_payback(0.1, one), rel=1e-14)
    assert dc.profitability_index(0.1, big) == pytest.approx(dc.profitability_index(0.1, one), rel=1e-14)
    assert dc.xirr(big, DATES) == pytest.approx(dc.xirr(one, DATES), rel=1e-13)
    # NPV is linear: valued on the scaled row and scaled back
    assert dc.npv(0.0, [1e308, 1e308, -1e308]) == 1e308
    assert dc.npv(0.5, big) == pytest.approx(8e307 * dc.npv(0.5, one), rel=1e-14)
    assert dc.xnpv(0.1, [1e308, 1e308, -1e308], DATES[:3]) == pytest.approx(
        1e308 * dc.xnpv(0.1, [1.0, 1.0, -1.0], DATES[:3]), rel=1e-14
    )


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda: dc.npv(0.0, [1e308, 1e308]), "the NPV"),
        (lambda: dc.npv([0.1, -0.999], [1e308, 1e308, 1e308]), "the NPV"),
        (lambda: dc.npv(-0.99, np.ones(200)), "the NPV"),
        (lambda: dc.xnpv(0.0, [1e308, 1e308], DATES[:2]), "the XNPV"),
        (lambda: dc.discounted_payback(-0.99, [-1.0] + [1.0] * 200), "a discounted cash flow"),
        (lambda: dc.profitability_index(0.0, [-1e-300, 1e300, 1e300]), "the profitability index"),
        (lambda: dc.mirr([-1e-300, 1e300], 0.0, 0.0), "the MIRR"),
    ],
    ids=["npv", "profile", "rate-near-minus-1", "xnpv", "discounted-payback", "pi", "mirr"],
)
def test_a_result_beyond_floating_point_is_a_clear_error(call: Any, what: str) -> None:
    with pytest.raises(InputError, match=rf"values: {what} is too large for floating point"):
        call()


def test_a_mirr_whose_ratio_overflows_but_not_its_root_is_found() -> None:
    # (1e300 / 1e-300) ** (1/10) = 1e60: the ratio overflows, the MIRR does not
    values = [-1e-300] + [0.0] * 9 + [1e300]
    assert dc.mirr(values, 0.0, 0.0) == pytest.approx(1e60, rel=1e-9)


rows_of_flows = hnp.arrays(np.float64, (4, 6), elements=st.integers(-1000, 1000).map(float))


@given(rows_of_flows, st.integers(-1000, 900))
def test_scaling_by_a_power_of_two_changes_no_bit(rows: np.ndarray, k: int) -> None:
    scaled = np.ldexp(rows, k)
    for metric in (
        dc.irr,
        lambda v: dc.mirr(v, 0.1, 0.05),
        dc.payback,
        lambda v: dc.discounted_payback(0.1, v),
        lambda v: dc.profitability_index(0.1, v),
        lambda v: dc.xirr(v, DATES),
    ):
        np.testing.assert_array_equal(metric(scaled), metric(rows))
    np.testing.assert_allclose(dc.npv(0.1, scaled), np.ldexp(dc.npv(0.1, rows), k), rtol=1e-13, atol=0)


finite_or_not = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6),
    elements=st.one_of(
        st.floats(width=64),
        st.sampled_from([1e308, -1e308, 1.7e308, -1.7e308, 5e-324, -5e-324, 1e-310, 0.0]),
    ),
)


@given(finite_or_not, st.one_of(st.floats(-0.9999, 1e6), st.sampled_from([0.0, -0.999, 1e300])))
def test_metrics_answer_or_raise_and_never_warn(values: np.ndarray, rate: float) -> None:
    dates = DATES[0] + np.arange(values.shape[-1]) * 100
    for call in (
        lambda: dc.npv(rate, values, timing="mid"),
        lambda: dc.irr(values),
        lambda: dc.irr_roots(values),
        lambda: dc.mirr(values, 0.1, rate),
        lambda: dc.payback(values),
        lambda: dc.discounted_payback(rate, values),
        lambda: dc.profitability_index(rate, values),
        lambda: dc.xnpv(rate, values, dates),
        lambda: dc.xirr(values, dates),
    ):
        try:
            call()  # a RuntimeWarning would be an error here (pytest's filterwarnings)
        except ValueError as exc:  # NaN/inf inputs (programmer errors) or an InputError
            assert str(exc)


# ------------------------------------------------------------------- names in the workbook

#: Excel's rule for a defined name, as xlsxwriter checks it (and no cell-like name).
EXCEL_NAME = re.compile(r"[A-Za-z_\\][\w\\.]*")


def _renamed(text: str, names: dict[str, str]) -> str:
    for old, new in names.items():
        text = re.sub(rf"(?<![\w.]){old}(?![\w])", new, text)
    return text


def _defined_names(book: bytes) -> list[str]:
    openpyxl = pytest.importorskip("openpyxl")
    return list(openpyxl.load_workbook(io.BytesIO(book)).defined_names.keys())


def test_names_with_dashes_and_capitals_make_a_workbook_that_recomputes(tmp_path: Path) -> None:
    pytest.importorskip("formulas")
    sys.path.insert(0, str(Path(__file__).parent))
    from dealcalc.report.excel import excel_model
    from test_excel import Recomputed

    # a name is letters, digits, _ and - (a product's, which a base may name, no -)
    text = _renamed(
        TEXT,
        {
            "concentrators": "conc-Phase-1",
            "copper": "Copper_Mine",
            "refinery": "re-finery",
            "ndpr_oxide": "NdPr_Oxide",
        },
    )
    deal = dc.load(deal_file(tmp_path, text))
    assert {"conc-Phase-1", "re-finery"} <= set(deal.phases) and "NdPr_Oxide" in deal.products
    book = excel_model(deal)  # xlsxwriter's warning of an invalid name would be an error here
    names = _defined_names(book)
    assert all(EXCEL_NAME.fullmatch(n) for n in names), names
    assert len({n.lower() for n in names}) == len(names)
    assert {"opex_usd_per_t_ore_copper_mine_be1332", "capex_re_finery_231d99"} <= set(names)
    workbook = Recomputed(book, tmp_path)
    valuation = dc.evaluate(deal)
    assert workbook.value("Summary", "B5") == pytest.approx(valuation.npv_usd[0], rel=1e-9)
    assert workbook.value("Summary", "B6") == pytest.approx(valuation.irr[0], abs=1e-9)
    moved = workbook.changed({"Price: Copper_Mine": 12000.0, "Capex: re-finery": 3.5e8})
    expected = dc.evaluate(
        dc.params.with_changes(
            deal, {"price_decks.base.Copper_Mine": 12000.0, "phases.re-finery.capex_usd": 3.5e8}
        )
    )
    assert moved.value("Summary", "B5") == pytest.approx(expected.npv_usd[0], rel=1e-9)


def test_levies_and_classes_with_any_name_recompute_on_the_stack_sheet(tmp_path: Path) -> None:
    pytest.importorskip("formulas")
    sys.path.insert(0, str(Path(__file__).parent))
    from dealcalc.report.excel import excel_model
    from test_excel import STACKS, Recomputed, _assert_every_line, _with_fiscal

    def renamed(d: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
        return {names.get(k, k): v for k, v in d.items()}  # in order: levies follow each other

    fiscal = copy.deepcopy(STACKS["features"])
    fiscal["levies"] = renamed(
        fiscal["levies"], {"surtax": "Sur_Tax_2", "windfall": "Windfall", "resource_levy": "_resource_levy"}
    )
    fiscal["capital_classes"] = renamed(
        fiscal["capital_classes"], {"pool": "pool-A", "sustaining": "Sustaining-capex"}
    )
    deal = _with_fiscal(fiscal)
    book = excel_model(deal)
    names = _defined_names(book)
    assert all(EXCEL_NAME.fullmatch(n) for n in names), names
    assert any(n.startswith("levy_sur_tax_2_") for n in names) and any(
        n.startswith("class_pool_a_") for n in names
    )
    _assert_every_line(Recomputed(book, tmp_path), dc.evaluate(deal))


def test_excel_names_keep_apart_what_the_deal_keeps_apart() -> None:
    from dealcalc.report.excel_stack import excel_name

    names = [
        excel_name("price", p) for p in ("copper", "Copper", "copper mine", "copper-mine", "copper_mine")
    ]
    assert len({n.lower() for n in names}) == len(names)
    assert names[0] == "price_copper" and names[-1] == "price_copper_mine"
    assert all(
        EXCEL_NAME.fullmatch(n) for n in [*names, excel_name("levy", "", "rate"), excel_name("x", "é$€")]
    )
