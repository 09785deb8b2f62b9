"""The command line's boundary: every failure becomes one line on standard error and an exit status.

- a :class:`~dealcalc.errors.DealcalcError` (a user mistake or an unsolvable request): the
  line names the file, line and field, and the status is 2; so is a file the system refuses
  (a name too long, no permission), an unreachable dask scheduler, and a deal whose numbers
  overflow floating point, which is traced to the number in the file or ``--set`` that did it;
- Ctrl-C: ``error: interrupted``, status 130;
- anything else is a bug in dealcalc: one line that says so, with the exception and where it
  was raised, and status 1. ``dealcalc --debug COMMAND ...`` (or ``DEALCALC_DEBUG=1``) shows
  the traceback instead.
"""

from __future__ import annotations

import errno
import math
import os
import re
import traceback
import warnings
from pathlib import Path
from typing import Any

import click
import yaml

import dealcalc
from dealcalc.errors import DealcalcError, InputError, InputErrors
from dealcalc.io import SafeYamlLoader, parse_assignment, scenario_line

__all__ = [
    "DEBUG_ENV",
    "EXIT_BUG",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "Group",
    "remember_inputs",
    "remember_scheduler",
]

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


class Group(click.Group):
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


def remember_inputs(file: Path, assignments: tuple[str, ...]) -> None:
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


def remember_scheduler(address: str) -> None:
    """Note a dask scheduler's address for the group, for the error line if it cannot be reached."""
    context = click.get_current_context(silent=True)
    if context is not None:
        context.meta[_SCHEDULER] = address
