"""Refresh the outputs stored in the chapters: ``python -m tests.notebook_outputs lectures/NN_topic.ipynb ...``.

Executes each notebook top to bottom, then keeps only the outputs nbval
compares (cells marked ``# NBVAL_CHECK_OUTPUT``) and drops everything else:
figures, widget state, the other cells' execution counts. The book build re-executes every
chapter, so stored figures would only bloat the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and CHECK_MARK in cell.source


def is_small(output) -> bool:
    """Printed text: never a figure, never a myst-nb ``glue`` record (checked cells glue nothing)."""
    return output.output_type == "stream"


def strip(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep the printed outputs of checked cells only, no widget state.

    Checked cells keep their execution count: nbval treats a cell with outputs
    but no count as never run.
    """
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        checked = is_checked(cell)
        cell.outputs = [o for o in cell.outputs if is_small(o)] if checked else []
        if not checked:
            cell.execution_count = None
    return notebook


def refresh(path: Path, timeout: int = 300) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(strip(notebook), path)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        refresh(Path(name))
        print(f"refreshed {name}")
