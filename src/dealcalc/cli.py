"""The ``dealcalc`` command line: parses arguments, calls the API, prints. No finance here.

Every failure ends with one line on standard error and an exit status, never a traceback:

- a :class:`~dealcalc.errors.DealcalcError` (a user mistake or an unsolvable request): the
  line names the file, line and field, and the status is 2; so is a file the system refuses
  (a name too long, no permission), an unreachable dask scheduler, and a deal whose numbers
  overflow floating point, which is traced to the number in the file or ``--set`` that did it;
- Ctrl-C: ``error: interrupted``, status 130;
- anything else is a bug in dealcalc: one line that says so, with the exception and where it
  was raised, and status 1. ``dealcalc --debug COMMAND ...`` (or ``DEALCALC_DEBUG=1``) shows
  the traceback instead.

Outputs go through :func:`dealcalc.io.write_atomic` and are not overwritten without ``--force``.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import traceback
import warnings
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
import yaml
from rich.console import Console

import dealcalc
from dealcalc import __version__
from dealcalc.analyses import (
    breakeven,
    compare,
    evaluate,
    flow_metrics,
    grid,
    monte_carlo,
    morris,
    sobol,
    spider,
    tariff_attribution,
    tornado,
)
from dealcalc.analyses.montecarlo import has_uncertainty
from dealcalc.engine import resolve
from dealcalc.errors import DealcalcError, InputError, InputErrors
from dealcalc.io import (
    EXAMPLES,
    MAX_YAML_DEPTH,
    SafeYamlLoader,
    check_output,
    example_path,
    load_deal,
    parse_assignment,
    read_cash_flows_csv,
    scenario_line,
    write_atomic,
)
from dealcalc.models import Deal
from dealcalc.params import apply_scenario, paths, schedule_paths, with_changes
from dealcalc.report import (
    attribution_table,
    compare_table,
    excel_model,
    flow_metrics_table,
    frame_table,
    indices_table,
    montecarlo_table,
    party_table,
    tornado_table,
    valuation_table,
)
from dealcalc.report.charts import FORMATS, KINDS, Results, figure
from dealcalc.report.html import CHARTS_MISSING, html_report
from dealcalc.report.plots import has_matplotlib, render

__all__ = ["main"]


#: Set to 1 (or true) to see the traceback of an unexpected error, as ``--debug`` does.
DEBUG_ENV = "DEALCALC_DEBUG"
#: Exit statuses: a user's mistake (as click's usage errors), a bug in dealcalc, Ctrl-C.
EXIT_INPUT, EXIT_BUG, EXIT_INTERRUPTED = 2, 1, 130
#: A number in a deal larger than this is the likely cause when its cash flows overflow.
OVERFLOW_SUSPECT = 1e15
#: Keys of ``click.Context.meta`` (shared by a command and the group) that let the group say
#: which input caused a failure.
_INPUTS, _SCHEDULER = "dealcalc.inputs", "dealcalc.scheduler"
_PACKAGE = Path(dealcalc.__file__).resolve().parent


class _Group(click.Group):
    """A click group that turns every failure into one line on standard error and an exit
    status (see the module docstring); with ``--debug`` it lets the exception through."""

    def invoke(self, ctx: click.Context) -> Any:
        # Warnings (a numpy overflow in the engine) are shown as one line each after the
        # command, not as Python's two; where warnings are errors (the tests), they still are.
        with warnings.catch_warnings(record=True) as caught:
            try:
                result = super().invoke(ctx)
            except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
                raise  # click's own: usage errors (status 2), --help, --version
            except KeyboardInterrupt:
                if ctx.params.get("debug"):
                    raise
                click.echo("error: interrupted", err=True)
                ctx.exit(EXIT_INTERRUPTED)
            except Exception as exc:
                if ctx.params.get("debug"):
                    raise
                error = _as_user_error(ctx, exc)
                if error is None:
                    click.echo(_bug_line(ctx, exc), err=True)
                    ctx.exit(EXIT_BUG)
                for line in str(error).splitlines() or [""]:
                    click.echo(f"error: {_shorten(line)}", err=True)
                ctx.exit(EXIT_INPUT)
        for w in caught:
            where = Path(w.filename)
            shown = where.relative_to(_PACKAGE).as_posix() if where.is_relative_to(_PACKAGE) else where.name
            click.echo(
                f"warning: {_one_line(w.message)} ({w.category.__name__}, {shown}:{w.lineno})", err=True
            )
        return result


def _shorten(text: str, longest: int = 160) -> str:
    """``text`` with each run of more than ``longest`` characters without a space (a number of
    5,000 digits, a path of 300 characters) cut in the middle."""
    return re.sub(rf"\S{{{longest + 1},}}", lambda m: f"{m[0][: longest // 2]}…{m[0][-longest // 4 :]}", text)


def _as_user_error(ctx: click.Context, exc: Exception) -> DealcalcError | None:
    """The user's mistake behind ``exc`` as a one-line error, or None for a bug in dealcalc."""
    inputs = ctx.meta.get(_INPUTS)
    if _overflowed(exc) and inputs is not None:
        culprit = _overflow_culprit(*inputs)
        if culprit is not None:
            return culprit
    if isinstance(exc, InputError) and exc.field == "scheduler":  # the option that named it
        # errors.md: cannot reach the dask scheduler at
        return InputError(
            exc.message,
            field="--scheduler",
            expected=exc.expected,
            hint="start one with: dask scheduler; or run on this machine with --workers N",
        )
    if isinstance(exc, InputError) and inputs is not None:
        return _located_in_scenarios(exc, inputs[0])
    if isinstance(exc, DealcalcError):
        return exc
    scheduler = ctx.meta.get(_SCHEDULER)
    if scheduler is not None and _connecting_to_dask(exc):
        # errors.md: cannot reach the dask scheduler at
        return InputError(
            f"cannot reach the dask scheduler at {scheduler}: {_one_line(exc)}",
            field="--scheduler",
            expected="the address of a running scheduler, e.g. tcp://10.0.0.5:8786",
            hint="start one with: dask scheduler; or run on this machine with --workers N",
        )
    if isinstance(exc, OSError) and exc.filename is not None:
        return _refused_file(exc)
    return None


