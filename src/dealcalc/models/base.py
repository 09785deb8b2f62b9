"""The base of every model: frozen, strict about unknown keys, numbers must be finite."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

__all__ = [
    "CalendarYear",
    "Fraction",
    "Model",
    "Money",
    "NonNegative",
    "Positive",
    "Provenance",
    "Rate",
    "Year",
]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


class Model(BaseModel):
    """Frozen, ``extra="forbid"`` (an unknown or misspelt key is an error), finite floats."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


#: A fraction in [0, 1] (0.19, not 19).
Fraction = Annotated[float, Field(ge=0.0, le=1.0), AfterValidator(_finite)]
#: A rate as a fraction, above -1 (discount, inflation, growth).
Rate = Annotated[float, Field(gt=-1.0, le=10.0), AfterValidator(_finite)]
#: An amount of money or a quantity that cannot be negative.
NonNegative = Annotated[float, Field(ge=0.0), AfterValidator(_finite)]
Money = NonNegative
Positive = Annotated[float, Field(gt=0.0), AfterValidator(_finite)]
#: A period label: a calendar year (2031) or a study's own year number (-4 ... 27).
Year = Annotated[int, Field(ge=-1000, le=3000)]
#: A calendar year (dates, money of a year).
CalendarYear = Annotated[int, Field(ge=1900, le=2300)]


class Provenance(Model):
    """Where an input value comes from (any value in a scenario file may carry one)."""

    source: str | None = None
    as_of: str | None = None
    label: Literal["sourced", "derived", "assumption"] | None = None
    note: str | None = None
