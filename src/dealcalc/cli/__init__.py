"""The ``dealcalc`` command line: parses arguments, calls the API, renders. No finance here.

- :mod:`~dealcalc.cli.boundary`: every failure one line on standard error and an exit status
  (2 for a mistake in a file or an option, 1 for a bug, with ``--debug`` for its traceback,
  130 for Ctrl-C);
- :mod:`~dealcalc.cli.options`: the options commands share; ``--out`` checked for its type, its
  folder and an existing file when it is parsed, before any work; one ``emit`` through
  :mod:`dealcalc.report.serialize` for every ``--json`` and ``--out``;
- :mod:`~dealcalc.cli.commands` and :mod:`~dealcalc.cli.sensitivity`: the commands, each
  load → call → render.

Outputs go through :func:`dealcalc.io.write_atomic` and are not overwritten without ``--force``.
"""

from dealcalc.cli.commands import main

__all__ = ["main"]