def _located_in_scenarios(exc: InputError, file: Path) -> InputError:
    """``exc`` with the file and line of each problem that names a scenario overlay's entry
    (``scenarios.NAME.set.KEY``), which the deal no longer knows once the file is read."""

    def located(error: InputError) -> InputError:
        if error.source is not None or not (error.field or "").startswith("scenarios."):
            return error
        line = scenario_line(file, error.field or "")
        if line is None:
            return error
        # errors.md: Overrides, scenarios and --set
        return InputError(
            error.message,
            source=str(file),
            line=line,
            field=error.field,
            expected=error.expected,
            hint=error.hint,
        )

    if isinstance(exc, InputErrors):
        return InputErrors([located(e) for e in exc.errors])
    return located(exc)


def _one_line(exc: BaseException | Warning | str, longest: int = 200) -> str:
    """The first line of an exception's (or a warning's) message, at most ``longest`` characters."""
    lines = str(exc).strip().splitlines()
    text = _shorten(lines[0] if lines else type(exc).__name__, 60)
    return text if len(text) <= longest else text[: longest - 1] + "…"


def _bug_line(ctx: click.Context, exc: BaseException) -> str:
    """One line for an unexpected error: a bug, what failed and where, how to see more."""
    where = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(_PACKAGE):
            where = f" at {path.relative_to(_PACKAGE).as_posix()}:{line}"  # the innermost of ours
    command = " ".join(p for p in ("dealcalc", "--debug", ctx.invoked_subcommand) if p)
    return (
        f"error: this is a bug in dealcalc ({type(exc).__name__}: {_one_line(exc)}{where}); "
        f"to see the traceback, run it again as `{command} ...` or with {DEBUG_ENV}=1, "
        "and please report it"
    )


def _overflowed(exc: Exception) -> bool:
    """Whether ``exc`` says that numbers ran past floating point: the metrics' error for a
    result beyond it, or an unexpected error about infinity, NaN or an overflow."""
    if isinstance(exc, DealcalcError):
        return isinstance(exc, InputError) and exc.field == "values" and "floating point" in exc.message
    if isinstance(exc, OverflowError | FloatingPointError):
        return True
    return isinstance(exc, ValueError | RuntimeWarning) and bool(  # a warning, where they are errors
        re.search(r"\bNaN\b|infinity|overflow|invalid value", str(exc))
    )


