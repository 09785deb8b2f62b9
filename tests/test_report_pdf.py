"""The report printed: headless Chromium prints the page to PDF (as a reader's print-to-PDF does),
and the PDF is read back: several pages, every year of the ledger with its last-year lines
(closure, the working-capital release), the run named in it, and no console errors.

Neither poppler's ``pdftotext`` nor a PDF library is a dependency, so the text is read here from
the PDF itself: Chromium (Skia) writes each page's text as hex glyph codes in Flate-compressed
content streams, with a ``ToUnicode`` map per font, which is all this reader handles.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from pathlib import Path

import pytest

import dealcalc as dc
from dealcalc.formatting import money
from dealcalc.params import with_changes
from dealcalc.report.html import html_report
from headless import chromium, run_chromium

DEAL = dc.load(dc.example_path("ussm-fwo"))


# --------------------------------------------------------------------------- a small PDF text reader
def _objects(data: bytes) -> dict[int, bytes]:
    """Each object's bytes, from its header to the next object's (a stream's binary data may hold
    any bytes, ``endobj`` included, so the next header bounds it, and ``/Length`` the stream)."""
    heads = list(re.finditer(rb"(?:^|[\r\n])(\d+) 0 obj\b", data))
    ends = [m.start() for m in heads[1:]] + [len(data)]
    return {int(m.group(1)): data[m.end() : end] for m, end in zip(heads, ends, strict=True)}


def _stream(body: bytes) -> bytes:
    start = re.search(rb"stream\r?\n", body)
    if start is None:
        return b""
    length = re.search(rb"/Length (\d+)(?! \d+ R)", body[: start.start()])
    if length is not None:
        raw = body[start.end() : start.end() + int(length.group(1))]
    else:
        raw = body[start.end() : body.index(b"endstream", start.end())]
    return zlib.decompress(raw) if b"/FlateDecode" in body[: start.start()] else raw


def _to_unicode(cmap: bytes) -> dict[int, str]:
    out: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int(dst, 16)
            for k, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                out[code] = chr(first + k)
    return out


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF printed by Chromium, in page order."""
    objs = _objects(data)
    tree = next(b for b in objs.values() if re.search(rb"/Type\s*/Pages\b", b) and b"/Parent" not in b)
    kids = re.search(rb"/Kids\s*\[(.*?)\]", tree, re.S)
    assert kids is not None
    order: list[int] = []
    todo = [int(k) for k in re.findall(rb"(\d+) 0 R", kids.group(1))]
    while todo:  # a page tree may nest
        num = todo.pop(0)
        inner = re.search(rb"/Kids\s*\[(.*?)\]", objs[num], re.S)
        if re.search(rb"/Type\s*/Pages\b", objs[num]) and inner:
            todo[:0] = [int(k) for k in re.findall(rb"(\d+) 0 R", inner.group(1))]
        else:
            order.append(num)
    pages = []
    for num in order:
        body = objs[num]
        fonts: dict[bytes, dict[int, str]] = {}
        found = re.search(rb"/Font\s*<<(.*?)>>", body, re.S)
        for name, ref in re.findall(rb"/(\w+)\s+(\d+) 0 R", found.group(1) if found else b""):
            tu = re.search(rb"/ToUnicode\s+(\d+) 0 R", objs.get(int(ref), b""))
            fonts[name] = _to_unicode(_stream(objs[int(tu.group(1))])) if tu else {}
        refs = re.search(rb"/Contents\s+(?:\[(.*?)\]|(\d+) 0 R)", body, re.S)
        ids = (
            []
            if refs is None
            else re.findall(rb"(\d+) 0 R", refs.group(1))
            if refs.group(1)
            else [refs.group(2)]
        )
        content = b"\n".join(_stream(objs[int(i)]) for i in ids)
        font: dict[int, str] = {}
        words = []
        ops = rb"/(\w+)\s+[\d.]+\s+Tf|\[((?:[^\]\\]|\\.)*)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj|(ET)"
        for op in re.finditer(ops, content):
            if op.group(1):
                font = fonts.get(op.group(1), {})
            elif op.group(2) is not None or op.group(3) is not None:
                hexes = (
                    [op.group(3)]
                    if op.group(3) is not None
                    else re.findall(rb"<([0-9A-Fa-f]*)>", op.group(2))
                )
                words.append(
                    "".join(font.get(int(h[i : i + 4], 16), "") for h in hexes for i in range(0, len(h), 4))
                )
            else:
                words.append(" ")
        pages.append(re.sub(r"\s+", " ", unicodedata.normalize("NFKC", "".join(words))))
    return pages


