"""Kernel-free twins of the chapters' widgets: pre-rendered frames behind plain HTML controls.

A static book has no kernel to run a widget's Python callback. So while the
book is built, ``twin(draw, controls, **grid)`` calls the widget's own pure
``draw(**params)`` for every combination of the ``grid`` values (the other
controls stay at their defaults) and writes one self-contained HTML block: a
range input, check box or menu per varied control, the frames as inline PNG
images and a few lines of inline script that show the frame for the chosen
setting. No CDN, no network: it works from ``file://`` and any static host.
A setting ``draw`` refuses (``ValueError``) becomes a frame that shows the
message. The controls offer only the pre-rendered values.

In a live notebook (Jupyter, Colab) the real widget above it does the job,
so ``twin`` shows nothing there. The book build is recognised by the
``COURSE_BOOK_BUILD`` environment variable that ``book/_ext/course_build.py``
sets in the Sphinx process (the kernels inherit it). Used by every chapter.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import HTML
from matplotlib.figure import Figure

from ..book_build import building_book
from .widgets import settled

#: Resolution of the frames: the book shows them at about 100 dpi; fewer bytes per frame.
FRAME_DPI = 80
#: The page-weight budget of one twin (checked when it is built).
MAX_BYTES = 1_500_000
#: Inline styles (the twin must look right without the theme's CSS): controls spaced on wrapping rows,
#: each slider's readout wide enough that the next label never touches it.
CONTROLS_STYLE = "display: flex; flex-wrap: wrap; gap: 0.3em 1.5em; align-items: center; margin-bottom: 0.5em"
VALUE_STYLE = "display: inline-block; min-width: 2.5em"
#: Distinguishes twins of one page (and keeps their ids the same from build to build).
_COUNTER = itertools.count()

_SCRIPT = """
(function () {
  var root = document.getElementById(%(id)s);
  var data = JSON.parse(root.querySelector("script.twin-data").textContent);
  var inputs = Array.prototype.slice.call(root.querySelectorAll("[data-control]"));
  var img = root.querySelector("img.twin-frame"), note = root.querySelector(".twin-message");
  function position(el) {
    var values = data.values[Number(el.dataset.control)];
    return el.type === "checkbox" ? values.indexOf(el.checked) : Number(el.value);
  }
  function show() {
    var positions = [];
    inputs.forEach(function (el) { positions[Number(el.dataset.control)] = position(el); });
    var key = positions.join(",");
    var frame = data.frames[key];
    inputs.forEach(function (el) {
      var label = root.querySelector("[data-value-of='" + el.dataset.control + "']");
      if (label) { label.textContent = data.labels[Number(el.dataset.control)][position(el)]; }
    });
    root.dataset.frame = key;
    if (typeof frame === "number") {
      img.src = data.images[frame]; img.style.display = ""; note.textContent = "";
    } else {
      img.style.display = "none"; note.textContent = frame;
    }
  }
  inputs.forEach(function (el) { el.addEventListener("input", show); el.addEventListener("change", show); });
  show();
})();
"""


def figure_png(figure: Figure) -> str:
    """A figure as a ``data:`` URL of a PNG at FRAME_DPI; the figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FRAME_DPI, bbox_inches="tight")
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def grid_values(name: str, control: widgets.ValueWidget, values: Sequence | None) -> list:
    """The values control ``name`` takes in the twin: ``values`` (checked against the live control), or its default.

    The default comes first if ``values`` lacks it, so the twin opens on the same figure as the live widget.
    """
    if values is None:
        return [control.value]
    values = list(values)
    if not values:
        raise ValueError(f"{name}: give at least one value")
    for value in values:
        allowed = (value in control.options if isinstance(control, widgets.Dropdown)
                   else isinstance(value, bool) if isinstance(control, widgets.Checkbox)
                   else control.min <= value <= control.max)
        if not allowed:
            raise ValueError(f"{name}: {value!r} is not a value the live control offers")
    return values if control.value in values else [control.value, *values]


def render_frames(draw: Callable[..., Figure], names: list[str], values: list[list],
                  settle: Callable[[dict], dict] | None = None) -> tuple[dict, list[str]]:
    """``draw`` at every combination: ``{"i,j,...": image index or refusal message}`` and the distinct images.

    ``settle`` adjusts each combination as the live widget would (``widgets.settled``).
    """
    frames, images, seen = {}, [], {}
    for positions in itertools.product(*(range(len(v)) for v in values)):
        params, _ = settled(settle, {name: values[k][p] for k, (name, p) in enumerate(zip(names, positions))})
        key = ",".join(map(str, positions))
        try:
            url = figure_png(draw(**params))
        except ValueError as err:
            plt.close("all")
            frames[key] = f"Not possible: {err}"
            continue
        if url not in seen:
            seen[url] = len(images)
            images.append(url)
        frames[key] = seen[url]
    return frames, images


