"""The one verdict rule: every kind of claim, every outcome, the refusals, the count, and every chapter using it."""

import ast
from pathlib import Path

import nbformat
import pytest

from utils.verdicts import VERDICTS, count_phrase, verdict


def test_a_claimed_gain_needs_the_interval_and_three_seeds_above_zero():
    assert verdict("greater", (0.05, 0.02, 0.08)) == "consistent with"  # one training run: not enough
    assert verdict("greater", (0.05, 0.02, 0.08), seeds=[0.05, 0.06]) == "consistent with"
    assert verdict("greater", (0.05, 0.02, 0.08), trained=False) == "direction reproduced"  # e.g. a speed-up
    assert verdict("greater", (0.05, 0.02, 0.08), seeds=[0.04, 0.06, 0.05]) == "direction reproduced"
    assert verdict("greater", (0.05, 0.02, 0.08), seeds=[0.04, -0.01, 0.05]) == "inside the noise"
    assert verdict("greater", (0.01, -0.01, 0.03)) == "inside the noise"
    assert verdict("greater", (-0.05, -0.08, -0.02), seeds=[-0.04, -0.03]) == "not reproduced"


def test_no_difference_is_reproduced_only_by_a_narrow_interval():
    assert verdict("equal", (0.002, -0.004, 0.007), seeds=[0.002, -0.003, 0.001]) == "reproduced"
    assert verdict("equal", (0.002, -0.004, 0.007), seeds=[0.002, 0.02, 0.001]) == "consistent with"
    assert verdict("equal", (0.002, -0.004, 0.007)) == "consistent with"  # one training run rules out too little
    assert verdict("equal", (0.01, -0.02, 0.04)) == "consistent with"
    assert verdict("equal", (0.03, 0.01, 0.05)) == "not reproduced"


def test_exact_claims_and_refusals():
    assert verdict("exact", holds=True) == "reproduced" and verdict("exact", holds=False) == "not reproduced"
    with pytest.raises(ValueError, match="claim must be one of"):
        verdict("bigger", (0.1, 0.0, 0.2))
    with pytest.raises(ValueError, match="holds"):
        verdict("exact")
    with pytest.raises(ValueError, match="interval"):
        verdict("greater")
    assert set(VERDICTS) >= {verdict("greater", (0, -1, 1)), verdict("equal", (0, -1, 1))}


def test_the_count_lists_every_kind_and_refuses_an_unknown_verdict():
    phrase = count_phrase(["reproduced", "inside the noise", "inside the noise", "not reproduced"])
    assert phrase == ("4 claims tested: 1 reproduced, 0 direction reproduced, 0 consistent with, "
                      "2 inside the noise, 1 not reproduced.")
    with pytest.raises(ValueError, match="verdicts: \\['outside the noise'\\]"):
        count_phrase(["reproduced", "outside the noise"])


def _key_text(key: ast.expr) -> str:
    """The text of a glue key: a literal, an f-string's literal parts, or a variable's name."""
    if isinstance(key, ast.Constant):
        return str(key.value)
    if isinstance(key, ast.JoinedStr):
        return "".join(str(part.value) for part in key.values if isinstance(part, ast.Constant))
    return key.id if isinstance(key, ast.Name) else ""


def _glued_verdicts(tree: ast.AST) -> list[ast.Call]:
    """The ``glue(key, value)`` calls of a cell whose key says "verdict" (literal, f-string or variable)."""
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "glue"
            and node.args and "verdict" in _key_text(node.args[0])]


def test_the_scan_sees_every_form_of_key():
    cell = 'glue("verdict_a", x)\nglue(f"verdict_{name}", x)\nglue(key_verdict, x)\nglue("size_verdict", x)\nglue("b", x)'
    assert len(_glued_verdicts(ast.parse(cell))) == 4


@pytest.mark.parametrize("path", sorted(Path("lectures").glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_chapter_verdict_is_a_call_of_the_one_rule(path):
    cells = [c.source for c in nbformat.read(path, 4).cells if c.cell_type == "code"]
    trees = [ast.parse("\n".join(line for line in s.splitlines() if not line.lstrip().startswith(("%", "!"))))
             for s in cells]
    calls = [call for tree in trees for call in _glued_verdicts(tree)]
    for call in calls:
        value = call.args[1]
        assert isinstance(value, ast.Call) and getattr(value.func, "id", None) == "verdict", (
            f"{path.name}: {ast.unparse(call)} does not glue a call of utils.verdicts.verdict")
    imports = {(n.module, alias.name) for tree in trees for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
               for alias in n.names}
    if calls:
        assert ("utils.verdicts", "verdict") in imports, f"{path.name} must import verdict from utils.verdicts"
    assert not any(name == "verdict" and module != "utils.verdicts" for module, name in imports)


@pytest.mark.parametrize("path", sorted(Path("lectures").glob("[0-9]*.ipynb")), ids=lambda p: p.stem)
def test_the_scoreboard_lists_every_verdict_a_chapter_glues(path):
    page = Path("book/reproductions.md").read_text()
    trees = [ast.parse(c.source) for c in nbformat.read(path, 4).cells if c.cell_type == "code"]
    # Every "verdict_..." string of the chapter's code (a key may sit in a tuple a loop glues, or be an f-string's
    # literal part, under which the page must list some verdict).
    keys = {node.value for tree in trees for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("verdict_")}
    assert keys or not any(_glued_verdicts(tree) for tree in trees)
    for key in sorted(keys):
        assert f"{path.name}::{key}" in page, f"book/reproductions.md has no row for {path.name}'s {key}"
