"""dealcalc.strategies names the install command when hypothesis is missing."""

from __future__ import annotations

import subprocess
import sys


def test_without_hypothesis_the_import_error_names_the_extra() -> None:
    code = "import sys; sys.modules['hypothesis'] = None; import dealcalc.strategies"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "pip install 'dealcalc[strategies]'" in result.stderr
    assert "dealcalc.strategies needs hypothesis" in result.stderr


def test_dealcalc_itself_imports_without_hypothesis() -> None:
    code = "import sys; sys.modules['hypothesis'] = None; import dealcalc; print(dealcalc.__version__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