# --------------------------------------------------------------------------- the printed report
@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], str]:
    """(the text of each page, Chromium's log) of the report of spot_2025 with a --set change."""
    browser = chromium()
    if browser is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    try:
        import matplotlib  # noqa: F401

        charts = True
    except ImportError:
        charts = False
    changed = with_changes(DEAL, {"fiscal.royalty_rate": 0.07}, origin="--set")
    folder = tmp_path_factory.mktemp("printed")
    page = folder / "report.html"
    page.write_text(html_report(changed, scenario="spot_2025", draws=300, seed=1, charts=charts), "utf-8")
    pdf = folder / "report.pdf"
    done = run_chromium(
        browser, folder / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()
    )
    assert done.returncode == 0 and pdf.exists(), done.stderr[-2000:]
    return pdf_pages(Path(pdf).read_bytes()), done.stderr


def test_the_printed_report_has_pages_with_the_run_on_each(printed: tuple[list[str], str]) -> None:
    pages, _ = printed
    assert len(pages) > 1
    assert pages[0].count("Run: spot_2025 + 1 change") == 1
    for k, text in enumerate(pages, start=1):  # the print stylesheet's footer
        assert f"page {k} of {len(pages)}" in text, text[:200]
        assert "USSM–FWO poly-metallic deal (illustrative base case): spot_2025 + 1 change" in text, text[
            :200
        ]


def test_every_year_of_the_ledger_prints_with_its_last_lines(printed: tuple[list[str], str]) -> None:
    pages, _ = printed
    table = dc.evaluate(
        with_changes(DEAL, {"fiscal.royalty_rate": 0.07}), "spot_2025", keep_ledger=True
    ).table()
    years = [int(y) for y in table.index]
    text = " ".join(pages)
    # the ledger prints in blocks of years, each with its caption; together they cover every year
    blocks = re.findall(r"Ledger: (-?\d+)–(-?\d+) \((\d+) of (\d+)\)", text)
    assert blocks, text[-3000:]
    covered = [y for a, b, _, _ in blocks for y in range(int(a), int(b) + 1)]
    assert covered == years
    for a, b, k, n in blocks:
        start = text.index(f"Ledger: {a}–{b} ({k} of {n})")
        header = text[start : start + 400]
        for year in range(int(a), int(b) + 1):
            assert f" {year} " in header, (year, header)
    # the last block holds the last year's closure and the working-capital release
    last = text[text.index(f"Ledger: {blocks[-1][0]}–") :]
    for line in ("Closure [USD]", "Working capital [USD]"):
        value = float(table[line].iloc[-1])
        assert value != 0
        row = re.search(re.escape(line.split(" [")[0]) + r" \(US\$ M\)((?: -?[\d,]+\.\d)+)", last)
        assert row is not None, line
        cells = row.group(1).split()
        assert len(cells) == len(range(int(blocks[-1][0]), int(blocks[-1][1]) + 1)) + 1  # with the total
        assert cells[-2] == money(value)


def test_the_printed_report_holds_every_section_and_the_assumptions(printed: tuple[list[str], str]) -> None:
    pages, _ = printed
    text = " ".join(pages)
    for heading in (
        "Summary",
        "Scenario comparison",
        "Parties: value, IRR and government take",
        "Production and sales by product",
        "Capital and funding",
        "Debt sizing and DSCR",
        "Tariff attribution",
        "Ledger",
        "Assumptions and sources",
    ):
        assert heading in text, heading
    assert "--set fiscal.royalty_rate=0.07" in text


def test_printing_logs_no_console_errors(printed: tuple[list[str], str]) -> None:
    _, log = printed
    console = [line for line in log.splitlines() if ":CONSOLE" in line]
    assert any("dealcalc-report:" in line for line in console), log[-2000:]
    assert [line for line in console if "dealcalc-report:" not in line] == []
    assert "Uncaught" not in log
