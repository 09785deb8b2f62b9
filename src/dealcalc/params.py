"""Parameter paths: every leaf of a Deal has a dotted name, and changes speak in those names.

``phases.refinery.capex_usd``, ``price_decks.base.antimony``, ``fiscal.royalty_rate``. Named
scenarios, ``--set PATH=VALUE``, and (later) sensitivity, breakeven and Monte Carlo all change a
Deal through these paths, so one mechanism serves them all. A ``*`` in a path matches every key
at its level; a misspelt path gets the nearest real one suggested.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import functools
import re
import types
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Union, get_args, get_origin

import numpy as np
import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from dealcalc.errors import InputError, InputErrors, did_you_mean
from dealcalc.metrics._common import FloatArray
from dealcalc.models import Deal, DealProblems, Schedule
from dealcalc.models.base import PLAIN_LIMITS
from dealcalc.models.finance import Finance, share_in
from dealcalc.models.schedule import SCHEDULE_TAGS

__all__ = [
    "Scenarios",
    "apply_scenario",
    "check_range",
    "get",
    "limits",
    "match_paths",
    "numeric_leaves",
    "paths",
    "schedule_of",
    "schedule_paths",
    "unused_paths",
    "with_changes",
]


def _walk(data: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(value, f"{prefix}.{key}" if prefix else str(key))
    elif _is_items(data):  # each item by its index: fiscal.levies.X.brackets.0.rate
        for k, item in enumerate(data):
            yield from _walk(item, f"{prefix}.{k}")
    else:
        yield prefix, data


def _is_items(data: Any) -> bool:
    """Whether ``data`` is a list of sections (a levy's brackets or alternatives) or of pairs (a
    sliding scale's points, tuples or lists), whose items are parameters by index:
    ``brackets.0.rate``, ``alternatives.1.rate``, ``scale.points.2`` (a pair, ``[x, rate]``). A
    list of numbers (a schedule over the production years, a capex profile) is one value."""
    return isinstance(data, list) and bool(data) and all(isinstance(v, dict | tuple | list) for v in data)


def _children(node: Any) -> dict[str, Any]:
    """The keys one level below ``node`` as paths spell them (years, dates and list indices as
    text), each with the key itself. A list of numbers has none: it is one value."""
    if isinstance(node, dict):
        return {str(k): k for k in node}
    if isinstance(node, tuple) or _is_items(node):
        return {str(k): k for k in range(len(node))}
    return {}


def _tree(deal: Deal) -> dict[str, Any]:
    tree = deal.model_dump(mode="python", exclude={"scenarios", "provenance", "uncertainty"})
    return tree


@dataclass(frozen=True)
class _Leaves:
    """The parameters of one Deal: every leaf by path, the numbers among them, and the paths
    whose value is a whole schedule (a mapping or a list; as a number, its scale, 1)."""

    leaves: dict[str, Any]
    numbers: dict[str, float]
    schedules: dict[str, Any]


#: The flattened leaves of each live Deal, by id (a Deal is frozen, so they never go stale; an
#: entry is dropped when its Deal is collected). Analyses look paths up once per chunk, and a
#: pydantic dump of the whole deal each time cost more than valuing a small chunk.
_LEAVES: dict[int, _Leaves] = {}


def _flat(deal: Deal) -> _Leaves:
    """Every leaf of ``deal`` by path, the numeric ones as floats, and its whole schedules
    (cached per Deal)."""
    key = id(deal)
    hit = _LEAVES.get(key)
    if hit is None:
        leaves = dict(_walk(_tree(deal), ""))
        # a stream's fields that its kind never reads are not parameters: varying them does nothing
        unused = unused_paths(deal)
        schedules = {
            path: value
            for path, value in _schedule_values(_tree(deal), "")
            if path not in unused and isinstance(value, dict | list) and value
        }
        numbers: dict[str, float] = {}
        for path, value in leaves.items():
            # a whole schedule (its scale, 1) comes just before its years
            whole = path if path in schedules else path.rpartition(".")[0]
            if whole in schedules and whole not in numbers:
                numbers[whole] = 1.0
            if isinstance(value, int | float) and not isinstance(value, bool) and path not in unused:
                numbers[path] = float(value)
        hit = _LEAVES[key] = _Leaves(leaves, numbers, schedules)
        weakref.finalize(deal, _LEAVES.pop, key, None)
    return hit


def _schedule_values(data: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    """``(path, value)`` of every field typed as a schedule, whatever its value."""
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict | list) and schedule_of(path) is not None:
                yield path, value
            elif isinstance(value, dict):
                yield from _schedule_values(value, path)
            elif _is_items(value):
                for k, item in enumerate(value):
                    yield from _schedule_values(item, f"{path}.{k}")


def unused_paths(deal: Deal) -> dict[str, str]:
    """The paths of stream fields that the stream's kind never reads, each with the reason
    (``streams.apt.recovery``: a refinery's output is its capacity). They are not parameters.

    Examples
    --------
    >>> from dealcalc.io import load_deal
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> "streams.apt.recovery" in unused_paths(deal), "streams.copper.recovery" in unused_paths(deal)
    (True, False)
    """
    return {
        f"streams.{name}.{field}": why
        for name, stream in deal.streams.items()
        for field, why in stream.unused_fields().items()
    }


def paths(deal: Deal, *, numeric: bool = True) -> list[str]:
    """Every parameter path of ``deal`` (numeric leaves only by default), in file order.

    Examples
    --------
    >>> from dealcalc.io import load_deal
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> "phases.refinery.capex_usd" in paths(deal)
    True
    """
    flat = _flat(deal)
    if numeric:
        return list(flat.numbers)
    return [path for path, value in flat.leaves.items() if value is not None] + list(flat.schedules)


def numeric_leaves(deal: Deal) -> dict[str, float]:
    """Every numeric parameter of ``deal`` by path (a new dict; read once per Deal).

    A whole schedule (``streams.x.ore_tpa`` given year by year) is a parameter too: its value
    here is 1, its scale, and an override of it multiplies every year.
    """
    return dict(_flat(deal).numbers)


def schedule_paths(deal: Deal) -> dict[str, Any]:
    """The paths whose value is a whole schedule (a ``{year: value}`` mapping or a list), with
    that value. An (S,) override of such a path scales it; each key of a mapping is a
    parameter of its own (``price_decks.base.copper.2031``).

    Examples
    --------
    >>> from dealcalc.io import load_deal
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> schedule_paths(deal)
    {}
    >>> changed = with_changes(deal, {"streams.copper.ore_tpa": {2028: 0.8e6, 2030: 1.0e6}})
    >>> schedule_paths(changed)
    {'streams.copper.ore_tpa': {2028: 800000.0, 2030: 1000000.0}}
    """
    return dict(_flat(deal).schedules)


@functools.lru_cache(maxsize=4096)
def schedule_of(path: str) -> Schedule | None:
    """How the field at ``path`` fills its years, if it is a schedule (else None).

    Examples
    --------
    >>> schedule_of("streams.copper.ore_tpa")
    Schedule(fill='hold', before_first='zero')
    >>> schedule_of("valuation.discount_rate") is None
    True
    """
    return _find_schedule(_leaf_type(path))


def _find_schedule(tp: Any) -> Schedule | None:
    origin = get_origin(tp)
    if origin is Annotated:
        inner, *meta = get_args(tp)
        for item in meta:
            if isinstance(item, Schedule):
                return item
        return _find_schedule(inner)
    if origin in (Union, types.UnionType):
        for member in get_args(tp):
            found = _find_schedule(member)
            if found is not None:
                return found
    return None


def match_paths(pattern: str, candidates: Iterable[str]) -> list[str]:
    """The ``candidates`` a path pattern matches (``*`` matches one level, as in scenarios).

    Examples
    --------
    >>> match_paths("phases.*.capex_usd", ["phases.a.capex_usd", "phases.a.b.capex_usd", "x"])
    ['phases.a.capex_usd']
    """
    parts = pattern.split(".")
    return [
        c
        for c in candidates
        if len(keys := c.split(".")) == len(parts)
        and all(fnmatch.fnmatchcase(k, q) for k, q in zip(keys, parts, strict=True))
    ]


def get(deal: Deal, path: str) -> Any:
    """The value at ``path``; an :class:`InputError` with a suggestion if there is none."""
    flat = _flat(deal)
    if path in flat.leaves:
        return flat.leaves[path]
    if path in flat.schedules:
        return flat.schedules[path]
    node: Any = _tree(deal)
    for part in path.split("."):
        keys = _children(node)
        if part not in keys:  # keys may be years, dates or list indices: paths spell them as text
            # errors.md: no such parameter
            raise _unknown_path(deal, path)
        node = node[keys[part]]
    return node


def _members(tp: Any) -> list[Any]:
    """The types a value of ``tp`` may have: Optional and unions split, Annotated stripped."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _members(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return [m for a in get_args(tp) if a is not type(None) for m in _members(a)]
    return [tp]


def _step(tp: Any, part: str) -> Any | None:
    """The declared type one level below ``tp`` at key ``part`` (constraints kept), or None."""
    for member in _members(tp):
        if isinstance(member, type) and issubclass(member, BaseModel):
            info = member.model_fields.get(part)
            if info is None:
                return None
            return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        if get_origin(member) is dict:
            return get_args(member)[1]
        if get_origin(member) is list:
            return get_args(member)[0]
        if get_origin(member) is tuple:  # a pair (a sliding scale's point): by position
            items = get_args(member)
            return items[int(part)] if part.isdigit() and int(part) < len(items) else None
    return None


@functools.lru_cache(maxsize=4096)
def _leaf_type(path: str) -> Any | None:
    """The declared type at ``path``, its limits included, or None where it is not declared."""
    current: Any = Deal
    for part in path.split("."):
        current = _step(current, part)
        if current is None:
            return None
    return current


@functools.lru_cache(maxsize=4096)
def _leaf_adapter(path: str) -> TypeAdapter[Any] | None:
    """A validator of one value at ``path`` with the field's declared limits, or None."""
    kind = _leaf_type(path)
    return None if kind is None else TypeAdapter(kind)


def _bounds(tp: Any) -> tuple[float, float] | None:
    """The closed interval a number of type ``tp`` must lie in (open ends nudged inside), or
    None where ``tp`` has no number branch."""
    origin = get_origin(tp)
    if origin is Annotated:
        inner, *meta = get_args(tp)
        found = _bounds(inner)
        if found is None:
            return None
        low, high = found
        for item in (m for entry in meta for m in getattr(entry, "metadata", [entry])):
            if (ge := getattr(item, "ge", None)) is not None:
                low = max(low, float(ge))
            if (gt := getattr(item, "gt", None)) is not None:
                low = max(low, float(np.nextafter(float(gt), np.inf)))
            if (le := getattr(item, "le", None)) is not None:
                high = min(high, float(le))
            if (lt := getattr(item, "lt", None)) is not None:
                high = min(high, float(np.nextafter(float(lt), -np.inf)))
        return low, high
    if origin in (Union, types.UnionType):
        for member in get_args(tp):
            found = _bounds(member)
            if found is not None:
                return found
        return None
    return (-np.inf, np.inf) if tp in (float, int) else None


def limits(path: str, deal: Deal | None = None) -> tuple[float, float]:
    """The smallest and largest value a scenario file may hold at ``path`` (its field's
    ``ge``/``gt``/``le``/``lt``); infinite where the field sets none. With ``deal``, a path whose
    value there is a whole schedule gets the limits of the factor that scales it: the factors
    that keep every year of it within the field's limits.

    Examples
    --------
    >>> limits("streams.copper.recovery")
    (0.0, 1.0)
    >>> limits("price_decks.base.antimony")
    (0.0, inf)
    >>> from dealcalc.io import load_deal
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> limits("streams.copper.recovery", with_changes(deal, {"streams.copper.recovery": [0.8, 0.9]}))
    (0.0, 1.1111111111111112)
    """
    kind = _leaf_type(path)
    found = _bounds(kind) if kind is not None else None
    low, high = found if found is not None else (-np.inf, np.inf)
    if deal is not None:
        high = min(high, _stake_limit(deal, path))
    schedule = _flat(deal).schedules.get(path) if deal is not None else None
    if schedule is None:
        return low, high
    values = np.asarray(list(schedule.values()) if isinstance(schedule, dict) else schedule, dtype=np.float64)
    factors = [0.0, np.inf]  # a factor of 0 and up keeps the signs; the limits narrow it
    for bound, side in ((low, 0), (high, 1)):
        if not np.isfinite(bound):
            continue
        for v in values[values != 0.0]:
            f = bound / v
            if (v > 0) == (side == 1):  # an upper bound on a positive value caps the factor
                factors[1] = min(factors[1], f) if f >= 0 else factors[1]
            elif f > 0:
                factors[0] = max(factors[0], f)
    return float(factors[0]), float(factors[1])


def _stake_limit(deal: Deal, path: str) -> float:
    """The most a stake term may be, from the company's other terms: an earn-in's stake what
    its source holds at the least, a free-carried part its owner's smallest share (inf for any
    other path)."""
    parts = path.split(".")
    companies = deal.companies()
    if len(parts) >= 4 and parts[-1] == "stake" and parts[-3] == "earn_in":
        at, partner = ".".join(parts[:-3]), parts[-2]
        company = companies.get(at)
        if company is None or partner not in company.earn_in:
            return np.inf
        owner = company.earn_in[partner].from_
    elif len(parts) >= 3 and parts[-2] == "free_carried":
        at, owner = ".".join(parts[:-2]), parts[-1]
        company = companies.get(at)
    else:
        return np.inf
    if company is None or owner not in company.equity:
        return np.inf
    return min(share_in(company.equity[owner].schedule, y) for y in company.share_years() or [0])


def check_range(
    path: str,
    values: np.ndarray,
    *,
    what: str = "override values",
    field: str | None = None,
    hint: str | None = None,
) -> None:
    """Raise an :class:`InputError` if any of ``values`` is outside what the Deal allows at
    ``path`` (a recovery above 1, a negative price): the same limits a scenario file is checked
    against, applied to arrays of scenario values (their smallest and largest).

    Examples
    --------
    >>> import numpy as np
    >>> check_range("fiscal.royalty_rate", np.array([0.03, 0.08]))
    >>> check_range("fiscal.royalty_rate", np.array([0.03, 1.2]))
    Traceback (most recent call last):
    ...
    dealcalc.errors.InputError: fiscal.royalty_rate: override values run from 0.03 to 1.2: \
Input should be less than or equal to 1 (1.2); expected values the scenario file would accept
    """
    adapter = _leaf_adapter(path)
    if adapter is None or values.size == 0:
        return
    low, high = float(values.min()), float(values.max())
    for value in (low, high) if low != high else (low,):
        try:
            adapter.validate_python(value, context=PLAIN_LIMITS)  # values no one typed
        except ValidationError as exc:
            message = str(exc.errors()[0]["msg"])
            # errors.md: values run from
            raise InputError(
                f"{what} run from {low:.6g} to {high:.6g}: {message} ({value:.6g})",
                field=field or path,
                expected=None if hint else "values the scenario file would accept",
                hint=hint,
            ) from None


def _unknown_path(deal: Deal, path: str) -> InputError:
    return InputError(
        "no such parameter",
        field=path,
        hint=did_you_mean(path, paths(deal, numeric=False)) or "see `dealcalc validate FILE --paths`",
    )


def _expand(tree: dict[str, Any], pattern: str) -> list[list[Any]]:
    """The concrete key paths matching a pattern (``*`` matches one level)."""
    matches: list[list[Any]] = [[]]
    for part in pattern.split("."):
        nxt: list[list[Any]] = []
        for prefix in matches:
            node: Any = tree
            for key in prefix:
                node = node[key]
            keys = _children(node)  # years, dates and list indices are spelt as text in paths
            hits = fnmatch.filter(keys, part) if "*" in part else [part] if part in keys else []
            nxt.extend([*prefix, keys[h]] for h in hits)
        matches = nxt
    return matches


def with_changes(
    deal: Deal,
    set_values: Mapping[str, Any] | None = None,
    scale: Mapping[str, float] | None = None,
    *,
    origin: str = "override",
    scenario: str | None = None,
) -> Deal:
    """A new, re-validated Deal with values replaced (``set_values``) or multiplied (``scale``).

    Parameters
    ----------
    deal : Deal
        The base case (unchanged; Deals are frozen).
    set_values : mapping of path to value, optional
        New values; a path may end at a section to replace it whole, or name an item of a list
        of sections by its index (``fiscal.levies.X.brackets.0.rate``,
        ``fiscal.levies.X.scale.points.2``). One number over a schedule given year by year or
        as a list is refused (it would replace every year, where an override of the path scales
        them): set a year (``PATH.2031``), scale it, or give a whole mapping or list.
    scale : mapping of path to factor, optional
        Numbers to multiply (``phases.*.capex_usd: 1.3``).
    origin : str
        Named in error messages (``--set``).
    scenario : str, optional
        The named scenario of the file whose ``set``/``scale`` these are: each error then names
        the entry it comes from as its field, ``scenarios.NAME.set.KEY`` (or ``.scale.KEY``; the
        KEY is the entry's key as written, dots and all), and, where the problem lies at another
        path (a ``*`` in the key, or a check of the deal the change breaks), that path first in
        its message.

    Raises
    ------
    InputError
        A path that does not exist, a change the Deal refuses; :class:`~dealcalc.errors.InputErrors`
        when the changed Deal has several problems.

    Examples
    --------
    >>> from dealcalc.io import load_deal
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> with_changes(deal, scale={"phases.*.capex_usd": 2}).phases["refinery"].capex_usd
    600000000.0
    >>> try:
    ...     with_changes(deal, {"fiscal.royalty_rate": 5}, scenario="high")
    ... except InputError as exc:
    ...     print(exc)
    scenarios.high.set.fiscal.royalty_rate: 5 is 500 %; did you mean 0.05?
    """
    if scenario is not None:
        origin = f"scenario {scenario!r}"
    tree = copy.deepcopy(deal.model_dump(mode="python"))
    # a wildcard skips stream fields that the stream's kind never reads (streams.*.recovery
    # reaches the mine streams); a path that names one is still refused by the model
    unused = unused_paths(deal)
    #: (set or scale, the entry's key, a path it changed), in the order they were applied
    changed: list[tuple[str, str, str]] = []

    def located(kind: str, pattern: str, error: InputError) -> InputError:
        """``error`` of the entry ``pattern`` of ``kind``, named after the scenario's entry."""
        if scenario is None:
            return error
        message = error.message.removeprefix(f"{origin}: ")
        if error.field and error.field != pattern:
            message = f"{error.field}: {message}"
        return InputError(
            message, field=f"scenarios.{scenario}.{kind}.{pattern}", expected=error.expected, hint=error.hint
        )

    def update(kind: str, pattern: str, change: Callable[[list[Any], Any], Any]) -> None:
        hits = _expand(tree, pattern)
        if "*" in pattern:
            hits = [keys for keys in hits if ".".join(map(str, keys)) not in unused]
        if not hits:
            # errors.md: no such parameter
            raise located(kind, pattern, _unknown_path(deal, pattern))
        for keys in hits:
            node = tree
            for key in keys[:-1]:
                if isinstance(node[key], tuple):  # a pair (a scale's point) changed in place
                    node[key] = list(node[key])
                node = node[key]
            try:
                node[keys[-1]] = change(keys, node[keys[-1]])
            except InputError as exc:
                # errors.md: scenarios.S.set.PATH
                raise located(kind, pattern, exc) from None
            changed.append((kind, pattern, ".".join(map(str, keys))))

    def scaled(factor: float) -> Callable[[list[Any], Any], Any]:
        def apply(keys: list[Any], old: Any) -> Any:
            path = ".".join(map(str, keys))
            if isinstance(old, dict | list) and schedule_of(path) is not None:  # every year of it
                numbers = old.values() if isinstance(old, dict) else old
                if all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
                    if isinstance(old, dict):
                        return {k: v * factor for k, v in old.items()}
                    return [v * factor for v in old]
            if not isinstance(old, int | float) or isinstance(old, bool):
                raise InputError(f"{origin}: cannot scale a non-number", field=path)
            return old * factor

        return apply

    def replaced(value: Any) -> Callable[[list[Any], Any], Any]:
        def apply(keys: list[Any], old: Any) -> Any:
            path = ".".join(map(str, keys))
            if _is_number(value) and isinstance(old, dict | list) and old and schedule_of(path) is not None:
                # errors.md: so one number would replace every year of it
                raise _number_over_schedule(path, old, origin)
            return value

        return apply

    for pattern, value in (set_values or {}).items():
        update("set", pattern, replaced(value))
    for pattern, factor in (scale or {}).items():
        update("scale", pattern, scaled(factor))
    try:
        made = Deal.model_validate(tree)
    except ValidationError as exc:
        problems = _problems(exc)
    else:
        record: tuple[str, ...] = ()
        if scenario is None:  # a scenario's own changes are named by the scenario
            record = tuple(f"{origin} {k}={_recorded(v)}" for k, v in (set_values or {}).items())
            record += tuple(f"{origin} {k}×{_recorded(v)}" for k, v in (scale or {}).items())
        return made.recorded(
            source=deal.source,
            scenario=scenario or deal.scenario_name,
            changes=(*deal.changes, *record),
        )
    errors: list[InputError] = []
    for path, message, typed in problems:
        entry = _entry(path, changed)
        if typed is not None and entry is not None and entry[0] == "scale" and entry[2] == path:
            message = _plain(path, typed, message)  # a scaled value: nobody typed a per cent
        if scenario is None:
            # errors.md: (a model check, as above)
            errors.append(InputError(f"{origin}: {message}", field=path))
            continue
        if entry is None:
            field, at = f"scenarios.{scenario}", path
        else:
            field, at = f"scenarios.{scenario}.{entry[0]}.{entry[1]}", None if path == entry[1] else path
        # errors.md: scenarios.S.set.PATH
        errors.append(InputError(f"{at}: {message}" if at else message, field=field))
    raise errors[0] if len(errors) == 1 else InputErrors(errors)


#: A date key as pydantic spells it in an error's location.
_DATE_REPR = re.compile(r"datetime\.date\((\d+), (\d+), (\d+)\)")


def _problems(exc: ValidationError) -> list[tuple[str | None, str, float | None]]:
    """Every problem of a failed validation as ``(path, message, value)``: the deal's
    cross-checks with their own paths, pydantic's errors at their locations; ``value`` is the
    number refused as a per cent typed for a fraction, else None."""
    out: list[tuple[str | None, str, float | None]] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, DealProblems):  # a cross-check names its own path
            out.extend((path, problem, None) for path, problem in cause.problems)
            continue
        parts = [str(p) for p in error["loc"] if p not in SCHEDULE_TAGS]
        parts = [
            dt.date(*map(int, m.groups())).isoformat() if (m := _DATE_REPR.fullmatch(p)) else p for p in parts
        ]
        typed: Any = error.get("input") if error.get("type") == "rate_as_percent" else None
        message = str(error["msg"]).removeprefix("Value error, ")
        out.append((".".join(parts) or None, message, float(typed) if _is_number(typed) else None))
    return out


def _entry(path: str | None, changed: list[tuple[str, str, str]]) -> tuple[str, str, str] | None:
    """The change (``set`` or ``scale``, its key, the path it changed) a problem at ``path``
    comes from: the last that changed that path, or the section holding it, or something in the
    section the problem is about; else the only change made; else None."""
    if path is not None:
        exact = [c for c in changed if c[2] == path]
        if exact:
            return exact[-1]
        holding = [c for c in changed if path.startswith(c[2] + ".")]
        if holding:
            return max(holding, key=lambda c: len(c[2]))
        inside = {(c[0], c[1]): c for c in changed if c[2].startswith(path + ".")}
        if len(inside) == 1:
            return next(iter(inside.values()))
    entries = {(c[0], c[1]): c for c in changed}
    return next(iter(entries.values())) if len(entries) == 1 else None


def _plain(path: str | None, value: float, message: str) -> str:
    """Pydantic's own message for ``value`` past the limits at ``path`` (``message`` if none)."""
    adapter = _leaf_adapter(path) if path is not None else None
    if adapter is not None:
        try:
            adapter.validate_python(value, context=PLAIN_LIMITS)
        except ValidationError as exc:
            return f"{exc.errors()[0]['msg']} ({value:.6g})"
    return message


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_over_schedule(path: str, old: dict[Any, Any] | list[Any], origin: str) -> InputError:
    """The refusal of one number set over a schedule the file gives year by year: it would
    replace every year with that number, where an override of the same path scales them."""
    scenario = origin.startswith("scenario ")
    whole = "write the whole list" if isinstance(old, list) else "write the whole mapping"
    if isinstance(old, dict):
        year = next(iter(old))
        form = f"year by year ({year}: …)"
        one = f"set: {{{path}.{year}: V}}" if scenario else f"--set {path}.{year}=V"
        first = f"to change one year, {one}; "
    else:
        form = "as a list over the production years"
        first = ""
    return InputError(
        f"{origin}: the file gives this {form}, so one number would replace every year of it",
        field=path,
        hint=f"{first}to scale every year, a scenario's scale: {{{path}: F}}; or {whole}",
    )


def _recorded(value: Any) -> str:
    """A change's value as the run's record keeps it: whole, so that the run can be repeated
    from its record (a mapping or a list in YAML's flow style, as ``--set`` reads it back).

    Examples
    --------
    >>> _recorded(0.07), _recorded({"missed_payments": 1, "recovery": 0.4}), _recorded([0.6, 0.85])
    ('0.07', '{missed_payments: 1, recovery: 0.4}', '[0.6, 0.85]')
    """

    def plain(x: Any) -> Any:  # numpy numbers as Python's, so YAML can write them
        if isinstance(x, dict):
            return {plain(k): plain(v) for k, v in x.items()}
        if isinstance(x, list | tuple):
            return [plain(v) for v in x]
        return x.item() if isinstance(x, np.generic) else x

    if isinstance(value, dict | list | tuple):
        text = yaml.safe_dump(plain(value), default_flow_style=True, sort_keys=False, width=10**6)
        return str(text).strip()
    return str(value)


def _shown(value: Any, longest: int = 40) -> str:
    """A value as a record shows it: short, on one line."""
    text = str(value).replace("\n", " ")
    return text if len(text) <= longest else text[: longest - 1] + "…"


def apply_scenario(deal: Deal, name: str | None) -> Deal:
    """The Deal under the named scenario of its file (``None``: the base case).

    Examples
    --------
    >>> from dealcalc.io import load_deal
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> apply_scenario(deal, "spot_2025").valuation.price_deck
    'spot_2025'
    """
    if name is None or name == "base":
        return deal
    overlay = deal.scenarios.get(name)
    if overlay is None:
        raise InputError(
            f"no scenario {name!r}",
            field="--scenario",
            hint=did_you_mean(name, deal.scenarios) or f"scenarios: {', '.join(deal.scenarios) or 'none'}",
        )
    changed = with_changes(deal, overlay.set, overlay.scale, scenario=name)
    # the values the scenario sets carry the scenario's labels and sources, under their own paths
    prefix = f"scenarios.{name}.set."
    own = {k.removeprefix(prefix): v for k, v in deal.provenance.items() if k.startswith(prefix)}
    if not own:
        return changed
    return changed.model_copy(update={"provenance": {**changed.provenance, **own}})  # keeps the record


def _as_override(path: str, value: Any, n_years: int) -> FloatArray:
    """One override as a float array of shape (S,) or (S, T), checked for shape and finiteness.
    Only a field that takes a schedule varies year by year."""
    try:
        if isinstance(value, np.ndarray) and value.dtype != np.float64 and 0 in value.strides:
            # a broadcast view: convert only its distinct values, not every scenario's copy
            base = value[tuple(slice(0, 1) if stride == 0 else slice(None) for stride in value.strides)]
            arr = np.broadcast_to(base.astype(np.float64), value.shape)
        else:
            arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            "override is not numbers", field=path, expected="numbers, one per scenario"
        ) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.shape[0] == 0:
        raise InputError("override has no values", field=path, expected="at least one scenario")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim > 2 or (arr.ndim == 2 and arr.shape[1] != n_years):
        raise InputError(
            f"override has shape {arr.shape}",
            field=path,
            expected=f"(S,) or (S, {n_years}) (scenarios by years)",
        )
    if arr.ndim == 2 and schedule_of(path) is None:
        what = "one year of a schedule" if _is_schedule_key(path) else "this parameter"
        raise InputError(
            f"override has shape {arr.shape}, but {what} takes one value per scenario",
            field=path,
            expected="(S,); only a field that takes a schedule varies year by year (S, T)",
        )
    if arr.size and not (np.isfinite(arr.min()) and np.isfinite(arr.max())):  # no (S, T) mask
        raise InputError("override contains NaN or infinity", field=path)
    return arr


