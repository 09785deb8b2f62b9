"""Reading user files and writing outputs safely.

Only this module and :mod:`dealcalc.cli` touch files. Every input error is an
:class:`~dealcalc.errors.InputError` that names the file, the line and the field (or column).
Every output is written atomically (a temporary file in the same folder, then a rename), and an
existing file is kept unless ``force=True``.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
import stat
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from dealcalc.errors import InputError, InputErrors, OutputExistsError, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal, DealProblems
from dealcalc.models.schedule import SCHEDULE_TAGS
from dealcalc.tables import apply_tables

__all__ = [
    "EXAMPLES",
    "CashFlowTable",
    "InvalidDateError",
    "SafeYamlLoader",
    "dump_deal",
    "example_path",
    "fiscal_preset_path",
    "fiscal_presets",
    "load_deal",
    "parse_assignment",
    "parse_deal",
    "read_cash_flows_csv",
    "write_atomic",
]

#: Example deals shipped inside the package, by name.
EXAMPLES = {"ussm-fwo": "ussm_fwo_2025.yaml"}


def example_path(name: str) -> Path:
    """The path of an example deal shipped with dealcalc (``"ussm-fwo"``).

    Examples
    --------
    >>> example_path("ussm-fwo").name
    'ussm_fwo_2025.yaml'
    """
    from importlib.resources import files

    if name not in EXAMPLES:
        raise InputError(
            f"no example {name!r}",
            field="example",
            hint=did_you_mean(name, EXAMPLES) or f"examples: {', '.join(EXAMPLES)}",
        )
    return Path(str(files("dealcalc") / "data" / EXAMPLES[name]))


#: First-column headers that label the periods rather than hold a series.
PERIOD_COLUMNS = ("period", "year", "t")
DATE_COLUMNS = ("date",)


@dataclass(frozen=True)
class CashFlowTable:
    """Cash-flow series read from a CSV file: one series per column.

    Attributes
    ----------
    names : tuple of str
        Series names (the column headers).
    values : ndarray, shape (S, T)
        One row per series, one column per period.
    labels : tuple of str
        The period labels (first column if it was ``period``/``year``/``t``/``date``, else 0..T-1).
    dates : tuple of datetime.date, optional
        The flow dates when the first column is ``date``.
    """

    names: tuple[str, ...]
    values: FloatArray
    labels: tuple[str, ...]
    dates: tuple[dt.date, ...] | None = None


def _number(text: str, source: str, line: int, column: str) -> float:
    cleaned = text.strip().replace(",", "").replace("_", "")
    if cleaned == "":
        raise InputError(
            "empty cell",
            source=source,
            line=line,
            field=f"column '{column}'",
            expected="a number (write 0 for no cash flow)",
        )
    try:
        value = float(cleaned)
    except ValueError:
        raise InputError(
            f"{text.strip()!r} is not a number",
            source=source,
            line=line,
            field=f"column '{column}'",
            expected="a number such as -1500000 or 2.5e6",
        ) from None
    if not math.isfinite(value):
        raise InputError(
            f"{text.strip()!r} is not a finite number",
            source=source,
            line=line,
            field=f"column '{column}'",
            expected="a finite number",
        )
    return value


def _check_consecutive(labels: list[str], lines: list[int], source: str, column: str) -> None:
    """Whole-number period labels must count up by one: every row is one period, so a gap or a
    repeat would silently shift every later flow. Other labels (``FY26``) are names only."""
    try:
        numbers = [float(label) for label in labels]
    except ValueError:
        return
    for k, number in enumerate(numbers):
        if k > 0 and number != numbers[k - 1] + 1:
            expected = f"{numbers[k - 1] + 1:g} next" if numbers[k - 1].is_integer() else "whole numbers"
            raise InputError(
                f"period {labels[k]} follows period {labels[k - 1]}",
                source=source,
                line=lines[k],
                field=f"column '{column}'",
                expected=f"one row per period, counting up by one ({expected}); "
                "write 0 for a period without flows, or use a date column for irregular dates",
            )


def read_cash_flows_csv(path: str | os.PathLike[str]) -> CashFlowTable:
    """Read cash-flow series from a CSV file, one series per column.

    The first row holds the series names. An optional first column headed ``period``,
    ``year`` or ``t`` labels the periods (whole numbers must count up by one: each row is one
    period); one headed ``date`` gives each row a date (ISO
    ``YYYY-MM-DD``), for XNPV and XIRR. Thousands separators (``1,500``) are accepted inside
    quoted cells.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    CashFlowTable

    Raises
    ------
    InputError
        The file is missing or unreadable, or a cell is empty or not a number; the message
        names the file, the line and the column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "flows.csv"
    >>> _ = p.write_text("year,Mine\\n2026,-100\\n2027,60\\n2028,60\\n")
    >>> table = read_cash_flows_csv(p)
    >>> table.names, table.values.tolist(), table.labels
    (('Mine',), [[-100.0, 60.0, 60.0]], ('2026', '2027', '2028'))
    """
    source = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", source=source) from None
    except csv.Error as exc:
        raise InputError(f"not a valid CSV file: {exc}", source=source) from None
    numbered = [(i + 1, row) for i, row in enumerate(rows) if any(cell.strip() for cell in row)]
    if not numbered:
        raise InputError("the file is empty", source=source, expected="a header row of series names")
    header_line, header = numbered[0]
    header = [h.strip() for h in header]
    first = header[0].lower() if header else ""
    index_kind = "date" if first in DATE_COLUMNS else "period" if first in PERIOD_COLUMNS else None
    names = header[1:] if index_kind else header
    if not names:
        raise InputError(
            "no cash-flow columns",
            source=source,
            line=header_line,
            expected="one column per series after the period column",
        )
    seen: set[str] = set()
    for name in names:
        if not name:
            raise InputError("a column has no name", source=source, line=header_line)
        if name in seen:
            raise InputError(f"column '{name}' appears twice", source=source, line=header_line)
        seen.add(name)
    body = numbered[1:]
    if not body:
        raise InputError("no data rows", source=source, expected="one row per period")
    labels: list[str] = []
    dates: list[dt.date] = []
    data = np.empty((len(names), len(body)))
    for j, (line, row) in enumerate(body):
        if len(row) != len(header):
            raise InputError(f"{len(row)} cells where the header has {len(header)}", source=source, line=line)
        cells = row
        if index_kind:
            label = row[0].strip()
            labels.append(label)
            if index_kind == "date":
                try:
                    dates.append(dt.date.fromisoformat(label))
                except ValueError:
                    raise InputError(
                        f"{label!r} is not a date",
                        source=source,
                        line=line,
                        field=f"column '{header[0]}'",
                        expected="an ISO date such as 2026-12-31",
                    ) from None
            cells = row[1:]
        else:
            labels.append(str(j))
        for i, (name, cell) in enumerate(zip(names, cells, strict=True)):
            data[i, j] = _number(cell, source, line, name)
    if index_kind == "period":
        _check_consecutive(labels, [line for line, _ in body], source, header[0])
    return CashFlowTable(
        names=tuple(names),
        values=data,
        labels=tuple(labels),
        dates=tuple(dates) if index_kind == "date" else None,
    )


def _default_mode() -> int:
    """0o666 less the process umask (read without changing it where the OS allows)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
        line = next(x for x in status.splitlines() if x.startswith("Umask:"))
        return 0o666 & ~int(line.split()[1], 8)
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; keep an existing file unless ``force``.

    The data goes to a temporary file in the same folder, which is then renamed over the
    target, so a reader never sees half a file and a failure leaves the old file intact.

    Parameters
    ----------
    path : str or path-like
        Where to write.
    data : str or bytes
        The content (text is written as UTF-8).
    force : bool, default False
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False.
    InputError
        The folder does not exist or cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out.json"
    >>> write_atomic(p, '{"npv_usd": 1.0}').read_text()
    '{"npv_usd": 1.0}'
    >>> write_atomic(p, "{}")
    Traceback (most recent call last):
    ...
    dealcalc.errors.OutputExistsError: ... exists; use --force to replace it
    """
    target = Path(path)
    if target.exists() and not force:
        raise OutputExistsError(f"{target} exists; use --force to replace it")
    if target.exists() and target.is_dir():
        raise InputError("is a directory", source=str(target), expected="a file path")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("the folder does not exist", source=str(target))
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror}", source=str(target)) from None
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would (the
        # umask's), or the mode of the file it replaces
        os.fchmod(fd, stat.S_IMODE(target.stat().st_mode) if target.exists() else _default_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write: {exc.strerror}", source=str(target)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# --------------------------------------------------------------------------- scenario files

_PROVENANCE_KEYS = {"source", "as_of", "label", "note"}


#: Limits on a scenario file's shape, far above any real deal (the bundled one: depth 9, about
#: 1,600 values): a file past them is refused before anything is built from it.
MAX_YAML_DEPTH = 100
MAX_YAML_VALUES = 200_000


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_shape(root: yaml.Node, source: str) -> None:
    """Refuse an alias that contains itself, aliases that multiply into too many values (a
    "billion laughs" file) and nesting deeper than :data:`MAX_YAML_DEPTH`, before anything is
    built. Iterative, with each shared node (an alias's anchor) sized once."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, finished = stack.pop()
        key = id(node)
        line = node.start_mark.line + 1
        if finished:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            if size[key] > MAX_YAML_VALUES:
                # errors.md: values through its aliases
                raise InputError(
                    f"the file expands to more than {MAX_YAML_VALUES:,} values through its aliases",
                    source=source,
                    line=line,
                    expected="aliases (*name) that repeat a few values, not multiply them",
                )
            continue
        if key in size:
            continue
        if key in on_path:
            raise InputError(
                "an alias refers to a value that contains it", source=source, line=line, expected="plain YAML"
            )
        if depth > MAX_YAML_DEPTH:
            raise InputError(
                f"values nested more than {MAX_YAML_DEPTH} levels deep",
                source=source,
                line=line,
                expected="a scenario file (a few levels of mappings and lists)",
            )
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def _yaml_lines(node: Any, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Record the 1-based line of every key and item under ``node``."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = int(key_node.value) if key_node.tag.endswith(":int") else key_node.value
            child = (*path, key)
            out[child] = key_node.start_mark.line + 1
            _yaml_lines(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            out[child] = item.start_mark.line + 1
            _yaml_lines(item, child, out)


def _extract_provenance(data: Any, path: tuple[Any, ...], found: dict[str, dict[str, Any]]) -> Any:
    """Replace ``{value: x, source: ..., label: ...}`` by ``x``, recording the rest by path."""
    if isinstance(data, dict):
        keys = set(data)
        if "value" in keys and keys - {"value"} <= _PROVENANCE_KEYS:
            if keys != {"value"}:
                found[".".join(str(p) for p in path)] = {k: data[k] for k in keys - {"value"}}
            return _extract_provenance(data["value"], path, found)
        return {k: _extract_provenance(v, (*path, k), found) for k, v in data.items()}
    if isinstance(data, list):
        return [_extract_provenance(v, (*path, i), found) for i, v in enumerate(data)]
    return data


_DATE_REPR = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")


def _location(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """A pydantic error location as the keys of the file: a schedule's union tag (``value``,
    ``by_year``) dropped and date keys restored."""
    return tuple(_key(p) for p in loc if p not in SCHEDULE_TAGS)


def _key(part: Any) -> Any:
    """A location part as the YAML key it came from (pydantic spells a date key as its repr)."""
    match = _DATE_REPR.fullmatch(part) if isinstance(part, str) else None
    return dt.date(*map(int, match.groups())) if match else part


def _line_of(lines: dict[tuple[Any, ...], int], loc: tuple[Any, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _unwrap(tp: Any) -> Any:
    """Strip Optional, unions with one model, and Annotated from a type."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrap(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else tp
    return tp


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names allowed at ``loc`` (for "did you mean"), walking models, dicts, lists."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) is list:
            current = get_args(current)[0]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _describe(error: Any) -> tuple[str, str | None]:
    kind = error.get("type", "")
    message = str(error.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return "unknown field", None
    if kind == "missing":
        return "missing", "this field is required"
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if "input" in error and kind not in ("model_type", "dict_type"):
        shown = repr(error["input"])
        if len(shown) <= 40:
            message += f" (got {shown})"
    return message, None


class SafeYamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose impossible dates are YAML errors with a line, not crashes.

    YAML 1.1 reads anything shaped like ``2025-13-45`` as a timestamp, and PyYAML's safe loader
    then fails with a bare ``ValueError`` from ``datetime``; here it is a
    :class:`InvalidDateError` that points at the value.

    Examples
    --------
    >>> yaml.load("d: 2025-08-07", Loader=SafeYamlLoader)
    {'d': datetime.date(2025, 8, 7)}
    >>> try:
    ...     yaml.load("d: 2025-13-45", Loader=SafeYamlLoader)
    ... except InvalidDateError as exc:
    ...     print(exc.problem, "at line", exc.problem_mark.line + 1)
    '2025-13-45' is not a valid date: month must be in 1..12 at line 1
    """


class InvalidDateError(yaml.constructor.ConstructorError):
    """A value written as a date that no calendar has (month 13, day 45, year 0)."""


def _timestamp(loader: SafeYamlLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        # errors.md: is not a valid date
        raise InvalidDateError(
            None, None, f"{node.value!r} is not a valid date: {exc}", node.start_mark
        ) from None


SafeYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def parse_deal(text: str, *, source: str = "<string>", folder: str | os.PathLike[str] | None = None) -> Deal:
    """Validate the text of a scenario file into a :class:`~dealcalc.models.Deal`.

    See :func:`load_deal`; this is the same for text already in memory. ``folder`` is where the
    CSV tables the file names are read from (default: the current folder).
    """
    try:
        node = yaml.compose(text, Loader=SafeYamlLoader)
        if node is not None:
            _check_shape(node, source)
        data = yaml.load(text, Loader=SafeYamlLoader)
    except RecursionError:
        raise InputError(
            "values nested too deeply to read",
            source=source,
            expected="a scenario file (a few levels of mappings and lists)",
        ) from None
    except InvalidDateError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        # errors.md: is not a valid date
        raise InputError(
            str(exc.problem), source=source, line=line, expected="a date as YYYY-MM-DD"
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            problem = f"{problem}; Python objects and other custom tags are refused"
        # errors.md: Python objects and other custom tags are refused
        raise InputError(problem, source=source, line=line, expected="plain YAML") from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", source=source) from None
    if not isinstance(data, dict):
        raise InputError(
            "the file does not describe a deal",
            source=source,
            line=1,
            expected="a mapping with name, valuation, products, price_decks, phases, streams",
        )
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _yaml_lines(node, (), lines)
    provenance: dict[str, dict[str, Any]] = {}
    data = _extract_provenance(data, (), provenance)
    if "provenance" in data:
        raise InputError(
            "provenance is written beside each value, not as a section",
            source=source,
            line=lines.get(("provenance",)),
            field="provenance",
            expected="value: 0.05 with source:, as_of:, label: next to it",
        )
    origins: dict[tuple[Any, ...], tuple[str, int]] = {}
    fiscal = data.get("fiscal")
    if isinstance(fiscal, dict) and "preset" in fiscal:
        here = Path(folder) if folder is not None else Path(".")
        data["fiscal"] = _with_preset(fiscal, here, lines, origins, provenance, source)
    if "tables" in data:
        here = Path(folder) if folder is not None else Path(".")
        apply_tables(data, here, origins, provenance, source=source, lines=lines)
    data["provenance"] = provenance
    try:
        return Deal.model_validate(data)
    except ValidationError as exc:
        problems = _located(exc, lines, source, origins)
        if len(problems) == 1:
            raise problems[0] from None
        # errors.md: Scenario-file checks
        raise InputErrors(problems) from None


def fiscal_presets() -> list[str]:
    """The names of the fiscal regimes shipped with dealcalc (``fiscal: {preset: NAME}``).

    Examples
    --------
    >>> "pakistan_2025" in fiscal_presets()
    True
    """
    from importlib.resources import files

    folder = files("dealcalc") / "data" / "fiscal"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def fiscal_preset_path(name: str, folder: Path = Path(".")) -> Path:
    """The file of a fiscal preset: one shipped with dealcalc by name, or a YAML file (a path
    ending in .yaml, relative to ``folder``)."""
    from importlib.resources import files

    if name.endswith((".yaml", ".yml")):
        return folder / name
    return Path(str(files("dealcalc") / "data" / "fiscal" / f"{name}.yaml"))


def _merged(base: Any, over: Any) -> Any:
    """``over`` laid over ``base``: mappings merged key by key (``base``'s order first, new keys
    after), anything else replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merged(base[key], value) if key in base else value
        return out
    return over


def _with_preset(
    fiscal: dict[str, Any],
    folder: Path,
    lines: dict[tuple[Any, ...], int],
    origins: dict[tuple[Any, ...], tuple[str, int]],
    provenance: dict[str, dict[str, Any]],
    source: str,
) -> dict[str, Any]:
    """The file's fiscal section laid over the preset it names; the preset's values keep their
    own file, line and provenance."""
    name = fiscal["preset"]
    at = lines.get(("fiscal", "preset"))
    known = fiscal_presets()
    if not isinstance(name, str):
        raise InputError(
            f"a preset is named by text, not {type(name).__name__}",
            source=source,
            line=at,
            field="fiscal.preset",
            expected=", ".join(known) + ", or a .yaml file",
        )
    path = fiscal_preset_path(name, folder)
    if not path.is_file():
        raise InputError(
            f"no fiscal preset {name!r}",
            source=source,
            line=at,
            field="fiscal.preset",
            expected=", ".join(known) + ", or a .yaml file beside the deal",
            hint=did_you_mean(name, known),
        )
    text = path.read_text(encoding="utf-8")
    where = str(path)
    try:
        node = yaml.compose(text, Loader=SafeYamlLoader)
        preset = yaml.load(text, Loader=SafeYamlLoader)
    except yaml.YAMLError as exc:
        raise InputError(f"the preset is not readable YAML: {exc}", source=where) from None
    if not isinstance(preset, dict) or "preset" in preset:
        raise InputError(
            "a preset is the mapping of a fiscal section, without a preset of its own",
            source=where,
            line=1,
            expected="levies:, capital_classes:, ... (or the simple regime's fields)",
        )
    preset_lines: dict[tuple[Any, ...], int] = {}
    _yaml_lines(node, ("fiscal",), preset_lines)
    for loc, line in preset_lines.items():
        if loc not in lines:  # the file's own keys keep the file's lines
            origins[loc] = (where, line)
    found: dict[str, dict[str, Any]] = {}
    preset = _extract_provenance(preset, ("fiscal",), found)
    written = {".".join(str(part) for part in loc) for loc in lines}
    for key, prov in found.items():
        if key not in written:  # a value the file gives keeps only the file's provenance
            provenance[key] = prov
    return dict(_merged(preset, fiscal))


def _path_parts(path: str) -> tuple[Any, ...]:
    """``streams.x.ore_tpa.2031`` as location parts (whole numbers as ints, as YAML keys are)."""
    return tuple(int(x) if x.lstrip("-").isdigit() else x for x in path.split("."))


def _located(
    exc: ValidationError,
    lines: dict[tuple[Any, ...], int],
    source: str,
    origins: dict[tuple[Any, ...], tuple[str, int]] | None = None,
) -> list[InputError]:
    """Every problem of a failed validation, each with its file line (a table's file and line
    for a value that came from a table), field and hint."""
    out: list[InputError] = []

    def where(loc: tuple[Any, ...]) -> tuple[str, int | None]:
        for end in range(len(loc), 0, -1):
            if origins and loc[:end] in origins:
                return origins[loc[:end]]
        return source, _line_of(lines, loc)

    for error in exc.errors():
        context = error.get("ctx") or {}
        cause = context.get("error")
        if isinstance(cause, DealProblems):  # the deal's cross-checks, all of them
            for path, message in cause.problems:
                file, line = where(_path_parts(path))
                # errors.md: Scenario-file checks
                out.append(InputError(message, source=file, line=line, field=path))
            continue
        loc = _location(error["loc"])
        message, expected = _describe(error)
        hint = None
        if error.get("type") == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), _fields_at(Deal, loc[:-1]))
        file, line = where(loc)
        # errors.md: Scenario-file checks
        out.append(
            InputError(
                message,
                source=file,
                line=line,
                field=".".join(str(p) for p in loc) or None,
                expected=expected,
                hint=hint,
            )
        )
    return out


def load_deal(path: str | os.PathLike[str]) -> Deal:
    """Read a scenario file (YAML, loaded safely) into a validated, frozen Deal.

    Any value may be written as ``{value: 0.05, source: "...", as_of: "2025-09", label:
    sourced}``; the provenance is kept in ``deal.provenance`` by parameter path. Unknown keys are
    errors, with the near name suggested.

    Parameters
    ----------
    path : str or path-like
        The YAML file.

    Returns
    -------
    Deal

    Raises
    ------
    InputError
        Naming the file, the line and the field path, what was expected, and "did you mean"
        for a misspelt key.

    Examples
    --------
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> deal.valuation.start_year, sorted(deal.phases)
    (2026, ['concentrators', 'exploration', 'refinery'])
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", source=source) from None
    return parse_deal(text, source=source, folder=Path(path).parent)


def _plain(data: Any) -> Any:
    """Tuples to lists (YAML's safe dumper writes only plain types)."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


def dump_deal(deal: Deal) -> str:
    """A Deal as scenario-file YAML: ``parse_deal(dump_deal(deal)) == deal``.

    Defaults and empty values are left out; provenance is written back beside its value as
    ``{value: ..., source: ..., label: ...}``.

    Examples
    --------
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> parse_deal(dump_deal(deal)) == deal
    True
    """
    data = _plain(deal.model_dump(mode="python", exclude={"provenance"}, exclude_none=True))
    for path, provenance in deal.provenance.items():
        node: Any = data
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[{str(k): k for k in node}[key]]
        leaf = {str(k): k for k in node}[keys[-1]]
        node[leaf] = {"value": node[leaf], **provenance.model_dump(exclude_none=True)}
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return text


def parse_assignment(text: str) -> tuple[str, Any]:
    """Split ``PATH=VALUE`` (the value read as YAML: ``0.2``, ``true``, ``[0.5, 0.5]``).

    Examples
    --------
    >>> parse_assignment("fiscal.royalty_rate=0.07")
    ('fiscal.royalty_rate', 0.07)
    """
    if "=" not in text:
        raise InputError(
            f"{text!r} is not PATH=VALUE", field="--set", expected="e.g. fiscal.royalty_rate=0.07"
        )
    path, raw = text.split("=", 1)
    try:
        value = yaml.load(raw, Loader=SafeYamlLoader)
    except InvalidDateError as exc:
        # errors.md: is not a valid date
        raise InputError(str(exc.problem), field=f"--set {path}", expected="a date as YYYY-MM-DD") from None
    except yaml.YAMLError:
        raise InputError(f"cannot read the value {raw!r}", field=f"--set {path}") from None
    return path.strip(), value
