"""What the commands share: the deal argument and options, ``--out`` checked at parse time,
and one way to emit a result (a table, ``--json``, or a file through the one serializer)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from dealcalc.analyses.provenance import RunInfo
from dealcalc.cli.boundary import remember_inputs
from dealcalc.errors import InputError
from dealcalc.io import MAX_YAML_DEPTH, check_output, load_deal, parse_assignment, write_atomic
from dealcalc.models import Deal
from dealcalc.params import with_changes
from dealcalc.report.serialize import csv_text, dumps, to_frame, to_json

__all__ = [
    "OutputFile",
    "caption",
    "check_rate",
    "console",
    "deal_options",
    "emit",
    "file_argument",
    "force_option",
    "json_option",
    "load",
    "metric_option",
    "out_option",
    "parse_axis",
    "parse_range",
    "sampling_options",
    "scenario_option",
    "set_option",
    "write_chart",
]

F = TypeVar("F", bound=Callable[..., Any])

#: ``--force`` is read before every other option (eager), so ``--out`` can refuse an existing
#: file as soon as it is parsed, before any work.
force_option = click.option(
    "--force", is_flag=True, is_eager=True, help="Replace the output file if it exists."
)
file_argument = click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
scenario_option = click.option("--scenario", "-s", help="A named scenario of the file (default: base).")
set_option = click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="PATH=VALUE",
    help="Change one parameter, e.g. --set fiscal.royalty_rate=0.07 (repeatable).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
metric_option = click.option(
    "--metric", default="npv_usd", show_default=True, help="npv_usd, irr, … or a party's (ussm.npv_usd)."
)


def sampling_options(command: F) -> F:
    """--seed and --method of a Monte Carlo: the file's by default."""
    seed = click.option(
        "--seed",
        type=click.IntRange(min=0),
        help="Random seed (default: the file's uncertainty.seed, else 0).",
    )
    method = click.option(
        "--method",
        type=click.Choice(["random", "lhs", "sobol"]),
        help="Sampling design (default: the file's).",
    )
    return seed(method(command))


def deal_options(command: F) -> F:
    """FILE, --scenario and --set: what every command on a deal takes."""
    return file_argument(scenario_option(set_option(command)))


class OutputFile(click.ParamType):  # type: ignore[type-arg]  # generic since click 8.3 only
    """An output file, checked when the command line is parsed, before any work: a known
    suffix, a name the file system can hold, an existing folder, a regular file (never a
    device, pipe or directory), and not an existing file unless ``--force`` is given."""

    name = "file"

    def __init__(self, suffixes: Sequence[str]) -> None:
        self.suffixes = tuple(s.lower() for s in suffixes)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        if isinstance(value, Path):
            path = value
        else:
            path = Path(os.fsdecode(value))
        option = param.opts[0] if param is not None and param.opts else "--out"
        if path.suffix.lower() not in self.suffixes:
            raise InputError(
                "unknown output type",
                source=str(path),
                field=option,
                expected=f"a {(' or ' if len(self.suffixes) == 2 else ', ').join(self.suffixes)} file",
            )
        folder = path.parent if str(path.parent) else Path(".")
        try:
            name_max = int(os.pathconf(folder, "PC_NAME_MAX"))
        except (OSError, ValueError, AttributeError):  # no such folder (said next), or no pathconf
            name_max = 255
        size = len(os.fsencode(path.name))
        if size > name_max:
            raise InputError(
                f"the file name is {size:,} bytes long; the file system takes at most {name_max}",
                source=str(path),
                field=option,
                expected="a shorter file name",
            )
        force = bool(ctx.params.get("force")) if ctx is not None else False
        check_output(path, force=force)
        return path


def out_option(suffixes: Sequence[str], help: str, *, required: bool = False) -> Callable[[F], F]:
    """``--out FILE`` of the given types, checked at parse time (see :class:`OutputFile`)."""
    return click.option("--out", type=OutputFile(suffixes), metavar="FILE", required=required, help=help)


def load(file: Path, assignments: tuple[str, ...]) -> Deal:
    """The deal in ``file`` with the ``--set`` changes made (recorded on the deal)."""
    remember_inputs(file, assignments)
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


def check_rate(value: float | None, option: str) -> None:
    """A rate option: a finite fraction above -1, and not a percentage (10 for 10 %)."""
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


def parse_range(text: str, option: str = "--range") -> tuple[str, tuple[float, float]]:
    """``PATH=LOW:HIGH`` as ``(path, (low, high))``."""
    path, _, span = text.partition("=")
    low, sep, high = span.partition(":")
    try:
        if not sep:
            raise ValueError
        return path.strip(), (float(low), float(high))
    except ValueError:
        raise InputError(
            f"{text!r} is not PATH=LOW:HIGH", field=option, expected="e.g. fiscal.royalty_rate=0.03:0.08"
        ) from None


def parse_axis(text: str, option: str) -> tuple[str, list[float]]:
    """``PATH=V1,V2,...`` as ``(path, [values])``."""
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


def caption(run: RunInfo) -> str:
    """The run's record under a table: what was valued, how, and every change."""
    return "; ".join(run.lines()[1:])


def write_chart(path: Path, draw: Callable[[Any], Any], *, force: bool) -> None:
    """Draw a chart on a new figure (``draw(axes)``) and write it to ``path`` atomically, in the
    format its suffix names (extra: plot)."""
    from dealcalc.report.plots import new_figure, render

    figure = new_figure()
    draw(figure.add_subplot())
    write_atomic(path, render(figure, path.suffix.lower().lstrip(".")), force=force)


def console() -> Console:
    """A console for tables: the terminal's width; when output is piped, ``COLUMNS`` if it is
    set (``COLUMNS=80 dealcalc compare FILE | less``), else 120 columns."""
    found = Console()
    if found.is_terminal:
        return found
    try:
        width = int(os.environ.get("COLUMNS", "120"))
    except ValueError:
        width = 120
    return Console(width=max(40, min(width, 1000)))


def emit(
    result: Any,
    *,
    out: Path | None = None,
    force: bool = False,
    as_json: bool = False,
    **context: Any,
) -> bool:
    """Write ``--out`` (.json: :func:`~dealcalc.report.serialize.to_json`; .csv: the run's record
    as comment lines, then :func:`~dealcalc.report.serialize.to_frame`) atomically, and print the
    JSON if asked. Returns True when the JSON was printed (nothing else to show)."""
    payload: dict[str, Any] | None = None
    if out is not None:
        if out.suffix.lower() == ".csv":
            text = csv_text(to_frame(result), context.get("run"))
        else:
            payload = to_json(result, **context)
            text = dumps(payload) + "\n"
        write_atomic(out, text, force=force)
    if as_json:
        click.echo(dumps(payload if payload is not None else to_json(result, **context)))
    return as_json