def _is_schedule_key(path: str) -> bool:
    """Whether ``path`` names one year of a ``{year: value}`` schedule."""
    head, _, last = path.rpartition(".")
    return bool(head) and last.lstrip("-").isdigit() and schedule_of(head) is not None


def _check_values(deal: Deal, path: str, arr: FloatArray, schedule: Any) -> None:
    """Refuse values outside the field's limits; a whole schedule's (S,) override is a factor,
    checked on the smallest and largest value it makes."""
    if schedule is not None and arr.ndim == 1:
        numbers = np.asarray(
            list(schedule.values()) if isinstance(schedule, dict) else schedule, dtype=np.float64
        )
        ends = np.array([arr.min(), arr.max()])
        made = np.concatenate([ends * numbers.min(), ends * numbers.max()])
        check_range(path, made, what=f"override factors {arr.min():.6g} to {arr.max():.6g} make values that")
        return
    check_range(path, arr)


def _plain_number(value: Any) -> bool:
    """A single number, however written (``2``, ``2.0``, ``np.int64(2)``, a 0-d array)."""
    if isinstance(value, bool | np.bool_) or np.ndim(value) != 0:
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _check_rate_path(deal: Deal, path: str) -> None:
    """An owner of several entities has one discount rate, read where it is first stated: an
    override of it at another entity would change nothing."""
    parts = path.split(".")
    if len(parts) != 5 or parts[0] != "entities" or parts[2] != "equity" or parts[4] != "discount_rate":
        return
    owner = parts[3]
    stated = [
        f"entities.{n}.equity.{owner}.discount_rate"
        for n, e in deal.entities.items()
        if owner in e.equity and e.equity[owner].discount_rate is not None
    ]
    if stated and stated[0] != path:
        # errors.md: is read from
        raise InputError(
            f"{owner}'s discount rate is read from {stated[0]}",
            field=path,
            hint=f"override {stated[0]} (an owner of several entities has one rate)",
        )


