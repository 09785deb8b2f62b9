"""Lines given directly in money per year: a study's published rows, for top-down models.

A feasibility study often publishes rows it does not derive in detail (off-site costs, a road
toll, G&A, salvage, working capital). ``lines`` in a scenario file takes them as they are,
each with the kind of line it is, so the ledger, the subtotals and the taxes treat it like the
engine's own lines of that kind (docs/methodology.md §10).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dealcalc.models.base import Model, Year
from dealcalc.models.schedule import SignedSchedule

__all__ = ["DIRECT_KINDS", "DirectLine"]

#: What a direct line can be, and whether it brings cash in.
DIRECT_KINDS: dict[str, bool] = {
    "revenue": True,
    "selling_charge": False,
    "operating_cost": False,
    "initial_capex": False,
    "sustaining_capex": False,
    "closure": False,
    "working_capital": False,
    "salvage": True,
}


class DirectLine(Model):
    """A line of the ledger given in money per year.

    ``usd_per_year`` is a schedule (a number, ``{year: amount}``, or a list over the production
    years of ``phase``): each amount holds until the next year given, from ``start_year``
    (default: the first year given, or the phase's first production year for a number) to
    ``end_year`` (default: the last period). Amounts are positive in the line's own direction:
    money received for ``revenue`` and ``salvage``, money spent for the others. A
    ``working_capital`` line is the cash put into working capital each year; a negative amount is
    a release. ``phase`` ties an ``initial_capex`` line's tax depreciation to that phase's first
    production year and anchors a list (default: the deal's first production); ``capital_class``
    is the fiscal class a capital line is written off in.

    Examples
    --------
    >>> DirectLine(kind="operating_cost", usd_per_year={1: 9.1e6, 3: 31.1e6, 14: 0.0}).kind
    'operating_cost'
    """

    kind: Literal[
        "revenue",
        "selling_charge",
        "operating_cost",
        "initial_capex",
        "sustaining_capex",
        "closure",
        "working_capital",
        "salvage",
    ]
    usd_per_year: SignedSchedule
    phase: str | None = None
    capital_class: str | None = None
    start_year: Year | None = None
    end_year: Year | None = None
    label: str | None = Field(default=None, description="the ledger label (default: the line's name)")
    description: str | None = None

    @model_validator(mode="after")
    def _signs(self) -> DirectLine:
        if self.kind != "working_capital":
            values = self.usd_per_year
            numbers = list(values.values()) if isinstance(values, dict) else values
            if any(v < 0 for v in (numbers if isinstance(numbers, list) else [numbers])):
                article = "an" if self.kind[0] in "aeiou" else "a"
                raise ValueError(
                    f"{article} {self.kind} line takes amounts of 0 or more (money in its own "
                    "direction); only a working_capital line may be negative (a release)"
                )
        return self
