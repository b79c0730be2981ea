"""Sphinx extension: tell the chapters' kernels that the book is being built.

Jupyter Book executes every chapter from inside the Sphinx process, and each
kernel inherits its environment. Setting ``COURSE_BOOK_BUILD`` here lets
``utils.twin.twin`` render the kernel-free twins of the widgets for the book,
and show nothing in a live notebook, where the real widget is running.
"""

import os

from utils.twin import BUILD_FLAG


def setup(app):
    os.environ[BUILD_FLAG] = "1"
    return {"parallel_read_safe": True, "parallel_write_safe": True}
