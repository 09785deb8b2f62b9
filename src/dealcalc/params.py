"""Parameter paths: every leaf of a Deal has a dotted name, and changes speak in those names.

``phases.refinery.capex_usd``, ``price_decks.base.antimony``, ``fiscal.royalty_rate``. Named
scenarios, ``--set PATH=VALUE``, and (later) sensitivity, breakeven and Monte Carlo all change a
Deal through these paths, so one mechanism serves them all. A ``*`` in a path matches every key
at its level; a misspelt path gets the nearest real one suggested.
"""

from __future__ import annotations

import copy
import fnmatch
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import yaml
from pydantic import ValidationError

from dealcalc.errors import InputError, did_you_mean
from dealcalc.io import InvalidDateError, SafeYamlLoader
from dealcalc.models import Deal

__all__ = [
    "apply_scenario",
    "get",
    "match_paths",
    "numeric_leaves",
    "parse_assignment",
    "paths",
    "with_changes",
]


def _walk(data: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _walk(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and data and all(isinstance(v, int | float) for v in data):
        yield prefix, data
    else:
        yield prefix, data


def _tree(deal: Deal) -> dict[str, Any]:
    tree = deal.model_dump(mode="python", exclude={"scenarios", "provenance", "uncertainty"})
    return tree


#: The flattened leaves of each live Deal, by id (a Deal is frozen, so they never go stale; an
#: entry is dropped when its Deal is collected). Analyses look paths up once per chunk, and a
#: pydantic dump of the whole deal each time cost more than valuing a small chunk.
_LEAVES: dict[int, tuple[dict[str, Any], dict[str, float]]] = {}


def _flat(deal: Deal) -> tuple[dict[str, Any], dict[str, float]]:
    """Every leaf of ``deal`` by path, and the numeric ones as floats (cached per Deal)."""
    key = id(deal)
    hit = _LEAVES.get(key)
    if hit is None:
        leaves = dict(_walk(_tree(deal), ""))
        numbers = {
            path: float(value)
            for path, value in leaves.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        hit = _LEAVES[key] = (leaves, numbers)
        weakref.finalize(deal, _LEAVES.pop, key, None)
    return hit


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
    leaves, numbers = _flat(deal)
    if numeric:
        return list(numbers)
    return [path for path, value in leaves.items() if value is not None]


def numeric_leaves(deal: Deal) -> dict[str, float]:
    """Every numeric leaf of ``deal`` by path (a new dict; read once per Deal)."""
    return dict(_flat(deal)[1])


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
    leaves = _flat(deal)[0]
    if path in leaves:
        return leaves[path]
    node: Any = _tree(deal)
    for part in path.split("."):
        keys = {str(k): k for k in node} if isinstance(node, dict) else {}
        if part not in keys:  # keys may be years or dates: paths spell them as text
            # errors.md: no such parameter
            raise _unknown_path(deal, path)
        node = node[keys[part]]
    return node


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
            if not isinstance(node, dict):
                continue
            keys = {str(k): k for k in node}  # years and dates are spelt as text in paths
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
) -> Deal:
    """A new, re-validated Deal with values replaced (``set_values``) or multiplied (``scale``).

    Parameters
    ----------
    deal : Deal
        The base case (unchanged; Deals are frozen).
    set_values : mapping of path to value, optional
        New values; a path may end at a section to replace it whole.
    scale : mapping of path to factor, optional
        Numbers to multiply (``phases.*.capex_usd: 1.3``).
    origin : str
        Named in error messages (a scenario's name, or ``--set``).

    Examples
    --------
    >>> from dealcalc.io import load_deal
    >>> from importlib.resources import files
    >>> deal = load_deal(files("dealcalc") / "data" / "ussm_fwo_2025.yaml")
    >>> with_changes(deal, scale={"phases.*.capex_usd": 2}).phases["refinery"].capex_usd
    600000000.0
    """
    tree = copy.deepcopy(deal.model_dump(mode="python"))

    def update(pattern: str, change: Callable[[list[Any], Any], Any]) -> None:
        hits = _expand(tree, pattern)
        if not hits:
            # errors.md: no such parameter
            raise _unknown_path(deal, pattern)
        for keys in hits:
            node = tree
            for key in keys[:-1]:
                node = node[key]
            node[keys[-1]] = change(keys, node[keys[-1]])

    def scaled(factor: float) -> Callable[[list[Any], Any], Any]:
        def apply(keys: list[Any], old: Any) -> Any:
            if not isinstance(old, int | float) or isinstance(old, bool):
                raise InputError(f"{origin}: cannot scale a non-number", field=".".join(map(str, keys)))
            return old * factor

        return apply

    def replaced(value: Any) -> Callable[[list[Any], Any], Any]:
        return lambda _keys, _old: value

    for pattern, value in (set_values or {}).items():
        update(pattern, replaced(value))
    for pattern, factor in (scale or {}).items():
        update(pattern, scaled(factor))
    try:
        return Deal.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        msg = str(first["msg"]).removeprefix("Value error, ")
        # errors.md: (a model check, as above)
        raise InputError(f"{origin}: {msg}", field=field) from None


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
    return with_changes(deal, overlay.set, overlay.scale, origin=f"scenario {name!r}")


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
