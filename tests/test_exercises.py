"""Exercise starters leave the work to the reader: every starter cell, run as shipped, gets "not yet" from its checker."""

import ast
import json
from pathlib import Path

import pytest
import torch
from torch import nn

from utils.models import FCN8s, Upsample
from utils.reader import exercises

LECTURES = Path(__file__).resolve().parents[1] / "lectures"
CHAPTERS = sorted(p for p in LECTURES.glob("0*.ipynb"))


def starter_cells(path: Path) -> list[str]:
    """Code cells that call an exercise checker (``check_...`` or ``compare``)."""
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"
            and any(f"{name}(" in "".join(c["source"]) for name in dir(exercises) if name.startswith("check_"))]


def run_cell(source: str, namespace: dict):
    """Execute a cell; return the value of its last expression, as a notebook would display it."""
    tree = ast.parse(source)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None


@pytest.mark.parametrize("path", [p for p in CHAPTERS if starter_cells(p)], ids=lambda p: p.name)
def test_no_starter_passes_its_own_checker(path):
    namespace = {"torch": torch, "nn": nn, "FCN8s": FCN8s, "Upsample": Upsample}
    for source in starter_cells(path):
        result = run_cell(source, namespace)
        assert isinstance(result, str) and result.startswith("not yet"), f"{path.name}: {source[:60]!r} -> {result!r}"


def test_the_checkers_accept_the_solutions():
    assert exercises.check_pyramid_fields([14, 31, 65]).startswith("correct")
    assert exercises.check_refinement_field(83, passes=3).startswith("correct")
    assert exercises.check_ap_by_hand([True, False, True], 0.835).startswith("correct")
    assert exercises.check_ap_by_hand([True, True, True], 0.835).startswith("not yet")
    assert exercises.check_bilinear_kernel(1 - (torch.arange(8) - 3.5).abs() / 4).startswith("correct")
    assert exercises.check_fcn8s_output_size(128).startswith("correct")
    assert exercises.check_checkerboard({(3, 2): True, (4, 2): False, (5, 2): True, (6, 3): False,
                                         (3, 3): False, (5, 3): True}).startswith("correct")


def test_the_fcn4s_checker_tells_a_working_model_from_a_broken_one():
    from utils.models.fcn import score_layer

    class FCN4s(FCN8s):
        def __init__(self, num_classes):
            super().__init__(num_classes)
            self.upscore_pool3 = Upsample(num_classes, 2)
            self.score_pool2 = score_layer(self.backbone.channels[1], num_classes)
            self.upscore4 = Upsample(num_classes, 4)

        def stages(self, x):
            s = super().stages(x)
            features = self.backbone(x)
            s["fuse_pool2"] = self.upscore_pool3(s["fuse_pool3"]) + self.score_pool2(features["pool2"])
            s["out"] = self.upscore4(s["fuse_pool2"])
            return s

    assert exercises.check_fcn4s(FCN4s).startswith("correct")
    assert exercises.check_fcn4s(FCN8s).startswith("not yet")


def test_feedback_shows_as_plain_text_in_a_notebook():
    """A checker's answer is the last value of a cell: its repr is what the reader sees, so no quotes."""
    answer = exercises.check_receptive_field(0, [("conv", 3, 1)])
    assert repr(answer) == str(answer) and answer.startswith("not yet")
