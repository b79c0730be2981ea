"""``utils/`` in layers: imports only point down, no cycle, no import hidden in a function, a module per chapter.

The layers, bottom to top: the science (``utils/*.py``: no model, no
weights), ``utils/models``, ``utils/zoo``, ``utils/chapters``, ``utils/reader``;
the two commands (``utils/train.py``, ``utils/evaluate.py``) sit on top and
nothing imports them. Read from every module's source (``ast``), so a new
module that breaks the layering fails here with the import named.
"""

import ast
import re
from pathlib import Path

import pytest

from utils.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
UTILS = ROOT / "utils"
LAYERS = ("science", "models", "zoo", "chapters", "reader", "commands")
COMMANDS = {"utils.train", "utils.evaluate"}


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_of(p): p for p in sorted(UTILS.rglob("*.py"))}


def layer(module: str) -> str:
    parts = module.split(".")
    if module in COMMANDS:
        return "commands"
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "science"


def imports(module: str) -> list[tuple[str, int, bool]]:
    """``(imported utils module, line, at module level)`` for every import of ``module`` that reaches into ``utils``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    top = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            if name == "utils" or name.startswith("utils."):
                found.append((name if name in MODULES else name.rpartition(".")[0], node.lineno, id(node) in top))
    return found


EDGES = {module: imports(module) for module in MODULES}
CHAPTER_RANK = {f"utils.chapters.{name}": n for n, name in enumerate(CHAPTERS)}


def upward(edges: dict) -> list[str]:
    """Imports of a command, of a higher layer, or of a chapter that is not earlier."""
    wrong = []
    for importer, found in edges.items():
        for imported, line, _ in found:
            if imported in COMMANDS:
                wrong.append(f"{importer}:{line} imports the command {imported}; move what it needs into utils.zoo")
            elif LAYERS.index(layer(imported)) > LAYERS.index(layer(importer)):
                wrong.append(f"{importer}:{line} imports {imported}: {layer(importer)} must not import {layer(imported)}")
            elif importer in CHAPTER_RANK and CHAPTER_RANK.get(imported, -1) >= CHAPTER_RANK[importer]:
                wrong.append(f"{importer}:{line} imports {imported}, a chapter that is not an earlier one")
    return wrong


def hidden(edges: dict) -> list[str]:
    """Imports of ``utils`` inside a function or class (a lazy import that dodges a cycle or hides a dependency)."""
    return [f"{importer}:{line} imports {imported} inside a function or class"
            for importer, found in edges.items() for imported, line, top in found if not top]


def cycle(edges: dict) -> list[str]:
    """One import cycle as a list of modules (first = last), or ``[]``."""
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> list[str]:
        state[module] = 1
        for imported, _, _ in edges.get(module, []):
            if imported != module and state.get(imported) == 1:
                return path[path.index(imported):] + [imported]
            if imported not in state and (found := visit(imported, path + [imported])):
                return found
        state[module] = 2
        return []

    for module in edges:
        if module not in state and (found := visit(module, [module])):
            return found
    return []


def test_every_import_points_down_and_nothing_imports_the_commands():
    assert not (wrong := upward(EDGES)), "\n".join(wrong)


def test_no_import_of_utils_hides_inside_a_function():
    assert not (found := hidden(EDGES)), "\n".join(found)


def test_the_import_graph_has_no_cycle():
    assert not (found := cycle(EDGES)), "import cycle: " + " -> ".join(found)


def test_the_checks_catch_what_they_are_for():
    edges = {"utils.metrics": [("utils.zoo.checkpoints", 3, True)],
             "utils.zoo.checkpoints": [("utils.metrics", 9, False), ("utils.train", 10, True)],
             "utils.chapters.multiscale": [("utils.chapters.iterative_refinement", 5, True)]}
    assert upward(edges) == ["utils.metrics:3 imports utils.zoo.checkpoints: science must not import zoo",
                             "utils.zoo.checkpoints:10 imports the command utils.train; move what it needs into utils.zoo",
                             "utils.chapters.multiscale:5 imports utils.chapters.iterative_refinement, "
                             "a chapter that is not an earlier one"]
    assert hidden(edges) == ["utils.zoo.checkpoints:9 imports utils.metrics inside a function or class"]
    assert cycle(edges) == ["utils.metrics", "utils.zoo.checkpoints", "utils.metrics"]


def test_every_chapter_has_its_module_named_after_it():
    lectures = sorted(p.stem for p in (ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))
    names = [re.sub(r"^\d\d_", "", stem) for stem in lectures]
    assert tuple(names) == CHAPTERS, "CHAPTERS must list lectures/NN_name.ipynb in order"
    missing = [name for name in names if f"utils.chapters.{name}" not in MODULES]
    assert not missing, f"no utils/chapters/<name>.py for: {missing}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_says_which_chapter_teaches_it(module):
    docstring = ast.get_docstring(ast.parse(MODULES[module].read_text())) or ""
    assert re.search(r"chapter|lectures/", docstring, re.I), f"{module}'s docstring names no chapter"
