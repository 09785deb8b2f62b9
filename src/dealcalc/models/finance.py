"""What the financing and the owners are: debt tranches, equity holders, withholding, rates."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from dealcalc.models.base import Fraction, Model, Positive, Rate, Whole

__all__ = ["DebtTranche", "EquityHolder", "Finance"]


class DebtTranche(Model):
    """A loan drawn with the capex of ``phases`` (default: every phase).

    Sized either as ``share_of_capex`` of that capex or so that the debt service cover ratio
    (CFADS over debt service) hits ``target_dscr``. Interest during drawdown is capitalised
    (IDC); then ``grace_years`` of interest only; then ``tenor_years`` of ``annuity``, ``linear``
    or ``sculpted`` repayment (sculpted: debt service = CFADS / target DSCR). ``upfront_fee``
    is a fraction of the commitment paid in the first drawdown year. Loans are contracted in
    money of the day: in a real-terms deal the schedule runs in nominal US$ (at
    ``valuation.inflation_rate``) and is deflated back. Formulas:
    docs/methodology.md §14.
    """

    description: str | None = None
    share_of_capex: Fraction | None = None
    target_dscr: Positive | None = None
    interest_rate: Rate
    interest_rate_basis: Literal["nominal", "real"] = "nominal"
    grace_years: Annotated[Whole, Field(ge=0, le=30)] = 0
    tenor_years: Annotated[Whole, Field(ge=1, le=50)]
    repayment: Literal["annuity", "linear", "sculpted"] = "annuity"
    upfront_fee: Fraction = 0.0
    phases: list[str] | None = None

    @model_validator(mode="after")
    def _one_sizing(self) -> DebtTranche:
        if (self.share_of_capex is None) == (self.target_dscr is None):
            raise ValueError("size a tranche by exactly one of share_of_capex or target_dscr")
        if self.repayment == "sculpted" and self.target_dscr is None:
            raise ValueError("sculpted repayment needs target_dscr (debt service = CFADS / target)")
        return self


class EquityHolder(Model):
    """An owner: its share of the equity and its own discount rate.

    A ``carried`` holder (a free-carried state stake) receives its share of dividends but pays
    none of the equity injections, which the others fund pro rata.
    """

    share: Fraction
    discount_rate: Rate | None = None
    carried: bool = False
    description: str | None = None


class Finance(Model):
    """Debt, owners, dividend withholding and the other parties' discount rates.

    All free cash to equity is paid out each year as dividends, less withholding at
    ``dividend_withholding_rate`` (``..._untaxed`` in years the company pays no income tax);
    a shortfall is injected by the owners. ``discount_rates`` holds the rates of the host
    government, each destination's government and the lenders; every party rate is in
    ``valuation.discount_rate_basis``.
    """

    debt: dict[str, DebtTranche] = Field(default_factory=dict)
    equity: dict[str, EquityHolder] = Field(default_factory=lambda: {"equity": EquityHolder(share=1.0)})
    host_government: str = "host_government"
    dividend_withholding_rate: Fraction = 0.0
    dividend_withholding_rate_untaxed: Fraction | None = None
    discount_rates: dict[str, Rate] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares(self) -> Finance:
        total = sum(h.share for h in self.equity.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"equity shares must sum to 1, they sum to {total:g}")
        if all(h.carried for h in self.equity.values()):
            raise ValueError("at least one equity holder must fund the equity (carried: false)")
        return self
