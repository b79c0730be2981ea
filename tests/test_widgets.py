"""The widget layer: refusals shown as messages, and construction under ipywidgets 8 (here) and 7 (Colab's)."""

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from utils.reader.widgets import dropdown, interactive_figure, slider

ROOT = Path(__file__).resolve().parents[1]
BUILD_EVERY_KIND = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import ipywidgets
from utils.reader.widgets import checkbox, dropdown, float_slider, interactive_figure, slider

def draw(index=0, flip=0.0, merge=False, name="a", drop=0):
    if index == 2:
        raise ValueError("index must not be 2")
    fig, ax = plt.subplots()
    return fig

controls = {"index": slider(0, 0, 3, "scene"), "flip": float_slider(0.0, 0.0, 0.5, 0.05, "flip"),
            "merge": checkbox(False, "merge"), "name": dropdown(["a", "b"], "a", "name"),
            "drop": dropdown([("none", 0), ("disk", 1)], 0, "miss class")}
box = interactive_figure(draw, **controls)
controls["index"].value = 2
message = box.children[-2].value
assert "Not possible: index must not be 2" in message, message
print(ipywidgets.__version__.split(".")[0], len(box.children))
"""


def test_a_refused_setting_shows_its_message_not_a_traceback():
    def draw(k=1):
        if k > 2:
            raise ValueError("k must be at most 2")
        return plt.figure()

    box = interactive_figure(draw, k=slider(1, 0, 5, "k"))
    box.children[0].children[0].value = 4
    assert "Not possible: k must be at most 2" in box.children[-2].value


@pytest.fixture(scope="module")
def ipywidgets7(tmp_path_factory):
    """ipywidgets 7.7 (what Colab ships), installed apart from the course's environment."""
    target = tmp_path_factory.mktemp("ipywidgets7")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    "ipywidgets==7.7.*", "ipython_genutils"], check=True, capture_output=True)
    return target


@pytest.mark.parametrize("major", ["8", "7"])
def test_every_kind_of_control_builds_under_both_ipywidgets_versions(major, ipywidgets7):
    path = f"{ipywidgets7}{os.pathsep}{ROOT}" if major == "7" else str(ROOT)
    result = subprocess.run([sys.executable, "-c", BUILD_EVERY_KIND], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": path}, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == [major, "4"]  # two rows of controls, the message, the figure


def test_settle_moves_the_other_control_and_says_so():
    from utils.chapters.deconvolution_arithmetic import draw_arithmetic, settle_arithmetic
    from utils.chapters.patches_to_fcn import settle_probe

    controls = {"kind": dropdown(["convolution", "transposed convolution"], "transposed convolution", "layer"),
                "i": slider(4, 1, 9, "i"), "k": slider(3, 1, 6, "k"), "s": slider(2, 1, 4, "s"),
                "p": slider(1, 0, 4, "p"), "d": slider(1, 1, 3, "d"), "a": slider(1, 0, 3, "a")}
    box = interactive_figure(draw_arithmetic, settle=settle_arithmetic, **controls)
    controls["kind"].value = "convolution"
    assert controls["a"].value == 0 and "a 1 → 0" in box.children[-2].value and "Not possible" not in box.children[-2].value
    assert settle_probe({"y": 40, "x": 3, "size": 32, "index": 0}) == {"y": 31, "x": 3, "size": 32, "index": 0}


def test_a_failing_settle_does_not_leave_the_widget_deaf():
    drawn = []

    def draw(k=1):
        drawn.append(k)
        fig, _ = plt.subplots()
        return fig

    def settle(params):
        if params["k"] == 2:
            raise RuntimeError("settle failed")
        return params

    control = slider(1, 0, 5, "k")
    interactive_figure(draw, settle=settle, k=control)
    with pytest.raises(RuntimeError):
        control.value = 2
    control.value = 3
    assert drawn[-1] == 3, drawn
    plt.close("all")
