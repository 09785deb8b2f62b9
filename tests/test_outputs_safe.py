"""Outputs are safe under races and signals (issue 19, part 4; docs/errors.md).

- Only a regular file is written or replaced: a named pipe, a device or a folder is refused, even
  with ``force`` (``--out`` onto a pipe with ``--force`` used to replace it with a file).
- Without ``force`` the file takes its name by a no-clobber hard link: of two writers started
  together exactly one wins and the other gets OutputExistsError (both used to succeed in 17 of
  30 trials).
- A temporary file is removed on SIGINT, SIGTERM and SIGHUP, the signal then has its usual effect;
  one left by a writer killed outright (SIGKILL) is removed by the next write of the same file.

The races use barriers and the signals are sent when the child says it is writing, never after
a sleep, so the tests do not depend on timing.
"""

from __future__ import annotations

import errno
import multiprocessing
import os
import re
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dealcalc import io as dio
from dealcalc.cli import main
from dealcalc.errors import InputError, OutputExistsError
from dealcalc.io import check_output, write_atomic

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals, pipes and devices")
REFUSED = re.escape(
    "not a regular file; expected a regular file (dealcalc replaces only regular files, even with --force)"
)


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------ only regular files


@posix_only
@pytest.mark.parametrize("force", [False, True])
def test_a_named_pipe_is_refused_even_with_force(tmp_path: Path, force: bool) -> None:
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=rf"out.json: is a named pipe \(FIFO\), {REFUSED}"):
        write_atomic(fifo, "{}", force=force)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and _left(tmp_path) == ["out.json"]


@pytest.mark.parametrize("force", [False, True])
def test_a_directory_is_refused_even_with_force(tmp_path: Path, force: bool) -> None:
    folder = tmp_path / "out.json"
    folder.mkdir()
    with pytest.raises(InputError, match=rf"out.json: is a directory, {REFUSED}"):
        write_atomic(folder, "{}", force=force)
    assert folder.is_dir() and _left(tmp_path) == ["out.json"]


@posix_only
def test_dev_null_is_refused_even_with_force(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=rf"^/dev/null: is a character device, {REFUSED}"):
        write_atomic("/dev/null", "x", force=True)
    link = tmp_path / "out.json"  # a link is judged by what it points to
    link.symlink_to("/dev/null")
    with pytest.raises(InputError, match="is a character device"):
        write_atomic(link, "x", force=True)
    assert link.is_symlink()


@posix_only
def test_check_output_refuses_the_same_before_any_work(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="is a named pipe"):
        check_output(tmp_path / "pipe", force=True)
    (tmp_path / "kept.csv").write_text("x")
    with pytest.raises(OutputExistsError):
        check_output(tmp_path / "kept.csv")
    assert check_output(tmp_path / "new.csv") is None
    with pytest.raises(InputError, match="the folder does not exist"):
        check_output(tmp_path / "no" / "new.csv")
    with pytest.raises(InputError, match="the folder does not exist"):  # a file is no folder
        write_atomic(tmp_path / "kept.csv" / "new.csv", "x")


@posix_only
def test_the_cli_refuses_a_pipe_with_force(tmp_path: Path) -> None:
    fifo = tmp_path / "deal.yaml"
    os.mkfifo(fifo)
    result = CliRunner().invoke(main, ["example", "ussm-fwo", "--out", str(fifo), "--force"])
    assert result.exit_code == 2 and f"{fifo}: is a named pipe (FIFO), not a regular file" in result.output
    assert "Traceback" not in result.output and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_dangling_link_is_not_written_through_without_force(tmp_path: Path) -> None:
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(OutputExistsError):
        write_atomic(link, "x")
    assert _left(tmp_path) == ["out.json"] and link.is_symlink()


# -------------------------------------------------------------------------------- modes


