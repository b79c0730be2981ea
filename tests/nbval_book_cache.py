"""A pytest plugin for ``make notebooks``: each chapter nbval ran, every cell passing, goes to the book's cache.

Loaded with ``-p tests.nbval_book_cache``; it acts only when the book's build
flag is set (the Makefile sets it), so the cached outputs are the ones the
book build itself would produce. Each pytest-xdist worker writes the chapters
it ran to ``STAGING``; the controlling process stores them all at the end
(``utils.reader.book_cache.store``: one writer for the cache's database).
Why: ``utils/reader/book_cache.py``.
"""

from __future__ import annotations

import copy
import shutil
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import IPyNbCell

from utils.book_build import building_book
from utils.reader import book_cache

STAGING = book_cache.ROOT / "_build" / "nbval_executed"

#: Per notebook (its source path): the outputs of each code cell that ran, and whether every cell passed.
OUTPUTS: dict[Path, dict[int, list]] = defaultdict(dict)
FAILED: set[Path] = set()


def pytest_sessionstart(session):
    OUTPUTS.clear()
    FAILED.clear()
    if building_book() and not hasattr(session.config, "workerinput"):
        shutil.rmtree(STAGING, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if isinstance(item, IPyNbCell) and report.failed:
        FAILED.add(Path(item.path))


def pytest_runtest_teardown(item, nextitem):
    """After a chapter's last cell: write the chapter, with nbval's outputs, if every cell ran and passed."""
    if not building_book() or not isinstance(item, IPyNbCell):
        return
    source = Path(item.path)
    if item.test_outputs is not None:  # None: the cell never ran (nbval skips the rest of a timed-out chapter)
        OUTPUTS[source][item.cell_num] = item.test_outputs
    if nextitem is not None and Path(nextitem.path) == source:
        return
    code_cells = [cell for cell in item.parent.nb.cells if cell.cell_type == "code"]
    if source in FAILED or len(OUTPUTS[source]) != len(code_cells):
        return
    executed = copy.deepcopy(item.parent.nb)
    for number, cell in enumerate(c for c in executed.cells if c.cell_type == "code"):
        cell.outputs = OUTPUTS[source][number]
        cell.execution_count = number + 1
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = number + 1
    STAGING.mkdir(parents=True, exist_ok=True)
    nbformat.write(executed, STAGING / source.name)
    (STAGING / f"{source.name}.source").write_text(str(source.resolve()))


def pytest_sessionfinish(session, exitstatus):
    if not building_book() or hasattr(session.config, "workerinput"):
        return
    executed = {Path((STAGING / f"{path.name}.source").read_text()): nbformat.read(path, as_version=4)
                for path in STAGING.glob("*.ipynb")}
    if executed:
        book_cache.store(executed, book_cache.CACHE)
