"""The thin interactive layer: controls that redraw a pure ``draw(**params) -> Figure`` function.

Every chapter's widget is ``interactive_figure(draw_something, name=control, ...)``
in a cell whose output the book removes, followed by
``twin(draw_something, controls, **grid)`` (``utils.twin``): in the book, a
kernel-free twin that opens on the same default figure; in a live notebook,
nothing. A ``ValueError`` from ``draw`` (an impossible setting) is shown as
its message, never as a traceback.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
from IPython.display import display
from matplotlib.figure import Figure


def defaults(controls: dict[str, widgets.ValueWidget]) -> dict:
    """The current value of each control: the parameters the static figure is drawn with."""
    return {name: control.value for name, control in controls.items()}


def interactive_figure(draw: Callable[..., Figure], columns: int = 3, **controls: widgets.ValueWidget) -> widgets.VBox:
    """Controls above a figure that ``draw(**values)`` redraws whenever a control changes.

    ``controls`` maps ``draw``'s parameter names to ipywidgets (sliders,
    dropdowns...). Returns the assembled widget; display it as a cell's result.
    """
    output, message = widgets.Output(), widgets.HTML()

    def redraw(_change=None) -> None:
        with output:
            output.clear_output(wait=True)
            try:
                figure = draw(**defaults(controls))
            except ValueError as err:
                message.value = f'<p style="color:#a00;font-weight:bold">Not possible: {html.escape(str(err))}</p>'
                return
            message.value = ""
            display(figure)
            plt.close(figure)

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
