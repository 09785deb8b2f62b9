"""Reading cash-flow CSV files and writing outputs atomically."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from dealcalc.errors import InputError, OutputExistsError
from dealcalc.io import read_cash_flows_csv, write_atomic


def _csv(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "flows.csv"
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_series_per_column_with_period_labels(tmp_path: Path) -> None:
    # a quoted cell is a cell ("-1,000", a comma inside, is refused: tests/test_input_files.py)
    t = read_cash_flows_csv(_csv(tmp_path, 'year,A,B\n2026,-100,"-1000"\n2027,60,700\n\n2028,60,700\n'))
    assert t.names == ("A", "B")
    assert t.labels == ("2026", "2027", "2028")
    assert t.values.tolist() == [[-100, 60, 60], [-1000, 700, 700]]
    assert t.dates is None


def test_reads_dates_and_headerless_index(tmp_path: Path) -> None:
    t = read_cash_flows_csv(_csv(tmp_path, "date,A\n2026-01-01,-1\n2026-07-01,2\n"))
    assert t.dates == (dt.date(2026, 1, 1), dt.date(2026, 7, 1))
    t2 = read_cash_flows_csv(_csv(tmp_path, "A,B\n-1,-2\n3,4\n"))
    assert t2.names == ("A", "B") and t2.labels == ("0", "1")
    t3 = read_cash_flows_csv(_csv(tmp_path, "year,A\nFY26,-1\nFY28,2\n"))  # names, not numbers
    assert t3.labels == ("FY26", "FY28")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("year,A\n2026,-100\n2027,abc\n", "flows.csv:3: column 'A': 'abc' is not a number"),
        ("year,A\n2026,-100\n2027,\n", "flows.csv:3: column 'A': empty cell"),
        ("year,A\n2026,-100\n2027,nan\n", "flows.csv:3: column 'A': 'nan' is not a finite number"),
        ("year,A\n2026,-100,5\n", "flows.csv:2: 3 cells where the header has 2"),
        ("year\n2026\n", "flows.csv:1: no cash-flow columns"),
        ("A,A\n1,2\n", "flows.csv:1: column 'A' appears twice"),
        ("", "flows.csv: the file is empty"),
        ("A\n", "flows.csv: no data rows"),
        ("date,A\n2026-13-01,1\n", "flows.csv:2: column 'date': '2026-13-01' is not a date"),
        # a skipped or repeated period would shift every later flow by a period
        ("year,A\n2026,-100\n2028,60\n", "flows.csv:3: column 'year': period 2028 follows period 2026"),
        ("period,A\n0,-100\n0,60\n", "flows.csv:3: column 'period': period 0 follows period 0"),
        ("t,A\n2,-100\n1,60\n", "flows.csv:3: column 't': period 1 follows period 2"),
    ],
)
def test_bad_csv_names_file_line_and_column(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        read_cash_flows_csv(_csv(tmp_path, text))
    assert str(info.value).startswith(str(tmp_path / expected.split(":")[0]) + expected[len("flows.csv") :])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_cash_flows_csv(tmp_path / "nope.csv")


def test_write_atomic_keeps_existing_unless_forced(tmp_path: Path) -> None:
    p = tmp_path / "out.json"
    write_atomic(p, "first")
    with pytest.raises(OutputExistsError, match="--force"):
        write_atomic(p, "second")
    assert p.read_text() == "first"
    write_atomic(p, b"third", force=True)
    assert p.read_text() == "third"
    assert [f.name for f in tmp_path.iterdir()] == ["out.json"]  # no temporary file left behind


def test_write_atomic_into_missing_or_read_only_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="folder does not exist"):
        write_atomic(tmp_path / "nope" / "out.json", "x")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores permissions
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(InputError, match="cannot write"):
            write_atomic(ro / "out.json", "x")
    finally:
        ro.chmod(0o700)
