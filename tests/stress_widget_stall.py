"""Stress the book build's widget cell: run chapter 6's real interactive_figure cell N times under nbclient.

Run from the repository root with the course's environment:

    .venv/bin/python tests/stress_widget_stall.py 2000            # the issue's stress run
    .venv/bin/python tests/stress_widget_stall.py 20 --slow 0.3   # harness at its worst (as tests/test_widget_stall.py)
    .venv/bin/python tests/stress_widget_stall.py 5 --slow 0.3 --no-build-flag   # control: should stall every time

Defaults: build flag (COURSE_BOOK_BUILD=1) set, 5 s cell timeout, nbclient's Output handling NOT slowed, the
build's backstop (muted OutputWidget.sync_state) NOT applied, so the root fix in utils/reader/widgets.py is what
is exercised. One kernel is reused for speed (a fresh one after any timeout or dead kernel). A stall is a cell
that raised a timeout or took at least 0.9x the timeout (the race "succeeds" at exactly the timeout).
Prints "N executions, K stalls, max seconds X"; exits 1 if K > 0.
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path.cwd()
if not (ROOT / "utils" / "reader" / "widgets.py").exists():
    sys.exit("run from the repository root (cd /work/main)")
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellTimeoutError, DeadKernelError  # noqa: E402
from nbclient.output_widget import OutputWidget  # noqa: E402

from utils.book_build import BUILD_FLAG  # noqa: E402

IMPORTS = """
import ipywidgets
from utils.chapters.deconvolution_arithmetic import KINDS, draw_arithmetic, settle_arithmetic
from utils.reader.widgets import dropdown, interactive_figure, slider
"""
# lectures/06_deconvolution_arithmetic.ipynb, the widget cell, verbatim
WIDGET_CELL = """controls = {
    "kind": dropdown(KINDS, KINDS[1], "layer"),
    "i": slider(4, 1, 9, "input i"),
    "k": slider(3, 1, 6, "kernel k"),
    "s": slider(2, 1, 4, "stride s"),
    "p": slider(1, 0, 4, "padding p"),
    "d": slider(1, 1, 3, "dilation d"),
    "a": slider(1, 0, 3, "output padding a"),
}
interactive_figure(draw_arithmetic, settle=settle_arithmetic, **controls)"""
CLEANUP = "ipywidgets.Widget.close_all()"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=2000, help="executions of the widget cell")
    parser.add_argument("--timeout", type=float, default=5.0, help="cell timeout in seconds")
    parser.add_argument("--no-build-flag", action="store_true", help="run as a live notebook (control)")
    parser.add_argument("--slow", type=float, default=0.0, help="sleep this long in nbclient's OutputWidget.output")
    parser.add_argument("--backstop", action="store_true", help="also mute OutputWidget.sync_state as the build does")
    parser.add_argument("--cleanup-every", type=int, default=50, help="close all widgets in the kernel every M runs")
    args = parser.parse_args()

    if args.no_build_flag:
        os.environ.pop(BUILD_FLAG, None)
    else:
        os.environ[BUILD_FLAG] = "1"  # the kernel inherits it, as in the book build
    if args.slow:
        output = OutputWidget.output

        def slow_output(self, *a, **k):
            time.sleep(args.slow)
            return output(self, *a, **k)

        OutputWidget.output = slow_output
    if args.backstop:
        sys.path.insert(0, str(ROOT / "book" / "_ext"))
        import course_build
        course_build.mute_output_widget_echo()

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(IMPORTS),
                                               nbformat.v4.new_code_cell(WIDGET_CELL),
                                               nbformat.v4.new_code_cell(CLEANUP)])
    done, stalls, worst, kernels, begin = 0, [], 0.0, 0, time.monotonic()
    print(f"{BUILD_FLAG}={os.environ.get(BUILD_FLAG, '')!r}, timeout {args.timeout} s, slow {args.slow} s, "
          f"backstop {args.backstop}", flush=True)
    while done < args.n:
        client = NotebookClient(notebook, timeout=args.timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(ROOT)}})
        kernels += 1
        with client.setup_kernel():
            client.timeout = 120  # the imports: not what is measured
            client.execute_cell(notebook.cells[0], 0)
            client.timeout = args.timeout
            while done < args.n:
                start = time.monotonic()
                try:
                    client.execute_cell(notebook.cells[1], 1)
                    failed = None
                except (CellTimeoutError, DeadKernelError) as err:
                    failed = type(err).__name__
                seconds = time.monotonic() - start
                done += 1
                worst = max(worst, seconds)
                if failed or seconds >= 0.9 * args.timeout:
                    stalls.append((done, round(seconds, 2), failed))
                    print(f"stall: execution {done} took {seconds:.2f} s {failed or ''}", flush=True)
                    if failed:
                        break  # a fresh kernel
                if done % args.cleanup_every == 0:
                    client.execute_cell(notebook.cells[2], 2)
                if done % 100 == 0:
                    print(f"  {done}/{args.n}: {len(stalls)} stalls, max {worst:.2f} s, "
                          f"{time.monotonic() - begin:.0f} s elapsed", flush=True)
    print(f"{done} executions, {len(stalls)} stalls, max seconds {worst:.2f} "
          f"({kernels} kernel(s), {time.monotonic() - begin:.0f} s in all)", flush=True)
    return 1 if stalls else 0


if __name__ == "__main__":
    sys.exit(main())