def _connecting_to_dask(exc: BaseException) -> bool:
    """Whether ``exc`` was raised while a dask client connected to its scheduler."""
    return any(
        frame.f_code.co_name == "__init__"
        and Path(frame.f_code.co_filename).name == "client.py"
        and "distributed" in Path(frame.f_code.co_filename).parts
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


def _refused_file(exc: OSError) -> InputError:
    """A file the operating system refused (a name too long, no permission, a full disk)."""
    name = os.fsdecode(exc.filename)
    reason = exc.strerror or _one_line(exc)
    if exc.errno == errno.ENAMETOOLONG:
        return InputError(
            f"the name is too long for the file system ({reason})",
            source=name,
            expected="a shorter file name (at most 255 bytes) and path",
        )
    # errors.md: the operating system refused the file
    return InputError(f"the operating system refused the file: {reason}", source=name)


def _remember_inputs(file: Path, assignments: tuple[str, ...]) -> None:
    """Note the deal's file and ``--set`` for the group, to trace an overflow to its number."""
    context = click.get_current_context(silent=True)
    if context is not None:
        context.meta[_INPUTS] = (file, assignments)


def _overflow_culprit(file: Path, assignments: tuple[str, ...]) -> InputError | None:
    """The largest number of the scenario file and the ``--set`` values, as the error of a deal
    whose cash flows overflowed, if it is beyond :data:`OVERFLOW_SUSPECT`."""
    found: list[tuple[float, str, int | None, bool]] = []  # (size, field, line, from --set)
    try:
        root = yaml.compose(file.read_text(encoding="utf-8"), Loader=SafeYamlLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        root = None
    stack: list[tuple[yaml.Node, tuple[str, ...]]] = [(root, ())] if root is not None else []
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, path if name == "value" else (*path, name)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, str(i))) for i, item in enumerate(node.value))
        elif isinstance(node, yaml.ScalarNode) and path[-1:] != ("seed",):  # a seed is no amount
            size = _size(node.value.replace("_", ""))  # YAML reads 1e306 as text, the model a number
            if size is not None:
                found.append((size, ".".join(path), node.start_mark.line + 1, False))
    for text in assignments:
        try:
            path_text, value = parse_assignment(text)
        except (ValueError, RecursionError):
            continue
        stack_values: list[Any] = [value]
        while stack_values:
            item = stack_values.pop()
            if isinstance(item, dict):
                stack_values.extend(item.values())
            elif isinstance(item, list):
                stack_values.extend(item)
            elif not isinstance(item, bool):  # 1e306 is text to YAML, a number to the model
                size = _size(item)
                if size is not None:
                    found.append((size, path_text, None, True))
    if not found:
        return None
    size, field, line, given = max(found, key=lambda f: f[0])
    if size <= OVERFLOW_SUSPECT:
        return None
    return InputError(
        f"a number of {size:.3g} makes the deal's cash flows overflow floating point (1.8e308)",
        source=None if given else str(file),
        line=line,
        field=f"--set {field}" if given else field,
        expected=f"numbers of the size a deal has (below {OVERFLOW_SUSPECT:.0e})".replace("+", ""),
        hint="check the units of this number",
    )


def _size(value: Any) -> float | None:
    """``|value|`` as a finite float, or None."""
    try:
        size = abs(float(value))
    except (ValueError, OverflowError):
        return None
    return size if math.isfinite(size) else None


def _check_rate(value: float | None, option: str) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value <= -1.0:
        raise InputError(f"{value} is not a usable rate", field=option, expected="a fraction above -1")
    if value > 1.0:
        raise InputError(
            f"{value} looks like a percentage",
            field=option,
            expected="a fraction",
            hint=f"for {value:g} % write {value / 100:g}",
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {"name": str(name), **{str(k): _jsonable(v) for k, v in row.items()}} for name, row in df.iterrows()
    ]


