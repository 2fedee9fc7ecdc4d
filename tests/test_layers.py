"""The import graph of src/ganforge, read with ast (imports inside functions included): no cycles,
and no module imports a layer above its own. `pytest -s tests/test_layers.py` prints the summary."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ganforge"

# Lowest first. A module belongs to the first entry that is its name or a package above it;
# a module may import its own layer or any lower one, never a higher one.
LAYERS = [
    ("errors", "files", "optional", "resources", "sniff", "version", "config"),
    ("data", "nn", "losses", "augment"),
    ("models",),
    ("metrics", "viz"),
    ("engine",),
    ("tasks",),
    ("use",),
    ("commands", "cli", "api", "__main__", ""),   # "": the package root, ganforge/__init__.py
]


def module_names(src: Path = SRC) -> dict[str, Path]:
    """Dotted name (without the leading "ganforge.") -> file; a package is its __init__.py ("" the root)."""
    names = {}
    for path in sorted(src.rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def layer_of(name: str) -> int:
    for level, heads in enumerate(LAYERS):
        for head in heads:
            if name == head or (head and name.startswith(head + ".")):
                return level
    raise AssertionError(f"ganforge.{name} is in no layer: add it to LAYERS in tests/test_layers.py")


def _resolve(name: str, modules: dict, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """The ganforge modules a `from ... import ...` names, relative to the module `name`."""
    if node.level:
        base = name.split(".") if name else []
        if not is_package:
            base = base[:-1]
        base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
        target = ".".join(base + ([node.module] if node.module else []))
    elif node.module == "ganforge" or (node.module or "").startswith("ganforge."):
        target = node.module[len("ganforge."):] if node.module != "ganforge" else ""
    else:
        return []
    out = []
    for alias in node.names:   # `from pkg import submodule` is an edge to the submodule
        sub = f"{target}.{alias.name}" if target else alias.name
        out.append(sub if sub in modules else target)
    return out


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """module -> the ganforge modules it imports anywhere in its file (top level, functions, if-blocks)."""
    modules = module_names(src)
    graph = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("ganforge."):
                        target = alias.name[len("ganforge."):]
                        while target not in modules and "." in target:
                            target = target.rsplit(".", 1)[0]
                        edges.add(target)
            elif isinstance(node, ast.ImportFrom):
                edges.update(_resolve(name, modules, path.name == "__init__.py", node))
        edges.discard(name)
        graph[name] = {e for e in edges if e in modules}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, edges in graph.items() for b in edges if layer_of(b) > layer_of(a))


def _name(m: str) -> str:
    return f"ganforge.{m}" if m else "ganforge"


def test_import_graph_has_no_cycles_and_no_upward_imports():
    graph = import_graph()
    found_cycles, found_up = cycles(graph), upward(graph)
    n_edges = sum(len(e) for e in graph.values())
    print(f"\nimport graph: {len(graph)} modules, {n_edges} imports, {len(found_cycles)} cycles, "
          f"{len(found_up)} upward imports")
    problems = [f"cycle: {' <-> '.join(map(_name, c))}" for c in found_cycles]
    problems += [f"upward: {_name(a)} (layer {layer_of(a)}) imports {_name(b)} (layer {layer_of(b)})"
                 for a, b in found_up]
    assert not problems, "\n".join(problems)


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_checker_sees_function_level_relative_and_absolute_imports(tmp_path):
    src = _write(tmp_path / "ganforge", {
        "__init__.py": "",
        "errors.py": "def f():\n    from .engine import loop\n",          # upward, inside a function
        "engine/__init__.py": "",
        "engine/loop.py": "import ganforge.errors\nfrom ..models import registry\n",
        "models/__init__.py": "from . import registry\n",
        "models/registry.py": "from .. import engine\n",                  # upward
    })
    graph = import_graph(src)
    assert graph["errors"] == {"engine.loop"}
    assert graph["engine.loop"] == {"errors", "models.registry"}
    assert graph["models"] == {"models.registry"}
    assert cycles(graph) == [["engine.loop", "errors"]]
    assert ("errors", "engine.loop") in upward(graph) and ("models.registry", "engine") in upward(graph)


def test_checker_names_a_module_outside_every_layer():
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("stray")


def test_each_command_module_serves_the_command_it_is_named_after():
    import argparse
    import importlib

    from ganforge.cli import COMMAND_MODULES

    for name in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(f"ganforge.commands.{name}").register(sub)
        assert list(sub.choices) == [name.rstrip("_")], f"commands/{name}.py registers {list(sub.choices)}"
    helpers = {"sample_media"}   # sample's clip and level views, imported by commands/sample.py
    files = {p.stem for p in (SRC / "commands").glob("*.py")} - {"__init__"}
    assert files == set(COMMAND_MODULES) | helpers
