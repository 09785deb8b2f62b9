"""Input files are refused before they are read when they are not regular files or too large, and
their numbers are read only as they look (issue 19, parts 4-6; docs/errors.md).

- A scenario file, a fiscal preset, a cash-flow CSV and a CSV table must be a regular file below a
  stated size (``dealcalc npv /dev/zero`` used to grow to 3 GiB).
- A CSV number with a comma is refused, quoted or not (``"-1,5"`` used to be read as -15).
- A YAML number that YAML 1.1 reads otherwise than it looks (``0x7E9`` is 2025, ``010`` is 8,
  ``1:30`` is 90; a key ``1_000``) is refused with its line, and so is a whole number too large
  for a float (5,000 digits used to crash Python's int conversion).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import dealcalc as dc
from dealcalc.cli import main
from dealcalc.errors import InputError
from dealcalc.io import MAX_SCENARIO_BYTES, load_deal, parse_assignment, parse_deal, read_cash_flows_csv
from dealcalc.tables import MAX_CSV_BYTES, read_limited

TEXT = Path(dc.example_path("ussm-fwo")).read_text(encoding="utf-8")
ORE = "ore_tpa: {value: 1.0e6"  # line 89 of the bundled deal
ORE_LINE = 89

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX devices and named pipes")


def _one_line(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output
    return result.output


# ----------------------------------------------------------------------- not a regular file


@posix_only
@pytest.mark.parametrize("reader", [load_deal, read_cash_flows_csv], ids=["scenario", "cash flows"])
def test_a_device_is_refused_before_it_is_read(reader: object) -> None:
    with pytest.raises(
        InputError, match=r"^/dev/zero: is a character device, not a regular file; expected a"
    ):
        reader("/dev/zero")  # type: ignore[operator]


@posix_only
def test_the_cli_refuses_dev_zero_at_once() -> None:
    assert "/dev/zero: is a character device, not a regular file" in _one_line(["npv", "/dev/zero"])
    assert "/dev/zero: is a character device" in _one_line(["flows", "/dev/zero", "--rate", "0.1"])


@posix_only
def test_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "deal.yaml"
    os.mkfifo(fifo)
    with pytest.raises(
        InputError, match=r"is a named pipe \(FIFO\), not a regular file; expected a scenario"
    ):
        load_deal(fifo)
    with pytest.raises(InputError, match="is a named pipe"):
        read_cash_flows_csv(fifo)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r": is a directory, not a regular file; expected a scenario file"):
        load_deal(tmp_path)
    with pytest.raises(InputError, match=r": is a directory, not a regular file; expected a CSV file"):
        read_cash_flows_csv(tmp_path)


@posix_only
def test_a_table_that_is_a_device_is_refused(tmp_path: Path) -> None:
    deal = tmp_path / "deal.yaml"
    deal.write_text(TEXT + "\ntables:\n  - file: /dev/zero\n", encoding="utf-8")
    with pytest.raises(
        InputError, match=r"^/dev/zero: is a character device, not a regular file; expected a CSV"
    ):
        load_deal(deal)


# ----------------------------------------------------------------------------- too large


def _sparse(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space (and is never read)."""
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def test_the_limits_are_stated() -> None:
    assert MAX_SCENARIO_BYTES == 16 * 2**20 and MAX_CSV_BYTES == 32 * 2**20
    catalogue = (Path(__file__).resolve().parents[1] / "docs" / "errors.md").read_text(encoding="utf-8")
    assert "larger than 16 MiB" in catalogue and "larger than 32 MiB" in catalogue


def test_a_scenario_file_above_the_limit_is_refused_unread(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "deal.yaml", MAX_SCENARIO_BYTES + 1)
    with pytest.raises(
        InputError, match=r"the file is larger than 16 MiB; expected a scenario file, at most 16 MiB"
    ):
        load_deal(big)
    assert "larger than 16 MiB" in _one_line(["npv", str(big)])