def _output(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Check an output option when it is parsed: a name the file system can hold (a later
    failure would come after all the work)."""
    if value is None:
        return None
    option = param.opts[0] if param.opts else str(param.name)
    folder = value.parent if str(value.parent) else Path(".")
    try:
        name_max = int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):  # no such folder (said later), or no pathconf
        name_max = 255
    size = len(os.fsencode(value.name))
    if size > name_max:
        raise InputError(
            f"the file name is {size:,} bytes long; the file system takes at most {name_max}",
            source=str(value),
            field=option,
            expected="a shorter file name",
        )
    return value


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dealcalc")
@click.option(
    "--debug",
    is_flag=True,
    envvar=DEBUG_ENV,
    help=f"Show the traceback of an error instead of one line (also: {DEBUG_ENV}=1).",
)
def main(debug: bool) -> None:
    """Value cross-border critical-minerals deals.

    Rates are fractions (0.10 for 10 %). Mistakes in files or options end with one line
    naming what is wrong and exit status 2; anything else that fails is a bug in dealcalc,
    said in one line with exit status 1 (--debug shows its traceback); Ctrl-C exits with 130.
    """


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--rate", "-r", type=float, required=True, help="Discount rate per period (0.10 = 10 %).")
@click.option(
    "--timing",
    type=click.Choice(["t0", "end", "mid"]),
    default="t0",
    show_default=True,
    help="Where the first flow sits: t0 (undiscounted), end (Excel NPV), mid (mid-period).",
)
@click.option("--finance-rate", type=float, help="MIRR finance rate (default: --rate).")
@click.option("--reinvest-rate", type=float, help="MIRR reinvestment rate (default: --rate).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    callback=_output,
    help="Also write the results to a .json or .csv file (atomically).",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def flows(
    file: Path,
    rate: float,
    timing: str,
    finance_rate: float | None,
    reinvest_rate: float | None,
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """Value plain cash-flow series from a CSV FILE, one series per column.

    The first row names the series. An optional first column headed period, year or t
    labels the periods; one headed date (YYYY-MM-DD) adds XNPV and XIRR. Prints NPV, IRR,
    MIRR, simple and discounted payback (in periods) and the profitability index.

    Example: dealcalc flows examples/cashflows.csv --rate 0.10
    """
    for value, option in (
        (rate, "--rate"),
        (finance_rate, "--finance-rate"),
        (reinvest_rate, "--reinvest-rate"),
    ):
        _check_rate(value, option)
    if out is not None and out.suffix.lower() not in (".json", ".csv"):
        raise InputError(
            "unknown output type", source=str(out), field="--out", expected="a .json or .csv file"
        )
    table = read_cash_flows_csv(file)
    try:
        df = flow_metrics(
            table.values,
            rate,
            names=table.names,
            timing=timing,  # type: ignore[arg-type]
            finance_rate=finance_rate,
            reinvest_rate=reinvest_rate,
            dates=table.dates,
        )
    except InputError as exc:  # a metric beyond floating point: say which file's flows
        if exc.field != "values" or exc.source is not None:
            raise
        # errors.md: is too large for floating point
        raise InputError(exc.message, source=str(file), expected=exc.expected) from None
    payload = {
        "file": str(file),
        "rate": rate,
        "timing": timing,
        "finance_rate": rate if finance_rate is None else finance_rate,
        "reinvest_rate": rate if reinvest_rate is None else reinvest_rate,
        "periods": len(table.labels),
        "series": _records(df),
    }
    text = json.dumps(payload, indent=2)
    if out is not None:
        write_atomic(out, text + "\n" if out.suffix.lower() == ".json" else df.to_csv(), force=force)
    if as_json:
        click.echo(text)
    else:
        title = f"{file.name}: {len(table.labels)} periods, rate {rate:g}, timing {timing}"
        _console().print(flow_metrics_table(df, title=title))


# ------------------------------------------------------------------------------------ deals

_file_argument = click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
_scenario_option = click.option("--scenario", "-s", help="A named scenario of the file (default: base).")
_set_option = click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="PATH=VALUE",
    help="Change one parameter, e.g. --set fiscal.royalty_rate=0.07 (repeatable).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


def _deal(file: Path, assignments: tuple[str, ...]) -> Deal:
    _remember_inputs(file, assignments)
    deal = load_deal(file)
    if assignments:
        changes = dict(_assignment(a) for a in assignments)
        deal = with_changes(deal, changes, origin="--set")
    return deal


def _assignment(text: str) -> tuple[str, Any]:
    """``--set PATH=VALUE`` read (:func:`~dealcalc.io.parse_assignment`), refusing values nested
    deeper than a scenario file may be (they would exhaust Python's stack further on)."""
    field = f"--set {text.partition('=')[0].strip()}"
    expected = "a number, a text, or a list or mapping a few levels deep"
    try:
        path, value = parse_assignment(text)
    except RecursionError:
        raise InputError("values nested too deeply to read", field=field, expected=expected) from None
    if _depth(value) > MAX_YAML_DEPTH:
        raise InputError(
            f"values nested more than {MAX_YAML_DEPTH} levels deep", field=field, expected=expected
        )
    return path, value


def _depth(value: Any) -> int:
    """How deeply lists and mappings nest in ``value`` (0 for a number or a text)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
    return deepest


@main.command()
@_file_argument
@click.option("--paths", "show_paths", is_flag=True, help="List every numeric parameter path.")
def validate(file: Path, show_paths: bool) -> None:
    """Check a scenario FILE and every named scenario in it."""
    deal = _deal(file, ())
    for name in [None, *deal.scenarios]:  # every scenario resolves to the engine's numbers
        resolve(apply_scenario(deal, name), {}, 1)
    if has_uncertainty(deal):  # the uncertain inputs' paths and draws: a few draws check them all
        monte_carlo(deal, 8, seed=0, metrics=["npv_usd"])
    if show_paths:
        given_by_year = schedule_paths(deal)
        for p in paths(deal):
            given = given_by_year.get(p)
            if given is None:
                click.echo(p)
                continue
            # --set PATH=NUMBER would replace such a schedule, so it is refused: say what works
            one = f"--set {p}.YEAR=V sets one year" if isinstance(given, dict) else "--set takes a whole list"
            form = "year by year" if isinstance(given, dict) else "as a list"
            click.echo(
                f"{p}  (given {form}: an override or a scenario's scale: multiplies every year; {one})"
            )
        return
    click.echo(
        f"{file}: valid: {len(deal.phases)} phases, {len(deal.streams)} streams, "
        f"{len(deal.price_decks)} price decks, {len(deal.scenarios)} scenarios, "
        f"{len(deal.provenance)} values with provenance"
    )


def _console() -> Console:
    """A console for tables: the terminal's width, or 120 columns when output is piped."""
    console = Console()
    return console if console.is_terminal else Console(width=120)


def _valuation_command(file: Path, scenario: str | None, assignments: tuple[str, ...], as_json: bool) -> None:
    deal = _deal(file, assignments)
    head = evaluate(deal, scenario, keep_ledger=False).headline()
    if as_json:
        click.echo(json.dumps(head, indent=2))
        return
    console = _console()
    console.print(valuation_table(head, title=f"{deal.name}: {head['scenario']}"))
    if head.get("parties"):
        console.print(party_table(head, title="Parties"))


@main.command()
@_file_argument
@_scenario_option
@_set_option
@_json_option
def npv(file: Path, scenario: str | None, assignments: tuple[str, ...], as_json: bool) -> None:
    """Value the deal in FILE: NPV and IRR after and before tax, payback, peak funding.

    Example: dealcalc npv examples/ussm_fwo_2025.yaml --scenario spot_2025
    """
    _valuation_command(file, scenario, assignments, as_json)


@main.command()
@_file_argument
@_scenario_option
@_set_option
@_json_option
def irr(file: Path, scenario: str | None, assignments: tuple[str, ...], as_json: bool) -> None:
    """The deal's IRR after and before tax (with NPV, as `npv` shows)."""
    _valuation_command(file, scenario, assignments, as_json)


@main.command()
@_file_argument
@_scenario_option
@_set_option
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(path_type=Path, dir_okay=False),
    callback=_output,
    help="Write the ledger to CSV.",
)
@click.option(
    "--xlsx",
    "xlsx_out",
    type=click.Path(path_type=Path, dir_okay=False),
    callback=_output,
    help="Write the ledger and the inputs with their provenance to an Excel workbook (extra: excel).",
)
@click.option("--force", is_flag=True, help="Replace --csv/--xlsx if it exists.")
def table(
    file: Path,
    scenario: str | None,
    assignments: tuple[str, ...],
    csv_out: Path | None,
    xlsx_out: Path | None,
    force: bool,
) -> None:
    """The annual ledger of the deal: every line by year (US$; inflows positive)."""
    deal = _deal(file, assignments)
    for out, suffix, option in ((csv_out, ".csv", "--csv"), (xlsx_out, ".xlsx", "--xlsx")):
        if out is not None and out.suffix.lower() != suffix:  # a workbook named .txt helps nobody
            raise InputError(
                "unknown output type", source=str(out), field=option, expected=f"a {suffix} file"
            )
    for out in (csv_out, xlsx_out):  # refuse before doing any work
        if out is not None:
            check_output(out, force=force)
    ledger = evaluate(deal, scenario, keep_ledger=True).table()
    if xlsx_out is not None:
        write_atomic(xlsx_out, excel_model(deal, scenario), force=force)
        click.echo(f"wrote {xlsx_out}")
    if csv_out is not None:
        write_atomic(csv_out, ledger.to_csv(), force=force)
        click.echo(f"wrote {csv_out}")
    if csv_out is not None or xlsx_out is not None:
        return
    with pd.option_context("display.width", 250, "display.max_columns", 40, "display.max_rows", 100):
        click.echo((ledger / 1e6).round(1).T.to_string())
        click.echo("(US$ million)")


@main.command(name="compare")
@_file_argument
@_set_option
@_json_option
def compare_command(file: Path, assignments: tuple[str, ...], as_json: bool) -> None:
    """Every named scenario of FILE side by side, with its change against the base case."""
    deal = _deal(file, assignments)
    df = compare(deal)
    attribution = tariff_attribution(deal) if deal.trade.attribution is not None else None
    if as_json:
        rec = [{"scenario": str(k), **{c: _jsonable(v) for c, v in row.items()}} for k, row in df.iterrows()]
        out: dict[str, Any] = {"deal": deal.name}
        if attribution is not None:
            out["tariff_attribution"] = {
                str(party): {str(c): _jsonable(v) for c, v in row.items()}
                for party, row in attribution.iterrows()
            }
        out["scenarios"] = rec
        click.echo(json.dumps(out, indent=2))
        return
    console = _console()
    if attribution is not None:
        dest = deal.trade.attribution.destination  # type: ignore[union-attr]
        console.print(
            attribution_table(attribution, title=f"Value of the {dest} tariff schedules to each party")
        )
    console.print(compare_table(df, title=deal.name, basis=deal.valuation.basis))


def _parse_range(text: str) -> tuple[str, tuple[float, float]]:
    path, _, span = text.partition("=")
    low, sep, high = span.partition(":")
    try:
        if not sep:
            raise ValueError
        return path.strip(), (float(low), float(high))
    except ValueError:
        raise InputError(
            f"{text!r} is not PATH=LOW:HIGH", field="--range", expected="e.g. fiscal.royalty_rate=0.03:0.08"
        ) from None


def _parse_axis(text: str, option: str) -> tuple[str, list[float]]:
    path, _, values = text.partition("=")
    try:
        numbers = [float(v) for v in values.split(",") if v.strip()]
    except ValueError:
        numbers = []
    if not numbers:
        raise InputError(
            f"{text!r} is not PATH=V1,V2,...",
            field=option,
            expected="e.g. price_decks.base.antimony=20000,30000,40000",
        )
    return path.strip(), numbers


def _emit(payload: dict[str, Any], df: pd.DataFrame, out: Path | None, force: bool, as_json: bool) -> bool:
    """Write ``--out`` (.json: the payload; .csv: the table) atomically; print JSON if asked.
    Returns True when the JSON was printed (nothing else to show)."""
    text = json.dumps(payload, indent=2, default=_jsonable)
    if out is not None:
        if out.suffix.lower() not in (".json", ".csv"):
            raise InputError(
                "unknown output type", source=str(out), field="--out", expected="a .json or .csv file"
            )
        write_atomic(out, text + "\n" if out.suffix.lower() == ".json" else df.to_csv(), force=force)
    if as_json:
        click.echo(text)
    return as_json


_metric_option = click.option(
    "--metric", default="npv_usd", show_default=True, help="npv_usd, irr, … or a party's (ussm.npv_usd)."
)
_out_option = click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    callback=_output,
    help="Write the result to .json or .csv (atomically).",
)
_force_option = click.option("--force", is_flag=True, help="Replace --out if it exists.")


