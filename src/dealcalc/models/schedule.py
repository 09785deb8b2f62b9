"""Schedules: a number that may change from year to year.

Any field typed as a schedule takes one of three forms in a scenario file:

- a number: the same in every year (``ore_tpa: 1.0e6``);
- a mapping ``{year: value}`` by period label (``ore_tpa: {2028: 0.8e6, 2030: 1.2e6}``);
- a list over the production years of the phase the field belongs to (``ore_tpa: [0.8e6,
  1.0e6, 1.2e6]``: the first production year, the second, ...).

How a mapping or a list fills the years it does not name depends on the field
(:class:`Schedule`): a **level** (a rate, a price, a tonnage a year) holds each value until the
next one is given, and the last one for ever; before the first year given it is zero (an amount
a year: a mine plan's tonnage, a cost a year) or the first value (a share, a factor or a cost
per unit: an availability, a recovery, a price); a **total** (``capex_usd``, a closure cost) is
spent in the years named and nowhere else. The engine turns a schedule into a per-year array
once per chunk of scenarios (``dealcalc.engine.inputs``). docs/scenario-file.md, "Schedules".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import Discriminator, Field, Tag

from dealcalc.models.base import Fraction, NonNegative, Number, PositiveFraction, Share, Year

__all__ = [
    "SCHEDULE_TAGS",
    "ConcentrateGradeSchedule",
    "DaysSchedule",
    "FactorSchedule",
    "FractionSchedule",
    "MoistureSchedule",
    "NonNegativeSchedule",
    "NonNegativeTotals",
    "PositiveFractionSchedule",
    "PriceSchedule",
    "Schedule",
    "ScheduleValue",
    "SignedSchedule",
    "UnitCostSchedule",
    "iter_schedules",
    "schedule",
    "schedule_marker",
    "totals",
]

#: The union tags pydantic puts in an error's location; the loader drops them.
SCHEDULE_TAGS = ("value", "by_year", "by_production_year")

#: What a schedule field holds: one number, {year: value}, or a list over the production years.
ScheduleValue = float | dict[int, float] | list[float]


@dataclass(frozen=True)
class Schedule:
    """Marks a field as a schedule (kept in the field's type, read by ``params`` and the engine).

    ``fill`` says how the years a mapping does not name are filled: ``"hold"`` (a level: each
    value holds until the next year given; zero before the first, or the first value when
    ``before_first`` is ``"first"``, as a price path does) or ``"totals"`` (an amount spent in
    the years named, zero elsewhere).
    """

    fill: Literal["hold", "totals"] = "hold"
    before_first: Literal["zero", "first"] = "zero"


def _form(value: Any) -> str:
    if isinstance(value, dict):
        return "by_year"
    if isinstance(value, list):
        return "by_production_year"
    return "value"


def _not_empty(kind: str) -> Any:
    return Field(min_length=1, description=f"a {kind} needs at least one value")


def schedule(item: Any, *, before_first: Literal["zero", "first"] = "zero") -> Any:
    """A schedule of ``item`` (a constrained float): a number, ``{year: item}`` or ``[item, ...]``.

    Examples
    --------
    >>> from pydantic import TypeAdapter
    >>> from dealcalc.models.base import NonNegative
    >>> TypeAdapter(schedule(NonNegative)).validate_python({2030: 5, 2028: 1})
    {2030: 5.0, 2028: 1.0}
    """
    return Annotated[
        Union[  # noqa: UP007 - the tags need the members spelt out
            Annotated[item, Tag("value")],
            Annotated[dict[Year, item], Tag("by_year"), _not_empty("mapping")],
            Annotated[list[item], Tag("by_production_year"), _not_empty("list")],
        ],
        Discriminator(_form),
        Schedule("hold", before_first),
    ]


def totals(item: Any) -> Any:
    """A total: one number (spread as the field says) or ``{year: amount}``, spent in those years.

    Examples
    --------
    >>> from pydantic import TypeAdapter
    >>> from dealcalc.models.base import NonNegative
    >>> TypeAdapter(totals(NonNegative)).validate_python(3.0e6)
    3000000.0
    """
    return Annotated[
        Union[  # noqa: UP007
            Annotated[item, Tag("value")],
            Annotated[dict[Year, item], Tag("by_year"), _not_empty("mapping")],
        ],
        Discriminator(_form),
        Schedule("totals"),
    ]


def schedule_marker(metadata: list[Any], annotation: Any = None) -> Schedule | None:
    """The :class:`Schedule` of a field (in its metadata, or inside an optional annotation such
    as ``NonNegativeSchedule | None``), or None for a plain field."""
    found = next((m for m in metadata if isinstance(m, Schedule)), None)
    if found is None and annotation is not None:
        for member in get_args(annotation):
            if get_origin(member) is Annotated:
                found = next((m for m in get_args(member)[1:] if isinstance(m, Schedule)), None)
                if found is not None:
                    break
    return found


def iter_schedules(model: Any, prefix: str = "") -> Iterator[tuple[str, Schedule, Any]]:
    """``(path, marker, value)`` for every schedule field in a model tree whose value is a
    mapping or a list (a plain number needs no year checks).

    Examples
    --------
    >>> from dealcalc.models.deal import Overhead
    >>> [p for p, _, _ in iter_schedules(Overhead(usd_per_year={2030: 1.0}), "overheads.g")]
    ['overheads.g.usd_per_year']
    """
    from pydantic import BaseModel

    if isinstance(model, BaseModel):
        for name, info in type(model).model_fields.items():
            value = getattr(model, name)
            path = f"{prefix}.{name}" if prefix else name
            marker = schedule_marker(info.metadata, info.annotation)
            if marker is not None:
                if isinstance(value, dict | list):
                    yield path, marker, value
                continue
            yield from iter_schedules(value, path)
    elif isinstance(model, dict):
        for key, value in model.items():
            yield from iter_schedules(value, f"{prefix}.{key}")


#: The schedule types of the models, by what their values may be. mypy sees the Python types
#: a schedule holds; pydantic sees the tagged union with its limits and its fill rule.
if TYPE_CHECKING:
    NonNegativeSchedule = float | dict[int, float] | list[float]
    FractionSchedule = float | dict[int, float] | list[float]
    PriceSchedule = float | dict[int, float] | list[float]
    DaysSchedule = float | dict[int, float] | list[float]
    ConcentrateGradeSchedule = float | dict[int, float] | list[float]
    MoistureSchedule = float | dict[int, float] | list[float]
    PositiveFractionSchedule = float | dict[int, float] | list[float]
    FactorSchedule = float | dict[int, float] | list[float]
    UnitCostSchedule = float | dict[int, float] | list[float]
    SignedSchedule = float | dict[int, float] | list[float]
    NonNegativeTotals = float | dict[int, float]
else:
    NonNegativeSchedule = schedule(NonNegative)
    FractionSchedule = schedule(Fraction)
    PriceSchedule = schedule(NonNegative, before_first="first")
    # a share, a factor or a cost per unit is never zero before the first year given: it is
    # the first value there (an availability, a recovery, a grade of concentrate, a price)
    DaysSchedule = schedule(Annotated[Number, Field(ge=0.0, le=365.0)], before_first="first")
    ConcentrateGradeSchedule = schedule(PositiveFraction, before_first="first")
    MoistureSchedule = schedule(Annotated[Number, Share(ge=0.0, lt=1.0)], before_first="first")
    PositiveFractionSchedule = schedule(PositiveFraction, before_first="first")
    FactorSchedule = schedule(Fraction, before_first="first")
    UnitCostSchedule = schedule(NonNegative, before_first="first")
    SignedSchedule = schedule(Number)
    NonNegativeTotals = totals(NonNegative)
