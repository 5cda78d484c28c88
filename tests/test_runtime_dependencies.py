"""`make run` installs the runtime dependencies only (pyproject's `dependencies`): every module
the product imports at run time must come from them, or from what they depend on. A module
named only by the test tools (`.[dev]`) would work under `make test` and crash under `make run`."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FIRST_PARTY = {
    name.rstrip("*") for name in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _closure(names: set[str]) -> set[str]:
    """The runtime distributions and, installed, everything they require (without extras)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def _runtime_imports(path: Path) -> set[str]:
    """Top-level modules imported by ``path``, leaving out imports under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for child in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_the_product_imports_only_its_runtime_dependencies():
    allowed = _closure({_name(r) for r in PYPROJECT["project"]["dependencies"]})
    distributions = metadata.packages_distributions()
    missing = {}
    for package in sorted(FIRST_PARTY):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for module in _runtime_imports(path) - FIRST_PARTY - set(sys.stdlib_module_names):
                dists = {d.lower().replace("_", "-") for d in distributions.get(module, [])}
                if not dists & allowed:
                    missing.setdefault(module, []).append(str(path.relative_to(ROOT)))
    assert missing == {}, f"imported at run time but not a runtime dependency: {missing}"
