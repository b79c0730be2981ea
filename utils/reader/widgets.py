"""The thin interactive layer: controls that redraw a pure ``draw(**params) -> Figure`` function.

Every chapter's widget is ``interactive_figure(draw_something, name=control, ...)``
in a cell whose output the book removes, followed by
``twin(draw_something, controls, **grid)`` (``utils.reader.twin``): in the book, a
kernel-free twin that opens on the same default figure; in a live notebook,
nothing. A ``ValueError`` from ``draw`` (an impossible setting) is shown as
its message, never as a traceback.

While the book is built (``BUILD_FLAG``), ``interactive_figure`` builds and
settles its controls but draws nothing: the book removes the widget cell's
output and shows the twin, and a figure displayed into an ``ipywidgets.Output``
makes nbclient echo it to the kernel on the shell channel while it waits for
that cell's reply, a race that can leave the build waiting for a reply that
has already arrived (nbclient #312, pyzmq #2173). Live, nothing changes.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure

from ..book_build import building_book


def defaults(controls: dict[str, widgets.ValueWidget]) -> dict:
    """The current value of each control: the parameters the static figure is drawn with."""
    return {name: control.value for name, control in controls.items()}


def settled(settle: Callable[[dict], dict] | None, params: dict) -> tuple[dict, str]:
    """``settle(params)`` (a control that narrows another's range moves it back in), and a note of what moved."""
    if settle is None:
        return params, ""
    new = settle(dict(params))
    moved = [f"{name} {params[name]} → {new[name]}" for name in params if new[name] != params[name]]
    return new, ("adjusted to stay possible: " + ", ".join(moved)) if moved else ""


def show(draw: Callable[..., Figure], params: dict, note: str, output: widgets.Output, message: widgets.HTML) -> None:
    """``draw(**params)`` into ``output``, or the ``ValueError`` it raises as a red message; ``note`` otherwise."""
    with output:
        output.clear_output(wait=True)
        try:
            figure = draw(**params)
        except ValueError as err:
            message.value = f'<p style="color:#a00;font-weight:bold">Not possible: {html.escape(str(err))}</p>'
            return
        message.value = f'<p style="color:#555">{html.escape(note)}</p>' if note else ""
        display(figure)
        plt.close(figure)


def interactive_figure(draw: Callable[..., Figure], columns: int = 3, settle: Callable[[dict], dict] | None = None,
                       **controls: widgets.ValueWidget) -> widgets.VBox:
    """Controls above a figure that ``draw(**values)`` redraws whenever a control changes.

    ``controls`` maps ``draw``'s parameter names to ipywidgets (sliders,
    dropdowns...). ``settle(params) -> params`` resolves settings where one
    control makes another impossible (e.g. a pixel outside a smaller image):
    the other control is moved, and a note says so; only settings impossible
    by themselves get the red message. Returns the assembled widget; display
    it as a cell's result.
    """
    output, message = widgets.Output(), widgets.HTML()
    busy = False

    def redraw(_change=None) -> None:
        nonlocal busy
        if busy:  # settle's own changes to the controls: one redraw, after all of them
            return
        busy = True
        try:
            params, note = settled(settle, defaults(controls))
            for name, value in params.items():
                controls[name].value = value
        finally:  # a failed settle must not leave the widget deaf to every later change
            busy = False
        if not building_book():  # no Output traffic in the build: the twin shows the figure (see module docstring)
            show(draw, params, note, output, message)

    for control in controls.values():
        control.observe(redraw, names="value")
    boxes = list(controls.values())
    rows = [widgets.HBox(boxes[i:i + columns]) for i in range(0, len(boxes), columns)]
    redraw()
    return widgets.VBox([*rows, message, output])


def slider(value: int, low: int, high: int, description: str) -> widgets.IntSlider:
    """An integer slider with the course's layout."""
    return widgets.IntSlider(value=value, min=low, max=high, description=description, continuous_update=False,
                             style={"description_width": "initial"})


def dropdown(options, value, description: str) -> widgets.Dropdown:
    """A drop-down menu with the course's layout."""
    return widgets.Dropdown(options=options, value=value, description=description,
                            style={"description_width": "initial"})


def float_slider(value: float, low: float, high: float, step: float, description: str) -> widgets.FloatSlider:
    """A float slider with the course's layout."""
    return widgets.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                               continuous_update=False, style={"description_width": "initial"})


def checkbox(value: bool, description: str) -> widgets.Checkbox:
    """A check box with the course's layout."""
    return widgets.Checkbox(value=value, description=description, style={"description_width": "initial"})