@main.command()
@_file_argument
@click.option(
    "--kind",
    type=click.Choice(["tornado", "spider", "grid", "sobol", "morris"]),
    default="tornado",
    show_default=True,
    help="sobol and morris: global indices over the file's uncertain inputs (extra: gsa).",
)
@click.option(
    "-n",
    "--samples",
    "samples",
    type=click.IntRange(min=2),
    default=1024,
    show_default=True,
    help="sobol: base sample size (a power of 2); morris: trajectories.",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="PATH",
    help="A parameter to move (repeatable; default: the main drivers).",
)
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="PATH=LOW:HIGH",
    help="A parameter with explicit low and high values (tornado).",
)
@click.option(
    "--quantiles",
    metavar="LOW:HIGH",
    help="Tornado: each uncertain input of the file between these quantiles (0.1:0.9 for P10/P90).",
)
@click.option(
    "--change", type=float, default=0.2, show_default=True, help="Relative change for --param (0.2 = ±20 %)."
)
@click.option("--x", "x_axis", metavar="PATH=V1,V2,...", help="Grid: the first axis.")
@click.option("--y", "y_axis", metavar="PATH=V1,V2,...", help="Grid: the second axis (optional).")
@_metric_option
@_scenario_option
@_set_option
@_json_option
@_out_option
@_force_option
def sensitivity(
    file: Path,
    kind: str,
    samples: int,
    params: tuple[str, ...],
    ranges: tuple[str, ...],
    quantiles: str | None,
    change: float,
    x_axis: str | None,
    y_axis: str | None,
    metric: str,
    scenario: str | None,
    assignments: tuple[str, ...],
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """One-at-a-time sensitivity of a metric: a tornado (default), a spider, or a grid.

    Examples: dealcalc sensitivity examples/ussm_fwo_2025.yaml;
    dealcalc sensitivity FILE --kind grid --x price_decks.base.antimony=20000,30000,40000
    --y phases.refinery.capex_usd=3e8,4e8
    """
    deal = _deal(file, assignments)
    if kind == "tornado":
        if ranges and params:
            raise InputError("give either --range or --param, not both", field="--range")
        spec: Any = dict(_parse_range(r) for r in ranges) if ranges else (list(params) or None)
        q = _parse_range(f"q={quantiles}")[1] if quantiles else None
        df = tornado(deal, spec, change=change, metric=metric, scenario=scenario, quantiles=q)
        payload = {
            "deal": deal.name,
            "kind": kind,
            "metric": metric,
            "base": df.attrs["base_metric"],
            "rows": _records(df),
        }
        if not _emit(payload, df, out, force, as_json):
            console = _console()
            bar = min(24, max(10, console.width - 90))  # narrow terminals: a shorter bar, whole
            console.print(tornado_table(df, title=f"{deal.name}: what moves {metric}", width=bar))
        return
    if kind in ("sobol", "morris"):
        if kind == "sobol":
            df = sobol(deal, samples, metric=metric, scenario=scenario)
        else:
            df = morris(deal, samples, metric=metric, scenario=scenario)
        payload = {"deal": deal.name, "kind": kind, "metric": metric, "rows": _records(df)}
        if not _emit(payload, df, out, force, as_json):
            _console().print(indices_table(df, title=f"{deal.name}: {kind} indices of {metric}"))
        return
    if kind == "spider":
        df = spider(
            deal,
            list(params) or None,
            np.linspace(-change * 1.5, change * 1.5, 7).round(12),  # -0.3, not -0.30000000000000004
            metric=metric,
            scenario=scenario,
        )
    else:
        if x_axis is None:
            raise InputError("a grid needs --x PATH=V1,V2,...", field="--x")
        y = _parse_axis(y_axis, "--y") if y_axis else None
        df = grid(deal, _parse_axis(x_axis, "--x"), y, metric=metric, scenario=scenario)
    payload = {
        "deal": deal.name,
        "kind": kind,
        "metric": metric,
        "index": {"name": df.index.name, "values": [float(v) for v in df.index]},
        "columns": {str(c): [_jsonable(float(v)) for v in df[c]] for c in df.columns},
    }
    if not _emit(payload, df, out, force, as_json):
        _console().print(frame_table(df, metric=metric, title=f"{deal.name}: {kind} of {metric}"))


@main.command(name="breakeven")
@_file_argument
@click.argument("path")
@click.option("--target", type=float, default=0.0, show_default=True, help="The metric's target value.")
@click.option(
    "--target-basis",
    type=click.Choice(["real", "nominal"]),
    help="The basis of an IRR target (default: the deal's); converted by the Fisher relation.",
)
@_metric_option
@click.option("--low", type=float, help="Lowest value allowed (default 0).")
@click.option("--high", type=float, help="Highest value allowed (default 4 x the base value).")
@_scenario_option
@_set_option
@_json_option
def breakeven_command(
    file: Path,
    path: str,
    target: float,
    target_basis: str | None,
    metric: str,
    low: float | None,
    high: float | None,
    scenario: str | None,
    assignments: tuple[str, ...],
    as_json: bool,
) -> None:
    """The value of PATH at which the metric hits its target (NPV = 0 by default).

    Example: dealcalc breakeven examples/ussm_fwo_2025.yaml price_decks.base.antimony
    """
    deal = _deal(file, assignments)
    result = breakeven(
        deal,
        path,
        target=target,
        metric=metric,
        target_basis=target_basis,
        bounds=(low, high),
        scenario=scenario,
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "deal": deal.name,
                    "path": path,
                    "metric": metric,
                    "target": target,
                    "target_basis": target_basis or deal.valuation.basis,
                    "basis": result.basis,
                    "target_in_basis": result.target,
                    "value": _jsonable(float(result.value[0])),
                    "found": bool(result.found[0]),
                    "base_value": result.base_value,
                    "bounds": list(result.bounds),
                    "metric_at_low": _jsonable(float(result.at_low[0])),
                    "metric_at_high": _jsonable(float(result.at_high[0])),
                },
                indent=2,
            )
        )
        return
    click.echo(f"{result.explain()} (base value {result.base_value:.6g})")


