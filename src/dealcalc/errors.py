"""Errors raised by dealcalc.

Our exception hierarchy::

    DealcalcError (ValueError)        anything dealcalc refuses, with a message meant for a person
    ├── InputError                    bad user input: names the file, line, field, what was expected
    │   └── InputErrors               several at once (every problem of a scenario file)
    ├── ConvergenceError              no solution where one was required (IRR, breakeven, ...)
    ├── OutputExistsError             refusing to overwrite an existing file without ``force``
    └── MissingExtraError             an optional dependency is not installed; names the pip command

Programmer errors (wrong array shapes or types passed to the API) are plain ``ValueError`` or
``TypeError``: they are bugs in the calling code, not in the user's files. ``NaN`` in a result
only ever means "no solution" (no IRR, never pays back).

The command line catches :class:`DealcalcError`, prints one line and exits with status 2; any
other exception is one line that calls it a bug in dealcalc, with status 1 (``dealcalc --debug``
shows its traceback), and Ctrl-C exits with status 130 (``dealcalc.cli``).

Where a Python call's argument comes from the user (a chart's format or size, flows whose result
is beyond floating point), the error is an :class:`InputError`, which is a ``ValueError`` too;
the plain ``ValueError`` of the metrics is kept for programmer errors (shapes, NaN, a misspelt
option), as ``docs/errors.md`` lists them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConvergenceError",
    "DealcalcError",
    "InputError",
    "InputErrors",
    "MissingExtraError",
    "OutputExistsError",
    "did_you_mean",
]


class DealcalcError(ValueError):
    """Base class of every error dealcalc raises on purpose."""


class InputError(DealcalcError):
    """Bad user input, located as precisely as we can.

    Parameters
    ----------
    message : str
        What is wrong, in words.
    source : str, optional
        The file (or other source) the input came from.
    line : int, optional
        1-based line number in ``source``.
    field : str, optional
        Dotted path of the offending field (``phases.refinery.capex_usd``) or column name.
    expected : str, optional
        What would have been accepted.
    hint : str, optional
        A suggestion, usually the near name of a misspelt key.

    Examples
    --------
    >>> err = InputError("unknown field", source="deal.yaml", line=12,
    ...                  field="phases.refinery.capx_usd", hint="did you mean 'capex_usd'?")
    >>> print(err)
    deal.yaml:12: phases.refinery.capx_usd: unknown field (did you mean 'capex_usd'?)
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        self.expected = expected
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source if self.line is None else f"{self.source}:{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.field:
            where += f"{self.field}: "
        text = f"{where}{self.message}"
        if self.expected:
            text += f"; expected {self.expected}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class InputErrors(InputError):
    """Every problem found in one input (a scenario file), each an :class:`InputError`.

    Its attributes (``source``, ``line``, ``field``, ...) are the first problem's; its text has
    one line per problem.

    Examples
    --------
    >>> err = InputErrors([InputError("no such product", source="d.yaml", line=3, field="a"),
    ...                    InputError("not a phase", source="d.yaml", line=9, field="b")])
    >>> print(err)
    d.yaml:3: a: no such product
    d.yaml:9: b: not a phase
    """

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = list(errors)
        first = self.errors[0]
        super().__init__(
            first.message,
            source=first.source,
            line=first.line,
            field=first.field,
            expected=first.expected,
            hint=first.hint,
        )

    def _render(self) -> str:
        return "\n".join(e._render() for e in getattr(self, "errors", []))


class ConvergenceError(DealcalcError):
    """A solver found no solution where the caller asked for one to be required."""


class OutputExistsError(DealcalcError):
    """An output file exists and ``force`` was not given."""


class MissingExtraError(DealcalcError):
    """An optional dependency is missing.

    Examples
    --------
    >>> print(MissingExtraError("matplotlib", "plot"))
    this needs matplotlib, which is not installed; install it with: pip install 'dealcalc[plot]'
    """

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"this needs {package}, which is not installed; install it with: pip install 'dealcalc[{extra}]'"
        )


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """Return ``"did you mean 'x'?"`` for the closest of ``choices``, or ``None``.

    Examples
    --------
    >>> did_you_mean("capx_usd", ["capex_usd", "opex_usd_per_t"])
    "did you mean 'capex_usd'?"
    >>> did_you_mean("zzz", ["capex_usd"]) is None
    True
    """
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None
