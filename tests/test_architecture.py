"""The package's import graph, read from the source (AST), function-level imports included.

Why: the layout in docs/architecture.md only stays true if a test fails the day someone
imports across a boundary.  Each rule is its own test so a failure names the rule and
every offending import (module, line, target).
"""

from __future__ import annotations

import ast
import pathlib
from collections import defaultdict
from dataclasses import dataclass

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "trucewatch"

#: Packages that sit on top of the product and that the core must never import.
TOP = {"sim", "bench", "cli", "demo"}
#: Stages that turn observations into findings; they meet only in ``trucewatch.model``.
STAGES = {"sources", "fusion", "adjudication"}
#: Where readers' concerns live; stages never reach up into them.
READERS = {"service", "report", "exports", "mechanism", "pipeline", "deploy", "mission"}


@dataclass(frozen=True)
class Import:
    module: str  # importing module, dotted
    package: str  # its first-level package under trucewatch ("model" for model.py)
    line: int
    target: str  # imported module, dotted (absolute)
    in_function: bool
    comment: str  # the source line and the one above, to find a "lazy:" note


def _package(dotted: str) -> str:
    parts = dotted.split(".")
    if len(parts) == 1:
        return "<root>"
    return parts[1]


def _imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        is_init = parts[-1] == "__init__"
        if is_init:
            parts = parts[:-1]
        module = ".".join(parts)
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source, filename=str(path))
        parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = parts if is_init else parts[:-1]
                    base = base[: len(base) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                    targets = [stem]
                else:
                    targets = [node.module or ""]
            else:
                continue
            up, in_function = node, False
            while up in parents:
                up = parents[up]
                if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    in_function = True
                    break
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                continue
            context = "\n".join(lines[max(0, node.lineno - 2) : node.lineno])
            for target in targets:
                found.append(
                    Import(module, _package(module) if module != "trucewatch.model" else "model",
                           node.lineno, target, in_function, context)
                )
    return found


IMPORTS = _imports()


def _internal(imp: Import) -> str | None:
    """The first-level package an import points to, or None for third-party ones."""
    if imp.target == "trucewatch.model":
        return "model"
    if imp.target == "trucewatch" or imp.target.startswith("trucewatch."):
        return _package(imp.target)
    return None


def _fmt(bad: list[Import]) -> str:
    return "\n".join(f"  {i.module}:{i.line} imports {i.target}" for i in bad)


def test_the_graph_is_read() -> None:
    """Guards the guard: the walker sees the package and its internal imports."""
    assert len({i.module for i in IMPORTS}) > 50
    assert any(_internal(i) == "model" for i in IMPORTS)


def test_model_imports_nothing_from_the_project() -> None:
    bad = [i for i in IMPORTS if i.package == "model" and _internal(i) is not None]
    assert not bad, "trucewatch/model.py must stand alone:\n" + _fmt(bad)


def test_core_never_imports_simulator_benchmarks_or_cli() -> None:
    bad = [i for i in IMPORTS if i.package not in TOP and _internal(i) in TOP]
    assert not bad, "the core imports a top-level package:\n" + _fmt(bad)


def test_only_the_store_speaks_sql() -> None:
    bad = [
        i
        for i in IMPORTS
        if i.package != "store" and (i.target.split(".")[0] in {"sqlalchemy", "alembic", "psycopg", "sqlite3"})
    ]
    assert not bad, "SQL outside trucewatch/store:\n" + _fmt(bad)


def test_stages_meet_only_in_the_model() -> None:
    bad = [
        i
        for i in IMPORTS
        if i.package in STAGES and _internal(i) in (STAGES | READERS) - {i.package}
    ]
    assert not bad, "a stage imports another stage or a reader:\n" + _fmt(bad)


def test_no_cycles_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for i in IMPORTS:
        target = _internal(i)
        if target is not None and target != i.package and i.package != "<root>" and target != "<root>":
            graph[i.package].add(target)
    cycles: list[list[str]] = []
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if colour.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in colour:
                visit(nxt)
        stack.pop()
        colour[node] = 2

    for node in sorted(graph):
        if node not in colour:
            visit(node)
    assert not cycles, "package cycles:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)


def test_project_imports_sit_at_the_top_of_modules() -> None:
    bad = [i for i in IMPORTS if i.in_function and _internal(i) is not None]
    assert not bad, "function-level import of a project module (move it to the top):\n" + _fmt(bad)


def test_lazy_third_party_imports_say_why() -> None:
    bad = [i for i in IMPORTS if i.in_function and _internal(i) is None and "lazy" not in i.comment.lower()]
    assert not bad, (
        "function-level third-party import without a '# lazy: why' comment on it or the line above:\n"
        + _fmt(bad)
    )


@pytest.mark.parametrize("rule", ["sources", "fusion", "adjudication"])
def test_rule_table_is_not_empty(rule: str) -> None:
    """Each stage named in the rules exists, so a rename cannot silently disable a rule."""
    assert (ROOT / rule).is_dir()


def test_evidence_enters_only_through_the_ledger() -> None:
    """One door for evidence: only trucewatch/ledger calls ``Store.add_observations``
    (ledger.ingest.ingest verifies, stores and logs; every other module calls it)."""
    bad: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("ledger/", "store/")):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add_observations"):
                bad.append(f"  trucewatch/{rel}:{node.lineno}")
    assert not bad, "observations stored outside the ledger's ingest:\n" + "\n".join(bad)