def test_a_new_file_gets_the_umask_mode_and_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        new = write_atomic(tmp_path / "new.csv", "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o640
    kept = tmp_path / "kept.csv"
    kept.write_text("old")
    kept.chmod(0o604)
    write_atomic(kept, "new", force=True)
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o604 and kept.read_text() == "new"


# ------------------------------------------------------------------------------- races

WRITERS = 3
TRIALS = 40  # the write_atomic before this test had more than one winner in 39 of 40 trials


def _writer(me: int, folder: str, barrier: Any, results: Any, force: bool, trials: int) -> None:
    """One of several writers: every trial, all wait at the barrier, then write the same file."""
    from dealcalc.errors import OutputExistsError
    from dealcalc.io import write_atomic

    payload = str(me) * 200_000  # large enough that the writes overlap
    for trial in range(trials):
        barrier.wait()
        try:
            write_atomic(Path(folder) / f"out{trial}.txt", payload, force=force)
            results.put((trial, me, "wrote"))
        except OutputExistsError:
            results.put((trial, me, "exists"))
        except Exception as exc:  # reported, not hidden
            results.put((trial, me, repr(exc)))


def _race(folder: Path, force: bool, trials: int) -> dict[int, dict[int, str]]:
    context = multiprocessing.get_context("spawn")  # no fork of a process with threads
    barrier = context.Barrier(WRITERS)
    results = context.Queue()
    writers = [
        context.Process(target=_writer, args=(me, str(folder), barrier, results, force, trials))
        for me in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    outcome: dict[int, dict[int, str]] = {}
    try:
        for _ in range(WRITERS * trials):
            trial, me, what = results.get(timeout=120)
            outcome.setdefault(trial, {})[me] = what
    finally:
        for writer in writers:
            writer.join(timeout=60)
            if writer.is_alive():
                writer.kill()
    return outcome


@posix_only
def test_of_writers_started_together_exactly_one_wins(tmp_path: Path) -> None:
    outcome = _race(tmp_path, force=False, trials=TRIALS)
    assert len(outcome) == TRIALS
    for trial, by_writer in outcome.items():
        winners = [me for me, what in by_writer.items() if what == "wrote"]
        assert len(winners) == 1, (trial, by_writer)
        assert sorted(by_writer.values()) == ["exists"] * (WRITERS - 1) + ["wrote"], (trial, by_writer)
        assert (tmp_path / f"out{trial}.txt").read_text() == str(winners[0]) * 200_000
    assert _left(tmp_path) == sorted(f"out{k}.txt" for k in range(TRIALS))  # no temporary file left


@posix_only
def test_with_force_every_writer_succeeds_and_the_file_is_one_of_theirs_whole(tmp_path: Path) -> None:
    outcome = _race(tmp_path, force=True, trials=10)
    for trial, by_writer in outcome.items():
        assert sorted(by_writer.values()) == ["wrote"] * WRITERS, (trial, by_writer)
        assert (tmp_path / f"out{trial}.txt").read_text() in {str(me) * 200_000 for me in range(WRITERS)}
    assert len(_left(tmp_path)) == 10


def test_without_hard_links_the_name_is_claimed_exclusively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: Any, dst: Any) -> None:  # a FAT stick or some network shares
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(dio.os, "link", no_links)
    target = tmp_path / "out.json"
    write_atomic(target, "first")
    with pytest.raises(OutputExistsError):
        write_atomic(target, "second")
    assert target.read_text() == "first" and _left(tmp_path) == ["out.json"]


def test_a_write_from_another_thread_works(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            write_atomic(tmp_path / "out.json", "x")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    assert not errors and (tmp_path / "out.json").read_text() == "x"


# ------------------------------------------------------------------------------ signals

# The child writes, and stops in the middle (in fsync, after the data) to say so and wait.
CHILD = """
import os, signal, sys, time
from dealcalc import io

# the usual dispositions, whatever this test runs under (a background job ignores SIGINT, nohup SIGHUP)
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_DFL)

def fsync(fd):
    print("writing", flush=True)
    time.sleep(60)

io.os.fsync = fsync
io.write_atomic(sys.argv[1], "new" * 100_000, force=True)
print("done", flush=True)
"""


def _writing_child(target: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(target)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    line = child.stdout.readline()  # blocks until the child is mid-write (or has died)
    if line != "writing\n":
        child.kill()
        raise AssertionError((line, _finish(child)))
    return child


def _finish(child: subprocess.Popen[str]) -> str:
    """Wait for the child (it was signalled) and close its pipes; its error output."""
    _, err = child.communicate(timeout=60)
    return err


def _temporaries(folder: Path) -> list[str]:
    return [name for name in _left(folder) if name.endswith(".tmp") and ".dealcalc-" in name]


@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_mid_write_removes_the_temporary_file(tmp_path: Path, signum: signal.Signals) -> None:
    target = tmp_path / "table.csv"
    target.write_text("precious\n")
    child = _writing_child(target)
    assert len(_temporaries(tmp_path)) == 1  # mid-write: the temporary file is there
    child.send_signal(signum)
    err = _finish(child)
    # the signal had its usual effect (SIGINT: an uncaught KeyboardInterrupt ends Python by SIGINT)
    assert child.returncode == -signum, err
    assert _left(tmp_path) == ["table.csv"] and target.read_text() == "precious\n"


@posix_only
def test_a_writer_killed_outright_leaves_a_temporary_file_the_next_write_removes(tmp_path: Path) -> None:
    target = tmp_path / "table.csv"
    child = _writing_child(target)
    child.kill()  # SIGKILL: nothing can clean up
    _finish(child)
    stale = _temporaries(tmp_path)
    assert len(stale) == 1 and stale[0].startswith(".table.csv.dealcalc-") and not target.exists()
    write_atomic(target, "fresh")
    assert _left(tmp_path) == ["table.csv"] and target.read_text() == "fresh"


def test_temporary_files_of_live_writers_and_other_files_are_left_alone(tmp_path: Path) -> None:
    alive = f".table.csv.dealcalc-{dio._host()}-{os.getppid()}-00ff.tmp"  # a live process's
    other_host = ".table.csv.dealcalc-00000000-999999999-00ff.tmp"  # maybe alive on that machine
    other_file = f".other.csv.dealcalc-{dio._host()}-999999999-00ff.tmp"  # another output's
    dead = f".table.csv.dealcalc-{dio._host()}-999999999-00ff.tmp"  # no such process
    for name in (alive, other_host, other_file, dead, "table.csv.tmp"):
        (tmp_path / name).write_text("partial")
    write_atomic(tmp_path / "table.csv", "x")
    assert _left(tmp_path) == sorted([alive, other_host, other_file, "table.csv", "table.csv.tmp"])


@posix_only
def test_the_signal_handlers_are_restored(tmp_path: Path) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    write_atomic(tmp_path / "a.json", "x")
    with pytest.raises(OutputExistsError):
        write_atomic(tmp_path / "a.json", "x")
    assert {s: signal.getsignal(s) for s in before} == before


@posix_only
def test_sigint_in_process_is_a_keyboard_interrupt_after_clean_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # even in a background job
    try:
        monkeypatch.setattr(dio.os, "fsync", lambda fd: os.kill(os.getpid(), signal.SIGINT))
        with pytest.raises(KeyboardInterrupt):
            write_atomic(tmp_path / "out.json", "x")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert _left(tmp_path) == []


@posix_only
def test_a_handler_that_returns_gets_an_error_saying_nothing_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: seen.append(signum))
    try:
        monkeypatch.setattr(dio.os, "fsync", lambda fd: os.kill(os.getpid(), signal.SIGTERM))
        with pytest.raises(
            InputError, match=r"out.json: the write was interrupted by SIGTERM; nothing was written"
        ):
            write_atomic(tmp_path / "out.json", "x")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [signal.SIGTERM] and _left(tmp_path) == []
