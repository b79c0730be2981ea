"""Sphinx extension for the course's book.

- Tells the chapters' kernels that the book is being built: Jupyter Book runs
  every chapter from inside the Sphinx process, and each kernel inherits its
  environment, so setting ``COURSE_BOOK_BUILD`` here lets ``utils.twin.twin``
  render the kernel-free twins of the widgets for the book (and show nothing
  in a live notebook, where the real widget runs).
- Keeps the pages quiet offline: the theme's colour mode gets a default (an
  empty one makes pydata-sphinx-theme log a console error on every page), and
  the Thebe scripts Jupyter Book always adds are dropped: the book has no
  live-kernel button (chapters run on Colab or locally), and the scripts
  declare their CDN address twice, a console error of their own.
- Adds ``static/course.css``: a wider page on wide screens and code one step
  smaller than the prose, so the chapters' code lines fit the column.
- Adds the ``model-table`` directive: the model card's tables, read from the
  shipped manifest at build time, so the model card is a plain page (no
  kernel, no Colab button) that always describes the files that ship.
"""

import os

from docutils import nodes
from docutils.parsers.rst import Directive

from utils import model_card
from utils.twin import BUILD_FLAG

TABLES = {"models": model_card.describe_models, "training": model_card.training_table, "metrics": model_card.metrics_table,
          "instances": model_card.instance_table}


class ModelTable(Directive):
    """``{model-table} models|training|metrics|instances``: one of ``utils.model_card``'s HTML tables."""

    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        if name not in TABLES:
            raise self.error(f"model-table must be one of {sorted(TABLES)}, got {name!r}")
        return [nodes.raw("", TABLES[name](), format="html")]


def quiet_pages(app, pagename, templatename, context, doctree):
    """A default colour mode for the theme's inline script, and no Thebe scripts."""
    context["default_mode"] = "light"

    def is_thebe(script) -> bool:
        return "thebe" in (str(script) + str(getattr(script, "attributes", {}).get("body", ""))).lower()

    context["script_files"] = [s for s in context.get("script_files", []) if not is_thebe(s)]


def add_stylesheet(app):
    """Serve ``static/`` beside the theme's files and link ``course.css`` from every page."""
    app.config.html_static_path.append(os.path.join(os.path.dirname(__file__), "static"))
    app.add_css_file("course.css")


def setup(app):
    os.environ[BUILD_FLAG] = "1"
    app.connect("builder-inited", add_stylesheet)
    app.add_directive("model-table", ModelTable)
    app.connect("html-page-context", quiet_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