def _check_stakes(deal: Deal, overrides: Mapping[str, FloatArray]) -> None:
    """The rules of a company's stakes hold in every scenario, as the file's checks hold them
    for one (:class:`dealcalc.models.finance.Finance`): the owners' shares sum to 1 in every
    year, a free-carried part is at most its owner's smallest share, an earn-in's stake at most
    what its source holds. An override of one owner's share alone would otherwise value a
    company owned 90 % or 110 % (docs/methodology.md §29)."""

    for at, company in deal.companies().items():
        _check_company_stakes(at, company, overrides)


def _check_company_stakes(at: str, company: Finance, overrides: Mapping[str, FloatArray]) -> None:
    """:func:`_check_stakes` for the company whose terms are at ``at``."""

    def value(path: str, base: float) -> FloatArray:
        got = overrides.get(path)
        if got is None:
            return np.asarray([base])
        return np.asarray(got, dtype=np.float64).reshape(got.shape[0], -1)[:, 0]

    fixed = {n: f"{at}.equity.{n}.share" for n, h in company.equity.items() if h.share_by_year is None}
    carried = {n: f"{at}.free_carried.{n}" for n in company.free_carried}
    stakes = {n: f"{at}.earn_in.{n}.stake" for n in company.earn_in}
    if not any(p in overrides for p in [*fixed.values(), *carried.values(), *stakes.values()]):
        return
    years = company.share_years() or [0]

    def share(name: str, year: int) -> FloatArray:
        holder = company.equity[name]
        if name in fixed:
            return value(fixed[name], holder.share)
        return np.asarray([share_in(holder.schedule, year)])

    def smallest(name: str) -> FloatArray:
        low: FloatArray = np.min(np.broadcast_arrays(*(share(name, y) for y in years)), axis=0)
        return low

    for year in years:
        total = np.sum(np.broadcast_arrays(*(share(n, year) for n in company.equity)), axis=0)
        bad = np.flatnonzero(np.abs(total - 1.0) > 1e-9)
        if bad.size:
            when = f" in {year}" if company.share_years() else ""
            # errors.md: equity shares must sum to 1 in every scenario
            raise InputError(
                f"equity shares must sum to 1 in every scenario{when}; "
                f"scenario {bad[0]} sums to {total[bad[0]]:g}",
                field=f"{at}.equity",
                hint="move the owners' shares together (one array each), or vary an earn-in's stake, "
                "which moves a share from one owner to another",
            )
    for name, path in carried.items():
        part, held = np.broadcast_arrays(value(path, company.free_carried[name]), smallest(name))
        over = np.flatnonzero(part > held + 1e-12)
        if over.size:
            # errors.md: is carried for more than its share
            raise InputError(
                f"{name!r} is carried for more than its share in scenario {over[0]}",
                field=path,
                expected="a free-carried part at most the owner's share",
            )
    for name, path in stakes.items():
        source = company.earn_in[name].from_
        stake, given = np.broadcast_arrays(value(path, company.earn_in[name].stake), smallest(source))
        over = np.flatnonzero(stake > given + 1e-12)
        if over.size:
            # errors.md: the stake earned is more than
            raise InputError(
                f"the stake earned is more than {source!r} holds in scenario {over[0]}",
                field=path,
                expected=f"a stake at most {source}'s share",
            )


