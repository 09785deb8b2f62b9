"""What the companies of a deal are and the prices they trade at with each other.

A deal may hold several companies (``entities``): each owns some of the deal's phases (and so
their streams and capital), has its own owners, debt and terms, and pays its own levies. An
intermediate product that one company's stream feeds to another company's processing stream
is sold at a ``transfer price``. Formulas: docs/methodology.md §31.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dealcalc.models.base import Fraction, Model, Rate
from dealcalc.models.finance import (
    DebtTranche,
    EarnIn,
    EquityHolder,
    Finance,
    Preferred,
    ShareholderLoan,
)
from dealcalc.models.schedule import FactorSchedule, UnitCostSchedule

__all__ = ["COMPANY_TERMS", "Entity", "TransferPrice"]

#: The terms of ``finance`` that belong to a company (the rest are the deal's: the host
#: government, withholding, the parties' discount rates and the debt-stress rules).
COMPANY_TERMS = ("debt", "equity", "free_carried", "earn_in", "preferred", "shareholder_loans")


class Entity(Model):
    """A company of the deal: the phases it owns, its owners and its finance.

    Its streams are the streams of its phases; its capital is theirs. ``equity``, ``debt``,
    ``free_carried``, ``earn_in``, ``preferred`` and ``shareholder_loans`` mean what they mean
    under ``finance`` (their parameter paths start ``entities.NAME.``), and the deal's
    ``finance`` keeps what is common to all companies (the host government, the dividend
    withholding, the parties' discount rates, the debt-stress rules, which apply to each
    entity's loans). ``operator: true`` names the company that bears the deal's
    overheads, closure and the lines that name no phase (default: the first company).
    """

    phases: list[str] = Field(min_length=1)
    equity: dict[str, EquityHolder] = Field(min_length=1)
    debt: dict[str, DebtTranche] = Field(default_factory=dict)
    free_carried: dict[str, Fraction] = Field(default_factory=dict)
    earn_in: dict[str, EarnIn] = Field(default_factory=dict)
    preferred: dict[str, Preferred] = Field(default_factory=dict)
    shareholder_loans: dict[str, ShareholderLoan] = Field(default_factory=dict)
    operator: bool = False
    description: str | None = None

    def finance(self, deal_finance: Finance) -> Finance:
        """The company's finance: the deal's common terms with this company's own.

        Examples
        --------
        >>> from dealcalc.models.finance import Finance
        >>> e = Entity.model_validate({"phases": ["mine"], "equity": {"fwo": {"share": 1.0}}})
        >>> list(e.finance(Finance(host_government="pakistan")).equity), e.finance(Finance()).debt
        (['fwo'], {})
        """
        return deal_finance.model_copy(update={k: getattr(self, k) for k in COMPANY_TERMS})

    @model_validator(mode="after")
    def _terms(self) -> Entity:
        # the owners' and the terms' rules are those of ``finance`` (shares sum to 1, earn-in
        # partners are owners, ...): checked by building the company's finance once
        Finance.model_validate({k: getattr(self, k) for k in COMPANY_TERMS})
        return self


class TransferPrice(Model):
    """The price at which ``source`` (a stream of one company) feeds ``to`` (a processing
    stream of another), per unit of the contained feed product (the product's price unit).

    ``basis``:

    - ``payable``: ``payable_fraction`` x the feed product's price less
      ``charges_usd_per_unit`` (a concentrate's terms: payability, treatment and refining
      charges), never below zero;
    - ``cost_plus``: the source stream's operating cost per unit it makes that year (mining,
      conversion and bought feed, in the deal's money) x (1 + ``margin``);
    - ``fixed``: ``price_usd_per_unit`` (a stated benchmark, a schedule in the deal's basis).

    ``royalty_base`` says what the selling company's royalties see: ``transfer`` (the transfer
    value, the default) or ``market`` (what the royalty would see in one company: a mine
    stream's recovered units at its own payable price, whatever the price between related
    companies; nothing for a processing stream's feed, whose royalty is on its sales). Income
    taxes always see the transfer price.
    """

    source: str
    to: str
    basis: Literal["payable", "cost_plus", "fixed"]
    payable_fraction: FactorSchedule | None = None
    charges_usd_per_unit: UnitCostSchedule = 0.0
    margin: Rate | None = None
    price_usd_per_unit: UnitCostSchedule | None = None
    royalty_base: Literal["transfer", "market"] = "transfer"
    description: str | None = None

    @property
    def main_term(self) -> str:
        """The field the price turns on: ``payable_fraction``, ``margin`` or ``price_usd_per_unit``
        (what a tornado or the report moves).

        Examples
        --------
        >>> TransferPrice(source="a", to="b", basis="cost_plus", margin=0.1).main_term
        'margin'
        """
        return {"payable": "payable_fraction", "cost_plus": "margin", "fixed": "price_usd_per_unit"}[
            self.basis
        ]

    @model_validator(mode="after")
    def _formula(self) -> TransferPrice:
        needs = {"payable": "payable_fraction", "cost_plus": "margin", "fixed": "price_usd_per_unit"}
        wanted = needs[self.basis]
        if getattr(self, wanted) is None:
            # errors.md: a transfer price of basis
            raise ValueError(f"a transfer price of basis {self.basis!r} needs {wanted}")
        for basis, name in needs.items():
            if basis != self.basis and name != "payable_fraction" and getattr(self, name) is not None:
                # errors.md: is not read by a transfer price of basis
                raise ValueError(f"{name} is not read by a transfer price of basis {self.basis!r}")
        if self.basis != "payable" and self.charges_usd_per_unit not in (0, 0.0):
            raise ValueError(f"charges_usd_per_unit is not read by a transfer price of basis {self.basis!r}")
        return self
