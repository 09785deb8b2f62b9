"""Reading user files and writing outputs safely.

Only this module, :mod:`dealcalc.tables` and :mod:`dealcalc.cli` touch files. Every input error
is an :class:`~dealcalc.errors.InputError` that names the file, the line and the field (or column).
An input must be a regular file below a stated size (:data:`MAX_SCENARIO_BYTES`,
:data:`~dealcalc.tables.MAX_CSV_BYTES`), checked before it is read.

Every output is written atomically (a temporary file in the same folder, then a no-clobber hard
link, or a rename with ``force=True``), only ever as a regular file, and an existing file is kept
unless ``force=True``: of two writers, exactly one wins. See :func:`write_atomic`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import hashlib
import os
import platform
import re
import secrets
import signal
import stat
import sys
import threading
import types
from collections.abc import Hashable
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
from dealcalc.tables import (
    MAX_CSV_BYTES,
    apply_tables,
    file_kind,
    plain_number,
    read_csv_rows,
    read_limited,
)

__all__ = [
    "EXAMPLES",
    "MAX_SCENARIO_BYTES",
    "CashFlowTable",
    "InvalidDateError",
    "NumberFormError",
    "SafeYamlLoader",
    "check_output",
    "dump_deal",
    "example_path",
    "fiscal_preset_path",
    "fiscal_presets",
    "load_deal",
    "parse_assignment",
    "parse_deal",
    "read_cash_flows_csv",
    "scenario_line",
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
    return plain_number(text, source, line, column, empty="a number (write 0 for no cash flow)")


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
    ``YYYY-MM-DD``), for XNPV and XIRR. Numbers are plain (``-1500000.5``, ``2.5e6``): a comma
    is refused, quoted or not, since ``"-1,5"`` may be -1.5 or -15. The file must be a regular
    file of at most :data:`~dealcalc.tables.MAX_CSV_BYTES` (32 MiB); it is checked before it is read.

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
        The file is missing, unreadable, not a regular file or too large, or a cell is empty or
        not a plain number; the message names the file, the line and the column.

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
        rows = read_csv_rows(path, MAX_CSV_BYTES, shown=source, what="a CSV file of cash flows")
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


def check_output(path: str | os.PathLike[str], *, force: bool = False) -> int | None:
    """Refuse an output path that :func:`write_atomic` would refuse, before any work is done.

    Only a regular file is ever replaced: a directory, a device (``/dev/null``), a named pipe
    or a socket is refused even with ``force``; an existing file is refused without it; and the
    folder must exist. The check is repeated, atomically, when the file is written.

    Returns
    -------
    int or None
        The permission bits of the existing file (``force`` keeps them), or None.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False.
    InputError
        ``path`` is not a regular file, or its folder does not exist.

    Examples
    --------
    >>> check_output("/dev/null", force=True)
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: /dev/null: is a character device, not a regular file; expected a \
regular file (dealcalc replaces only regular files, even with --force)
    """
    target = Path(path)
    try:
        status: os.stat_result | None = os.stat(target)  # a link is judged by what it points to
    except (FileNotFoundError, NotADirectoryError):  # the folder check below says which
        status = None
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror}", source=str(target)) from None
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise InputError(
            f"is {file_kind(status.st_mode)}, not a regular file",
            source=str(target),
            expected="a regular file (dealcalc replaces only regular files, even with --force)",
        )
    if status is not None and not force:
        raise OutputExistsError(f"{target} exists; use --force to replace it")
    if not _folder(target).is_dir():
        raise InputError("the folder does not exist", source=str(target))
    return None if status is None else stat.S_IMODE(status.st_mode)


def _folder(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


#: A temporary output file: ``.NAME.dealcalc-HOST-PID-TOKEN.tmp`` beside the output, so a later
#: write of the same output recognises one left by a writer that was killed (``kill -9``, a power
#: cut) and removes it when that writer's process is gone.
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.dealcalc-(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[0-9a-f]+\.tmp")


def _host() -> str:
    """This machine, as 8 hex digits (a folder may be shared between machines)."""
    return hashlib.sha256(platform.node().encode("utf-8", "replace")).hexdigest()[:8]


def _temporary_name(name: str) -> str:
    return f".{name[:100]}.dealcalc-{_host()}-{os.getpid()}-{secrets.token_hex(4)}.tmp"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (True when it cannot be told)."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def _remove_stale(folder: Path, name: str) -> None:
    """Remove the temporary files of ``name`` left in ``folder`` by writers on this machine that
    were killed before they could clean up (their process is gone)."""
    host = _host()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match is None or match["name"] != name[:100] or match["host"] != host:
            continue
        if not _alive(int(match["pid"])):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


class _Signalled(BaseException):
    """A termination signal that arrived while an output was being written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: The signals that end a process from a terminal or a job manager (Ctrl-C, kill, a closed
#: terminal): while an output is written they unwind it, so its temporary file is removed.
_TERMINATING = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class _Unwind:
    """SIGINT, SIGTERM and SIGHUP, caught for the time an output is written.

    While armed (:meth:`arm`, up to :meth:`disarm`), the first such signal raises
    :class:`_Signalled`, so the writer's ``finally`` runs and removes its temporary file; at other
    times a signal is only noted. On leaving, the previous handlers are put back and the first
    signal that arrived is raised again, to them: by default SIGTERM and SIGHUP still end the
    process, with the status they give, and SIGINT is still a ``KeyboardInterrupt``. Only the
    main thread can take signals; in another thread this does nothing.
    """

    def __init__(self) -> None:
        self.received: list[int] = []
        self._armed = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Unwind:
        if threading.current_thread() is threading.main_thread():
            for signum in _TERMINATING:
                handler = signal.getsignal(signum)
                if handler is signal.SIG_IGN or handler is None:  # ignored, or not Python's to restore
                    continue
                self._previous[signum] = handler
                signal.signal(signum, self._handle)
        return self

    def _handle(self, signum: int, frame: types.FrameType | None) -> None:
        self.received.append(signum)
        if self._armed:  # once: a second signal waits for the first one's clean-up
            self._armed = False
            unwinding = _Signalled(signum)  # control flow, never shown: __exit__ swallows it
            raise unwinding

    def arm(self) -> None:
        """From here, a signal unwinds the writer (at once, if one came already)."""
        self._armed = True
        if self.received:
            self._armed = False
            unwinding = _Signalled(self.received[0])
            raise unwinding

    def disarm(self) -> None:
        """From here, a signal is noted only (call it first in the clean-up)."""
        self._armed = False

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> bool:
        self._armed = False
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        if self.received:
            signal.raise_signal(self.received[0])
        return kind is not None and issubclass(kind, _Signalled)


def _remove_temporary(tmp: Path, target: Path, claims: list[tuple[int, int]]) -> None:
    """Remove a writer's temporary file, and an empty claim on the target that was not replaced."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)
    for claim in claims:
        if _same_file(target, claim):
            with contextlib.suppress(OSError):
                target.unlink()


def _same_file(path: Path, identity: tuple[int, int]) -> bool:
    try:
        status = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return (status.st_dev, status.st_ino) == identity


#: errno values of a folder whose file system has no hard links (FAT, some network shares).
_NO_LINKS = {errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}


def _publish_new(tmp: Path, target: Path, claims: list[tuple[int, int]]) -> None:
    """Put the finished ``tmp`` at ``target`` only if nothing is there, atomically: of two
    writers, exactly one succeeds. A hard link fails if the name exists; where the file system
    has no hard links the name is claimed by an exclusive create, then replaced."""
    try:
        os.link(tmp, target)
        return
    except FileExistsError:
        raise OutputExistsError(f"{target} exists; use --force to replace it") from None
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise OutputExistsError(f"{target} exists; use --force to replace it") from None
    status = os.fstat(fd)
    os.close(fd)
    claims.append((status.st_dev, status.st_ino))  # removed if the replace does not happen
    os.replace(tmp, target)
    claims.clear()


def write_atomic(path: str | os.PathLike[str], data: str | bytes, *, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically; keep an existing file unless ``force``.

    The data goes to a temporary file in the same folder (``.NAME.dealcalc-HOST-PID-TOKEN.tmp``),
    which then takes the target's name in one step, so a reader never sees half a file:

    - without ``force``, by a hard link that fails if the name exists, so of two writers started
      together exactly one wins and the other gets :class:`~dealcalc.errors.OutputExistsError`
      (where the file system has no hard links, the name is claimed by an exclusive create);
    - with ``force``, by a rename over the old file, whose permission bits the new one keeps.

    Only regular files are written: a directory, a device (``/dev/null``), a named pipe or a
    socket is refused even with ``force``. If SIGINT, SIGTERM or SIGHUP arrives during the write,
    the temporary file is removed before the signal takes its usual effect; one left by a writer
    that was killed outright (SIGKILL) is removed by the next write of the same file.

    Parameters
    ----------
    path : str or path-like
        Where to write.
    data : str or bytes
        The content (text is written as UTF-8).
    force : bool, default False
        Replace an existing regular file.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    OutputExistsError
        ``path`` exists and ``force`` is False.
    InputError
        ``path`` is not a regular file, or the folder does not exist or cannot be written.

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
    mode = check_output(target, force=force)
    folder = _folder(target)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    _remove_stale(folder, target.name)
    tmp = folder / _temporary_name(target.name)
    identity: tuple[int, int] | None = None  # the temporary file's (device, inode)
    claims: list[tuple[int, int]] = []
    with _Unwind() as signals:
        try:
            signals.arm()
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
                fd = os.open(tmp, flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0), 0o600)
            except OSError as exc:
                raise InputError(f"cannot write here: {exc.strerror}", source=str(target)) from None
            with os.fdopen(fd, "wb") as fh:
                status = os.fstat(fh.fileno())
                identity = (status.st_dev, status.st_ino)
                # the mode a plain open() would give (the umask's), or the replaced file's
                os.fchmod(fh.fileno(), _default_mode() if mode is None else mode)
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            if force:
                check_output(target, force=True)  # nothing but a regular file, now as well
                os.replace(tmp, target)
            else:
                _publish_new(tmp, target, claims)
        except OSError as exc:
            raise InputError(f"cannot write: {exc.strerror}", source=str(target)) from None
        finally:
            while True:  # a signal that lands before disarm() unwinds this once; then it is noted only
                try:
                    signals.disarm()
                    _remove_temporary(tmp, target, claims)
                    break
                except _Signalled:
                    continue
    if signals.received and not (identity is not None and _same_file(target, identity)):
        # the signal's own handler returned: the write was cut short before the file was in place
        raise InputError(
            f"the write was interrupted by {signal.Signals(signals.received[0]).name}; nothing was written",
            source=str(target),
        )
    return target


# --------------------------------------------------------------------------- scenario files

_PROVENANCE_KEYS = {"source", "as_of", "label", "note"}


#: The size a scenario file (or a fiscal preset) may have: 16 MiB. The bundled deal is 23 kB; a
#: larger file is the wrong file (or ``/dev/zero``), refused before it is read.
MAX_SCENARIO_BYTES = 16 * 2**20

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
        if isinstance(node, yaml.MappingNode):
            _check_unique_keys(node, source)
        on_path.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node))


def _check_unique_keys(node: yaml.MappingNode, source: str) -> None:
    """A key written twice in one mapping would silently replace the first: refuse it with both
    lines (a merge ``<<:`` may repeat keys on purpose, so a mapping that merges is left alone)."""
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        if key_node.tag.endswith(":merge"):
            return
        line = key_node.start_mark.line + 1
        if key_node.value in seen:
            # errors.md: is given twice
            raise InputError(
                f"{key_node.value!r} is given twice (also line {seen[key_node.value]}); the second "
                "would silently win",
                source=source,
                line=line,
                expected="each key once in a mapping",
            )
        seen[key_node.value] = line


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
    shows_value = ("rate_as_percent", "number_not_bool", "number_too_large")  # the message says it
    if "input" in error and kind not in ("model_type", "dict_type", *shows_value):
        shown = repr(error["input"])
        if len(shown) <= 40:
            message += f" (got {shown})"
    return message, None


_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_SPECIAL_FLOAT = r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
#: Numbers as a key (a year: 2031, -1) are written plainly; a value may group its digits with
#: ``_`` (1_000_000), which reads the same in YAML 1.1 and in Python.
_KEY_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_KEY_FLOAT = re.compile(rf"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?|{_SPECIAL_FLOAT}")
_DIGITS = r"[0-9]+(?:_[0-9]+)*"
_VALUE_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*(?:_[0-9]+)*)")
_VALUE_FLOAT = re.compile(
    rf"[-+]?(?:{_DIGITS}\.(?:{_DIGITS})?|\.{_DIGITS})(?:[eE][-+][0-9]+)?|{_SPECIAL_FLOAT}"
)
#: The most digits a whole number may have: past 309, it is beyond any float (1.8e308).
MAX_INT_DIGITS = 309


class SafeYamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses, with the line, what YAML 1.1 would read silently wrong.

    - An impossible date: YAML 1.1 reads anything shaped like ``2025-13-45`` as a timestamp, and
      PyYAML's safe loader then fails with a bare ``ValueError`` from ``datetime``; here it is an
      :class:`InvalidDateError` that points at the value.
    - A number that does not read as it looks: YAML 1.1 takes ``0x7E9`` for hexadecimal (2025),
      ``010`` for octal (8), ``0b11`` for binary (3) and ``1:30`` for base 60 (90), and a key
      ``1_000`` for 1000. Such a value or key is a :class:`NumberFormError`: dealcalc never needs
      these forms, and a year written ``0x7E9`` is more likely a slip than a wish. Reading them
      as text instead would only move the surprise to the model. A value may still group its
      digits (``1_000_000``), which reads the same everywhere; a key may not.
    - A whole number with more than :data:`MAX_INT_DIGITS` digits (larger than any float), which
      would otherwise crash Python's int conversion past 4,300 digits.

    Examples
    --------
    >>> yaml.load("d: 2025-08-07", Loader=SafeYamlLoader)
    {'d': datetime.date(2025, 8, 7)}
    >>> try:
    ...     yaml.load("d: 2025-13-45", Loader=SafeYamlLoader)
    ... except InvalidDateError as exc:
    ...     print(exc.problem, "at line", exc.problem_mark.line + 1)
    '2025-13-45' is not a valid date: month must be in 1..12 at line 1
    >>> yaml.load("ore_tpa: {2031: 1_000_000}", Loader=SafeYamlLoader)
    {'ore_tpa': {2031: 1000000}}
    >>> try:
    ...     yaml.load("ore_tpa:\\n  0x7E9: 1.0e6", Loader=SafeYamlLoader)
    ... except NumberFormError as exc:
    ...     print(exc.problem, "at line", exc.problem_mark.line + 1)
    the key '0x7E9' reads as 2025 (YAML 1.1 takes it for a hexadecimal number) at line 2
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag in (_INT_TAG, _FLOAT_TAG):
                plain = _KEY_INT if key_node.tag == _INT_TAG else _KEY_FLOAT
                if not plain.fullmatch(key_node.value):
                    # errors.md: reads as 2025 (YAML 1.1 takes it for
                    raise _unclear(self, key_node, key=True)
        return super().construct_mapping(node, deep=deep)


class InvalidDateError(yaml.constructor.ConstructorError):
    """A value written as a date that no calendar has (month 13, day 45, year 0)."""


class NumberFormError(yaml.constructor.ConstructorError):
    """A number written in a form that YAML 1.1 reads otherwise than it looks (``0x7E9``,
    ``010``, ``1:30``; ``1_000`` as a key), or one too large for a float.

    Attributes
    ----------
    expected : str
        What would have been read plainly.
    """

    def __init__(self, problem: str, mark: yaml.Mark | None, expected: str) -> None:
        super().__init__(None, None, problem, mark)
        self.expected = expected


def _form(text: str) -> str:
    """What YAML 1.1 takes a number written as ``text`` for."""
    bare = text.lstrip("+-").lower()
    if ":" in bare:
        return "a base-60 number"
    if bare.startswith("0b"):
        return "a binary number"
    if bare.startswith("0x"):
        return "a hexadecimal number"
    if "_" in bare:
        return "a number with its digits grouped"
    if bare.startswith("0") and bare.isdigit():
        return "an octal number"
    return "a number"


def _unclear(loader: yaml.SafeLoader, node: yaml.ScalarNode, *, key: bool) -> NumberFormError:
    """The error for a number (a key, or a value) that does not read as it looks."""
    try:
        if node.tag == _INT_TAG:
            value: Any = yaml.SafeLoader.construct_yaml_int(loader, node)
        else:
            value = yaml.SafeLoader.construct_yaml_float(loader, node)
    except (ValueError, OverflowError):
        value = "a number"
    shown = node.value if len(node.value) <= 40 else node.value[:30] + "..."
    if key:
        return NumberFormError(
            f"the key {shown!r} reads as {value} (YAML 1.1 takes it for {_form(node.value)})",
            node.start_mark,
            "a key written as a plain whole number (2031) or a date, or in quotes if it is a name",
        )
    return NumberFormError(
        f"{shown!r} reads as {value} (YAML 1.1 takes it for {_form(node.value)})",
        node.start_mark,
        "a plain decimal number (2025, 0.05, 1.0e6), or the value in quotes if it is text",
    )


def _int(loader: SafeYamlLoader, node: yaml.ScalarNode) -> int:
    if not _VALUE_INT.fullmatch(node.value):
        # errors.md: reads as 2025 (YAML 1.1 takes it for
        raise _unclear(loader, node, key=False)
    digits = len(node.value.lstrip("+-").replace("_", ""))
    value = int(node.value.replace("_", "")) if digits <= MAX_INT_DIGITS else None
    if value is None or abs(value) > sys.float_info.max:
        raise NumberFormError(
            f"a whole number of {digits:,} digits is too large to read",
            node.start_mark,
            "a number below 1.8e308 (write amounts in larger units if need be)",
        )
    return value


def _float(loader: SafeYamlLoader, node: yaml.ScalarNode) -> float:
    if not _VALUE_FLOAT.fullmatch(node.value):
        # errors.md: reads as 2025 (YAML 1.1 takes it for
        raise _unclear(loader, node, key=False)
    return yaml.SafeLoader.construct_yaml_float(loader, node)


def _timestamp(loader: SafeYamlLoader, node: yaml.ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as exc:
        # errors.md: is not a valid date
        raise InvalidDateError(
            None, None, f"{node.value!r} is not a valid date: {exc}", node.start_mark
        ) from None


SafeYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
SafeYamlLoader.add_constructor(_INT_TAG, _int)
SafeYamlLoader.add_constructor(_FLOAT_TAG, _float)


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
    except NumberFormError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        # errors.md: reads as 2025 (YAML 1.1 takes it for
        raise InputError(str(exc.problem), source=source, line=line, expected=exc.expected) from None
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
    where = str(path)
    try:
        text = read_limited(path, MAX_SCENARIO_BYTES, shown=where, what="a fiscal preset").decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", source=where) from None
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


def scenario_line(path: str | os.PathLike[str], field: str) -> int | None:
    """The line of a scenario overlay's entry in a scenario file: ``field`` is
    ``scenarios.NAME.set.KEY`` (or ``.scale.``), KEY one key of the file, dots and all; the
    scenario's own line when the key is not found. None when the file cannot be read again.

    Examples
    --------
    >>> scenario_line(example_path("ussm-fwo"), "scenarios.tax_holiday.set.fiscal.holiday_years") > 300
    True
    """
    parts = field.split(".", 3)
    if len(parts) < 2 or parts[0] != "scenarios":
        return None
    try:
        raw = read_limited(Path(path), MAX_SCENARIO_BYTES, shown=str(path), what="a scenario file")
        text = raw.decode("utf-8")
        node = yaml.compose(text, Loader=SafeYamlLoader)
    except (InputError, OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    lines: dict[tuple[Any, ...], int] = {}
    if node is not None:
        _yaml_lines(node, (), lines)
    for end in range(len(parts), 1, -1):
        found = lines.get(tuple(parts[:end]))
        if found is not None:
            return found
    return None


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
    errors, with the near name suggested. The file must be a regular file of at most
    :data:`MAX_SCENARIO_BYTES` (16 MiB), checked before it is read; numbers that YAML 1.1 reads
    otherwise than they look (``0x7E9``, ``010``, ``1:30``) are refused (see :class:`SafeYamlLoader`).

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
        text = read_limited(path, MAX_SCENARIO_BYTES, shown=source, what="a scenario file").decode("utf-8")
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", source=source) from None
    return parse_deal(text, source=source, folder=Path(path).parent).recorded(source=source)


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
        node, leaf = _locate(data, path.split("."))
        node[leaf] = {"value": node[leaf], **provenance.model_dump(exclude_none=True)}
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return text


def _locate(data: Any, keys: list[str]) -> tuple[Any, Any]:
    """The container and key of a provenance path in dumped data. A key may itself hold dots (a
    scenario's ``set: {finance.dsra: ...}``), so at each level the longest run of the path's
    parts that names a key is taken."""
    node = data
    i = 0
    while True:
        names = {str(k): k for k in node} if isinstance(node, dict) else {str(k): k for k in range(len(node))}
        for j in range(len(keys), i, -1):
            joined = ".".join(keys[i:j])
            if joined in names:
                if j == len(keys):
                    return node, names[joined]
                node, i = node[names[joined]], j
                break
        else:
            raise KeyError(f"no data at the provenance path {'.'.join(keys)}")


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
    except NumberFormError as exc:
        # errors.md: reads as 2025 (YAML 1.1 takes it for
        raise InputError(str(exc.problem), field=f"--set {path}", expected=exc.expected) from None
    except yaml.YAMLError:
        raise InputError(f"cannot read the value {raw!r}", field=f"--set {path}") from None
    return path.strip(), value
