"""Every chart of the bundled deal, the Excel model and the HTML report, written to a folder.

    python examples/charts.py [FOLDER]      (default: ./dealcalc-charts; needs dealcalc[plot,excel])

The pictures in docs/user-guide.md are made by this script (``python examples/charts.py
docs/images``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import dealcalc as dc
from dealcalc.io import write_atomic
from dealcalc.report.charts import KINDS, Results, figure
from dealcalc.report.excel import excel_model
from dealcalc.report.html import html_report
from dealcalc.report.plots import render


def main(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    deal = dc.load(dc.example_path("ussm-fwo"))
    results = Results(
        deal,
        draws=20_000,
        seed=1,
        x=("price_decks.base.antimony", [15e3, 20e3, 25e3, 30e3, 40e3, 50e3]),
        y=("phases.refinery.capex_usd", [150e6, 200e6, 250e6, 300e6, 400e6]),
    )
    written = []
    for kind, what in KINDS.items():
        path = write_atomic(folder / f"{kind}.png", render(figure(kind, results), "png", dpi=90), force=True)
        print(f"{path}: {what}")
        written.append(path)
    written.append(write_atomic(folder / "ussm_fwo.xlsx", excel_model(deal), force=True))
    written.append(write_atomic(folder / "report.html", html_report(deal, draws=5_000, seed=1), force=True))
    print(f"{written[-2]}: the Excel model with live formulas\n{written[-1]}: the HTML report")
    return written


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "dealcalc-charts"))
