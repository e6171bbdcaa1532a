"""The tests' own layout: shared helpers live in tests/helpers, and nothing else is imported
across test modules.

A module under tests/ may import ``tests.helpers`` (and its modules) and the plain support
modules of its own folder (``tests/fakestripe/contract.py``, ``tests/simulation/campaign.py``).
It may not import a test module (``test_*.py``), a conftest (fixtures reach tests through
pytest, helpers through tests/helpers), or anything of another folder. Relative imports
count the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> list[tuple[int, str, set[str]]]:
    """(line, module, names) for every import of the file, relative ones made absolute; for
    ``from package import module`` the module counts as imported too."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            names = {alias.name for alias in node.names}
            found.append((node.lineno, target, names))
            found += [
                (node.lineno, f"{target}.{name}", set())
                for name in names
                if (TESTS.parent / target.replace(".", "/") / f"{name}.py").exists()
            ]
    return found


def problem(path: Path, target: str, names: set[str]) -> str | None:
    parts = target.split(".")
    if parts[0] != "tests" or len(parts) == 1 or parts[1] == "helpers":
        return None
    if parts[1] == "conftest":
        return f"imports {sorted(names)} from the root conftest (put it in tests/helpers)"
    if len(parts) == 2:  # a folder's package itself: what it holds is checked one by one
        return None
    folder = path.relative_to(TESTS).parts[0]
    last = parts[-1]
    if parts[1] != folder:
        return f"imports {target}, a module of another folder (put it in tests/helpers)"
    if last == "conftest" or last.startswith("test_"):
        return f"imports {target} (put what it shares in tests/helpers)"
    return None


def test_test_modules_import_helpers_only_from_tests_helpers():
    checked, problems = 0, []
    for path in sorted(TESTS.rglob("*.py")):
        for line, target, names in imported(path):
            checked += target.startswith("tests.helpers")
            if why := problem(path, target, names):
                problems.append(f"{path.relative_to(TESTS.parent)}:{line} {why}")
    assert checked > 50, "the scan found almost no imports of tests.helpers: is it looking?"
    assert not problems, "\n".join(problems)


def test_the_check_sees_conftest_and_cross_folder_imports():
    here = TESTS / "pledges" / "test_example.py"
    assert problem(here, "tests.pledges.conftest", {"x"})
    assert problem(here, "tests.pledges.test_webhooks", {"signed"})
    assert problem(here, "tests.security.world", {"World"})
    assert problem(here, "tests.conftest", {"app"})
    assert not problem(here, "tests.helpers.webhooks", {"signed"})
    assert not problem(here, "tests.pledges.support", {"x"})
    assert problem(here, "tests.conftest", {"empty_tables"})
    assert not problem(here, "tests.helpers.app", {"empty_tables"})
