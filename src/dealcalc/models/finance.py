"""What the financing and the owners are: debt tranches, equity holders, withholding, rates."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from dealcalc.models.base import Fraction, Model, Money, Positive, Rate, Whole, Year, name_problem
from dealcalc.models.schedule import Schedule

__all__ = [
    "DebtDefault",
    "DebtTranche",
    "Dsra",
    "EarnIn",
    "EquityHolder",
    "Finance",
    "Guarantee",
    "Lockup",
    "Preferred",
    "ShareByYear",
    "ShareholderLoan",
    "SponsorSupport",
    "Sweep",
]


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


#: An owner's shares by year: each holds until the next year given; before the first year
#: given, the first share.
ShareByYear = Annotated[dict[Year, Fraction], Field(min_length=1), Schedule("hold", "first")]


def share_in(share: float | dict[int, float], year: int) -> float:
    """An owner's share in ``year`` (a number, or ``{year: share}``: the last share given at or before
    it, else the first).

    Examples
    --------
    >>> share_in({2026: 0.5, 2030: 0.6}, 2029), share_in({2026: 0.5, 2030: 0.6}, 2031)
    (0.5, 0.6)
    """
    if not isinstance(share, dict):
        return float(share)
    keys = sorted(share)
    held = [k for k in keys if k <= year]
    return float(share[held[-1] if held else keys[0]])


class EquityHolder(Model):
    """An owner: its share of the equity and its own discount rate.

    ``share`` may be written ``{year: share}`` (shares by period): it is kept as
    ``share_by_year`` (parameter paths ``finance.equity.X.share_by_year.YEAR``), and ``share``
    is then the share of the first year given.

    An owner is **funded** by default: it pays its share of the equity injections. A
    ``carried`` holder (a free-carried state stake) receives its share of dividends but pays
    none of the equity injections, which the others fund pro rata; ``finance.free_carried``
    carries only part of a stake (Reko Diq's pattern). docs/methodology.md, "Stakes that change".
    """

    share: Fraction
    share_by_year: ShareByYear | None = None
    discount_rate: Rate | None = None
    carried: bool = False
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _by_year(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("share"), dict):
            if data.get("share_by_year") is not None:
                # errors.md: give the shares by year once
                raise ValueError("give the shares by year once: share: {year: share} or share_by_year")
            by_year = data["share"]
            first = by_year[min(by_year)] if by_year else None
            data = {**data, "share": first, "share_by_year": by_year}
        return data

    @property
    def schedule(self) -> float | dict[int, float]:
        """The share as written: one number, or ``{year: share}``."""
        return self.share if self.share_by_year is None else self.share_by_year


class Dsra(Model):
    """A debt service reserve account: a balance of ``months`` of the next year's debt service.

    ``funded: cash_flow`` fills it from the cash left after debt service (before any sweep or
    dividend); ``close`` has the owners fill it to its first target in the year before debt
    service starts (financial close), later top-ups from cash flow. It pays debt service the
    cash cannot; what exceeds the target (all of it once the loans are repaid) is released to
    the owners. Formulas: docs/methodology.md §23.
    """

    months: Annotated[Positive, Field(le=60.0)]
    funded: Literal["cash_flow", "close"] = "cash_flow"
    description: str | None = None


class Sweep(Model):
    """A cash sweep: ``share`` of the cash left after debt service and the reserve prepays the
    loans (the last instalments first) in years the DSCR is ``above`` (or ``below``) ``dscr``,
    or in every year (``when: always``)."""

    share: Fraction
    dscr: Positive | None = None
    when: Literal["above", "below", "always"] = "above"
    description: str | None = None

    @model_validator(mode="after")
    def _threshold(self) -> Sweep:
        if self.when != "always" and self.dscr is None:
            raise ValueError(f"a sweep applied when the DSCR is {self.when} a threshold needs dscr")
        return self


class Lockup(Model):
    """A distribution lock-up: no dividends in a year the DSCR is below ``dscr``; the cash is
    trapped in the project and released in the first year the DSCR is back at or above it
    (or when the loans are repaid, or at the end)."""

    dscr: Positive
    description: str | None = None


class DebtDefault(Model):
    """When the project defaults and what the lenders recover.

    With a default rule the debt is limited-recourse: a shortfall of debt service that the
    reserves (and any sponsor support) cannot pay is missed and falls into arrears, instead of
    being paid by the owners. Default comes after ``missed_payments`` consecutive years with a
    missed payment, or ``dscr_years`` consecutive years with the reserve exhausted and the DSCR
    below ``dscr_below`` (either rule off with null), or with debt still owed at the end. On
    default the reserves go to the lenders and the project is sold to ``buyer`` for
    ``recovery`` of the debt still outstanding; the owners receive nothing from then on.
    """

    missed_payments: Annotated[Whole, Field(ge=1, le=50)] | None = 1
    dscr_below: Positive | None = None
    dscr_years: Annotated[Whole, Field(ge=1, le=50)] = 2
    recovery: Fraction
    buyer: str = "buyer"
    description: str | None = None


class SponsorSupport(Model):
    """A completion guarantee: the owners pay the debt service the project cannot, up to
    ``amount_usd`` in all (money of the deal's basis), in the years before ``until_year``."""

    amount_usd: Money
    until_year: Year
    description: str | None = None


class Guarantee(Model):
    """A DFI or ECA guarantee of ``share`` of the lenders' loss on default, paid by
    ``guarantor`` (a party of its own) in the year of default."""

    share: Fraction
    guarantor: str = "guarantor"
    description: str | None = None


class EarnIn(Model):
    """A partner earns ``stake`` of the equity, taken from the owner ``from``, in the year its
    cumulative equity injections reach ``funds_usd`` (the deal's money and basis), or in the
    first output year of the phase ``at_first_output_of`` (a milestone). docs/methodology.md,
    "Stakes that change"."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    stake: Fraction
    funds_usd: Money | None = None
    at_first_output_of: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _one_trigger(self) -> EarnIn:
        if (self.funds_usd is None) == (self.at_first_output_of is None):
            # errors.md: an earn-in by exactly one of funds_usd or at_first_output_of
            raise ValueError("an earn-in by exactly one of funds_usd or at_first_output_of (a phase)")
        return self


class Preferred(Model):
    """Preferred equity: ``amount_usd`` paid into the project in ``year``; a cumulative
    ``coupon`` on it each later year (unpaid coupon accrues as arrears, without interest),
    paid before common dividends; redeemed at par from ``redeem_year`` (default: the last
    period) as cash allows; and ``upside_share`` of the common distributions from ``year`` on.
    Amounts and the coupon are in the deal's money and basis."""

    amount_usd: Money
    year: Year
    coupon: Rate
    upside_share: Fraction = 0.0
    redeem_year: Year | None = None
    description: str | None = None


class ShareholderLoan(Model):
    """A loan from an owner: ``amount_usd`` paid into the project in ``year``, interest at
    ``rate`` from the next year (unpaid interest capitalises), repaid from the cash to equity
    before any preferred return or common dividend. In the deal's money and basis."""

    amount_usd: Money
    year: Year
    rate: Rate
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
    dsra: Dsra | None = None
    sweep: Sweep | None = None
    lockup: Lockup | None = None
    default: DebtDefault | None = None
    sponsor_support: SponsorSupport | None = None
    guarantee: Guarantee | None = None
    free_carried: dict[str, Fraction] = Field(default_factory=dict)
    earn_in: dict[str, EarnIn] = Field(default_factory=dict)
    preferred: dict[str, Preferred] = Field(default_factory=dict)
    shareholder_loans: dict[str, ShareholderLoan] = Field(default_factory=dict)

    @property
    def waterfall(self) -> bool:
        """Whether the distributions follow a waterfall (an earn-in, preferred equity or a
        shareholder loan); without one all cash to equity is split by the owners' shares."""
        return bool(self.earn_in or self.preferred or self.shareholder_loans)

    def share_years(self) -> list[int]:
        """The years any owner's share changes (the first year given by any schedule)."""
        return sorted({y for h in self.equity.values() for y in h.share_by_year or {}})

    @property
    def stressed(self) -> bool:
        """Whether any debt-stress rule is on (reserve, sweep, lock-up, default, support,
        guarantee); without one the debt is serviced as scheduled, whatever the cash."""
        rules = (self.dsra, self.sweep, self.lockup, self.default, self.sponsor_support, self.guarantee)
        return any(rule is not None for rule in rules)

    def stress_parties(self) -> dict[str, str]:
        """The parties the debt-stress rules add, with their roles: the buyer of a defaulted
        project and the guarantor of the lenders' loss."""
        out: dict[str, str] = {}
        if self.default is not None:
            out[self.default.buyer] = "buyer"
        if self.guarantee is not None:
            out[self.guarantee.guarantor] = "guarantor"
        return out

    @model_validator(mode="after")
    def _stress(self) -> Finance:
        if (self.sponsor_support is not None or self.guarantee is not None) and self.default is None:
            raise ValueError(
                "sponsor support and a guarantee cover what the lenders would lose on default; "
                "state finance.default (when the project defaults and the recovery)"
            )
        taken = {*self.equity, "lenders", self.host_government}
        for name, role in self.stress_parties().items():
            problem = name_problem(name)
            if problem is not None:
                # errors.md: the buyer or guarantor named
                raise ValueError(f"the {role} {name!r}: {problem}")
            if name in taken:
                raise ValueError(
                    f"{name!r} is already a party (an owner, the lenders or the host government); "
                    f"give the {role} a name of its own"
                )
            taken.add(name)
        return self

    @model_validator(mode="after")
    def _shares(self) -> Finance:
        if not self.equity and not (self.free_carried or self.earn_in or self.shareholder_loans):
            return self  # no owners here: a deal of entities, each with its own (checked by the Deal)
        years = self.share_years()
        for year in years or [0]:
            total = sum(share_in(h.schedule, year) for h in self.equity.values())
            if abs(total - 1.0) > 1e-9:
                # errors.md: equity shares must sum to 1
                when = f" in {year}" if years else ""
                raise ValueError(f"equity shares must sum to 1{when}, they sum to {total:g}")
        if all(h.carried for h in self.equity.values()):
            raise ValueError("at least one equity holder must fund the equity (carried: false)")
        for name, part in self.free_carried.items():
            if name not in self.equity:
                # errors.md: free_carried: 'X' is not an owner
                raise ValueError(f"free_carried: {name!r} is not an owner (finance.equity)")
            held = min(share_in(self.equity[name].schedule, y) for y in years or [0])
            if part > held + 1e-12:
                # errors.md: more than its share
                raise ValueError(
                    f"free_carried: {name!r} is carried for {part:g}, more than its share {held:g}"
                )
        for partner, earn in self.earn_in.items():
            for who in (partner, earn.from_):
                if who not in self.equity:
                    # errors.md: earn_in.X: 'Y' is not an owner
                    raise ValueError(f"earn_in.{partner}: {who!r} is not an owner (finance.equity)")
            if partner == earn.from_:
                raise ValueError(f"earn_in.{partner}: a partner cannot earn a stake from itself")
            given = min(share_in(self.equity[earn.from_].schedule, y) for y in years or [0])
            if earn.stake > given + 1e-12:
                # errors.md: earn_in.X: the stake
                raise ValueError(
                    f"earn_in.{partner}: the stake {earn.stake:g} is more than "
                    f"{earn.from_!r} holds ({given:g})"
                )
        for lender in self.shareholder_loans:
            if lender not in self.equity:
                # errors.md: shareholder_loans: 'X' is not an owner
                raise ValueError(f"shareholder_loans: {lender!r} is not an owner (finance.equity)")
        for holder in self.preferred:
            problem = name_problem(holder)
            if holder == "lenders" or problem is not None:
                # errors.md: the holder of preferred equity
                raise ValueError(
                    f"the holder of preferred equity {holder!r}: {problem or 'the lenders hold the debt'}"
                )
        if self.preferred and sum(p.upside_share for p in self.preferred.values()) > 1.0:
            raise ValueError("the preferred holders' upside shares sum to more than 1")
        return self
