"""Sphinx extension for the course's book.

- Tells the chapters' kernels that the book is being built: Jupyter Book runs
  every chapter from inside the Sphinx process, and each kernel inherits its
  environment, so setting ``COURSE_BOOK_BUILD`` here lets ``utils.reader.twin.twin``
  render the kernel-free twins of the widgets for the book (and show nothing
  in a live notebook, where the real widget runs).
- Keeps the pages quiet offline: the theme's colour mode gets a default (an
  empty one makes pydata-sphinx-theme log a console error on every page), and
  the Thebe scripts Jupyter Book always adds are dropped: the book has no
  live-kernel button (chapters run on Colab or locally), and the scripts
  declare their CDN address twice, a console error of their own.
- Adds ``static/course.css``: a wider page on wide screens and code one step
  smaller than the prose, so the chapters' code lines fit the column.
- Guards the build against a widget cell's lost reply (the mechanism is in
  ``utils/reader/widgets.py``'s docstring; ``interactive_figure`` fixes it at the
  root): nbclient's echo of Output-widget displays to the kernel is muted for
  the build (a static page never needs it), and a notebook cell that took at
  least ``STALL_SHARE`` of the cell timeout fails the build, named, so a
  recurrence can never pass as a slow build.
- Drops cached chapter executions that read other code, weights or
  libraries before anything is read, and fingerprints a successful build's
  (``utils/reader/book_cache.py``: ``make notebooks`` leaves nbval's
  executions there, so ``make test`` runs each chapter once).
- Adds the ``verdict-count`` directive: a sentence that counts, by kind,
  the verdicts the page glues from the chapters (``utils.verdicts.count_phrase``),
  filled in after every chapter has run, so the reproductions page's summary
  is computed like every other number.
- Adds the ``model-table`` directive: the model card's tables, read from the
  shipped manifest at build time, so the model card is a plain page (no
  kernel, no Colab button) that always describes the files that ship.
"""

import ast
import os
import time
from collections.abc import Callable

from docutils import nodes
from docutils.parsers.rst import Directive
from nbclient import NotebookClient
from myst_nb.ext.glue.crossref import PendingGlueReference, read_glue_cache
from nbclient.output_widget import OutputWidget
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

from utils.book_build import BUILD_FLAG
from utils.reader import book_cache
from utils.verdicts import count_phrase
from utils.zoo import model_card

TABLES = {"models": model_card.describe_models, "training": model_card.training_table, "metrics": model_card.metrics_table,
          "instances": model_card.instance_table, "classifiers": model_card.classifier_table,
          "limitations": model_card.limitations_table,
          "curves": model_card.learning_curves, "seeds": model_card.seeds_table}


logger = logging.getLogger(__name__)

#: The class that marks the paragraph ``{verdict-count}`` leaves for ``FillVerdictCount``.
COUNT_CLASS = "verdict-count"

#: A cell that takes this share of its timeout or more waited for a reply that had already arrived.
STALL_SHARE = 0.9
#: What the guard found in this build: one line per stalled cell.
STALLS: list[str] = []


def mute_output_widget_echo() -> None:
    """Make nbclient's ``OutputWidget.sync_state`` (its echo of Output-widget displays to the kernel) do nothing."""
    if not callable(getattr(OutputWidget, "sync_state", None)):
        raise RuntimeError("nbclient.output_widget.OutputWidget.sync_state is gone (renamed in this nbclient?): "
                           "find the method that sends Output-widget state to the kernel and mute it in "
                           "book/_ext/course_build.py")
    OutputWidget.sync_state = lambda self: None


def guard_cell_times(where: Callable[[], str]) -> None:
    """Time every cell nbclient executes; one that takes ``STALL_SHARE`` of the timeout or more goes to ``STALLS``.

    ``where()`` names the notebook being executed (the document Sphinx is reading).
    """
    execute = NotebookClient.async_execute_cell
    if getattr(execute, "guarded", False):
        return

    async def timed(client, cell, cell_index, *args, **kwargs):
        start = time.monotonic()
        try:
            return await execute(client, cell, cell_index, *args, **kwargs)
        finally:
            seconds = time.monotonic() - start
            if client.timeout and seconds >= STALL_SHARE * client.timeout:
                first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
                STALLS.append(f"cell {cell_index} of {where()} ({first_line[:60]!r}) took {seconds:.0f} s, "
                              f"at least {STALL_SHARE:.0%} of the {client.timeout} s cell timeout")

    timed.guarded = True
    NotebookClient.async_execute_cell = timed


def fail_on_stalls(app, exception) -> None:
    """``build-finished``: a build with a stalled cell fails and names it."""
    if exception is None and STALLS:
        raise ExtensionError("a notebook cell waited (nearly) its whole timeout, a lost kernel reply or a cell "
                             "too slow for the book: " + "; ".join(STALLS))


class ModelTable(Directive):
    """``{model-table} models|training|metrics|instances|classifiers|limitations|curves|seeds``: one of ``utils.zoo.model_card``'s HTML tables."""

    required_arguments = 1

    def run(self):
        name = self.arguments[0]
        if name not in TABLES:
            raise self.error(f"model-table must be one of {sorted(TABLES)}, got {name!r}")
        return [nodes.raw("", TABLES[name](), format="html")]


class VerdictCount(Directive):
    """``{verdict-count}``: a sentence counting the verdicts glued on this page, by kind (``utils.verdicts``)."""

    def run(self):
        return [nodes.paragraph(classes=[COUNT_CLASS])]


class FillVerdictCount(SphinxPostTransform):
    """Fill ``{verdict-count}`` from the chapters' glued verdicts; runs before myst-nb replaces the references."""

    default_priority = 4  # myst-nb's ReplacePendingGlueReferences runs at 5 and removes the references

    def apply(self, **kwargs):
        placeholders = [p for p in self.document.findall(nodes.paragraph) if COUNT_CLASS in p["classes"]]
        if not placeholders:
            return
        folder = self.env.mystnb_config.output_folder
        keys = {(ref.refdoc, ref.key) for ref in self.document.findall(PendingGlueReference)
                if ref.key.startswith("verdict_")}
        verdicts = [ast.literal_eval(read_glue_cache(folder, doc)[key]["data"]["text/plain"]) for doc, key in keys]
        for placeholder in placeholders:
            placeholder += nodes.Text(count_phrase(verdicts))


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


def drop_stale_executions(app, config) -> None:
    """``config-inited``: before any chapter is read, drop cached executions that read other code or weights."""
    logger.info(book_cache.drop_if_stale())


def mark_executions_current(app, exception) -> None:
    """``build-finished``: a build that succeeded leaves its chapters' executions fingerprinted for the next."""
    if exception is None and not STALLS:
        book_cache.mark_current()


def setup(app):
    os.environ[BUILD_FLAG] = "1"
    app.connect("config-inited", drop_stale_executions)
    app.connect("build-finished", mark_executions_current)
    mute_output_widget_echo()
    guard_cell_times(lambda: app.env.temp_data.get("docname", "a notebook"))
    app.connect("build-finished", fail_on_stalls)
    app.connect("builder-inited", add_stylesheet)
    app.add_directive("model-table", ModelTable)
    app.add_directive("verdict-count", VerdictCount)
    app.add_post_transform(FillVerdictCount)
    app.connect("html-page-context", quiet_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
