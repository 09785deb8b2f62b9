"""The report of a deal of several companies (entities) and transfer prices: the HTML section
"Entities and transfer prices", the owners and every company's loans in the other sections, and
the live workbook's refusal (docs/report.md, docs/workbook.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.formatting import money, percent
from dealcalc.params import apply_scenario, numeric_leaves, with_changes
from dealcalc.report.excel import excel_model
from dealcalc.report.html import ENTITIES_SECTION, SECTIONS, html_report

EXAMPLE = str(dc.example_path("ussm-fwo"))
DEAL = dc.load(EXAMPLE)
TWO = "terms_two_companies"
VALUED = apply_scenario(DEAL, TWO)


def _section(page: str, key: str) -> str:
    """The HTML of one section of the report (from its heading to the next section)."""
    start = page.index(f'<h2 id="{key}">')
    end = page.find("<section>", start)
    return page[start : end if end > 0 else len(page)]


def _table(html: str, caption: str) -> str:
    """The HTML of the table with ``caption``."""
    start = html.index(f"<caption>{caption}</caption>")
    return html[start : html.index("</table>", start)]


def _row(html: str, label: str) -> list[str]:
    """The cells of the row labelled ``label`` (the first such row)."""
    found = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', html)
    assert found is not None, label
    return re.findall(r"<td[^>]*>(.*?)</td>", found.group(1))


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The report of the two companies, made as a user makes it (the CLI)."""
    out = tmp_path_factory.mktemp("report") / "two.html"
    args = ["report", EXAMPLE, "--scenario", TWO, "--out", str(out), "--no-charts", "-n", "50", "--seed", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def valuation() -> dc.Valuation:
    return dc.evaluate(DEAL, TWO, keep_ledger=True)


def test_the_section_is_there_after_the_parties(page: str) -> None:
    key, heading = ENTITIES_SECTION
    assert f'<h2 id="{key}">{heading}</h2>' in page
    assert f'<a href="#{key}">{heading}</a>' in page
    order = re.findall(r'<h2 id="([a-z]+)">', page)
    assert order.index("entities") == order.index("parties") + 1
    words = _section(page, "entities").split("</p>")[0]
    assert f"The deal is {len(VALUED.entities)} companies" in words
    for name, entity in VALUED.entities.items():
        assert f"<b>{name}</b>" in words
        for owner, holder in entity.equity.items():
            assert f"{owner} {percent(holder.share)}" in words
    for t in VALUED.transfer_prices.values():
        assert f"{t.source} ({VALUED.entity_of(t.source)}) feeds {t.to} ({VALUED.entity_of(t.to)})" in words
        assert f"<i>{t.basis}</i>" in words
    assert f"{len(VALUED.transfer_prices)} feeds cross" in words


def test_the_entity_table_shows_entity_table_as_the_report_formats_money(
    page: str, valuation: dc.Valuation
) -> None:
    frame = valuation.entity_table()
    shown = _table(_section(page, "entities"), "Each company and the project")
    assert list(frame.index) == ["mines", "refinery", "project"]
    for name, row in frame.iterrows():
        assert _row(shown, str(name)) == [money(float(x)) for x in row.to_numpy(dtype=float)], name
    # the columns are named in words, each party's by its name; the project row is a total
    assert "Levies paid (US$ M, real)" in shown and "ussm: value from it (US$ M, real)" in shown
    assert '<tr class="total"><th scope="row">project</th>' in shown
    # the mines sell to the refinery: what one sells the other buys
    sales, purchases = frame["transfer_sales_usd"].to_dict(), frame["transfer_purchases_usd"].to_dict()
    assert sales["mines"] > 0 and money(sales["mines"]) == money(purchases["refinery"])


def test_the_transfer_prices_and_how_they_move_value(page: str) -> None:
    section = _section(page, "entities")
    prices = _table(section, "Transfer prices")
    for name, t in VALUED.transfer_prices.items():
        cells = _row(prices, name)
        assert cells[0] == f"{t.source} ({VALUED.entity_of(t.source)}) → {t.to} ({VALUED.entity_of(t.to)})"
        assert cells[1] == t.basis and percent(t.payable_fraction) in cells[2]  # type: ignore[arg-type]
    moves = _table(section, "How the transfer price moves value")
    # the deal as valued, then each price's payable fraction at 0.8x and 1.2x
    base = dc.evaluate(DEAL, TWO)
    as_valued = _row(moves, "as valued")
    assert as_valued[2:] == [
        money(float(base.values[m][0]))
        for m in ("npv_usd", "mines.levies_usd", "refinery.levies_usd", "fwo.npv_usd", "ussm.npv_usd")
    ]
    # one move valued on its own, as a user would with --set: the same numbers
    path = "transfer_prices.sb_concentrate.payable_fraction"
    low = 0.8 * numeric_leaves(VALUED)[path]
    alone = dc.evaluate(with_changes(VALUED, {path: low}))
    cells = _row(moves, "sb_concentrate")
    assert cells[0] == "payable_fraction" and cells[1].startswith(percent(low))
    assert cells[2:] == [
        money(float(alone.values[m][0]))
        for m in ("npv_usd", "mines.levies_usd", "refinery.levies_usd", "fwo.npv_usd", "ussm.npv_usd")
    ]
    # a lower price for the mines' concentrate: the seller pays less levy, the buyer's owner gains
    assert alone.values["mines.levies_usd"][0] < base.values["mines.levies_usd"][0]
    assert alone.values["ussm.npv_usd"][0] > base.values["ussm.npv_usd"][0]
    assert moves.count('<th scope="row">') == 1 + 2 * len(VALUED.transfer_prices)


def test_the_owners_and_both_companies_loans_are_shown(page: str, valuation: dc.Valuation) -> None:
    parties = _section(page, "parties")
    v = valuation.values
    for owner in VALUED.owner_names():
        role = _row(parties, owner)[0]
        for name, entity in VALUED.entities.items():
            if owner in entity.equity:
                assert f"{percent(entity.equity[owner].share)} of {name}" in role
        assert f"{owner} US$ {money(float(v[f'{owner}.npv_usd'][0]))} M" in _section(page, "summary")
    capital, debt = _section(page, "capital"), _section(page, "debt")
    for name, entity in VALUED.entities.items():
        assert entity.debt
        for tranche in entity.debt:
            assert f'<th scope="row">{name}: {tranche}</th>' in debt
            assert f"{name}: {tranche}" in capital
        assert f'<th scope="row">DSCR of {name} (×)</th>' in debt
    assert "The deal has no debt" not in debt
    # the owners' funding rows: every owner of any company
    for owner in VALUED.owner_names():
        assert f'<th scope="row">{owner} (US$ M)</th>' in capital


def test_a_deal_of_one_company_has_no_entities_section() -> None:
    page = html_report(DEAL, draws=50, seed=1, charts=False, compare_scenarios=False)
    assert 'id="entities"' not in page and ENTITIES_SECTION[1] not in page
    shown = re.findall(r'<h2 id="([a-z]+)">', page)
    assert shown == [k for k, _ in SECTIONS if k not in ("comparison", "cashflow")]
    roles = _section(page, "parties")
    for owner, holder in DEAL.finance.equity.items():
        assert _row(roles, owner)[0].startswith(f"owner, {percent(holder.share)} of the equity")
    for tranche in DEAL.finance.debt:
        assert f'<th scope="row">{tranche}</th>' in _section(page, "debt")


def test_the_workbook_refuses_a_deal_of_several_companies(tmp_path: Path) -> None:
    with pytest.raises(dc.InputError) as caught:
        excel_model(DEAL, TWO)
    err = caught.value
    assert err.field == "entities"
    assert "(entities: mines, refinery)" in err.message
    assert "the workbook writes one company, not entities or the transfer prices between them" in err.message
    assert err.hint is not None and "dealcalc report" in err.hint and "--json" in err.hint
    out = tmp_path / "two.xlsx"
    result = CliRunner().invoke(main, ["table", EXAMPLE, "--scenario", TWO, "--xlsx", str(out)])
    assert result.exit_code == 2 and "not entities or the transfer prices" in result.output
    assert not out.exists()
    # the one-company deal still writes
    assert excel_model(DEAL)[:2] == b"PK"


def test_the_report_shows_a_negotiation_space(tmp_path: Path) -> None:
    # `dealcalc report --terms-x --terms-y --walk-away`: the region every party accepts, as
    # `negotiation_space` finds it, with each party's value over the grid
    x = ("entities.refinery.earn_in.ussm.stake", [0.0, 0.3, 0.6])
    y = ("transfer_prices.sb_concentrate.payable_fraction", [0.3, 0.5])
    half = with_changes(DEAL, {"phases.refinery.capex_usd": 150.0e6}, origin="test")
    space = dc.negotiation_space(half, x, y, walk_away={"ussm": 0.0, "fwo": 0.0}, scenario=TWO)
    out = tmp_path / "terms.html"
    args = [
        "report", EXAMPLE, "--scenario", TWO, "--set", "phases.refinery.capex_usd=1.5e8", "--out", str(out),
        "--no-charts", "-n", "50", "--terms-x", "entities.refinery.earn_in.ussm.stake=0,0.3,0.6",
        "--terms-y", "transfer_prices.sb_concentrate.payable_fraction=0.3,0.5",
        "--walk-away", "ussm=0", "--walk-away", "fwo=0",
    ]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    section = _section(page, "terms")
    accepted = int(space.accepted.to_numpy().sum())
    assert f"Every party accepts {accepted} of 6 points" in section
    marks = _table(section, "Where every party accepts")
    assert marks.count('<td class="text">✓</td>') == accepted
    ussm = _table(section, "ussm: NPV (US$ M, real)")
    assert _row(ussm, "60.0 %")[0] == money(float(space.values["ussm"].iloc[2, 0]))
    # the section follows the entities section; a report without --terms-* has none
    assert page.index('<h2 id="entities">') < page.index('<h2 id="terms">')
    alone = CliRunner().invoke(
        main, ["report", EXAMPLE, "--out", str(tmp_path / "x.html"), "--terms-x", "a=1,2"]
    )
    assert alone.exit_code == 2 and "two terms" in alone.output
