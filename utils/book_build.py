"""Whether this process runs inside the book build, and progress bars that stay silent there (every chapter).

``book/_ext/course_build.py`` sets ``BUILD_FLAG`` in the Sphinx process and
the chapters' kernels inherit it: the widgets then draw nothing live
(``utils.reader.widgets``), the twins render (``utils.reader.twin``), and a
slow cell's progress bar, which a reader running the chapter should see,
stays out of the built page.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from tqdm.auto import tqdm

#: Set (to anything) while the book is built.
BUILD_FLAG = "COURSE_BOOK_BUILD"


def building_book() -> bool:
    """Whether this kernel runs inside the book build (see ``BUILD_FLAG``)."""
    return bool(os.environ.get(BUILD_FLAG))


def progress(iterable: Iterable, description: str, total: int | None = None) -> Iterable:
    """``iterable`` with a progress bar for a reader waiting on a slow cell; silent in the book build."""
    return tqdm(iterable, desc=description, total=total, disable=building_book(), leave=False, mininterval=0.5)
