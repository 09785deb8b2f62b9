"""The base of every model: frozen, strict about unknown keys, numbers finite, of at most 1e15
and never true or false, rates and shares written as fractions (0.09, not 9)."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, PydanticKnownError, core_schema

__all__ = [
    "BOUNDED",
    "MAX_MAGNITUDE",
    "NAME",
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
    "name_problem",
]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


#: The largest size of a number of money or of a quantity dealcalc values: a deal's amounts
#: run to about 1e12 US$ and its quantities to about 1e10 units a year (Arctic pays for about
#: 2e8 lb of copper a year), so a number beyond 1e15 is in the wrong units, and one near 1e306
#: would overflow the cash flows.
MAX_MAGNITUDE = 1e15


def _bounded(value: float) -> float:
    """Refuse a number of money or of a quantity beyond :data:`MAX_MAGNITUDE` either way."""
    if abs(value) > MAX_MAGNITUDE:
        side = "at most 1e15" if value > 0 else "at least -1e15"
        # errors.md: is beyond what dealcalc values
        raise PydanticCustomError(
            "number_too_large", f"{value:g} is beyond what dealcalc values ({side}); check the units"
        )
    return value


#: Bounds a number of money or of a quantity (every such numeric type here carries it).
BOUNDED = AfterValidator(_bounded)


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


#: Any finite number of at most 1e15 either way (never true or false).
Number = Annotated[float, AfterValidator(_finite), BOUNDED, NOT_BOOL]
#: A whole number (never true or false).
Whole = Annotated[int, NOT_BOOL]
#: A fraction in [0, 1] (0.19, not 19): a share, a tax or royalty rate, a recovery.
Fraction = Annotated[float, AfterValidator(_finite), Share(ge=0.0, le=1.0), NOT_BOOL]
#: A fraction above 0, at most 1 (a recovery of feed, a declining-balance rate).
PositiveFraction = Annotated[float, AfterValidator(_finite), Share(gt=0.0, le=1.0), NOT_BOOL]
#: A rate a year as a fraction, above -1 and at most 1 (discount, inflation, interest, growth):
#: 0.08, not 8; a real rate may be negative.
Rate = Annotated[float, AfterValidator(_finite), Share(gt=-1.0, le=1.0), NOT_BOOL]
#: An amount of money or a quantity that cannot be negative (at most 1e15).
NonNegative = Annotated[float, Field(ge=0.0), AfterValidator(_finite), BOUNDED, NOT_BOOL]
Money = NonNegative
#: A number above 0, at most 1e15.
Positive = Annotated[float, Field(gt=0.0), AfterValidator(_finite), BOUNDED, NOT_BOOL]
#: A period label: a calendar year (2031) or a study's own year number (-4 ... 27).
Year = Annotated[int, Field(ge=-1000, le=3000), NOT_BOOL]
#: A calendar year (dates, money of a year).
CalendarYear = Annotated[int, Field(ge=1900, le=2300), NOT_BOOL]


#: A name of a deal's own (a stream, a phase, a product, a party, a scenario, a deck, a
#: destination, a tariff schedule, a line, an overhead, a levy, a capital class, a loan, a risk
#: event): ASCII letters, digits, ``_`` and ``-``, starting with a letter or ``_``. Parameter paths
#: join names with dots and match them with ``*`` and ``[ ]`` (``phases.*.capex_usd``), and
#: a party's metrics are ``NAME.npv_usd``, so a name with other characters would break them.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
#: A name a levy's base or a sliding scale names (a product: ``revenue:NAME``,
#: ``price:NAME``; a line: ``line:NAME``; a levy), where ``-`` subtracts: no ``-``.
_TERM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: Why a name of each kind a base names cannot hold a ``-``.
_IN_BASES = {
    "product": "a levy's base names a product as revenue:NAME and a sliding scale as price:NAME",
    "line": "a levy's base names a line as line:NAME",
    "levy": "a later levy's base names it",
}


def name_problem(name: str, kind: str | None = None) -> str | None:
    """What is wrong with ``name`` as a name of a deal's own, or None if nothing is.

    A name is ASCII letters, digits, ``_`` and ``-``, starting with a letter or ``_`` (:data:`NAME`);
    one of a ``kind`` that a levy's base names (``product``, ``line``, ``levy``) takes no ``-``,
    which subtracts there. The message quotes the name as written and suggests a name that
    would do.

    Examples
    --------
    >>> name_problem("zinc_oxide") is None
    True
    >>> print(name_problem("zinc.oxide"))  # doctest: +NORMALIZE_WHITESPACE
    'zinc.oxide' is not a name dealcalc can use: a name is made of the letters a-z and A-Z,
    digits, _ and -, starting with a letter or _ (parameter paths join names with dots and match
    them with * and [ ]); did you mean 'zinc_oxide'?
    >>> print(name_problem("zinc-oxide", "product"))  # doctest: +NORMALIZE_WHITESPACE
    'zinc-oxide' is not a name dealcalc can use: a product's name is made of the letters a-z and
    A-Z, digits and _, starting with a letter or _ (a levy's base names a product as
    revenue:NAME and a sliding scale as price:NAME, where - subtracts); did you mean
    'zinc_oxide'?
    """
    term = kind in _IN_BASES
    if (_TERM_NAME if term else NAME).fullmatch(name):
        return None
    if term:
        rule = f"a {kind}'s name is made of the letters a-z and A-Z, digits and _"
        why = f"{_IN_BASES[str(kind)]}, where - subtracts"
    else:
        rule = "a name is made of the letters a-z and A-Z, digits, _ and -"
        why = "parameter paths join names with dots and match them with * and [ ]"
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    fix = re.sub(r"[^A-Za-z0-9_]+" if term else r"[^A-Za-z0-9_-]+", "_", plain).strip("_-")
    fix = f"_{fix}" if fix[:1].isdigit() else fix
    hint = f"; did you mean {fix!r}?" if fix else ""
    return f"{name!r} is not a name dealcalc can use: {rule}, starting with a letter or _ ({why}){hint}"


class Provenance(Model):
    """Where an input value comes from (any value in a scenario file may carry one)."""

    source: str | None = None
    as_of: str | None = None
    label: Literal["sourced", "derived", "assumption"] | None = None
    note: str | None = None