@main.command(name="montecarlo")
@_file_argument
@click.option(
    "-n",
    "--draws",
    "n",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Number of draws.",
)
@click.option(
    "--seed", type=click.IntRange(min=0), help="Random seed (default: the file's uncertainty.seed, else 0)."
)
@click.option(
    "--method", type=click.Choice(["random", "lhs", "sobol"]), help="Sampling design (default: the file's)."
)
@click.option(
    "--metric",
    "metrics",
    multiple=True,
    help="A metric to report (repeatable; default: the project's and each party's NPV and IRR).",
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Run on a local dask cluster of N processes (extra: dask)."
)
@click.option("--scheduler", metavar="ADDRESS", help="Run on an existing dask scheduler (extra: dask).")
@_scenario_option
@_set_option
@_json_option
@_out_option
@_force_option
def montecarlo_command(
    file: Path,
    n: int,
    seed: int | None,
    method: str | None,
    metrics: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    scenario: str | None,
    assignments: tuple[str, ...],
    as_json: bool,
    out: Path | None,
    force: bool,
) -> None:
    """Sample the file's uncertainty block N times: each metric's distribution, P(NPV < 0).

    Example: dealcalc montecarlo examples/ussm_fwo_2025.yaml -n 100000 --seed 1
    """
    deal = _deal(file, assignments)
    if scheduler is not None:  # for the error line, if it cannot be reached
        click.get_current_context().meta[_SCHEDULER] = scheduler
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        mc = monte_carlo(
            deal,
            n,
            seed=seed,
            method=method,
            metrics=list(metrics) or None,
            scenario=scenario,
            workers=workers,
            scheduler=scheduler,
            progress=Console(stderr=True).is_terminal and not as_json,
        )
    for w in caught:
        click.echo(f"note: {file}: {w.message}", err=True)
    summary = mc.summary()
    payload = {
        "deal": deal.name,
        "draws": mc.n,
        "seed": mc.seed,
        "method": mc.method,
        "metrics": {str(m): {str(k): _jsonable(v) for k, v in row.items()} for m, row in summary.iterrows()},
        "convergence": {
            "metric": summary.index[0],
            "draws": [int(x) for x in mc.convergence(str(summary.index[0])).index],
            "mean": [_jsonable(float(x)) for x in mc.convergence(str(summary.index[0]))["mean"]],
        },
    }
    if mc.built:
        payload["gates"] = {str(p): dict(row) for p, row in mc.gate_summary().iterrows()}
        payload["option_value_usd"] = {str(k): float(v) for k, v in mc.option_value().items()}
    if not _emit(payload, summary, out, force, as_json):
        title = f"{deal.name}: {mc.n:,} draws ({mc.method}, seed {mc.seed})"
        console = _console()
        console.print(montecarlo_table(summary, title=title))
        for phase, row in mc.gate_summary().iterrows():
            console.print(  # a phase named [b] is text, not console markup
                f"gate {phase}: continuity in {row['p_continuity']:.1%} of draws, "
                f"built in {row['p_built']:.1%} (continuity and its price hurdles)",
                markup=False,
            )
        for metric, value in (mc.option_value() if mc.built else {}).items():
            console.print(
                f"value of the option to stop at the gates, {metric}: {value / 1e6:,.1f} US$ M", markup=False
            )