def test_csv_files_above_the_limit_are_refused_unread(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "flows.csv", MAX_CSV_BYTES + 1)
    with pytest.raises(
        InputError, match=r"the file is larger than 32 MiB; expected a CSV file of cash flows"
    ):
        read_cash_flows_csv(big)
    _sparse(tmp_path / "plan.csv", MAX_CSV_BYTES + 1)
    deal = tmp_path / "deal.yaml"
    deal.write_text(TEXT + "\ntables:\n  - file: plan.csv\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"^plan.csv: the file is larger than 32 MiB; expected a CSV table"):
        load_deal(deal)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc")
def test_the_read_is_bounded_even_when_the_size_says_nothing() -> None:
    # /proc files have a size of 0 but content: the read itself stops at the limit
    status = os.stat("/proc/self/status")
    assert stat.S_ISREG(status.st_mode) and status.st_size == 0
    with pytest.raises(InputError, match="the file is larger than"):
        read_limited("/proc/self/status", 100, shown="status", what="a test file")
    assert read_limited("/proc/self/status", 1_000_000, shown="status", what="a test file").startswith(
        b"Name:"
    )


# --------------------------------------------------------------------------- CSV numbers


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ('"-1,5"', "'-1,5' has a comma; expected a plain number: a point for decimals"),  # was -15
        ('"1,2,3"', "'1,2,3' has a comma"),  # was 123
        ('"1,500"', "'1,500' has a comma"),  # was 1500: a decimal comma or a thousands separator?
        ("١٢", "'١٢' is not a number"),  # Arabic-Indic digits: float() reads them as 12
        ("1" * 5000, "is not a finite number"),  # a 5,000-digit number, shown cut short
    ],
)
def test_cash_flow_numbers_are_plain(tmp_path: Path, cell: str, message: str) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(f"year,A\n2026,-100\n2027,{cell}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_cash_flows_csv(path)
    assert str(info.value).startswith(f"{path}:3: column 'A': "), info.value
    assert message in str(info.value) and len(str(info.value)) < 250


def test_the_cli_names_the_line_of_a_comma(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text('year,A\n2026,-100\n2027,"-1,5"\n2028,60\n', encoding="utf-8")
    assert f"{path}:3: column 'A': '-1,5' has a comma" in _one_line(["flows", str(path), "--rate", "0.1"])


def test_plain_numbers_still_read(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text('year,A\n2026," -1500000.5 "\n2027,2.5e6\n2028,+1_000\n2029,.5\n', encoding="utf-8")
    assert read_cash_flows_csv(path).values.tolist() == [[-1500000.5, 2.5e6, 1000.0, 0.5]]


def _with_table(tmp_path: Path, table: str) -> Path:
    (tmp_path / "plan.csv").write_text(table, encoding="utf-8")
    deal = tmp_path / "deal.yaml"
    line = next(x for x in TEXT.splitlines(keepends=True) if ORE in x)
    text = TEXT.replace(line, "", 1)  # the table gives it
    deal.write_text(
        text + "\ntables:\n  - file: plan.csv\n    columns: {ore: streams.copper.ore_tpa}\n", encoding="utf-8"
    )
    return deal


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('2029,"1,5"', "plan.csv:3: column 'ore': '1,5' has a comma"),
        ("2_029,1.5e6", "plan.csv:3: column 'year': '2_029' is not a period label"),  # int() reads 2029
        ("٢٠٢٩,1.5e6", "plan.csv:3: column 'year': '٢٠٢٩' is not a period label"),
    ],
)
def test_table_numbers_and_labels_are_plain(tmp_path: Path, row: str, message: str) -> None:
    deal = _with_table(tmp_path, f"year,ore\n2028,1.0e6\n{row}\n")
    with pytest.raises(InputError, match=message):
        load_deal(deal)


def test_a_plain_table_still_reads(tmp_path: Path) -> None:
    deal = load_deal(_with_table(tmp_path, "year,ore\n2028,1.0e6\n2029,1500000\n"))
    assert deal.streams["copper"].ore_tpa == {2028: 1.0e6, 2029: 1.5e6}


# ---------------------------------------------------------------------------- YAML numbers


def _refused(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_deal(text, source="deal.yaml")
    return info.value


@pytest.mark.parametrize(
    ("key", "reads_as", "form"),
    [
        ("0x7EC", "2028", "a hexadecimal number"),
        ("03754", "2028", "an octal number"),
        ("0b11111101100", "2028", "a binary number"),
        ("33:48", "2028", "a base-60 number"),
        ("2_028", "2028", "a number with its digits grouped"),
        ("1_000", "1000", "a number with its digits grouped"),
        ("0x1F", "31", "a hexadecimal number"),
        ("1:30", "90", "a base-60 number"),
    ],
)
def test_a_year_key_must_be_written_plainly(key: str, reads_as: str, form: str) -> None:
    error = _refused(TEXT.replace(ORE, f"ore_tpa: {{value: {{{key}: 1.0e6}}", 1))
    assert str(error) == (
        f"deal.yaml:{ORE_LINE}: the key '{key}' reads as {reads_as} (YAML 1.1 takes it for {form}); "
        "expected a key written as a plain whole number (2031) or a date, or in quotes if it is a name"
    )


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "  end_year: 2042",
            "  end_year: 0x7FA",
            18,
            "'0x7FA' reads as 2042 (YAML 1.1 takes it for a hexadecimal",
        ),
        (
            "  end_year: 2042",
            "  end_year: 04772",
            18,
            "'04772' reads as 2554 (YAML 1.1 takes it for an octal",
        ),
        (
            ORE,
            "ore_tpa: {value: 1:30",
            ORE_LINE,
            "'1:30' reads as 90 (YAML 1.1 takes it for a base-60 number)",
        ),
        (ORE, "ore_tpa: {value: 1:30.5", ORE_LINE, "'1:30.5' reads as 90.5 (YAML 1.1 takes it for a base-60"),
        (ORE, "ore_tpa: {value: 1__000", ORE_LINE, "'1__000' reads as 1000"),
        (
            "  end_year: 2042",
            "  end_year: " + "1" * 5000,
            18,
            "a whole number of 5,000 digits is too large to read",
        ),
        (ORE, "ore_tpa: {value: " + "9" * 400, ORE_LINE, "a whole number of 400 digits is too large to read"),
    ],
)
def test_a_number_that_does_not_read_as_it_looks_is_refused(
    old: str, new: str, line: int, message: str
) -> None:
    assert old in TEXT
    error = _refused(TEXT.replace(old, new, 1))
    assert str(error).startswith(f"deal.yaml:{line}: {message}"), error
    assert error.line == line and len(str(error)) < 300


