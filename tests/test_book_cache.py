"""nbval's executions reach the book build only when they passed, ran under the build flag, and read today's code."""

import nbformat
import pytest
from jupyter_cache import get_cache
from nbformat.v4 import new_code_cell, new_notebook

from utils.book_build import BUILD_FLAG
from utils.reader import book_cache

pytest_plugins = ["pytester"]


def chapter(*sources: str) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def test_the_fingerprint_changes_with_any_file_under_utils(tmp_path):
    (tmp_path / "utils" / "weights").mkdir(parents=True)
    (tmp_path / "utils" / "data.py").write_text("SCENES = 1\n")
    (tmp_path / "utils" / "weights" / "manifest.json").write_text("{}")
    before = book_cache.fingerprint(tmp_path)
    assert book_cache.fingerprint(tmp_path) == before
    (tmp_path / "utils" / "weights" / "manifest.json").write_text('{"fcn8s": 1}')
    assert book_cache.fingerprint(tmp_path) != before


def test_a_cache_that_read_other_code_is_dropped_and_a_current_one_kept(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / book_cache.MARKER).write_text("0" * 64)
    assert "dropped" in book_cache.drop_if_stale(cache) and not cache.exists()
    cache.mkdir()
    book_cache.mark_current(cache)
    assert "not rerun" in book_cache.drop_if_stale(cache) and cache.exists()
    (cache / book_cache.MARKER).unlink()
    assert "dropped" in book_cache.drop_if_stale(cache), "a cache nobody fingerprinted is not trusted"


def run_nbval(pytester, monkeypatch, tmp_path, flag: bool):
    """nbval with the plugin, in a fresh process, on a chapter that passes and one that fails; returns the cache."""
    pytester.makefile(".ipynb", passes=nbformat.writes(chapter("print(6 * 7)", "x = 1")),
                      fails=nbformat.writes(chapter("print(1)", "1 / 0")))
    pytester.makeconftest(f"""
from pathlib import Path
from tests import nbval_book_cache
from utils.reader import book_cache
nbval_book_cache.STAGING = Path({str(tmp_path / "staging")!r})
book_cache.CACHE = Path({str(tmp_path / "cache")!r})
""")
    monkeypatch.setenv("PYTHONPATH", str(book_cache.ROOT))
    if flag:
        monkeypatch.setenv(BUILD_FLAG, "1")
    else:
        monkeypatch.delenv(BUILD_FLAG, raising=False)
    pytester.runpytest_subprocess("--nbval-lax", "-p", "tests.nbval_book_cache", "-p", "no:cacheprovider")
    return tmp_path / "cache"


def test_a_chapter_that_passed_under_the_build_flag_is_served_from_the_cache(pytester, monkeypatch, tmp_path):
    cache = run_nbval(pytester, monkeypatch, tmp_path, flag=True)
    served = get_cache(cache)
    _, merged = served.merge_match_into_notebook(nbformat.read(pytester.path / "passes.ipynb", as_version=4))
    assert merged.cells[0].outputs[0].text == "42\n"
    assert merged.cells[0].execution_count == 1
    with pytest.raises(KeyError):  # a chapter with a failing cell is left for the build to run (and fail)
        served.match_cache_notebook(nbformat.read(pytester.path / "fails.ipynb", as_version=4))
    assert "not rerun" in book_cache.drop_if_stale(cache)


def test_without_the_build_flag_nothing_is_cached(pytester, monkeypatch, tmp_path):
    assert not run_nbval(pytester, monkeypatch, tmp_path, flag=False).exists()