def control_html(index: int, name: str, control: widgets.ValueWidget, values: list) -> str:
    """The HTML input for one varied control: a check box, a menu or a range over the value positions."""
    label = html.escape(control.description or name)
    start = values.index(control.value)
    if isinstance(control, widgets.Checkbox) and sorted(values) == [False, True]:
        checked = " checked" if control.value else ""
        return f'<label>{label} <input type="checkbox" data-control="{index}"{checked}></label>'
    if isinstance(control, widgets.Dropdown):
        options = "".join(f'<option value="{i}"{" selected" if i == start else ""}>{html.escape(str(v))}</option>'
                          for i, v in enumerate(values))
        return f'<label>{label} <select data-control="{index}">{options}</select></label>'
    return (f'<label>{label} <input type="range" min="0" max="{len(values) - 1}" step="1" value="{start}" '
            f'data-control="{index}"> <span data-value-of="{index}" style="{VALUE_STYLE}"></span></label>')


def twin_html(draw: Callable[..., Figure], controls: dict[str, widgets.ValueWidget],
              settle: Callable[[dict], dict] | None = None, **grid: Sequence) -> str:
    """The self-contained HTML of a twin: controls, the default frame as a plain image, the other frames, a script."""
    unknown = set(grid) - set(controls)
    if unknown:
        raise ValueError(f"grid names controls the widget does not have: {sorted(unknown)}")
    names = list(controls)
    values = [grid_values(name, controls[name], grid.get(name)) for name in names]
    start = time.perf_counter()
    frames, images = render_frames(draw, names, values, settle)
    seconds = time.perf_counter() - start
    default_key = ",".join(str(v.index(controls[n].value)) for n, v in zip(names, values))
    block = assemble(draw.__name__, controls, values, frames, images, default_key, seconds)
    if len(block) > MAX_BYTES:
        raise ValueError(f"grid: the twin of {draw.__name__} would weigh {len(block):,} bytes, more than "
                         f"{MAX_BYTES:,}; give fewer values")
    return block


def assemble(name: str, controls: dict[str, widgets.ValueWidget], values: list[list], frames: dict,
             images: list[str], default_key: str, seconds: float) -> str:
    """The twin's HTML block around its rendered ``frames`` and ``images`` (see ``twin_html``)."""
    names = list(controls)
    varied = [k for k, v in enumerate(values) if len(v) > 1]
    inputs = "".join(control_html(k, names[k], controls[names[k]], values[k]) for k in varied)
    # The fixed controls still take part in the key, at position 0 (their default).
    fixed = "".join(f'<input type="hidden" value="0" data-control="{k}">' for k in range(len(names)) if k not in varied)
    first = frames[default_key]
    data = {"values": values, "labels": [[str(x) for x in v] for v in values], "frames": frames, "images": images}
    element_id = f"twin-{name}-{next(_COUNTER)}"
    return (
        f'<div class="course-twin" id="{element_id}" data-frame="{default_key}" data-draw="{name}" '
        f'data-frames="{len(frames)}" data-build-seconds="{seconds:.1f}">'
        f'<div class="twin-controls" style="{CONTROLS_STYLE}">{inputs}{fixed}</div>'
        f'<img class="twin-frame" alt="{html.escape(name)} at the chosen setting" '
        f'src="{images[first] if isinstance(first, int) else ""}">'
        f'<p class="twin-message"></p>'
        f'<script type="application/json" class="twin-data">{json.dumps(data)}</script>'
        f'<script>{_SCRIPT % {"id": json.dumps(element_id)}}</script></div>'
    )


def twin(draw: Callable[..., Figure], controls: dict[str, widgets.ValueWidget],
         settle: Callable[[dict], dict] | None = None, **grid: Sequence) -> HTML | None:
    """In the book build: the kernel-free twin of ``interactive_figure(draw, settle=settle, **controls)``; live: nothing.

    ``grid`` gives, for the controls to vary, the values to pre-render (e.g.
    ``index=range(0, 50, 7)``); the others stay at their defaults.
    """
    if not building_book():
        return None
    return HTML(twin_html(draw, controls, settle, **grid))


def report(build: Path) -> list[tuple[str, str, int, int, float]]:
    """(page, draw function, bytes, frames, build seconds) of every twin in a built book's HTML pages."""
    rows = []
    for page in sorted(build.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r'<div class="course-twin".*?</script></div>', text, re.S):
            block = match.group(0)
            attrs = dict(re.findall(r'data-(draw|frames|build-seconds)="([^"]*)"', block[:400]))
            rows.append((page.relative_to(build).as_posix(), attrs["draw"], len(block.encode()),
                         int(attrs["frames"]), float(attrs["build-seconds"])))
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m utils.reader.twin [BUILD]``: the size, frames and build time of every twin in the built book."""
    build = Path(argv[0] if argv else "_build/html")
    if not build.is_dir():
        print(f"error: {build} is not a built book's HTML folder; build the book first (make book)", file=sys.stderr)
        return 2
    rows = report(build)
    print(f"{'page':<46}{'draw':<24}{'KB':>8}{'frames':>8}{'build s':>9}")
    for page, draw, size, frames, seconds in rows:
        flag = "  OVER BUDGET" if size > MAX_BYTES else ""
        print(f"{page:<46}{draw:<24}{size / 1024:>8.0f}{frames:>8}{seconds:>9.1f}{flag}")
    print(f"{len(rows)} twins, {sum(r[2] for r in rows) / 1024:.0f} KB, {sum(r[4] for r in rows):.0f} s to build")
    return 1 if any(r[2] > MAX_BYTES for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
