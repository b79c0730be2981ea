"""The book build never waits on a widget cell's lost reply, and a build in which a cell nearly timed out fails.

The race (``utils/reader/widgets.py``'s docstring): nbclient echoes a display inside an
``ipywidgets.Output`` to the kernel with a raw shell send while it waits for the
same cell's reply; if the reply arrived while nbclient was busy with the
display, that send swallows the socket's wake-up and the reply is read only at
the cell timeout. Slowing nbclient's display handling by 0.3 s (a busy 2-core
machine) makes the race happen every time, so each case below runs the
course's real ``interactive_figure`` in a real kernel: without either fix the
cell takes the whole timeout; with the root fix (nothing drawn into the Output
during the build) or with the build's backstop (the echo muted) it does not.
"""

import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.output_widget import OutputWidget

from utils.book_build import BUILD_FLAG

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
import course_build  # noqa: E402  (the book's Sphinx extension lives outside the package)

TIMEOUT = 8
IMPORT_TIMEOUT = 120
IMPORTS = """
from utils.chapters.deconvolution_arithmetic import draw_arithmetic, settle_arithmetic
from utils.reader.widgets import dropdown, interactive_figure, slider
"""
WIDGET_CELL = """
controls = {"kind": dropdown(["convolution", "transposed convolution"], "transposed convolution", "layer"),
            "i": slider(4, 1, 9, "i"), "k": slider(3, 1, 6, "k"), "s": slider(2, 1, 4, "s"),
            "p": slider(1, 0, 4, "p"), "d": slider(1, 1, 3, "d"), "a": slider(1, 0, 3, "a")}
interactive_figure(draw_arithmetic, settle=settle_arithmetic, **controls)
"""


@pytest.fixture
def busy_nbclient(monkeypatch):
    """nbclient's handling of an Output widget's display slowed by 0.3 s; its methods restored afterwards."""
    output = OutputWidget.output

    def slow_output(self, *args, **kwargs):
        time.sleep(0.3)
        return output(self, *args, **kwargs)

    monkeypatch.setattr(OutputWidget, "output", slow_output)
    monkeypatch.setattr(OutputWidget, "sync_state", OutputWidget.sync_state)
    return monkeypatch


def widget_cell_seconds(monkeypatch, build_flag: bool) -> float:
    """Seconds a fresh kernel takes to run the widget cell (after a cell of imports), the build flag set or not."""
    if build_flag:
        monkeypatch.setenv(BUILD_FLAG, "1")
    else:
        monkeypatch.delenv(BUILD_FLAG, raising=False)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(IMPORTS),
                                               nbformat.v4.new_code_cell(WIDGET_CELL)])
    # The imports get a generous timeout: a fresh kernel importing torch beside a parallel test worker can take
    # more than TIMEOUT; only the widget cell is held to it.
    client = NotebookClient(notebook, timeout=IMPORT_TIMEOUT, kernel_name="python3")
    with client.setup_kernel():
        client.execute_cell(notebook.cells[0], 0)
        client.timeout = TIMEOUT
        start = time.monotonic()
        client.execute_cell(notebook.cells[1], 1)
        return time.monotonic() - start


def test_without_either_fix_the_harness_reproduces_the_stall(busy_nbclient):
    """The control: proves the two tests below can fail (the cell waits its whole timeout)."""
    assert widget_cell_seconds(busy_nbclient, build_flag=False) >= 0.9 * TIMEOUT


def test_the_widget_draws_nothing_into_its_output_during_the_build(busy_nbclient):
    assert widget_cell_seconds(busy_nbclient, build_flag=True) < 2


def test_the_builds_backstop_mutes_the_echo(busy_nbclient):
    course_build.mute_output_widget_echo()
    assert widget_cell_seconds(busy_nbclient, build_flag=False) < 0.6 * TIMEOUT  # it draws the figure: slower


def test_the_backstop_fails_loudly_if_nbclient_renames_the_echo(monkeypatch):
    monkeypatch.delattr(OutputWidget, "sync_state")
    with pytest.raises(RuntimeError, match="sync_state is gone"):
        course_build.mute_output_widget_echo()


def test_a_cell_near_its_timeout_fails_the_build_and_is_named(monkeypatch):
    monkeypatch.setattr(NotebookClient, "async_execute_cell", NotebookClient.async_execute_cell)
    monkeypatch.setattr(course_build, "STALLS", [])
    # Half the timeout instead of 90%, so a loaded machine has 1.5 s of slack before the cell really times out.
    monkeypatch.setattr(course_build, "STALL_SHARE", 0.5)
    course_build.guard_cell_times(lambda: "lectures/99_slow")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time\ntime.sleep(0.1)"),
                                               nbformat.v4.new_code_cell("time.sleep(2.5)  # waits")])
    NotebookClient(notebook, timeout=4, kernel_name="python3").execute()
    assert len(course_build.STALLS) == 1 and "cell 1 of lectures/99_slow" in course_build.STALLS[0]
    course_build.fail_on_stalls(None, RuntimeError("another failure is reported as it is"))
    with pytest.raises(course_build.ExtensionError, match="'time.sleep\\(2.5\\)  # waits'"):
        course_build.fail_on_stalls(None, None)