def _check_whole_and_years(overrides: Mapping[str, FloatArray]) -> None:
    """Refuse a whole schedule overridden year by year, (S, T), beside an override of one of
    its years: the (S, T) array gives every year, so the year's own override would be ignored."""
    for path, arr in overrides.items():
        if arr.ndim != 2:
            continue
        years = [p for p in overrides if p.rpartition(".")[0] == path and _is_schedule_key(p)]
        if years:
            raise InputError(
                f"overridden year by year (shape {arr.shape}) and also at {years[0]}, which the "
                "whole array already gives",
                field=path,
                hint=f"drop the override of {years[0]} and put its values in the column of that "
                "year, or give the whole schedule as (S,) factors",
            )


@dataclass(frozen=True)
class Scenarios:
    """S scenarios of one Deal: the base deal, override arrays by path, and S.

    Built by :meth:`build`, which checks every override once (a known numeric path, shape
    (S,) or, for a field that takes a schedule, (S, T), finite, within the field's limits, one
    S for all; a whole schedule given as (S, T) with none of its years overridden beside it).
    An array with one row applies to every scenario and is never repeated. :meth:`chunks`
    splits the scenarios for the engine, which values each chunk at once.

    Examples
    --------
    >>> from dealcalc.io import load_deal
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> s = Scenarios.build(deal, {"fiscal.royalty_rate": [0.03, 0.05, 0.07]})
    >>> s.n, [c.n for c in s.chunks(2)]
    (3, [2, 1])
    """

    deal: Deal
    overrides: Mapping[str, FloatArray] = field(default_factory=dict)
    n: int = 1

    @staticmethod
    def build(deal: Deal, overrides: Mapping[str, Any] | None = None) -> Scenarios:
        """Check ``overrides`` against ``deal`` (see the class docstring)."""
        flat = _flat(deal)
        known = flat.numbers
        unused = unused_paths(deal)
        n_years = deal.periods.size
        out: dict[str, FloatArray] = {}
        sizes = set()
        for path, value in (overrides or {}).items():
            if path not in known:
                why = unused.get(path)
                if why is not None:  # a field this kind of stream never reads
                    raise InputError(
                        "this stream never reads it, so varying it would change nothing", field=path, hint=why
                    )
                if ".scale.points." in path:  # the engine reads the points as the file gives them
                    hint = "a sliding scale's points change with a scenario's set: or --set, one run each"
                else:
                    hint = did_you_mean(path, known) or "only numeric parameters take arrays"
                raise InputError("cannot override this parameter", field=path, hint=hint)
            leaf = flat.leaves.get(path)
            if isinstance(leaf, int) and not isinstance(leaf, bool) and not _is_schedule_key(path):
                raise InputError(
                    "a whole number that shapes the timeline or the tax schedule cannot vary by scenario",
                    field=path,
                    hint="value each setting with a named scenario or --set, one run each",
                )
            _check_rate_path(deal, path)
            schedule = flat.schedules.get(path)
            if schedule is not None and _plain_number(value):
                # a plain number over a schedule would scale every year of it (an (S,) override of a
                # whole schedule is a factor), which is not what a number reads as: --set refuses it too
                # errors.md: a plain number over a schedule
                raise InputError(
                    f"a plain number over a schedule ({_shown(schedule)})",
                    field=path,
                    expected="an array: (S,) factors that scale every year, or (S, T) values by year",
                    hint=f"np.array([{value!r}]) scales the schedule by {value!r}; to replace it, "
                    f"with_changes(deal, {{{path!r}: {value!r}}})",
                )
            arr = _as_override(path, value, n_years)
            _check_values(deal, path, arr, schedule)
            sizes.add(arr.shape[0])
            out[path] = arr
        _check_whole_and_years(out)
        _check_stakes(deal, out)
        sizes.discard(1)
        if len(sizes) > 1:
            raise InputError(f"overrides disagree on the number of scenarios: {sorted(sizes)}")
        return Scenarios(deal, out, sizes.pop() if sizes else 1)

    @staticmethod
    def from_rows(deal: Deal, rows: list[dict[str, float]]) -> Scenarios:
        """One scenario per row, each changing some parameters; the rest keep their values
        (a tornado's or a spider's block of scenarios).

        Examples
        --------
        >>> from dealcalc.io import load_deal
        >>> from importlib.resources import files
        >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
        >>> s = Scenarios.from_rows(deal, [{"fiscal.royalty_rate": 0.03}, {"valuation.discount_rate": 0.2}])
        >>> s.n, s.overrides["fiscal.royalty_rate"].tolist()
        (2, [0.03, 0.05])
        """
        base = _flat(deal).numbers
        wanted = sorted({p for row in rows for p in row})
        missing = [p for p in wanted if p not in base]
        if missing:
            # errors.md: no such parameter
            raise _unknown_path(deal, missing[0])
        arrays = {p: np.array([row.get(p, base[p]) for row in rows], dtype=np.float64) for p in wanted}
        built = Scenarios.build(deal, arrays)
        return Scenarios(deal, built.overrides, len(rows))

    def chunks(self, size: int) -> Iterator[Scenarios]:
        """Consecutive slices of at most ``size`` scenarios (one-row overrides kept whole)."""
        for start in range(0, self.n, size):
            stop = min(start + size, self.n)
            part = {k: (v if v.shape[0] == 1 else v[start:stop]) for k, v in self.overrides.items()}
            yield Scenarios(self.deal, part, stop - start)
