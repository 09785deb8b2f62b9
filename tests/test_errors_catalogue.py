"""docs/errors.md lists every error dealcalc raises.

The test walks every ``raise`` in ``src/dealcalc`` (with :mod:`ast`), and every problem a Deal's
cross-checks collect (``problems.append((path, message))``), takes the longest literal part of
its message, and requires that text in docs/errors.md. A message built only from a
variable (a relayed pydantic or YAML message) carries a ``# errors.md: TEXT`` comment on the line
above, and TEXT must be in the catalogue. A missing extra must name its ``dealcalc[extra]``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "dealcalc"
CATALOGUE = ROOT / "docs" / "errors.md"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    if isinstance(node, ast.BinOp):
        return _literals(node.left) + _literals(node.right)
    return []


def _raise_sites() -> list[tuple[str, str]]:
    """(where, text that must be catalogued) for every raise with a call in the package."""
    sites: list[tuple[str, str]] = []
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if _is_problem(node):
                assert isinstance(node, ast.Call)
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                if above.startswith("# errors.md:"):
                    sites.append((where, above.removeprefix("# errors.md:").strip()))
                    continue
                message = node.args[0].elts[1]  # type: ignore[attr-defined]
                parts = [p.strip(" :;,.()'\"") for p in _literals(message)]
                best = max(parts, key=len, default="")
                assert len(best) >= 4, (
                    f"{where}: a problem with no literal message; add '# errors.md: TEXT' above"
                )
                sites.append((where, best))
                continue
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            call = node.exc
            name = ast.unparse(call.func)
            above = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
            if above.startswith("# errors.md:"):
                sites.append((where, above.removeprefix("# errors.md:").strip()))
            elif name == "MissingExtraError":
                extra = call.args[1]
                assert isinstance(extra, ast.Constant), where
                sites.append((where, f"dealcalc[{extra.value}]"))
            else:
                parts = [p.strip(" :;,.()'\"") for a in call.args[:1] for p in _literals(a)]
                best = max(parts, key=len, default="")
                assert len(best) >= 4, (
                    f"{where}: {name} has no literal message; add '# errors.md: TEXT' above"
                )
                sites.append((where, best))
    return sites


def _is_problem(node: ast.AST) -> bool:
    """``problems.append((path, message))``: a Deal cross-check's problem."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "append"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "problems"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Tuple)
        and len(node.args[0].elts) == 2
    )


SITES = _raise_sites()


def test_the_walk_finds_the_raises() -> None:
    # a guard against a walk that silently finds nothing
    assert len(SITES) > 100


@pytest.mark.parametrize(("where", "text"), SITES, ids=[w for w, _ in SITES])
def test_every_raise_is_in_the_catalogue(where: str, text: str) -> None:
    assert _norm(text) in _norm(CATALOGUE.read_text(encoding="utf-8")), (
        f"{where}: {text!r} is not listed in docs/errors.md"
    )
