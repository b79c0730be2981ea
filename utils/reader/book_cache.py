"""The chapters run once per ``make test``: nbval's executions handed to the book build, when nothing they read changed.

nbval and the book build both need every chapter executed; each execution of
the nine chapters costs about five minutes on a two-core machine. So
``make notebooks`` runs nbval with the book's build flag set
(``utils.book_build.BUILD_FLAG``: the widgets' twins render, progress bars
stay silent) and its plugin, ``tests/nbval_book_cache.py``, stores each chapter
that passed, with the outputs nbval collected, in the book's execution cache
(``CACHE``, jupyter-cache, ``_config.yml``'s ``execute.cache``). The book is
built with ``execute_notebooks: cache``: a chapter whose code cells match a
cached execution is not run again; any other chapter runs in the build.

What a chapter's outputs depend on besides its own cells (``utils/``, its
weights and records, the installed libraries) is fingerprinted in the
cache (``fingerprint``); the build's extension (``book/_ext/course_build.py``)
empties a cache whose fingerprint differs from today's before anything is
read, so the numbers on the page always come from today's code, whoever ran
it. A developer who edits ``utils/`` and runs ``make book`` gets every
chapter executed afresh.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from importlib.metadata import version
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
#: The book's execution cache (``_config.yml``: ``execute.cache``).
CACHE = ROOT / "_build" / ".jupyter_cache"
#: The file in the cache that holds the fingerprint of what its executions read.
MARKER = "course-fingerprint.txt"
#: The libraries whose versions change a chapter's outputs.
LIBRARIES = ("torch", "torchvision", "numpy", "scipy", "scikit-image", "matplotlib", "ipywidgets", "myst-nb")


def fingerprint(root: Path = ROOT) -> str:
    """sha256 over every file under ``root/utils`` (code, weights, records) and the Python and library versions."""
    digest = hashlib.sha256(f"python {sys.version}\n".encode())
    for library in LIBRARIES:
        digest.update(f"{library} {version(library)}\n".encode())
    for path in sorted((root / "utils").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def store(executed: dict[Path, nbformat.NotebookNode], cache: Path = CACHE) -> None:
    """Add these executed chapters (source path -> notebook with outputs) to ``cache``, fingerprinted as today's.

    A cache that read other code is dropped first, so every execution in it read today's.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    drop_if_stale(cache)
    jupyter_cache = get_cache(cache)
    for source, notebook in sorted(executed.items()):
        nbformat.validate(notebook)
        jupyter_cache.cache_notebook_bundle(CacheBundleIn(notebook, str(source.resolve())), check_validity=False,
                                            overwrite=True)
    mark_current(cache)


def drop_if_stale(cache: Path = CACHE) -> str:
    """Empty ``cache`` unless its fingerprint is today's; say what was done (one line, for the build's log)."""
    if not cache.exists():
        return "no executed chapters cached: every chapter runs in this build"
    marker = cache / MARKER
    if marker.exists() and marker.read_text().strip() == fingerprint():
        return "chapters whose cells match the cache's executions (same utils/, weights and libraries) are not rerun"
    shutil.rmtree(cache)
    return "the cached chapter executions read other code, weights or libraries: dropped, every chapter runs"


def mark_current(cache: Path = CACHE) -> None:
    """After a build that executed chapters into ``cache``: fingerprint them, so the next build may reuse them."""
    if cache.exists():
        (cache / MARKER).write_text(fingerprint() + "\n")
