"""Stored notebooks carry no bloat: no figures, no widget state, only the outputs nbval compares."""

import json
import re
from pathlib import Path

import nbformat
import pytest

from tests.notebook_outputs import is_small

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "lectures").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_only_checked_outputs_are_stored(path):
    notebook = json.loads(path.read_text())
    assert "widgets" not in notebook["metadata"]
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        checked = "# NBVAL_CHECK_OUTPUT" in "".join(cell["source"])
        if checked:
            assert cell["outputs"], f"a checked cell of {path.name} has no stored output to compare"
            # nbval would compare a glued value's full repr, whose last bits differ between machines
            assert not re.search(r"\bglue\w*\(", "".join(cell["source"])), f"a checked cell of {path.name} glues: glue in a hidden cell"
        else:
            assert not cell["outputs"], f"{path.name} stores an output nbval does not check"
        assert all(is_small(nbformat.from_dict(o)) for o in cell["outputs"]), f"{path.name} stores a figure"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widgets_have_a_kernel_free_twin(path):
    """A cell that builds an interactive figure is hidden in the book and followed by its twin (``utils.reader.twin``)."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    widgets = 0
    for cell, following in zip(cells, cells[1:] + [None]):
        if "interactive_figure(" in "".join(cell["source"]):
            widgets += 1
            assert "remove-output" in cell["metadata"].get("tags", [])
            assert following is not None and "".join(following["source"]).startswith("twin(")
    assert widgets, f"{path.name} has no widget"
