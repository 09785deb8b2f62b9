"""``python -m dealcalc``: the same as the ``dealcalc`` command."""

from dealcalc.cli import main

main(prog_name="dealcalc")
