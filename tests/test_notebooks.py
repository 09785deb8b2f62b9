"""The notebooks in examples/ run top to bottom (nbclient, a fresh kernel each).

Each runs from a copy in a temporary folder, as Jupyter runs a notebook: in its own folder, so
the files it writes land next to the copy and the repository is left as it is.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from dealcalc.errors import OutputExistsError

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
WALKTHROUGH = EXAMPLES / "walkthrough.ipynb"
#: What the walkthrough writes into walkthrough_output/ next to itself.
WRITTEN = ["ledger.csv", "tornado.png", "ussm_fwo.html", "ussm_fwo.xlsx", "valuation.json", "waterfall.png"]
#: A number in scientific notation (6.395724e+06), which no table a reader sees should hold.
SCIENTIFIC = re.compile(r"\d[eE][+-]\d")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "".join(value)


def test_there_is_a_notebook() -> None:
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MPLBACKEND", raising=False)  # a CI's Agg would keep the charts out of the cells
    beside = EXAMPLES / "walkthrough_output"  # where the original would write
    beside_before = sorted(p.name for p in beside.iterdir()) if beside.exists() else None
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    notebook = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 6  # the charts were drawn
    html = [_text(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})]
    assert any('class="dealcalc"' in h for h in html)  # Valuation and MonteCarlo render as tables
    # what a reader sees is formatted: tables and printed sentences, never 6.395724e+06
    printed = [_text(o["text"]) for o in outputs if o.get("output_type") == "stream"]
    assert [t for t in html + printed if SCIENTIFIC.search(t)] == []
    assert (sorted(p.name for p in beside.iterdir()) if beside.exists() else None) == beside_before
    if path == WALKTHROUGH:
        _check_walkthrough(notebook, tmp_path)


def _check_walkthrough(notebook: Any, folder: Path) -> None:
    out = folder / "walkthrough_output"
    for name in WRITTEN:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not [p for p in folder.iterdir() if p.name not in {"walkthrough.ipynb", "walkthrough_output"}]
    record = json.loads((out / ".written.json").read_text(encoding="utf-8"))
    assert sorted(record) == WRITTEN
    payload = json.loads((out / "valuation.json").read_text(encoding="utf-8"))
    assert payload["kind"] == "valuation" and payload["run"]["label"] == "base case"
    assert payload["units"]["money"] == "USD"
    header = (out / "ledger.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "After-tax cash flow [USD]" in header  # the CSV keeps the numbers in US$
    assert (out / "ussm_fwo.xlsx").read_bytes()[:2] == b"PK"
    html = "".join(
        _text(o["data"]["text/html"])
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if "text/html" in o.get("data", {})
    )
    assert "IRR (%, real)" in html and "NPV (US$ M)" in html  # units and basis in the headers
    printed = "".join(
        _text(o["text"])
        for cell in notebook.cells
        if cell.cell_type == "code"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "stream"
    )
    assert "base + 1 change" in printed  # a changed run is labelled as such
    assert "money of 2026" in printed  # the run's record is shown


def _writer(**names: Any) -> dict[str, Any]:
    """The walkthrough's cell that resolves its folder and writes files, run on its own."""
    notebook = nbformat.read(WALKTHROUGH, as_version=4)
    (source,) = [c.source for c in notebook.cells if c.cell_type == "code" and "def write(" in c.source]
    space: dict[str, Any] = {"Path": Path, **names}
    exec(compile(source, "walkthrough-writer", "exec"), space)
    return space


def test_walkthrough_writes_next_to_itself_and_keeps_files_it_did_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, elsewhere = tmp_path / "notebooks", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    (here / "walkthrough.ipynb").write_text("{}", encoding="utf-8")
    monkeypatch.chdir(elsewhere)  # an editor that says where the notebook is wins over the kernel's folder
    space = _writer(__session__=str(here / "walkthrough.ipynb"))
    out = here / "walkthrough_output"
    assert space["OUT"] == out.resolve() and not (elsewhere / "walkthrough_output").exists()

    write = space["write"]
    write("a.csv", "1\n")
    write("a.csv", "2\n")  # its own file: replaced on a second run
    assert (out / "a.csv").read_text(encoding="utf-8") == "2\n"

    (out / "mine.csv").write_text("keep\n", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        write("mine.csv", "3\n")  # a file it did not write is kept
    assert (out / "mine.csv").read_text(encoding="utf-8") == "keep\n"

    (out / "a.csv").write_text("edited\n", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        write("a.csv", "4\n")  # nor is one it wrote and someone changed since
    assert (out / "a.csv").read_text(encoding="utf-8") == "edited\n"

    # without a path from the editor, the kernel's working folder is the notebook's (Jupyter, nbclient)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(here)
    assert _writer()["OUT"] == out.resolve()