def _refuse_existing(out: Path, force: bool, suffixes: tuple[str, ...]) -> None:
    """Check ``--out`` before any work: a known type, and not an existing file without --force."""
    if out.suffix.lower() not in suffixes:
        raise InputError(
            "unknown output type", source=str(out), field="--out", expected=f"a {', '.join(suffixes)} file"
        )
    check_output(out, force=force)


@main.command(name="plot")
@click.argument("kind", type=click.Choice(list(KINDS)))
@_file_argument
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    callback=_output,
    required=True,
    help="The chart file: .png, .svg or .pdf (written atomically).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="PATH",
    help="tornado/spider: a parameter to move (repeatable).",
)
@click.option("--x", "x_axis", metavar="PATH=V1,V2,...", help="grid: the first axis.")
@click.option("--y", "y_axis", metavar="PATH=V1,V2,...", help="grid: the second axis.")
@click.option(
    "-n",
    "--draws",
    type=click.IntRange(min=10),
    default=10_000,
    show_default=True,
    help="histogram/cdf: draws.",
)
@click.option("--seed", type=click.IntRange(min=0), help="histogram/cdf: random seed (default: the file's).")
@click.option("--width", type=click.FloatRange(min=2, max=40), default=8.0, show_default=True, help="Inches.")
@click.option(
    "--height", type=click.FloatRange(min=2, max=40), default=4.5, show_default=True, help="Inches."
)
@_metric_option
@_scenario_option
@_set_option
@_force_option
def plot_command(
    kind: str,
    file: Path,
    out: Path,
    params: tuple[str, ...],
    x_axis: str | None,
    y_axis: str | None,
    draws: int,
    seed: int | None,
    width: float,
    height: float,
    metric: str,
    scenario: str | None,
    assignments: tuple[str, ...],
    force: bool,
) -> None:
    """Draw a chart of the deal to --out (extra: plot). KIND is one of: cashflow, waterfall,
    npv-profile, tornado, spider, grid, histogram, cdf, parties.

    Example: dealcalc plot waterfall examples/ussm_fwo_2025.yaml --out waterfall.png
    """
    _refuse_existing(out, force, FORMATS)
    deal = _deal(file, assignments)
    results = Results(
        deal,
        scenario=scenario,
        metric=metric,
        draws=draws,
        seed=seed,
        params=list(params) or None,
        x=_parse_axis(x_axis, "--x") if x_axis else None,
        y=_parse_axis(y_axis, "--y") if y_axis else None,
    )
    fig = figure(kind, results, width=width, height=height)
    write_atomic(out, render(fig, out.suffix.lower().lstrip(".")), force=force)
    click.echo(f"wrote {out}")


