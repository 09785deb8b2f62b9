"""The line registry: every ledger line declared once, with its group, unit and meaning.

The engine writes each line once, signed (inflows positive); every subtotal is the sum of the
lines of its groups, so a subtotal can only appear in a ledger that holds lines of its groups
(a parties' ledger shows the parties' total, never EBITDA). Tables, the Excel model, charts
and the HTML report read lines and subtotals from here; no other module spells a line name.

Lines that exist once per stream, party or government are made by the functions below
(:func:`revenue`, :func:`party_cash`, ...), so their names are spelt here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "AFTER_TAX",
    "CASH_BEFORE_STATE_TAKE",
    "EBITDA",
    "PRE_TAX",
    "SUBTOTALS",
    "Group",
    "Line",
    "Subtotal",
    "allowances",
    "closed",
    "direct",
    "duty_collected",
    "government_take",
    "levies_collected",
    "levy",
    "levy_base",
    "levy_losses",
    "metal_stream",
    "offtake",
    "party_cash",
    "quantity",
    "revenue",
    "royalty_sale",
    "stream_deposit",
    "transfer_market",
    "transfer_price",
    "transfer_purchase",
    "transfer_sale",
]


class Group(Enum):
    """What a line is; subtotals are sums over groups."""

    REVENUE = "revenue"
    SELLING = "selling charges"
    ROYALTY = "royalty"
    OPERATING = "operating cost"
    WORKING_CAPITAL = "working capital"
    CAPITAL = "capital"
    TAX = "tax"
    PARTY = "party"
    MEMO = "memo"
    QUANTITY = "quantity"


@dataclass(frozen=True)
class Line:
    """One ledger line: a stable key, the label shown, its group and unit.

    ``name`` is the column name in tables and files: the label with its unit in brackets for
    money (``Royalty [USD]``); ratios and shares carry no bracket (``DSCR``).
    """

    key: str
    label: str
    group: Group
    unit: str = "USD"
    description: str = ""

    @property
    def name(self) -> str:
        """The column name: ``label [unit]`` for money and quantities, the label alone for
        ratios and shares."""
        return self.label if self.unit in ("ratio", "fraction") else f"{self.label} [{self.unit}]"

    @property
    def cash(self) -> bool:
        """Whether the line is cash (adds into the subtotals), not a memo or a quantity."""
        return self.group not in (Group.MEMO, Group.QUANTITY)


@dataclass(frozen=True)
class Subtotal:
    """The sum of the cash lines of ``groups``."""

    key: str
    label: str
    groups: frozenset[Group]

    @property
    def name(self) -> str:
        """The column name."""
        return f"{self.label} [USD]"


_OPERATIONS = frozenset({Group.REVENUE, Group.SELLING, Group.ROYALTY, Group.OPERATING})
EBITDA = Subtotal("ebitda", "EBITDA", _OPERATIONS)
PRE_TAX = Subtotal("pre_tax", "Pre-tax cash flow", _OPERATIONS | {Group.WORKING_CAPITAL, Group.CAPITAL})
AFTER_TAX = Subtotal("after_tax", "After-tax cash flow", PRE_TAX.groups | {Group.TAX})
CASH_BEFORE_STATE_TAKE = Subtotal(
    "cash_before_state_take", "Cash before state take", frozenset({Group.PARTY})
)
#: Every subtotal, in the order tables show them.
SUBTOTALS = (EBITDA, PRE_TAX, AFTER_TAX, CASH_BEFORE_STATE_TAKE)

# ---------------------------------------------------------------------------- project lines
SELLING_CHARGES = Line(
    "selling_charges",
    "Selling charges (TC/RC, freight)",
    Group.SELLING,
    description="TC, RC, penalties, freight",
)
TARIFF_BORNE = Line(
    "tariff_borne",
    "Tariff borne by the exporter",
    Group.SELLING,
    description="import duty through a lower price",
)
ROYALTY = Line("royalty", "Royalty", Group.ROYALTY)
MINING = Line(
    "mining", "Mining and processing", Group.OPERATING, description="ore costs and fixed stream costs"
)
REFINING = Line(
    "refining", "Refining conversion", Group.OPERATING, description="processing streams' conversion"
)
PURCHASED_FEED = Line(
    "purchased_feed", "Purchased feed", Group.OPERATING, description="third-party feed bought"
)
OVERHEADS = Line("overheads", "Overheads", Group.OPERATING)
CARE_AND_MAINTENANCE = Line(
    "care_and_maintenance",
    "Care and maintenance",
    Group.OPERATING,
    description="streams closed temporarily",
)
TEMPORARY_CLOSING = Line(
    "temporary_closing", "Temporary closing costs", Group.OPERATING, description="first closed year"
)
REOPENING = Line("reopening", "Reopening costs", Group.OPERATING, description="year a stream reopens")
WORKING_CAPITAL = Line("working_capital", "Working capital", Group.WORKING_CAPITAL)
INITIAL_CAPEX = Line("initial_capex", "Initial capex", Group.CAPITAL)
SUSTAINING_CAPEX = Line("sustaining_capex", "Sustaining capex", Group.CAPITAL)
CLOSURE = Line("closure", "Closure", Group.CAPITAL)
INCOME_TAX = Line("income_tax", "Income tax", Group.TAX)

DEPRECIATION = Line(
    "depreciation", "Depreciation", Group.MEMO, description="capital allowances of every class"
)
TAXABLE_INCOME = Line("taxable_income", "Taxable income after losses", Group.MEMO)
LOSSES_CARRIED = Line("losses_carried", "Losses carried forward", Group.MEMO)
FLOOR_TAX = Line("floor_tax", "Minimum tax or ACT floor", Group.MEMO)
TARIFF_BORNE_BY_BUYERS = Line("tariff_borne_by_buyers", "Tariff borne by buyers", Group.MEMO)

# ---------------------------------------------------------------------------- parties' lines
LEVERED_TAX = Line("levered_tax", "Income tax, levered", Group.MEMO)
DIVIDENDS = Line("dividends", "Dividends before withholding", Group.MEMO)
WITHHOLDING = Line("withholding", "Dividend withholding tax", Group.MEMO)
DEBT_DRAWN = Line("debt_drawn", "Debt drawn", Group.MEMO)
INTEREST_PAID = Line("interest_paid", "Interest paid", Group.MEMO)
INTEREST_CAPITALISED = Line("interest_capitalised", "Interest capitalised", Group.MEMO)
PRINCIPAL = Line("principal", "Principal repaid", Group.MEMO)
DEBT_FEES = Line("debt_fees", "Debt fees", Group.MEMO)
DEBT_BALANCE = Line("debt_balance", "Debt balance", Group.MEMO)
DSCR = Line("dscr", "DSCR", Group.MEMO, unit="ratio", description="CFADS over debt service")
LLCR = Line("llcr", "LLCR", Group.MEMO, unit="ratio", description="PV of CFADS over the loan life / balance")

# ---------------------------------------------------------------------------- debt under stress
#: Cash put into the project's reserve accounts (DSRA and trapped cash; negative when drawn or
#: released): a cash line beside the parties', so each year's cash still adds up to the pie.
RESERVES = Line(
    "reserves",
    "Held in reserve accounts",
    Group.PARTY,
    description="DSRA and lock-up: put in less drawn or released",
)
DSRA_FUNDED = Line("dsra_funded", "DSRA funded", Group.MEMO, description="from cash or at close")
DSRA_DRAWN = Line("dsra_drawn", "DSRA drawn for debt service", Group.MEMO)
DSRA_RELEASED = Line("dsra_released", "DSRA released", Group.MEMO)
DSRA_BALANCE = Line("dsra_balance", "DSRA balance", Group.MEMO)
SWEEP = Line("sweep", "Cash sweep prepayment", Group.MEMO)
TRAPPED = Line("trapped", "Cash trapped by the lock-up", Group.MEMO, description="balance")
MISSED = Line("missed", "Debt service missed", Group.MEMO, description="falls into arrears")
SPONSOR_SUPPORT = Line("sponsor_support", "Sponsor support paid", Group.MEMO)
DEFAULT = Line("default", "Default", Group.MEMO, unit="fraction", description="1 in the year of default")
OUTSTANDING_AT_DEFAULT = Line(
    "outstanding_at_default", "Debt outstanding at default", Group.MEMO, description="after the reserves"
)
RECOVERY = Line("recovery", "Recovery paid to the lenders", Group.MEMO, description="by the buyer")
GUARANTEE_PAID = Line("guarantee_paid", "Guarantee paid to the lenders", Group.MEMO)
LENDERS_LOSS = Line("lenders_loss", "Lenders' loss", Group.MEMO, description="after recovery and guarantee")


def revenue(stream: str) -> Line:
    """The revenue line of a stream."""
    return Line(f"revenue:{stream}", f"Revenue: {stream}", Group.REVENUE)


def offtake(contract: str) -> Line:
    """The adjustment an offtake contract makes to the producer's revenue: the contract price
    less the benchmark on the volume delivered, plus any take-or-pay payment (its
    counterparty's cash is minus this line)."""
    return Line(
        f"offtake:{contract}",
        f"Offtake price adjustment: {contract}",
        Group.REVENUE,
        description="contract price less benchmark on the contracted volume",
    )


def transfer_sale(name: str) -> Line:
    """What an entity earns selling feed to another entity at the transfer price ``name``
    (docs/methodology.md §31); it nets out in the project."""
    return Line(
        f"transfer_sale:{name}",
        f"Transfer sales: {name}",
        Group.REVENUE,
        description="feed sold to another entity at the transfer price",
    )


def transfer_purchase(name: str) -> Line:
    """What an entity pays another entity for feed at the transfer price ``name``."""
    return Line(
        f"transfer_purchase:{name}",
        f"Transfer purchases: {name}",
        Group.OPERATING,
        description="feed bought from another entity at the transfer price",
    )


def transfer_price(name: str, unit: str) -> Line:
    """The memo line of the price a transfer ``name`` pays per unit of feed (of the seller)."""
    return Line(f"transfer_price:{name}", f"Transfer price: {name}", Group.MEMO, unit=f"USD/{unit}")


def transfer_market(name: str, unit: str) -> Line:
    """The memo line of the feed product's deck price, per unit, beside a transfer's price."""
    return Line(
        f"transfer_market:{name}", f"Market price of the feed: {name}", Group.MEMO, unit=f"USD/{unit}"
    )


def metal_stream(name: str) -> Line:
    """The adjustment a stream sold for cash makes to the producer's revenue: the stream price
    less spot on the units delivered to the financier (its margin is minus this line)."""
    return Line(
        f"metal_stream:{name}",
        f"Stream price adjustment: {name}",
        Group.REVENUE,
        description="stream price less spot on the units delivered",
    )


def stream_deposit(name: str) -> Line:
    """The deposit a stream's financier pays the project upfront."""
    return Line(
        f"stream_deposit:{name}", f"Stream deposit: {name}", Group.CAPITAL, description="from the financier"
    )


def royalty_sale(name: str) -> Line:
    """The price a royalty's financier pays the project for it upfront."""
    return Line(
        f"royalty_sale:{name}",
        f"Royalty sold: {name}, price",
        Group.CAPITAL,
        description="from the financier",
    )


def closed(stream: str) -> Line:
    """The memo line of a stream's temporary closure: 1 in the years it is closed."""
    return Line(f"closed:{stream}", f"Closed: {stream}", Group.MEMO, unit="fraction")


def duty_collected(government: str) -> Line:
    """The memo line of the duty a government collects on the deal's exports."""
    return Line(f"duty_collected:{government}", f"Duty collected by {government}", Group.MEMO)


def party_cash(party: str) -> Line:
    """A party's cash: what it receives less what it pays in."""
    return Line(f"party:{party}", party, Group.PARTY)


#: The flows of the material balance, in the order tables show them.
BALANCE_FLOWS = ("mined", "recovered", "fed from", "bought", "lost in processing", "made", "fed to", "sold")


def quantity(stream: str, flow: str, unit: str, other: str = "") -> Line:
    """A line of the material balance: a stream's units ``mined``, ``recovered``, ``made``,
    ``sold``, ``bought`` or ``lost in processing``, or fed to or from ``other``."""
    label = f"{stream}: {flow}" + (f" {other}" if other else "")
    key = f"quantity:{stream}:{flow}" + (f":{other}" if other else "")
    return Line(key, label, Group.QUANTITY, unit=unit)


#: The group of each kind of direct line (``lines`` in a scenario file).
DIRECT_GROUPS = {
    "revenue": Group.REVENUE,
    "selling_charge": Group.SELLING,
    "operating_cost": Group.OPERATING,
    "initial_capex": Group.CAPITAL,
    "sustaining_capex": Group.CAPITAL,
    "closure": Group.CAPITAL,
    "working_capital": Group.WORKING_CAPITAL,
    "salvage": Group.CAPITAL,
}


def direct(name: str, label: str, kind: str) -> Line:
    """A line given in money per year, in the group of its kind."""
    return Line(f"direct:{name}", label, DIRECT_GROUPS[kind], description=f"given directly ({kind})")


def government_take(government: str) -> Line:
    """A government's share of the cash before state take, per year."""
    return Line(f"take:{government}", f"Government take: {government}", Group.MEMO, unit="fraction")


def levy(label: str, line: str) -> Line:
    """The cash line of the levies with ``label``: before EBITDA (``line == "royalty"``) or after
    the pre-tax cash flow (``"tax"``). ``Royalty`` and ``Income tax`` are the lines
    :data:`ROYALTY` and :data:`INCOME_TAX` themselves."""
    if line == "royalty":
        return ROYALTY if label == ROYALTY.label else Line(f"levy:{label}", label, Group.ROYALTY)
    return INCOME_TAX if label == INCOME_TAX.label else Line(f"levy:{label}", label, Group.TAX)


def levy_base(name: str) -> Line:
    """The memo line of a levy's base after losses (money of the deal's basis)."""
    return Line(f"levy_base:{name}", f"Base of {name}", Group.MEMO)


def levy_losses(name: str) -> Line:
    """The memo line of a levy's losses carried into the next period."""
    return Line(f"levy_losses:{name}", f"Losses carried: {name}", Group.MEMO)


def allowances(capital_class: str) -> Line:
    """The memo line of one capital class's allowances."""
    return Line(f"allowances:{capital_class}", f"Allowances: {capital_class}", Group.MEMO)


def levies_collected(government: str) -> Line:
    """The memo line of what a government collects in levies (the levered project's)."""
    return Line(f"levies_collected:{government}", f"Levies collected by {government}", Group.MEMO)