def test_a_huge_key_is_refused_with_its_line() -> None:
    # (YAML caps an implicit key at 1,024 characters; an explicit one, ? KEY, has no cap)
    error = _refused(TEXT.replace(ORE, "ore_tpa: {value: {" + "2" * 400 + ": 1.0e6}", 1))
    assert str(error).startswith(f"deal.yaml:{ORE_LINE}: a whole number of 400 digits is too large"), error
    error = _refused("valuation:\n  ? " + "2" * 5000 + "\n  : 1\n")
    assert str(error).startswith("deal.yaml:2: a whole number of 5,000 digits is too large"), error


def test_plain_numbers_and_quoted_text_still_read() -> None:
    text = TEXT.replace(ORE, "ore_tpa: {value: {2028: 1_000_000, +2030: 2.0e6}", 1)
    text = text.replace("name: USSM", 'name: "0x1F 1:30 010 USSM', 1).replace("base case)", 'base case)"', 1)
    assert "0x1F 1:30 010" in text
    deal = parse_deal(text)
    assert deal.streams["copper"].ore_tpa == {2028: 1.0e6, 2030: 2.0e6}
    assert deal.name.startswith("0x1F 1:30 010")


def test_the_cli_gives_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEXT.replace("  end_year: 2042", "  end_year: 0x7FA", 1), encoding="utf-8")
    assert f"{bad}:18: '0x7FA' reads as 2042" in _one_line(["npv", str(bad)])
    bad.write_text(TEXT.replace("  end_year: 2042", "  end_year: " + "1" * 5000, 1), encoding="utf-8")
    assert f"{bad}:18: a whole number of 5,000 digits is too large" in _one_line(["npv", str(bad)])


def test_set_reads_numbers_as_the_file_does() -> None:
    with pytest.raises(InputError, match=r"^--set valuation.end_year: '0x7FA' reads as 2042"):
        parse_assignment("valuation.end_year=0x7FA")
    with pytest.raises(InputError, match=r"^--set x: a whole number of 5,000 digits"):
        parse_assignment("x=" + "1" * 5000)
    assert parse_assignment("fiscal.royalty_rate=0.07") == ("fiscal.royalty_rate", 0.07)


def test_a_preset_beside_the_deal_is_read_the_same_way(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("income_tax_rate: 0x1\n", encoding="utf-8")
    deal = tmp_path / "deal.yaml"
    assert "fiscal:\n" in TEXT
    deal.write_text(TEXT.replace("fiscal:\n", "fiscal:\n  preset: mine.yaml\n", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"mine.yaml: the preset is not readable YAML: .*'0x1' reads as 1"):
        load_deal(deal)
