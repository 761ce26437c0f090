"""ARCHITECTURE.md's floors, enforced on the import graph of fernb/ (every import, function-level ones included)."""

import ast
from pathlib import Path

import fernb

ROOT = Path(fernb.__file__).parent
BASE = {"paths", "labels", "profiles", "progress"}
ALLOWED = {
    "base": set(),
    "data": {"base"},
    "models": {"base"},
    "results": {"base"},
    "annotate": {"base", "data"},
    "eval": {"base", "data", "models"},
    "train": {"base", "data", "models", "results", "annotate", "eval"},
    "viz": {"base", "data", "eval"},
    "chapter": {"base", "data", "models", "results", "annotate", "eval", "train", "viz"},
    "papers": {"base", "data", "models", "results", "annotate", "eval", "train", "viz", "chapter"},
    "book": {"base", "data", "models", "results", "annotate", "eval", "train", "viz", "chapter", "papers"},
}


def _modules() -> dict:
    out = {}
    for p in ROOT.rglob("*.py"):
        parts = p.relative_to(ROOT.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


SAME_FLOOR = {"recording": "book"}  # a module that shares another's floor (ARCHITECTURE.md's table names both)


def _floor(module: str) -> str:
    part = module.split(".")[1] if "." in module else "fernb"
    return "base" if part in BASE else SAME_FLOOR.get(part, part)


def _imports(modules: dict) -> dict:
    """module -> the fernb modules it imports (a name imported from a package counts as its submodule if one)."""
    def resolve(name):
        while name and name not in modules:
            name = name.rsplit(".", 1)[0] if "." in name else ""
        return name

    graph = {m: set() for m in modules}
    for m, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("fernb"):
                targets = [resolve(f"{node.module}.{a.name}") for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [resolve(a.name) for a in node.names if a.name.startswith("fernb")]
            graph[m] |= {t for t in targets if t and t != m and t != "fernb"}
    return graph


def test_every_import_respects_the_floors():
    modules = _modules()
    bad = []
    for m, targets in _imports(modules).items():
        if m == "fernb":
            continue
        here = _floor(m)
        assert here in ALLOWED, f"{m}: floor {here!r} is not in ARCHITECTURE.md's table"
        bad += [f"{m} -> {t}" for t in sorted(targets)
                if _floor(t) != here and _floor(t) not in ALLOWED[here]]
    assert not bad, "imports that break ARCHITECTURE.md's floors:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph = _imports(_modules())
    state, cycles = {}, []

    def visit(v, stack):
        state[v] = "open"
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == "open":
                cycles.append(" -> ".join(stack[stack.index(w):] + [w]))
            elif w not in state:
                visit(w, stack)
        stack.pop()
        state[v] = "done"

    for v in sorted(graph):
        if v not in state:
            visit(v, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_floors_table_in_architecture_md_names_every_floor():
    text = (ROOT.parent / "ARCHITECTURE.md").read_text()
    for floor in ALLOWED:
        assert f"| {floor} |" in text, f"ARCHITECTURE.md has no row for floor {floor!r}"
    for module, floor in SAME_FLOOR.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {floor} |"))
        assert f"`fernb.{module}`" in row, f"ARCHITECTURE.md's {floor} row does not name fernb.{module}"
