"""The assumptions of the report: every input with its value, unit, label, source and as-of date,
and what this run changed.

The value shown is the one valued (the named scenario and every ``--set`` applied); the unit
is read from the parameter's name by the naming conventions of scenario files
(docs/scenario-file.md: ``*_usd`` is money, ``*_rate`` a fraction, ``*_tpa`` tonnes a year, a
price deck's entry is US$ per the product's unit).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dealcalc import params
from dealcalc.models import Deal
from dealcalc.report.html_tables import value_text

__all__ = ["Assumption", "assumptions", "changed_paths", "unit_of_path"]

_PERCENT_LEAVES = (
    "recovery",
    "grade",
    "probability",
    "ramp_up",
    "ad_valorem",
    "share",
    "availability",
    "stake",
    "margin",
    "coupon",
)
_YEAR_LIKE = re.compile(r"^-?\d+$|^\d{4}-\d{2}-\d{2}$")
_CHANGE = re.compile(r"(?:^|\s)([A-Za-z_][\w.*-]*)(?:=|×)")


def _product_unit(deal: Deal, product: str | None) -> str:
    found = deal.products.get(product) if product else None
    return found.unit if found is not None else "unit"


def _stream_unit(deal: Deal, parts: list[str]) -> str:
    if len(parts) > 1 and parts[0] == "streams" and parts[1] in deal.streams:
        return _product_unit(deal, deal.streams[parts[1]].product)
    return "unit"


def unit_of_path(deal: Deal, path: str) -> tuple[str, str]:
    """``(kind, unit)`` of the parameter at ``path``: how its value reads and the unit shown
    beside it (``("money", "US$ M")``, ``("percent", "%")``, ``("number", "US$/t")`` ...).

    Examples
    --------
    >>> import dealcalc as dc
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> unit_of_path(deal, "phases.refinery.capex_usd"), unit_of_path(deal, "fiscal.royalty_rate")
    (('money', 'US$ M'), ('percent', '%'))
    >>> unit_of_path(deal, "price_decks.base.apt"), unit_of_path(deal, "streams.copper.ore_tpa")
    (('number', 'US$/mtu'), ('number', 't/yr'))
    """
    parts = path.split(".")
    if parts[0] == "price_decks" and len(parts) > 2:
        return "number", f"US$/{_product_unit(deal, parts[2])}"
    if "min_price_usd" in parts:
        return "number", f"US$/{_product_unit(deal, parts[-1])}"
    if "sales_shares" in parts or (len(parts) >= 2 and parts[-2] == "free_carried"):
        return "percent", "%"
    leaf = next((p for p in reversed(parts) if not _YEAR_LIKE.match(p)), parts[-1])
    if leaf.endswith("usd_per_year"):
        return "money", "US$ M/yr"
    if leaf.endswith("_usd"):
        return "money", "US$ M"
    if "_usd_per_" in leaf:
        per = leaf.split("_usd_per_", 1)[1]
        per = {
            "unit": _stream_unit(deal, parts),
            "unit_content": f"{_product_unit(deal, parts[3] if len(parts) > 3 else None)} contained",
            "t_ore": "t ore",
            "t_product": "t product",
        }.get(per, per.replace("_", " "))
        return "number", f"US$/{per}"
    if leaf.endswith("_tpa"):
        return "number", "t/yr"
    if leaf == "capacity_units_per_year":
        return "number", f"{_stream_unit(deal, parts)}/yr"
    if leaf == "grade_g_per_t":
        return "number", "g/t"
    if leaf == "units_per_usd":
        code = deal.local_currency.code if deal.local_currency is not None else "local units"
        return "number", f"{code} per US$"
    if leaf.endswith("_years"):
        return "count", "years"
    if leaf == "year" or leaf.endswith("_year"):
        return "year", ""
    if leaf.endswith("_days"):
        return "count", "days"
    if leaf.endswith("dscr"):
        return "ratio", "×"
    if (
        leaf.endswith(("_rate", "_fraction", "_share", "_fee", "_cap_after_holiday"))
        or leaf in _PERCENT_LEAVES
    ):
        return "percent", "%"
    if leaf.endswith(_PERCENT_LEAVES):
        return "percent", "%"
    return "number", ""


def changed_paths(deal: Deal, scenario: str | None) -> dict[str, str]:
    """The path patterns this run changed, each with what changed it (``--set``, the named
    scenario), read from ``deal.changes`` and the scenario's own ``set`` and ``scale``.

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.params import with_changes
    >>> deal = dc.load(dc.example_path("ussm-fwo"))
    >>> deal = with_changes(deal, {"fiscal.royalty_rate": 0.07}, origin="--set")
    >>> changed_paths(deal, "spot_2025")
    {'valuation.price_deck': 'scenario spot_2025', 'fiscal.royalty_rate': '--set fiscal.royalty_rate=0.07'}
    """
    out: dict[str, str] = {}
    name = scenario if scenario not in (None, "base") else deal.scenario_name
    overlay = deal.scenarios.get(name) if name else None
    if overlay is not None:
        for path in (*overlay.set, *overlay.scale):
            out[path] = f"scenario {name}"
    for change in deal.changes:
        found = _CHANGE.search(change)
        if found:
            out[found.group(1)] = change
    return out


@dataclass(frozen=True)
class Assumption:
    """One input as the report lists it."""

    path: str
    value: str
    unit: str
    label: str
    source: str
    as_of: str
    changed: str


def _matches(pattern: str, path: str) -> bool:
    return path == pattern or path.startswith(pattern + ".") or bool(params.match_paths(pattern, [path]))


def assumptions(deal: Deal, valued: Deal, scenario: str | None) -> tuple[list[Assumption], list[Assumption]]:
    """(inputs with a recorded source or changed by this run, every other numeric input), each
    with the value valued. ``deal`` is the deal as given (its changes recorded), ``valued`` the
    deal with the named scenario applied.

    Examples
    --------
    >>> import dealcalc as dc
    >>> from dealcalc.params import apply_scenario, with_changes
    >>> deal = with_changes(dc.load(dc.example_path("ussm-fwo")), {"fiscal.royalty_rate": 0.07})
    >>> sourced, other = assumptions(deal, apply_scenario(deal, "spot_2025"), "spot_2025")
    >>> row = next(a for a in sourced if a.path == "fiscal.royalty_rate")
    >>> row.value, row.unit, row.label, row.changed
    ('7.0 %', '%', 'changed by this run', 'override fiscal.royalty_rate=0.07')
    """
    changes = changed_paths(deal, scenario)
    numbers = params.numeric_leaves(valued)
    listed = list(valued.provenance)
    for pattern in changes:
        hits = [p for p in numbers if _matches(pattern, p)] or [pattern]
        listed += [p for p in hits if p not in listed]

    def row(path: str) -> Assumption:
        try:
            value = params.get(valued, path)
        except Exception:  # a path of the file no longer in the valued deal
            value = None
        kind, unit = unit_of_path(valued, path)
        prov = valued.provenance.get(path)
        source = prov.source if prov and prov.source else ""
        if prov and prov.note:
            source = f"{source} ({prov.note})" if source else prov.note
        changed = next((why for pattern, why in changes.items() if _matches(pattern, path)), "")
        label: str = prov.label if prov and prov.label else "unlabelled"
        if changed:  # the file's label and source justify the file's value, not this run's
            original = f"{label}: {source}" if source else label
            label, source = "changed by this run", f"was, in the file: {original}"
        return Assumption(
            path=path,
            value=value_text(value, kind),
            unit=unit,
            label=label,
            source=source or "—",
            as_of=str(prov.as_of) if prov and prov.as_of else "—",
            changed=changed,
        )

    first = [row(p) for p in listed]
    shown = set(listed)
    rest = [row(p) for p in numbers if p not in shown and not any(p.startswith(s + ".") for s in shown)]
    return first, rest