@main.command(name="report")
@_file_argument
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    callback=_output,
    required=True,
    help="The .html page to write (self-contained; written atomically).",
)
@click.option(
    "-n", "--draws", type=click.IntRange(min=10), default=10_000, show_default=True, help="Monte Carlo draws."
)
@click.option("--seed", type=click.IntRange(min=0), help="Monte Carlo seed (default: the file's).")
@click.option(
    "--charts/--no-charts",
    default=None,
    help="Draw the charts (needs dealcalc[plot]) or tables only. Default: charts if matplotlib is installed.",
)
@_scenario_option
@_set_option
@_force_option
def report_command(
    file: Path,
    out: Path,
    draws: int,
    seed: int | None,
    charts: bool | None,
    scenario: str | None,
    assignments: tuple[str, ...],
    force: bool,
) -> None:
    """Write one self-contained HTML page about the deal: headline, parties, tariff attribution,
    charts, tornado, Monte Carlo (when the file has an uncertainty block), ledger, sources.

    Example: dealcalc report examples/ussm_fwo_2025.yaml --out report.html
    """
    _refuse_existing(out, force, (".html", ".htm"))
    deal = _deal(file, assignments)
    if charts is None and not has_matplotlib():
        click.echo(CHARTS_MISSING, err=True)
    page = html_report(deal, scenario=scenario, draws=draws, seed=seed, charts=charts)
    write_atomic(out, page, force=force)
    click.echo(f"wrote {out}")


@main.command()
@click.argument("name", type=click.Choice(sorted(EXAMPLES)))
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), callback=_output, help="Where to write it."
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
def example(name: str, out: Path | None, force: bool) -> None:
    """Write a copy of a bundled example deal (ussm-fwo) to start from."""
    source = example_path(name)
    target = out or Path(source.name)
    write_atomic(target, source.read_bytes(), force=force)
    click.echo(f"wrote {target}; try: dealcalc npv {target}")
