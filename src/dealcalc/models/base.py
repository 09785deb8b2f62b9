"""The base of every model: frozen, strict about unknown keys, numbers finite and never true or
false, rates and shares written as fractions (0.09, not 9)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, PydanticKnownError, core_schema

__all__ = [
    "NOT_BOOL",
    "PLAIN_LIMITS",
    "CalendarYear",
    "Fraction",
    "Model",
    "Money",
    "NonNegative",
    "Number",
    "Positive",
    "PositiveFraction",
    "Provenance",
    "Rate",
    "Share",
    "Whole",
    "Year",
]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _not_bool(value: Any) -> Any:
    """Refuse true and false where a number is expected: pydantic would read them as 1 and 0
    (``royalty_rate: true``, a 100 % royalty)."""
    if isinstance(value, bool):
        # errors.md: is not a number; expected a number
        raise PydanticCustomError(
            "number_not_bool",
            f"{str(value).lower()} is not a number; expected a number (YAML reads true, false, yes, no, "
            "on and off as yes-or-no values)",
        )
    return value


#: Refuses a boolean before a number field reads it (every numeric type here carries it).
NOT_BOOL = BeforeValidator(_not_bool)

#: The validation context under which :class:`Share` gives pydantic's own message for a value
#: past its limits, without the per-cent reading: values no one typed (an override range, a
#: Monte Carlo draw, a scaled value), where "did you mean 0.01056?" would mislead.
PLAIN_LIMITS = {"limits": "plain"}


@dataclass(frozen=True)
class Share:
    """The limits of a rate or a share, which a scenario file writes as a fraction (0.09, not 9).

    A number past them is refused. One above 1 (or, for a rate that may be negative, below -1) is
    most likely a per cent typed for a fraction, so the message says so and suggests the fraction
    when that is allowed:
    ``9 is 900 %; did you mean 0.09?``. Otherwise, and always under the validation context
    :data:`PLAIN_LIMITS`, the message is pydantic's own ("Input should be less than or equal to
    1"). ``params.limits`` reads ``ge``/``gt``/``le``/``lt`` here as it does a ``Field``'s.

    Examples
    --------
    >>> from pydantic import TypeAdapter, ValidationError
    >>> try:
    ...     TypeAdapter(Fraction).validate_python(9)
    ... except ValidationError as exc:
    ...     print(exc.errors()[0]["msg"])
    9 is 900 %; did you mean 0.09?
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_after_validator_function(self._check, handler(source))

    def allows(self, value: float) -> bool:
        """Whether ``value`` lies within the limits."""
        return not (
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
            or (self.lt is not None and value >= self.lt)
        )

    def _check(self, value: float, info: core_schema.ValidationInfo) -> float:
        if self.allows(value):
            return value
        plain = isinstance(info.context, dict) and info.context.get("limits") == "plain"
        floor = self.gt if self.gt is not None else self.ge
        # a per cent typed for a fraction: above 1, or below -1 where a rate may be negative
        percent = value > 1.0 or (value < -1.0 and floor is not None and floor < 0.0)
        if percent and not plain:
            said = f"{value:g} is {value * 100:g} %"
            if self.allows(value / 100):
                # errors.md: is 900 %; did you mean 0.09?
                raise PydanticCustomError("rate_as_percent", f"{said}; did you mean {value / 100:g}?")
            # errors.md: expected a fraction
            raise PydanticCustomError("rate_as_percent", f"{said}; expected a fraction ({self._range()})")
        # errors.md: Input should be less than or equal to 1
        raise self._plain(value)

    def _range(self) -> str:
        low = f"above {self.gt:g}" if self.gt is not None else "" if self.ge is None else f"from {self.ge:g}"
        high = f"below {self.lt:g}" if self.lt is not None else "" if self.le is None else f"to {self.le:g}"
        return " ".join(part for part in (low, high) if part)

    def _plain(self, value: float) -> PydanticKnownError:
        """Pydantic's own error for the first limit ``value`` breaks."""
        if self.ge is not None and value < self.ge:
            return PydanticKnownError("greater_than_equal", {"ge": self.ge})
        if self.gt is not None and value <= self.gt:
            return PydanticKnownError("greater_than", {"gt": self.gt})
        if self.le is not None and value > self.le:
            return PydanticKnownError("less_than_equal", {"le": self.le})
        return PydanticKnownError("less_than", {"lt": self.lt})


class Model(BaseModel):
    """Frozen, ``extra="forbid"`` (an unknown or misspelt key is an error), finite floats."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


#: Any finite number (never true or false).
Number = Annotated[float, AfterValidator(_finite), NOT_BOOL]
#: A whole number (never true or false).
Whole = Annotated[int, NOT_BOOL]
#: A fraction in [0, 1] (0.19, not 19): a share, a tax or royalty rate, a recovery.
Fraction = Annotated[float, AfterValidator(_finite), Share(ge=0.0, le=1.0), NOT_BOOL]
#: A fraction above 0, at most 1 (a recovery of feed, a declining-balance rate).
PositiveFraction = Annotated[float, AfterValidator(_finite), Share(gt=0.0, le=1.0), NOT_BOOL]
#: A rate a year as a fraction, above -1 and at most 1 (discount, inflation, interest, growth):
#: 0.08, not 8; a real rate may be negative.
Rate = Annotated[float, AfterValidator(_finite), Share(gt=-1.0, le=1.0), NOT_BOOL]
#: An amount of money or a quantity that cannot be negative.
NonNegative = Annotated[float, Field(ge=0.0), AfterValidator(_finite), NOT_BOOL]
Money = NonNegative
Positive = Annotated[float, Field(gt=0.0), AfterValidator(_finite), NOT_BOOL]
#: A period label: a calendar year (2031) or a study's own year number (-4 ... 27).
Year = Annotated[int, Field(ge=-1000, le=3000), NOT_BOOL]
#: A calendar year (dates, money of a year).
CalendarYear = Annotated[int, Field(ge=1900, le=2300), NOT_BOOL]


class Provenance(Model):
    """Where an input value comes from (any value in a scenario file may carry one)."""

    source: str | None = None
    as_of: str | None = None
    label: Literal["sourced", "derived", "assumption"] | None = None
    note: str | None = None
