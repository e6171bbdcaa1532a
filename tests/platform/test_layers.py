"""The shape of app/: no new import cycle between packages, and domain rules in plain Python
(issue 11.4). The cycles that exist today are listed below; the list may only shrink."""

from __future__ import annotations

import ast
import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

# Package pairs that import each other today (to be untangled by issue 11). A new pair, or a
# package joining the tangle, fails; a pair that is gone must be deleted from here.
KNOWN_PAIRS: set[tuple[str, str]] = set()
KNOWN_TANGLE: set[str] = set()
DOMAIN_MAY_NOT_IMPORT = ("flask", "sqlalchemy", "stripe", "flask_sqlalchemy", "werkzeug")


def _package(path: Path) -> str:
    parts = path.relative_to(APP).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _runtime_nodes(tree: ast.AST):
    """Every node, except those under ``if TYPE_CHECKING:`` (type hints, never imported)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            continue
        yield node
        yield from _runtime_nodes(node)


def _imports(path: Path) -> set[str]:
    found = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def package_graph() -> dict[str, set[str]]:
    """Which app package imports which (any import, at the top or inside a function)."""
    packages = {p.name for p in APP.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    packages |= {p.stem for p in APP.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for path in APP.rglob("*.py"):
        if path.relative_to(APP).parts == ("__init__.py",):
            continue  # the application factory wires every package together
        source = _package(path)
        for name in _imports(path):
            parts = name.split(".")
            inside = parts[0] == "app" and len(parts) > 1 and parts[1] in packages
            if inside and parts[1] != source:
                graph.setdefault(source, set()).add(parts[1])
    return graph


def tangles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in list(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_new_import_cycle_between_packages():
    graph = package_graph()
    pairs = {tuple(sorted((a, b))) for a in graph for b in graph[a] if a in graph.get(b, set())}
    assert pairs - KNOWN_PAIRS == set(), "new packages importing each other"
    assert KNOWN_PAIRS - pairs == set(), "a cycle is gone: delete it from KNOWN_PAIRS"
    for group in tangles(graph):
        assert group <= KNOWN_TANGLE, f"a new import cycle: {sorted(group - KNOWN_TANGLE)}"


def test_the_check_sees_a_cycle():
    assert tangles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_domain_rules_are_plain_python():
    offenders = []
    for path in APP.rglob("domain.py"):
        for name in _imports(path):
            if name.split(".")[0] in DOMAIN_MAY_NOT_IMPORT:
                offenders.append(f"{path.relative_to(APP)} imports {name}")
            plain = name.split(".")[:2] in (["app", "errors"], ["app", "i18n"]) or ".domain" in name
            if name.startswith("app.") and not plain:
                offenders.append(f"{path.relative_to(APP)} imports {name}")
    assert offenders == []


def test_the_translation_hook_the_domain_uses_is_plain_python():
    """Domain rules say their messages through app.i18n, which imports no Flask itself."""
    names = _imports(APP / "i18n" / "__init__.py")
    assert [n for n in names if n.split(".")[0] in DOMAIN_MAY_NOT_IMPORT] == []
    assert [n for n in names if n.startswith("app.")] == []


def test_templates_ask_the_project_not_its_status_strings():
    """``project.is_live``, ``project.has_statement``... instead of comparing status strings in
    markup, where a renamed state would silently stop matching (issue 11.2)."""
    compared = re.compile(r"project\.status\.value\s*(==|!=|in\b)")
    found = [
        f"{path.relative_to(APP)}:{number}"
        for path in APP.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if compared.search(line)
    ]
    assert found == []


# Commits happen at the edges and in app/workflow.py's ``transaction``/``step``, which every
# workflow (the steps that call Stripe or the mail server, or batch a long job) goes through
# (docs/ARCHITECTURE.md).


def test_commits_happen_only_at_the_edges_and_in_the_workflow_helper():
    """Services flush; views, CLI commands, scheduler jobs commit, and workflows commit through
    ``app.workflow`` (issue 11.1)."""
    found = []
    for path in APP.rglob("*.py"):
        where = path.relative_to(APP).as_posix()
        edge = path.name in ("routes.py", "cli.py") or where.startswith("scheduler/")
        edge = edge or where == "settings/credentials.py"  # views, registered on settings' bp
        if edge or where == "workflow.py":
            continue
        found += [
            f"{where}:{number}"
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if ".commit(" in line
        ]
    assert found == [], "services flush; commit in the view, command, job or app.workflow"


def test_bookkeeping_raises_events_and_never_calls_notifications():
    """Money code says what happened (app/events.py); notifications subscribe (issue 11.3)."""
    graph = package_graph()
    for package in ("pledges", "settlement", "ledger", "payouts", "projects"):
        assert "notifications" not in graph.get(package, set()), package


def test_a_subscriber_is_called_once_however_often_it_subscribes():
    from app import events

    heard = []

    def handler(event):
        heard.append(event)

    class Happened(events.Event):
        pass

    events.subscribe(Happened, handler)
    events.subscribe(Happened, handler)
    events.publish(Happened())
    assert heard == [Happened()]
