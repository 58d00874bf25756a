"""The layering of STYLE.md, checked mechanically: ``ledger`` never imports ``coop`` or
``reports``; ``reports`` never imports the write side of the cooperative (services); modules
stay small. The import contracts in pyproject.toml (``make layering``) check the rest."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> list[tuple[Path, str]]:
    found = []
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(path, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


def test_ledger_knows_nothing_of_the_cooperative() -> None:
    bad = [(p.name, m) for p, m in _imports("ledger") if m.split(".")[0] in {"coop", "reports"}]
    assert bad == []


def test_reports_only_read() -> None:
    bad = [(p.name, m) for p, m in _imports("reports") if m.startswith("coop.") and m.endswith(".service")]
    assert bad == []


def test_the_check_sees_imports() -> None:
    assert any(m == "ledger.merkle" or m.startswith("ledger") for _, m in _imports("coop"))


MAX_LINES = 400
"""A module that grows past this has more than one responsibility: split it by what it is about."""

LONGER = {"cli.py", "demo.py"}
"""The command line and the demo cooperative read top to bottom."""


def test_modules_stay_small() -> None:
    package = ROOT / "coop"
    sizes = {p.relative_to(package).as_posix(): len(p.read_text().splitlines()) for p in package.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES and name not in LONGER} == {}
